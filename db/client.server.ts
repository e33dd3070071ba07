/**
 * The database connection and the one transaction helper.
 *
 * SQLite (the embedded default): one file, opened twice per process. Reads run on
 * a read-only connection; every write runs inside `transaction()` on the writer
 * connection. better-sqlite3 is synchronous and a connection has one transaction
 * at a time, so async transactions are serialised in-process (one at a time,
 * BEGIN IMMEDIATE, so other processes queue on busy_timeout), and a read from
 * another request never sees a transaction's uncommitted rows. WAL, foreign keys,
 * synchronous=NORMAL (every committed transaction survives a process crash; only
 * power loss can roll back the tail; FULL is available through SQLITE_SYNCHRONOUS).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type SQL } from "drizzle-orm";
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

type Store = {
  file: string;
  writer: Db;
  /** The open transaction's handle, per async context. */
  current: AsyncLocalStorage<DbOrTx>;
  /** Serialises transactions on the writer connection. */
  queue: Promise<unknown>;
};
const STORE = Symbol("lastmile.store");

function connect(file: string, readonly: boolean): Database.Database {
  const sqlite = new Database(file, { readonly });
  if (!readonly) {
    sqlite.pragma("journal_mode = WAL");
    // Checkpoint the WAL every ~40 MB instead of ~4 MB: fewer, larger checkpoints, so far fewer
    // commits (claims, verdicts) pay for one; readers are unaffected.
    sqlite.pragma("wal_autocheckpoint = 10000");
  }
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma(`synchronous = ${process.env.SQLITE_SYNCHRONOUS === "FULL" ? "FULL" : "NORMAL"}`);
  // 32 MB page cache (the default is 2 MB): index pages of large tables stay hot.
  sqlite.pragma("cache_size = -32000");
  return sqlite;
}

const WRITES = new Set(["insert", "update", "delete"]);

/**
 * A write statement built outside a transaction commits on its own, like an
 * autocommit statement on Postgres: it runs on the writer connection in its own
 * serialised transaction when awaited. Builder methods keep returning the wrapper.
 */
function autocommit<B extends object>(db: DbOrTx, builder: B): B {
  return new Proxy(builder, {
    get(target, prop) {
      if (prop === "then") {
        return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) =>
          transaction(db, () => target as unknown as PromiseLike<unknown>).then(resolve, reject);
      }
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const out = (value as (...a: unknown[]) => unknown).apply(target, args);
        return out && typeof out === "object" && typeof (out as { then?: unknown }).then === "function" ? autocommit(db, out) : out;
      };
    },
  });
}

/**
 * Opens a database. The handle reads on its own connection; inside a
 * transaction() on this database, the same handle runs on the transaction, so
 * code that was handed `db` still sees the transaction's rows. A write outside
 * a transaction commits on its own (see autocommit); every multi-row write
 * belongs in transaction().
 */
export function openDatabase(file: string = databasePath()): Db {
  const memory = file === ":memory:" || file === "";
  if (!memory) fs.mkdirSync(path.dirname(file), { recursive: true });
  const writerClient = connect(file, false);
  const writer = drizzle(writerClient, { schema }) as Db;
  // An in-memory database exists once per connection: reads share the writer (tests only).
  const reader = memory ? writer : (drizzle(connect(file, true), { schema }) as Db);
  const store: Store = { file, writer, current: new AsyncLocalStorage(), queue: Promise.resolve() };
  const handle: Db = new Proxy(reader, {
    get(target, prop, receiver) {
      if (prop === STORE) return store;
      const tx = store.current.getStore();
      if (tx) return Reflect.get(tx, prop) as unknown;
      if (typeof prop === "string" && WRITES.has(prop)) {
        const make = Reflect.get(writer, prop) as (...a: unknown[]) => object;
        return (...args: unknown[]) => autocommit(handle, make.apply(writer, args));
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return handle;
}

function storeOf(db: DbOrTx): Store {
  const store = (db as unknown as Record<symbol, Store | undefined>)[STORE];
  if (!store) throw new Error("Not a database opened by openDatabase()");
  return store;
}

/** The file a database was opened on (":memory:" for a test database). */
export function databaseFileOf(db: DbOrTx): string {
  return storeOf(db).file;
}

export function closeDatabase(db: Db): void {
  const store = storeOf(db);
  const reader = (db as unknown as { $client: Database.Database }).$client;
  if (reader !== store.writer.$client) reader.close();
  store.writer.$client.close();
}

export function runMigrations(db: Db): void {
  const writer = storeOf(db).writer;
  // A migration that rebuilds a referenced table (SQLite cannot drop a NOT NULL in place) must run with
  // foreign keys off: the migrator wraps everything in one transaction, where `PRAGMA foreign_keys=OFF`
  // inside the SQL is ignored. Turned back on after, and any dangling reference fails the start.
  const fk = writer.$client.pragma("foreign_keys", { simple: true });
  writer.$client.pragma("foreign_keys = OFF");
  try {
    migrate(writer, { migrationsFolder: MIGRATIONS_DIR });
    const broken = writer.$client.pragma("foreign_key_check") as unknown[];
    if (broken.length) throw new Error(`Migration left ${broken.length} broken foreign key reference(s): ${JSON.stringify(broken.slice(0, 3))}`);
  } finally {
    writer.$client.pragma(`foreign_keys = ${fk ? "ON" : "OFF"}`);
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
 * write lock up front so concurrent writers queue instead of failing. A call
 * made while a transaction on the same database is open (in the same async
 * context) joins it.
 */
export async function transaction<T>(db: DbOrTx, fn: (tx: DbOrTx) => Promise<T> | T): Promise<T> {
  const store = storeOf(db);
  const open = store.current.getStore();
  if (open) return fn(open);
  const run = async (): Promise<T> => {
    const w = store.writer;
    w.$client.prepare("BEGIN IMMEDIATE").run();
    try {
      const result = await store.current.run(w, () => fn(w));
      w.$client.prepare("COMMIT").run();
      return result;
    } catch (e) {
      if (w.$client.inTransaction) w.$client.prepare("ROLLBACK").run();
      throw e;
    }
  };
  const next = store.queue.then(run, run);
  store.queue = next.catch(() => undefined);
  return next;
}

/** Raw SQL for the few queries the builder cannot express: all rows, the first row, or no result. */
export async function sqlAll<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  return db.all<T>(query);
}
export async function sqlOne<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T | undefined> {
  return db.get<T>(query);
}
export async function sqlRun(db: DbOrTx, query: SQL): Promise<void> {
  await transaction(db, (tx) => {
    tx.run(query);
  });
}

export { schema };
