/**
 * Copies a whole store into an EMPTY store of the other dialect (SQLite → Postgres,
 * or Postgres → SQLite): `lastmile db copy`.
 *
 * - Both stores are migrated first (each by its own migrator; `__drizzle_migrations`
 *   is never copied). A target with a row in any of our tables is refused before
 *   anything is written to it, migrations included.
 * - The source is read in one snapshot (a read transaction), table by table in
 *   foreign-key order, in keyset pages by primary key; the target is written in ONE
 *   transaction, so a copy that fails leaves the target as empty as it found it and
 *   can simply be run again.
 * - Values are converted per column from the schema's metadata (db/schema/tables.ts):
 *   booleans are 0/1 on SQLite and boolean on Postgres; JSON stays the very same text
 *   (the audit hashes cover it); numbers stay numbers. Explicit `seq` values are
 *   copied and the Postgres identity sequences are moved past them.
 * - task_counters is not copied row by row: the target's trigger counts the copied
 *   tasks, then the source's zero rows are added, and the table is checked to equal
 *   count(*) of tasks per (type, kind, status).
 * - Afterwards every table's row count is compared with the source snapshot's.
 */
import fs from "node:fs";
import path from "node:path";
import { getTableColumns, getTableName, type Column, type Table } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import Database from "better-sqlite3";
import pg from "pg";
import { closeDatabase, describeTarget, openDatabase, runMigrations } from "./client.server";
import { isPostgresUrl } from "./dialect";
import * as pgTables from "./schema/postgres";
import * as sqliteTables from "./schema/sqlite";

/** One table as the copy sees it (from the Postgres description; both dialects share names and keys). */
export type CopyTable = {
  name: string;
  columns: string[];
  /** Postgres type of each column (for the unnest() arrays). */
  pgTypes: string[];
  bool: boolean[];
  key: string[];
  /** The identity column, if any (its sequence is reset after the copy). */
  identity: string | null;
  references: string[];
};

const COUNTERS = "task_counters";

/** Every table of the schema, parents before children. */
export function copyTables(): CopyTable[] {
  const all = Object.values(pgTables).map((t) => describe(t as unknown as Table));
  const byName = new Map(all.map((t) => [t.name, t]));
  const out: CopyTable[] = [];
  const done = new Set<string>();
  const visit = (t: CopyTable, path: string[]) => {
    if (done.has(t.name)) return;
    if (path.includes(t.name)) throw new Error(`foreign-key cycle: ${[...path, t.name].join(" → ")}`);
    for (const r of t.references) if (r !== t.name && byName.has(r)) visit(byName.get(r)!, [...path, t.name]);
    done.add(t.name);
    out.push(t);
  };
  for (const t of all) visit(t, []);
  return out;
}

function describe(table: Table): CopyTable {
  const cfg = getTableConfig(table as never);
  const cols = Object.values(getTableColumns(table)) as (Column & { generatedIdentity?: unknown })[];
  const key = cfg.primaryKeys[0]?.columns.map((c) => c.name) ?? cols.filter((c) => c.primary).map((c) => c.name);
  if (key.length === 0) throw new Error(`table ${getTableName(table)} has no primary key to page by`);
  // The SQLite description must agree (same columns, same order): it is the same schema.
  const lite = Object.values(sqliteTables).find((t) => getTableName(t as unknown as Table) === cfg.name) as unknown as Table | undefined;
  const liteCols = lite ? Object.values(getTableColumns(lite)).map((c) => c.name) : [];
  if (liteCols.join() !== cols.map((c) => c.name).join()) throw new Error(`table ${cfg.name} differs between the SQLite and Postgres schemas`);
  return {
    name: cfg.name,
    columns: cols.map((c) => c.name),
    pgTypes: cols.map((c) => c.getSQLType()),
    bool: cols.map((c) => c.getSQLType() === "boolean"),
    key,
    identity: cols.find((c) => c.generatedIdentity)?.name ?? null,
    references: cfg.foreignKeys.map((fk) => getTableName(fk.reference().foreignTable)),
  };
}

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

/** One side of a copy, on a connection of its own. */
interface Side {
  readonly dialect: "sqlite" | "postgres";
  readonly where: string;
  exists(table: string): Promise<boolean>;
  hasRows(table: string): Promise<boolean>;
  count(table: string): Promise<number>;
  all(text: string, params?: unknown[]): Promise<unknown[][]>;
  exec(text: string): Promise<void>;
  insert(t: CopyTable, rows: unknown[][]): Promise<void>;
  close(): Promise<void>;
}

class SqliteSide implements Side {
  readonly dialect = "sqlite" as const;
  private inserts = new Map<string, Database.Statement>();
  constructor(
    readonly where: string,
    private client: Database.Database,
  ) {}
  static open(file: string): SqliteSide {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const c = new Database(file);
    c.pragma("journal_mode = WAL");
    c.pragma("foreign_keys = ON");
    c.pragma("busy_timeout = 5000");
    return new SqliteSide(file, c);
  }
  async exists(table: string) {
    return !!this.client.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
  }
  async hasRows(table: string) {
    return !!this.client.prepare(`SELECT 1 FROM ${q(table)} LIMIT 1`).get();
  }
  async count(table: string) {
    return Number(
      this.client
        .prepare(`SELECT count(*) FROM ${q(table)}`)
        .pluck()
        .get(),
    );
  }
  async all(text: string, params: unknown[] = []) {
    const stmt = this.client.prepare(text);
    if (!stmt.reader) {
      stmt.run(...params);
      return [];
    }
    return stmt.raw(true).all(...params) as unknown[][];
  }
  async exec(text: string) {
    this.client.exec(text);
  }
  async insert(t: CopyTable, rows: unknown[][]) {
    const per = 100;
    for (let start = 0; start < rows.length; start += per) {
      const chunk = rows.slice(start, start + per);
      const id = `${t.name}:${chunk.length}`;
      let stmt = this.inserts.get(id);
      if (!stmt) {
        const tuple = `(${t.columns.map(() => "?").join(", ")})`;
        stmt = this.client.prepare(`INSERT INTO ${q(t.name)} (${t.columns.map(q).join(", ")}) VALUES ${Array(chunk.length).fill(tuple).join(", ")}`);
        this.inserts.set(id, stmt);
      }
      stmt.run(chunk.flatMap((r) => r.map((v) => (typeof v === "boolean" ? (v ? 1 : 0) : v))));
    }
  }
  async close() {
    this.client.close();
  }
}

// int8 and numeric as JS numbers (every one of ours fits), whatever the process-wide parsers are.
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as never)) as typeof pg.types.getTypeParser,
};

class PgSide implements Side {
  readonly dialect = "postgres" as const;
  constructor(
    readonly where: string,
    private client: pg.Client,
  ) {}
  static async open(url: string): Promise<PgSide> {
    const c = new pg.Client({ connectionString: url, types: pgTypes, connectionTimeoutMillis: 10_000 });
    c.on("error", () => undefined);
    try {
      await c.connect();
    } catch (e) {
      const err = e as Error & { code?: string; errors?: Error[] };
      throw new CopyRefused(`cannot connect to ${describeTarget(url)}: ${err.message || err.errors?.[0]?.message || err.code || String(e)}`);
    }
    return new PgSide(describeTarget(url), c);
  }
  async exists(table: string) {
    return (await this.client.query("SELECT to_regclass($1) IS NOT NULL AS e", [`public.${q(table)}`])).rows[0].e as boolean;
  }
  async hasRows(table: string) {
    return (await this.client.query(`SELECT EXISTS (SELECT 1 FROM ${q(table)}) AS e`)).rows[0].e as boolean;
  }
  async count(table: string) {
    return Number((await this.client.query(`SELECT count(*) AS n FROM ${q(table)}`)).rows[0].n);
  }
  async all(text: string, params: unknown[] = []) {
    // "?" placeholders (the SQLite form) become $1, $2…
    let i = 0;
    const sql = text.replace(/\?/g, () => `$${++i}`);
    return (await this.client.query({ text: sql, values: params, rowMode: "array" })).rows as unknown[][];
  }
  async exec(text: string) {
    await this.client.query(text);
  }
  /** One statement per page whatever its size: one array parameter per column, unnest()ed (no 65,535-parameter limit). */
  async insert(t: CopyTable, rows: unknown[][]) {
    if (rows.length === 0) return;
    const arrays = t.columns.map((_, i) => rows.map((r) => (t.bool[i] && typeof r[i] === "number" ? r[i] !== 0 : r[i])));
    const args = t.pgTypes.map((type, i) => `$${i + 1}::${type}[]`).join(", ");
    await this.client.query(`INSERT INTO ${q(t.name)} (${t.columns.map(q).join(", ")}) SELECT * FROM unnest(${args})`, arrays);
  }
  async close() {
    await this.client.end().catch(() => undefined);
  }
}

export type CopyProgress = { table: string; copied: number; total: number };

export type CopyReport = {
  from: string;
  to: string;
  tables: { name: string; source: number; target: number }[];
  rows: number;
  /** The data copy (the target's transaction); `ms` is the whole run, migrations and counts included. */
  copyMs: number;
  ms: number;
  /** task_counters keys whose source value differed from count(*) of the source's tasks (the target is exact). */
  counterDrift: string[];
};

export class CopyRefused extends Error {}

const PAGE = 5000;
const LOCK = 7_246_318_003;

/**
 * Copies `from` (a SQLite file or a postgres:// URL) into `to` (the other kind). Throws
 * CopyRefused when the target holds rows, or the source is missing; any other error
 * leaves the target without rows.
 */
export async function copyDatabase(
  from: string,
  to: string,
  opts: { pageSize?: number; onStart?: (total: number) => void; onProgress?: (p: CopyProgress) => void } = {},
): Promise<CopyReport> {
  const started = Date.now();
  if (isPostgresUrl(from) === isPostgresUrl(to)) throw new CopyRefused("copy between a SQLite file and a Postgres database (one of each)");
  if (!isPostgresUrl(from) && !fs.existsSync(from)) throw new CopyRefused(`no SQLite database at ${from}`);
  const tables = copyTables();
  const pageSize = opts.pageSize ?? PAGE;
  const target = isPostgresUrl(to) ? await PgSide.open(to) : SqliteSide.open(to);
  let source: Side | undefined;
  try {
    // Refused before anything is written, migrations included.
    await refuseRows(target, tables);
    source = isPostgresUrl(from) ? await PgSide.open(from) : SqliteSide.open(from);
    await migrate(from);
    await migrate(to);

    // The source, in one consistent snapshot.
    await source.exec(source.dialect === "postgres" ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
    const counts = new Map<string, number>();
    for (const t of tables) counts.set(t.name, await source.count(t.name));
    const total = tables.reduce((n, t) => n + (t.name === COUNTERS ? 0 : counts.get(t.name)!), 0);
    opts.onStart?.(total);

    await target.exec("BEGIN");
    const copyStarted = Date.now();
    try {
      // A second copy started at the same time waits here, then finds rows and is refused.
      if (target.dialect === "postgres") {
        await target.exec(`SELECT pg_advisory_xact_lock(${LOCK})`);
        // The counter triggers are deferred to the commit (schema/extras.ts): here they fire with each page of
        // tasks instead, so the counters can be checked before the commit and no queue of a million events builds up.
        await target.exec("SET CONSTRAINTS ALL IMMEDIATE");
      }
      await refuseRows(target, tables);
      let copied = 0;
      for (const t of tables) {
        if (t.name === COUNTERS) continue;
        const cols = t.columns.map(q).join(", ");
        const order = t.key.map(q).join(", ");
        const keyIdx = t.key.map((k) => t.columns.indexOf(k));
        let after: unknown[] | null = null;
        for (;;) {
          const cond = after ? ` WHERE (${order}) > (${after.map(() => "?").join(", ")})` : "";
          const rows = await source.all(`SELECT ${cols} FROM ${q(t.name)}${cond} ORDER BY ${order} LIMIT ${pageSize}`, after ?? []);
          if (rows.length === 0) break;
          try {
            await target.insert(t, rows);
          } catch (e) {
            throw new Error(`copying ${t.name} (after key ${JSON.stringify(after)}): ${(e as Error).message}`);
          }
          copied += rows.length;
          opts.onProgress?.({ table: t.name, copied, total });
          const last = rows[rows.length - 1];
          after = keyIdx.map((i) => last[i]);
          if (rows.length < pageSize) break;
        }
        if (t.identity && target.dialect === "postgres") {
          await target.exec(`SELECT setval(pg_get_serial_sequence('${q(t.name)}', '${t.identity}'), max(${q(t.identity)})) FROM ${q(t.name)}`);
        }
      }
      const counterDrift = await copyCounters(source, target);
      await target.exec("COMMIT");
      await source.exec("COMMIT");
      // Postgres plans from each table's statistics, and freshly copied tables have none until autovacuum gets round
      // to them: meanwhile the claim's plan for the queue's head is a sort of the whole queue. Gather them now.
      if (target.dialect === "postgres") await target.exec("ANALYZE");
      const copyMs = Date.now() - copyStarted;

      const report: CopyReport = { from: describeTarget(from), to: describeTarget(to), tables: [], rows: copied, copyMs, ms: 0, counterDrift };
      for (const t of tables) report.tables.push({ name: t.name, source: counts.get(t.name)!, target: await target.count(t.name) });
      report.ms = Date.now() - started;
      return report;
    } catch (e) {
      await target.exec("ROLLBACK").catch(() => undefined);
      throw e;
    }
  } finally {
    await source?.close();
    await target.close();
  }
}

async function refuseRows(target: Side, tables: CopyTable[]): Promise<void> {
  const full: string[] = [];
  for (const t of tables) if ((await target.exists(t.name)) && (await target.hasRows(t.name))) full.push(t.name);
  if (full.length) throw new CopyRefused(`the target ${target.where} is not empty (rows in ${full.join(", ")}): copy into an empty database`);
}

async function migrate(where: string): Promise<void> {
  const db = openDatabase(where);
  try {
    await runMigrations(db);
  } finally {
    await closeDatabase(db);
  }
}

const COUNTER_SQL = "SELECT type_key, kind, status, n FROM task_counters ORDER BY type_key, kind, status";
const TASK_COUNT_SQL = "SELECT type_key, kind, status, count(*) FROM tasks GROUP BY type_key, kind, status";
const keyOf = (r: unknown[]) => `${String(r[0])}/${String(r[1])}/${String(r[2])}`;

/**
 * The target's trigger counted every copied task. The source's zero rows are added
 * (so the table matches a source whose counters are exact), and the result is checked
 * against count(*) on the target; a source whose counters had drifted is reported.
 */
async function copyCounters(source: Side, target: Side): Promise<string[]> {
  const sourceRows = await source.all(COUNTER_SQL);
  const zero = sourceRows.filter((r) => Number(r[3]) === 0);
  for (const r of zero) {
    await target.all(
      "INSERT INTO task_counters (type_key, kind, status, n) VALUES (?, ?, ?, 0) ON CONFLICT (type_key, kind, status) DO NOTHING",
      r.slice(0, 3),
    );
  }
  const counted = new Map((await target.all(TASK_COUNT_SQL)).map((r) => [keyOf(r), Number(r[3])]));
  for (const r of await target.all(COUNTER_SQL)) {
    if (Number(r[3]) !== (counted.get(keyOf(r)) ?? 0)) throw new Error(`task_counters on the target disagree with its tasks at ${keyOf(r)}`);
    counted.delete(keyOf(r));
  }
  if (counted.size) throw new Error(`task_counters on the target lack ${[...counted.keys()].join(", ")}`);
  const sourceCounted = new Map((await source.all(TASK_COUNT_SQL)).map((r) => [keyOf(r), Number(r[3])]));
  return sourceRows
    .filter((r) => Number(r[3]) !== (sourceCounted.get(keyOf(r)) ?? 0))
    .map((r) => `${keyOf(r)}: ${Number(r[3])} ≠ ${sourceCounted.get(keyOf(r)) ?? 0}`);
}
