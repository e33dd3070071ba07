/**
 * The database connection: one embedded SQLite file per process, opened with
 * WAL, foreign keys, a busy timeout and synchronous=NORMAL (in WAL mode every
 * committed transaction survives a process crash; only power loss can roll back
 * the tail, and FULL is available through SQLITE_SYNCHRONOUS for those who want it).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "./schema/index";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };
/** A database or an open transaction: every domain write takes one of these. */
export type DbOrTx = Pick<Db, "select" | "insert" | "update" | "delete" | "run" | "all" | "get" | "values" | "query" | "$count" | "$client">;

// Resolved from this module's location: db/client.ts in source, build/index.js once
// bundled by Remix; both sit one level below the project root.
export const MIGRATIONS_DIR = fileURLToPath(new URL("../db/migrations", import.meta.url));

export function databasePath(): string {
  return path.resolve(process.env.DATABASE_PATH || "./data/lastmile.db");
}

export function openDatabase(file: string = databasePath()): Db {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma(`synchronous = ${process.env.SQLITE_SYNCHRONOUS === "FULL" ? "FULL" : "NORMAL"}`);
  // 32 MB page cache (the default is 2 MB): index pages of large tables stay hot.
  sqlite.pragma("cache_size = -32000");
  // Checkpoint the WAL every ~40 MB instead of ~4 MB: fewer, larger checkpoints, so far fewer
  // commits (claims, verdicts) pay for one; readers are unaffected.
  sqlite.pragma("wal_autocheckpoint = 10000");
  return drizzle(sqlite, { schema }) as Db;
}

export function runMigrations(db: Db): void {
  // A migration that rebuilds a referenced table (SQLite cannot drop a NOT NULL in place) must run with
  // foreign keys off: the migrator wraps everything in one transaction, where `PRAGMA foreign_keys=OFF`
  // inside the SQL is ignored. Turned back on after, and any dangling reference fails the start.
  const fk = db.$client.pragma("foreign_keys", { simple: true });
  db.$client.pragma("foreign_keys = OFF");
  try {
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const broken = db.$client.pragma("foreign_key_check") as unknown[];
    if (broken.length) throw new Error(`Migration left ${broken.length} broken foreign key reference(s): ${JSON.stringify(broken.slice(0, 3))}`);
  } finally {
    db.$client.pragma(`foreign_keys = ${fk ? "ON" : "OFF"}`);
  }
}

let current: { file: string; db: Db } | undefined;

/** The process-wide connection, migrated on first use. */
export function getDb(): Db {
  const file = databasePath();
  if (!current || current.file !== file) {
    const db = openDatabase(file);
    runMigrations(db);
    current = { file, db };
  }
  return current.db;
}

/**
 * One transaction helper for every write path: the row, its roll-ups, its audit
 * entry and its outbox event commit together or not at all. IMMEDIATE takes the
 * write lock up front so concurrent writers queue on busy_timeout instead of failing.
 */
export function transaction<T>(db: Db, fn: (tx: DbOrTx) => T): T {
  // The transaction runs on db's one connection; exposing it lets hot paths use prepared statements (app/lib/bulk-insert.server.ts).
  return db.transaction((tx) => fn(Object.assign(tx, { $client: db.$client }) as unknown as DbOrTx), { behavior: "immediate" });
}

export { schema };
