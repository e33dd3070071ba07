/**
 * Test stores: every test gets a fresh, migrated store of the dialect the suite
 * runs on. TEST_DATABASE_URL (an admin URL of a throwaway Postgres cluster, see
 * scripts/pg-cluster.sh) runs the suite on Postgres: each store is a new database
 * cloned from a migrated template. Without it, each store is a new SQLite file.
 *
 * A store's `env` is what a server or a CLI run needs to use the same store
 * (database, audit signing key, checkpoint and snapshot folders).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { closeDatabase, openDatabase, runMigrations, type Db } from "@db/client.server";

export const TEMPLATE_DB = "lastmile_test_template";

export type TestStore = {
  db: Db;
  /** DATABASE_PATH or DATABASE_URL, plus the audit key and the file folders that go with the store. */
  env: Record<string, string>;
  /** A folder of this store's own (checkpoints, snapshots, exports). */
  dir: string;
  dialect: "sqlite" | "postgres";
};

export const onPostgres = () => !!process.env.TEST_DATABASE_URL;

/**
 * A Postgres server for the tests that need one whatever store the suite runs on (copying
 * between stores): TEST_DATABASE_URL, else TEST_POSTGRES_URL (scripts/test.sh sets it for the SQLite run).
 */
export function postgresServer(): string {
  const url = process.env.TEST_DATABASE_URL || process.env.TEST_POSTGRES_URL;
  if (!url) throw new Error("This test needs a Postgres server: run it through `npm test`, or set TEST_POSTGRES_URL (see scripts/pg-cluster.sh)");
  return url;
}

let counter = 0;
let signingKeyPem: string | undefined;

function testSigningKey(): string {
  signingKeyPem ??= crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return signingKeyPem;
}

function databaseUrl(name: string): string {
  const u = new URL(postgresServer());
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: postgresServer() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Global setup: a migrated template every Postgres test database is cloned from. */
export async function prepareTemplate(): Promise<void> {
  if (!onPostgres()) return;
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  });
  const db = openDatabase(databaseUrl(TEMPLATE_DB));
  await runMigrations(db);
  await closeDatabase(db);
}

/** A new, empty Postgres database (migrated unless `empty`); returns its URL. */
export async function newPostgresDatabase(opts: { empty?: boolean } = {}): Promise<string> {
  const name = `lm_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  await admin((c) => c.query(opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`));
  return databaseUrl(name);
}

export function tempDir(prefix = "lastmile-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The env of a fresh store without opening it (a server or CLI creates and migrates it):
 * pass `migrated: false` for a brand-new empty database.
 */
export async function storeEnv(opts: { migrated?: boolean } = {}): Promise<{ env: Record<string, string>; dir: string }> {
  const dir = tempDir();
  if (!onPostgres()) return { dir, env: { DATABASE_PATH: path.join(dir, "test.db") } };
  const url = await newPostgresDatabase({ empty: opts.migrated === false });
  return {
    dir,
    env: {
      DATABASE_URL: url,
      AUDIT_SIGNING_KEY: testSigningKey(),
      AUDIT_CHECKPOINT_DIR: path.join(dir, "audit-checkpoints"),
      SNAPSHOTS_DIR: path.join(dir, "snapshots"),
    },
  };
}

/** Opens the store an env describes (for a test that shares a server's or a CLI's store). */
export function openStore(env: Record<string, string>): Db {
  return openDatabase(env.DATABASE_URL ?? env.DATABASE_PATH);
}

/**
 * A fresh, migrated store for this test. In-process domain calls that read the audit
 * key or folders from the environment see this store's (the newest store wins).
 */
export async function testStore(): Promise<TestStore> {
  const { env, dir } = await storeEnv();
  const db = openStore(env);
  await runMigrations(db);
  for (const k of ["AUDIT_SIGNING_KEY", "AUDIT_CHECKPOINT_DIR", "SNAPSHOTS_DIR"]) {
    if (env[k]) process.env[k] = env[k];
  }
  return { db, env, dir, dialect: onPostgres() ? "postgres" : "sqlite" };
}

export async function testDb(): Promise<Db> {
  return (await testStore()).db;
}
