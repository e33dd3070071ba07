/**
 * An explicit SQLite store, whichever store the suite runs on (TEST_DATABASE_URL or not):
 * for tests about SQLite itself (its file, the signing key file kept beside it, its migrations).
 * The audit key and folders a Postgres test store put into the environment are cleared,
 * so the in-process domain code falls back to the SQLite defaults (files beside the database).
 */
import path from "node:path";
import { openDatabase, runMigrations, type Db } from "@db/client.server";
import { tempDir } from "./store";

export type SqliteTestStore = { db: Db; file: string; dir: string; env: Record<string, string> };

export async function sqliteStore(opts: { migrated?: boolean } = {}): Promise<SqliteTestStore> {
  const dir = tempDir("lastmile-sqlite-");
  const file = path.join(dir, "test.db");
  const db = openDatabase(file);
  if (opts.migrated !== false) await runMigrations(db);
  for (const k of ["AUDIT_SIGNING_KEY", "AUDIT_CHECKPOINT_DIR", "SNAPSHOTS_DIR"]) delete process.env[k];
  return { db, file, dir, env: { DATABASE_PATH: file } };
}
