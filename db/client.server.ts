/**
 * The database connection and the one transaction helper, for both stores.
 *
 * SQLite (the embedded default, DATABASE_PATH): one file, opened twice per
 * process. Reads run on a read-only connection; writes run on the writer
 * connection, inside transaction(). better-sqlite3 is synchronous and a
 * connection has one transaction at a time, so async transactions are
 * serialised in-process (one at a time, BEGIN IMMEDIATE, so other processes
 * queue on busy_timeout), and a read from another request never sees a
 * transaction's uncommitted rows. WAL, foreign keys, synchronous=NORMAL (every
 * committed transaction survives a process crash; only power loss can roll back
 * the tail; FULL is available through SQLITE_SYNCHRONOUS).
 *
 * Postgres (DATABASE_URL=postgres://…): a connection pool (DATABASE_POOL_SIZE,
 * default 10); transactions are the driver's, on one pooled connection.
 *
 * On both, a handle passed down into code running inside transaction() runs on
 * that transaction (so it sees the transaction's rows and never waits on its
 * locks), and a write outside a transaction commits on its own.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { inArray, sql, type Column, type SQL, type SQLWrapper } from "drizzle-orm";
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { drizzle as drizzlePg, type NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { readMigrationFiles, type MigrationMeta } from "drizzle-orm/migrator";
import type { PgDatabase } from "drizzle-orm/pg-core";
import pg from "pg";
import { dialect as envDialect, isPostgresUrl, type Dialect } from "./dialect";
import * as schema from "./schema/index";
import { schemaExtras } from "./schema/extras";
import { log } from "~/lib/log.server";

/** A database or an open transaction (typed with Postgres's async query builders; SQLite's behave alike). */
export type Db = PgDatabase<NodePgQueryResultHKT>;
export type DbOrTx = Db;

// Resolved from this module's location: db/client.ts in source, build/index.js once
// bundled by Remix; both sit one level below the project root.
export const MIGRATIONS_ROOT = fileURLToPath(new URL("../db/migrations", import.meta.url));
export const migrationsDir = (d: Dialect) => path.join(MIGRATIONS_ROOT, d);

export function databasePath(): string {
  return path.resolve(process.env.DATABASE_PATH || "./data/lastmile.db");
}

/** Where this process's store is: a Postgres URL or a SQLite file. */
export function databaseTarget(): string {
  return envDialect() === "postgres" ? process.env.DATABASE_URL! : databasePath();
}

// int8 (counts, sums of bigints) and numeric arrive as strings from node-postgres: every one of ours fits a JS number.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

type SqliteStore = {
  dialect: "sqlite";
  file: string;
  writer: BetterSQLite3Database & { $client: Database.Database };
  reader: BetterSQLite3Database & { $client: Database.Database };
  /** Serialises transactions on the writer connection. */
  queue: Promise<unknown>;
  current: AsyncLocalStorage<Db>;
};
type PgStore = {
  dialect: "postgres";
  url: string;
  pool: pg.Pool;
  root: Db;
  current: AsyncLocalStorage<Db>;
};
type Store = SqliteStore | PgStore;
const STORE = Symbol("lastmile.store");

/** Page cache per connection, in kB: 32 MB, so index pages of large tables stay hot (SQLite's default is 2 MB). */
const CACHE_KB = 32_000;
/**
 * A scan's connection (openScanReader): its table pages are read once, but the per-row joins keep reading index
 * pages. bench:export, 1,000,000 rows: 2 MB cost the writers 10-17% of their rate; 8 MB keeps it and takes about
 * 30 MB off an export's peak against 32 MB.
 */
const SCAN_CACHE_KB = 8_000;

function connect(file: string, readonly: boolean, cacheKb = CACHE_KB): Database.Database {
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
  sqlite.pragma(`cache_size = -${cacheKb}`);
  cacheStatements(sqlite);
  return sqlite;
}

const STATEMENT_CACHE = 500;

/**
 * drizzle prepares every query it runs (parsing and planning its SQL in SQLite) and throws the statement
 * away. The connection keeps its last STATEMENT_CACHE statements by SQL text instead, as drivers with a
 * statement cache do: a statement is stateless between runs once its return mode is reset (drizzle asks for
 * arrays with raw(), a caller may pluck()), and SQLite re-prepares it by itself when the schema changes.
 * No code here iterates a statement, which would keep it busy.
 */
function cacheStatements(sqlite: Database.Database): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, Database.Statement>();
  sqlite.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (stmt) {
      cache.delete(source); // most recently used goes last
      if (stmt.reader) stmt.pluck(false).raw(false);
    } else {
      stmt = prepare(source);
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, stmt);
    return stmt;
  }) as typeof sqlite.prepare;
}

const WRITES = new Set(["insert", "update", "delete"]);

/**
 * A SQLite write statement built outside a transaction commits on its own, like an
 * autocommit statement on Postgres: it runs in its own serialised transaction when
 * awaited. Builder methods keep returning the wrapper.
 */
function autocommit<B extends object>(db: Db, builder: B): B {
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

/** The store's handle; `inTransaction` marks the handle of an open transaction, which never redirects. */
function handleFor(store: Store, base: object, inTransaction = false): Db {
  const handle: Db = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === STORE) return store;
      if (inTransaction) return Reflect.get(target, prop, receiver) as unknown;
      const tx = store.current.getStore();
      if (tx) return Reflect.get(tx, prop) as unknown;
      if (store.dialect === "sqlite" && typeof prop === "string" && WRITES.has(prop)) {
        const make = Reflect.get(store.writer, prop) as (...a: unknown[]) => object;
        return (...args: unknown[]) => autocommit(handle, make.apply(store.writer, args));
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  }) as Db;
  return handle;
}

/** Opens a store: a postgres:// URL, or a SQLite file path (":memory:" for a throwaway test database). */
export function openDatabase(target: string = databaseTarget()): Db {
  if (isPostgresUrl(target)) {
    const pool = new pg.Pool({
      connectionString: target,
      max: Number(process.env.DATABASE_POOL_SIZE) || 10,
      // A query stuck behind a lock or a runaway plan fails instead of holding a connection forever.
      statement_timeout: Number(process.env.DATABASE_STATEMENT_TIMEOUT_MS) || 30_000,
    });
    // An idle client losing its server (restart, failover) must not crash the process.
    pool.on("error", (e) => log().error({ err: { type: e.name, message: e.message } }, "postgres pool error"));
    const root = drizzlePg(pool) as unknown as Db;
    const store: PgStore = { dialect: "postgres", url: target, pool, root, current: new AsyncLocalStorage() };
    return handleFor(store, root);
  }
  const file = target;
  const memory = file === ":memory:" || file === "";
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const writer = drizzleSqlite(connect(file, false));
  // An in-memory database exists once per connection: reads share the writer (tests only).
  const reader = memory ? writer : drizzleSqlite(connect(file, true));
  const store: SqliteStore = { dialect: "sqlite", file, writer, reader, queue: Promise.resolve(), current: new AsyncLocalStorage() };
  return handleFor(store, reader);
}

/**
 * A handle for one long pass over many rows (an export, a dataset snapshot), and its close. On a SQLite file
 * it reads through a read-only connection of its own with a smaller page cache: the pages of such a pass are
 * read once, so the shared reader's 32 MB cache would only fill with them (the whole of an export process's
 * growth in memory beyond its own work) and push out the index pages requests keep reading. Everything else
 * (Postgres, an in-memory test database) scans through the handle it has.
 */
export function openScanReader(db: Db): { db: Db; close: () => void } {
  const s = storeOf(db);
  if (s.dialect !== "sqlite" || s.reader === s.writer) return { db, close: () => undefined };
  const client = connect(s.file, true, SCAN_CACHE_KB);
  return { db: handleFor(s, drizzleSqlite(client)), close: () => client.close() };
}

function storeOf(db: DbOrTx): Store {
  const store = (db as unknown as Record<symbol, Store | undefined>)[STORE];
  if (!store) throw new Error("Not a database opened by openDatabase()");
  return store;
}

export function dialectOf(db: DbOrTx): Dialect {
  return storeOf(db).dialect;
}

/** The SQLite file a database was opened on (":memory:" for a test database); null on Postgres. */
export function databaseFileOf(db: DbOrTx): string | null {
  const s = storeOf(db);
  return s.dialect === "sqlite" ? s.file : null;
}

export async function closeDatabase(db: Db): Promise<void> {
  const s = storeOf(db);
  if (s.dialect === "postgres") return s.pool.end();
  await s.queue.catch(() => undefined);
  if (s.reader !== s.writer) s.reader.$client.close();
  // Copy the WAL into the file and empty it, so a closed store is one self-contained file (another
  // process still reading it keeps the WAL: then this is a no-op and SQLite finishes it later).
  if (s.writer.$client.open && !s.writer.$client.readonly && s.file !== ":memory:" && s.file !== "") {
    try {
      s.writer.$client.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // best effort: the WAL is complete and replays on the next open
    }
  }
  s.writer.$client.close();
}

/** The WAL size at which the request thread checkpoints itself, as a backstop, while the checkpointer runs (~400 MB). */
const BACKSTOP_PAGES = 100_000;
const CHECKPOINT_WORKER = fileURLToPath(new URL("../db/wal-checkpointer.worker.cjs", import.meta.url));

/**
 * Moves SQLite's WAL checkpoints off the request thread: a worker thread with its own connection copies
 * committed frames into the file every SQLITE_CHECKPOINT_MS (default 1000) without waiting for or blocking
 * anyone, and truncates the WAL after a pause in writes. The writer connection's own autocheckpoint (which
 * runs inside a commit, fsync included) is raised to a backstop it only reaches if the worker stalls.
 * Durability is unchanged: commits reach the WAL as before (synchronous=NORMAL or FULL), and a checkpoint
 * syncs the WAL before it copies. No-op on Postgres and on an in-memory store; returns its stop.
 */
export function startWalCheckpointer(db: Db): () => Promise<void> {
  const s = storeOf(db);
  if (s.dialect !== "sqlite" || s.file === ":memory:" || s.file === "" || process.env.SQLITE_CHECKPOINT_MS === "off") return async () => {};
  const everyMs = Number(process.env.SQLITE_CHECKPOINT_MS) || 1_000;
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(CHECKPOINT_WORKER, { workerData: { driver, file: path.resolve(s.file), everyMs, idleMs: Math.max(5_000, everyMs * 5) } });
  worker.unref();
  worker.on("message", (m: { error?: string }) => {
    if (m.error) log().warn({ err: { message: m.error } }, "WAL checkpoint failed; retrying on the next tick");
  });
  worker.on("error", (e) => {
    log().error({ err: { type: e.name, message: e.message } }, "WAL checkpointer stopped; the writer checkpoints itself again");
    if (s.writer.$client.open) s.writer.$client.pragma("wal_autocheckpoint = 10000");
  });
  s.writer.$client.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  return async () => {
    if (s.writer.$client.open) s.writer.$client.pragma("wal_autocheckpoint = 10000");
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // Held now: an idle process (a shutdown with nothing else left) must wait for the thread, not end before it.
    worker.ref();
    worker.postMessage("stop");
    await exited;
  };
}

const MIGRATION_LOCK = 7_246_318_001;

/**
 * Brings the schema up to date: the generated migrations of this store's dialect,
 * then the parts drizzle-kit cannot generate (triggers, see schema/extras.ts).
 * On Postgres an advisory lock makes instances that start together take turns.
 */
export async function runMigrations(db: Db): Promise<void> {
  const s = storeOf(db);
  if (s.dialect === "sqlite") return migrateSqliteStore(s);
  const client = await s.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await migratePg(drizzlePg(client), { migrationsFolder: migrationsDir("postgres") });
      // One transaction: a trigger whose definition changed is replaced without a moment in which it is missing.
      await client.query("BEGIN");
      try {
        for (const statement of schemaExtras("postgres")) await client.query(statement);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/**
 * SQLite's migrator, in one IMMEDIATE transaction: it takes the write lock before it reads which migrations
 * are applied, so instances starting together on a new file take turns (the second waits on busy_timeout,
 * then finds nothing pending). drizzle's own SQLite migrator reads outside its transaction, and the second
 * instance then repeats the first one's CREATE TABLE. Same `__drizzle_migrations` table and rule as drizzle's.
 */
function migrateSqliteStore(s: SqliteStore): void {
  const client = s.writer.$client;
  // A migration that rebuilds a referenced table (SQLite cannot add a constraint in place) must run with
  // foreign keys off: inside a transaction `PRAGMA foreign_keys=OFF` is ignored. Turned back on after,
  // and any dangling reference rolls the whole migration back and fails the start.
  const fk = client.pragma("foreign_keys", { simple: true });
  client.pragma("foreign_keys = OFF");
  try {
    client
      .transaction(() => {
        client.exec('CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
        const last = client.prepare('SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1').pluck().get() as
          number | string | undefined;
        const record = client.prepare('INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)');
        let applied = 0;
        for (const m of bundledMigrations("sqlite")) {
          if (last !== undefined && Number(last) >= m.folderMillis) continue;
          for (const statement of m.sql) if (statement.trim()) client.exec(statement);
          record.run(m.hash, m.folderMillis);
          applied++;
        }
        for (const statement of schemaExtras("sqlite")) client.exec(statement);
        // Only a migration can leave a dangling reference (foreign keys are on otherwise): the check reads every
        // referencing row of the store, which on a big one takes minutes, so a start with nothing to apply skips it.
        if (applied === 0) return;
        const broken = client.pragma("foreign_key_check") as unknown[];
        if (broken.length) throw new Error(`Migration left ${broken.length} broken foreign key reference(s): ${JSON.stringify(broken.slice(0, 3))}`);
      })
      .immediate();
  } finally {
    client.pragma(`foreign_keys = ${fk ? "ON" : "OFF"}`);
  }
}

const bundled = new Map<Dialect, MigrationMeta[]>();

/** This build's migrations for a dialect, read once (the files never change under a running process). */
function bundledMigrations(d: Dialect): MigrationMeta[] {
  let m = bundled.get(d);
  if (!m) bundled.set(d, (m = readMigrationFiles({ migrationsFolder: migrationsDir(d) })));
  return m;
}

export type MigrationState = { bundled: number; applied: number; pending: number };

/**
 * How the store's applied migrations compare with the ones bundled with this build, by the rule
 * drizzle's migrator applies them: a bundled migration newer than the newest applied one is pending.
 * Throws when the store cannot be reached. A store migrated further (a newer build ran) has none pending.
 */
export async function migrationState(db: Db): Promise<MigrationState> {
  const s = storeOf(db);
  const all = bundledMigrations(s.dialect);
  const table = s.dialect === "postgres" ? sql`"drizzle"."__drizzle_migrations"` : sql`"__drizzle_migrations"`;
  const exists =
    s.dialect === "postgres"
      ? await sqlOne<{ t: string | null }>(db, sql`SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`)
      : await sqlOne<{ t: string | null }>(db, sql`SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'`);
  if (!exists?.t) return { bundled: all.length, applied: 0, pending: all.length };
  const row = await sqlOne<{ n: number; last: number | null }>(db, sql`SELECT COUNT(*) AS n, MAX(created_at) AS last FROM ${table}`);
  const last = row?.last == null ? -Infinity : Number(row.last);
  return { bundled: all.length, applied: Number(row?.n ?? 0), pending: all.filter((m) => m.folderMillis > last).length };
}

let current: { target: string; db: Db; ready: Promise<void> } | undefined;

/**
 * The process-wide store. SQLite is migrated on first use; on Postgres, await
 * databaseReady() (the server and the CLI do, at start) before the first query.
 */
export function getDb(): Db {
  const target = databaseTarget();
  if (!current || current.target !== target) {
    const db = openDatabase(target);
    let ready: Promise<void>;
    const s = storeOf(db);
    if (s.dialect === "sqlite") {
      migrateSqliteStore(s);
      ready = Promise.resolve();
    } else {
      ready = runMigrations(db);
      ready.catch(() => undefined);
    }
    current = { target, db, ready };
  }
  return current.db;
}

/** Resolves once the process-wide store is migrated (at once on SQLite). */
export async function databaseReady(): Promise<Db> {
  const db = getDb();
  await current!.ready;
  return db;
}

/** Closes the process-wide store (the CLI, at exit: an open Postgres pool would keep the process alive). */
export async function closeDb(): Promise<void> {
  const c = current;
  current = undefined;
  if (c) await closeDatabase(c.db);
}

/** Where the process-wide store is, fit to print (a Postgres URL without its password). */
export function describeTarget(target: string = databaseTarget()): string {
  if (!isPostgresUrl(target)) return target;
  const u = new URL(target);
  if (u.password) u.password = "****";
  return u.toString();
}

/**
 * One transaction helper for every write path: the row, its roll-ups, its audit
 * entry and its outbox event commit together or not at all. A call made while a
 * transaction on the same database is open (in the same async context) joins it.
 */
/** What runs once a transaction has committed, per transaction handle (a rolled-back or retried attempt's are dropped). */
const commitHooks = new WeakMap<object, (() => void)[]>();

type TxControl = {
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
  noWait: Database.Statement;
  wait: Database.Statement;
  /** The connection's busy_timeout: how long a transaction waits for another process's write lock before it fails. */
  waitMs: number;
};
const txControls = new WeakMap<Database.Database, TxControl>();

/** BEGIN IMMEDIATE, COMMIT and ROLLBACK on a SQLite connection, and its busy timeout off and back on, prepared once. */
function txControl(client: Database.Database): TxControl {
  let c = txControls.get(client);
  if (!c) {
    const timeout = client.pragma("busy_timeout", { simple: true }) as number;
    txControls.set(
      client,
      (c = {
        begin: client.prepare("BEGIN IMMEDIATE"),
        commit: client.prepare("COMMIT"),
        rollback: client.prepare("ROLLBACK"),
        noWait: client.prepare("PRAGMA busy_timeout = 0"),
        wait: client.prepare(`PRAGMA busy_timeout = ${timeout}`),
        waitMs: timeout,
      }),
    );
  }
  return c;
}

/**
 * BEGIN IMMEDIATE without blocking the event loop. SQLite's own busy handler waits for another process's write
 * lock (a second server on the file, a CLI import or backup, a truncating checkpoint) by sleeping the thread: every
 * request of this process, reads included, would stop with it, for up to 100 ms a sleep. Here BEGIN is tried with
 * the busy timeout off, and while the lock is held elsewhere it is tried again on a timer (1 ms, growing to 8 ms)
 * until the connection's busy_timeout has passed, so the process goes on serving while it waits. Nothing of the
 * transaction has run yet, so trying again is safe; once BEGIN IMMEDIATE has the lock, nothing else in a WAL
 * transaction waits for one.
 */
async function beginImmediate(control: TxControl): Promise<void> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    control.noWait.get();
    try {
      control.begin.run();
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== "SQLITE_BUSY" || Date.now() - started >= control.waitMs) throw e;
    } finally {
      control.wait.get();
    }
    await new Promise((r) => setTimeout(r, Math.min(8, 1 << (attempt >> 1))));
  }
}

const memos = new WeakMap<Store, Map<object, unknown>>();

/** State a module keeps in this process for one open database (for `key`, made by `init` on first use). */
export function perStore<T>(db: DbOrTx, key: object, init: () => T): T {
  const store = storeOf(db);
  let m = memos.get(store);
  if (!m) memos.set(store, (m = new Map()));
  if (!m.has(key)) m.set(key, init());
  return m.get(key) as T;
}

/** Whether `db` runs inside a transaction (its own handle, or the store's root handle inside `transaction`). */
export function inTransaction(db: DbOrTx): boolean {
  return storeOf(db).current.getStore() !== undefined;
}

/**
 * Runs `fn` once the transaction `db` belongs to has committed (at once when there is none: a write outside a
 * transaction has committed already). For telling other work about rows it can now see; `fn` must not throw.
 */
export function afterCommit(db: DbOrTx, fn: () => void): void {
  const open = storeOf(db).current.getStore();
  if (!open) return fn();
  const hooks = commitHooks.get(open);
  if (hooks) hooks.push(fn);
  else commitHooks.set(open, [fn]);
}

function runCommitHooks(handle: object | undefined): void {
  for (const fn of (handle && commitHooks.get(handle)) || []) fn();
}

export async function transaction<T>(db: DbOrTx, fn: (tx: DbOrTx) => Promise<T> | T): Promise<T> {
  const store = storeOf(db);
  const open = store.current.getStore();
  if (open) return fn(open);
  if (store.dialect === "postgres") {
    for (let attempt = 1; ; attempt++) {
      try {
        return await pgTransaction(store, fn);
      } catch (e) {
        // A deadlock or serialization failure aborts the whole transaction and nothing of it is
        // written: run it again (a few times, after a short random pause).
        const code = (e as { code?: string; cause?: { code?: string } }).code ?? (e as { cause?: { code?: string } }).cause?.code;
        if ((code !== "40P01" && code !== "40001") || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }
  const run = async (): Promise<T> => {
    const w = store.writer;
    const control = txControl(w.$client);
    await beginImmediate(control);
    try {
      const handle = handleFor(store, w, true);
      const result = await store.current.run(handle, () => fn(handle));
      control.commit.run();
      runCommitHooks(handle);
      return result;
    } catch (e) {
      if (w.$client.inTransaction) control.rollback.run();
      throw e;
    }
  };
  const next = store.queue.then(run, run);
  store.queue = next.catch(() => undefined);
  return next;
}

/** A pooled connection's query builder, made once per connection (its prepared statements are the connection's). */
const pgHandles = new WeakMap<pg.PoolClient, Db>();

/**
 * One Postgres transaction on one pooled connection, pipelined (node-postgres's `pipeline` mode, on for the
 * transaction only): BEGIN is written to the socket with the transaction's first statement instead of waiting for
 * its own answer, and COMMIT goes with the transaction's commit writes (writeAtCommit) and with the writes whose
 * answers nothing reads (writeBehind). A transaction then waits only for the statements whose answers it reads, and
 * once for the commit: a claim makes two round trips (the lease; the commit with the decision's status, the audit
 * entry and the COMMIT) where BEGIN, each statement and COMMIT waiting for the last made five. Each round trip
 * waits for two processes to be scheduled, ours and the database's: on a busy machine that waiting, more than the
 * statements' own time, is what a short transaction's latency is made of.
 *
 * The order on the wire is unchanged, and so is every outcome: Postgres answers pipelined statements one by one, in
 * order. A statement that fails aborts the transaction, so what was written behind it (COMMIT) is answered as a
 * rollback and changes nothing; its error is the one thrown. A COMMIT that does not commit (a statement failed and
 * its error was caught and ignored inside `fn`) throws instead of passing for success.
 */
async function pgTransaction<T>(store: PgStore, fn: (tx: DbOrTx) => Promise<T> | T): Promise<T> {
  const client = await store.pool.connect();
  const pipelined = client as PipelinedClient;
  let broken: Error | undefined;
  pipelined.pipeline = true;
  try {
    const settled = <R>(p: Promise<R>) => (p.catch(() => undefined), p);
    const begin = settled(client.query("BEGIN"));
    let base = pgHandles.get(client);
    if (!base) pgHandles.set(client, (base = drizzlePg(client) as unknown as Db));
    const handle = handleFor(store, base, true);
    try {
      const result = await store.current.run(handle, () => fn(handle));
      await begin;
      const pending = pendingWrites.get(handle);
      const writes = pending ? settled(insertCommitWrites(handle, pending)) : undefined;
      const commit = settled(client.query("COMMIT"));
      // A write sent without waiting (writeBehind) that failed: its error, not COMMIT's rollback, is the one thrown.
      for (const sent of writtenBehind.get(handle) ?? []) await sent;
      await writes;
      if ((await commit).command !== "COMMIT") throw new Error("The transaction was rolled back: one of its statements failed");
      runCommitHooks(handle);
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch((err: Error) => (broken = err));
      // A write sent without waiting that failed came before what `fn` threw (the statements after it only found the
      // transaction aborted): its error is the cause, as it would have been had it been awaited.
      for (const r of await Promise.allSettled(writtenBehind.get(handle) ?? [])) if (r.status === "rejected") throw r.reason;
      throw e;
    }
  } finally {
    pipelined.pipeline = false;
    client.release(broken);
  }
}

type PipelinedClient = pg.PoolClient & { pipeline: boolean };

/** Whether statements on `db` go out without waiting for the last one's answer: a Postgres transaction's connection (pgTransaction). */
export function isPipelined(db: DbOrTx): boolean {
  return dialectOf(db) === "postgres" && (pgClientOf(db) as Partial<PipelinedClient>).pipeline === true;
}

/** Writes sent inside a Postgres transaction whose answers are awaited at its commit (writeBehind). */
const writtenBehind = new WeakMap<object, Promise<unknown>[]>();

/**
 * One write statement whose answer the transaction does not read (an insert, an update whose row count nothing
 * checks): inside a Postgres transaction it is sent now and its answer awaited when the transaction commits, the
 * COMMIT being pipelined behind it, so it costs no round trip of its own. Postgres runs it in order as ever: the
 * statements after it see what it wrote, and its failure fails the transaction with its own error, as if it had been
 * awaited. Elsewhere (SQLite, outside a transaction) it is awaited now. `write` must send all it sends when called
 * (a query builder, a prepared query, insertRows), not go on sending after an await: a statement sent after the
 * COMMIT would not be part of the transaction.
 */
export async function writeBehind(db: DbOrTx, write: (db: DbOrTx) => PromiseLike<unknown>): Promise<void> {
  const open = dialectOf(db) === "postgres" ? storeOf(db).current.getStore() : undefined;
  if (!open) {
    await write(db);
    return;
  }
  // A query builder sends its statement when its `then` is called: call it now, not a microtask later.
  const sent = new Promise<unknown>((resolve, reject) => void write(db).then(resolve, reject));
  sent.catch(() => undefined);
  const list = writtenBehind.get(open);
  if (list) list.push(sent);
  else writtenBehind.set(open, [sent]);
}

/**
 * Writes to the rows every transaction shares: the counters (`rollups`, `reviewer_rollups`, `monitor_counters`) and the audit chain's
 * head. On Postgres a row lock is held from the write to the end of the transaction, and every round trip the
 * application makes meanwhile (each one waiting for its event loop under load) lengthens the queue of every other
 * writer behind that row. So these writes are collected per transaction and handed to the database in one row of
 * `commit_writes`, whose deferred trigger (schema/extras.ts) applies them while the transaction commits: the shared
 * rows are locked for the commit alone, always in the same order (roll-ups, reviewer roll-ups, monitor counters, then
 * the chain's head), whatever order the transaction wrote them in. Outside a transaction they are handed over at once.
 * SQLite has one writer at a time, so there `apply` writes them now, inside the transaction.
 */
export type CommitWrites = {
  rollups?: { typeKey: string; modelVersion: string; policyVersion: number; hour: number; metric: string; value: number }[];
  reviewerRollups?: { typeKey: string; reviewerId: string; span: number; start: number; metric: string; value: number }[];
  monitorCounters?: { typeKey: string; metric: string; minute: number; value: number }[];
  /** Audit entries in chain order; `contentHash` is auditContentHash of the entry (audit.server.ts). */
  audit?: { at: number; actor: string; action: string; entityType: string; entityId: string; data: string; contentHash: string }[];
};
const pendingWrites = new WeakMap<object, CommitWrites>();

export async function writeAtCommit<K extends keyof CommitWrites>(
  db: DbOrTx,
  kind: K,
  rows: NonNullable<CommitWrites[K]>,
  apply: (tx: DbOrTx) => Promise<void>,
): Promise<void> {
  const store = storeOf(db);
  if (store.dialect === "sqlite") return apply(db);
  if (rows.length === 0) return;
  const open = store.current.getStore();
  if (!open) return insertCommitWrites(db, { [kind]: rows });
  let pending = pendingWrites.get(open);
  if (!pending) pendingWrites.set(open, (pending = {}));
  ((pending[kind] ??= []) as unknown[]).push(...rows);
}

async function insertCommitWrites(db: DbOrTx, writes: CommitWrites): Promise<void> {
  await pgClientOf(db).query({ name: "commit_writes", text: "INSERT INTO commit_writes (payload) VALUES ($1)", values: [JSON.stringify(writes)] });
}

/**
 * After a bulk load (an import): Postgres plans from each table's statistics, and rows loaded in bulk leave them
 * stale until autovacuum gets round to the tables; meanwhile the claim's plan for the queue's head can be a sort of
 * the whole queue. Gathers them now (`db copy` does the same on its target). SQLite's plans for these queries come
 * from the indexes alone (the schema's plan tests pin them): nothing to gather there.
 */
export async function refreshPlannerStatistics(db: DbOrTx): Promise<void> {
  if (dialectOf(db) === "postgres") await db.execute(sql`ANALYZE`);
}

type SqliteLike = { all<T>(q: SQL): T[]; get<T>(q: SQL): T | undefined; run(q: SQL): unknown };

/** Raw SQL for the few queries the builder cannot express: all rows, the first row, or no result. */
export async function sqlAll<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  if (dialectOf(db) === "postgres") return (await db.execute(query)).rows as T[];
  return (db as unknown as SqliteLike).all<T>(query);
}
export async function sqlOne<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T | undefined> {
  return (await sqlAll<T>(db, query))[0];
}
export async function sqlRun(db: DbOrTx, query: SQL): Promise<void> {
  if (dialectOf(db) === "postgres") {
    await db.execute(query);
    return;
  }
  await transaction(db, (tx) => {
    (tx as unknown as SqliteLike).run(query);
  });
}

/** Raw SQL whose rows come back as arrays (positions instead of names: faster for wide, long reads). */
export async function sqlRows(db: DbOrTx, query: SQL): Promise<unknown[][]> {
  const q = (db as unknown as { dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } } }).dialect.sqlToQuery(query);
  const client = sqliteClientOf(db);
  if (client)
    return client
      .prepare(q.sql)
      .raw(true)
      .all(...q.params) as unknown[][];
  return (await pgClientOf(db).query({ text: q.sql, values: q.params, rowMode: "array" })).rows as unknown[][];
}

/** The raw driver client of a Postgres handle (the transaction's connection inside one, else the pool). */
export function pgClientOf(db: DbOrTx): pg.Pool | pg.PoolClient {
  return (db as unknown as { session: { client: pg.Pool | pg.PoolClient } }).session.client;
}

/** The raw driver client of a SQLite handle (hot paths that prepare their own statements); null on Postgres. */
export function sqliteClientOf(db: DbOrTx): Database.Database | null {
  const s = storeOf(db);
  if (s.dialect !== "sqlite") return null;
  return (db as unknown as { $client: Database.Database }).$client;
}

type PreparedPg<R> = { execute(params?: Record<string, unknown>): Promise<R[]> };

/**
 * A hot query with placeholders, prepared once: per connection on SQLite, by name
 * on Postgres (the driver prepares a named statement once per pooled connection).
 * Built from the handle it runs on, so inside a transaction it runs on the transaction.
 */
export function preparedQuery<R>(name: string, build: (db: Db) => { prepare(name: string): PreparedPg<R> }) {
  const perConnection = new WeakMap<object, { all(params: Record<string, unknown>): R[] }>();
  // On Postgres the prepared query is bound to the driver client it was built on (the pool, or a transaction's
  // pooled connection): built once per client, so the SQL text is not written again on every call.
  const perPgClient = new WeakMap<object, PreparedPg<R>>();
  return async (db: DbOrTx, params: Record<string, unknown>): Promise<R[]> => {
    const client = sqliteClientOf(db);
    if (!client) {
      const pgClient = pgClientOf(db);
      let p = perPgClient.get(pgClient);
      if (!p) perPgClient.set(pgClient, (p = build(db).prepare(name)));
      return p.execute(params);
    }
    let q = perConnection.get(client);
    if (!q) perConnection.set(client, (q = (build(db) as unknown as { prepare(): { all(p: Record<string, unknown>): R[] } }).prepare()));
    return q.all(params);
  };
}

/**
 * A hot lookup of the rows whose text `column` is one of many values (the ingest idempotency check):
 * `build` writes the query with `oneOf(column)` as that condition. On Postgres the values travel as one
 * array parameter (`= ANY($1::text[])`), all of them in one statement; on SQLite as an `IN` list of
 * `size` placeholders, one statement per slice (unused slots are NULL, which matches nothing).
 */
export function preparedInList<R>(name: string, build: (db: Db, oneOf: (column: SQLWrapper) => SQL) => { prepare(name: string): PreparedPg<R> }, size = 100) {
  const onPg = preparedQuery<R>(`${name}_any`, (db) => build(db, (column) => sql`${column} = ANY(${sql.placeholder("values")}::text[])`));
  const onSqlite = preparedQuery<R>(name, (db) =>
    build(db, (column) =>
      inArray(
        column as Column,
        Array.from({ length: size }, (_, i) => sql.placeholder(`v${i}`)),
      ),
    ),
  );
  return async (db: DbOrTx, params: Record<string, unknown>, values: string[]): Promise<R[]> => {
    if (values.length === 0) return [];
    if (!sqliteClientOf(db)) return onPg(db, { ...params, values });
    const out: R[] = [];
    for (let start = 0; start < values.length; start += size) {
      const slice: Record<string, unknown> = { ...params };
      for (let i = 0; i < size; i++) slice[`v${i}`] = values[start + i] ?? null;
      out.push(...(await onSqlite(db, slice)));
    }
    return out;
  };
}

export { schema };
