/**
 * Fast multi-row inserts for hot write paths (ingest batches of 1,000), and the
 * shared counters' adds (addToCounters), on every write path.
 * Building a multi-row INSERT through the query builder costs more than
 * SQLite's work; here each table gets prepared statements per connection,
 * built from the drizzle table's own column metadata, so values are encoded
 * exactly as drizzle would (JSON, booleans, defaults, NULLs). Call it inside
 * `transaction(db, …)`: the statements run on the same connection.
 *
 * Rows go in up to CHUNK per INSERT statement. Besides fewer calls, this
 * matters for tables with triggers (tasks keeps task_counters exact with
 * one): such a statement needs a statement journal, and SQLite journals
 * every page the statement touches (table and each index) once per
 * statement, so one row per statement pays that for every row (~3x slower).
 */
import type Database from "better-sqlite3";
import { entityKind, getTableColumns, getTableName, is, SQL, type Column, type Table } from "drizzle-orm";
import { isPipelined, pgClientOf, sqliteClientOf, transaction, writeAtCommit, type CommitWrites, type DbOrTx } from "./client.server";
import { JsonText } from "./json-text";
import * as schema from "./schema/index";

export { JsonText, jsonText } from "./json-text";

const CHUNK = 100;

type Prepared = {
  keys: string[];
  columns: Column[];
  plain: boolean[];
  head: string;
  tuple: string;
  /** What follows the rows (an upsert's conflict clause), or nothing. */
  tail?: string;
  bySize: Map<number, Database.Statement>;
};

/** Column kinds whose driver value is the JS string or number itself (drizzle maps them as is). */
const PLAIN_KINDS = new Set(["SQLiteText", "SQLiteInteger", "SQLiteReal", "PgText", "PgInteger", "PgBigInt53", "PgDoublePrecision"]);

type Shape = Omit<Prepared, "tuple" | "bySize">;
const shapes = new WeakMap<Table, Shape>();

/** The columns an insert writes (generated keys are left to the store), and how each is encoded. */
function shapeOf(table: Table): Shape {
  let shape = shapes.get(table);
  if (!shape) {
    const entries = Object.entries(getTableColumns(table)).filter(
      ([, c]) => !(c as Column & { autoIncrement?: boolean }).autoIncrement && !(c as Column & { generatedIdentity?: unknown }).generatedIdentity,
    ) as [string, Column][];
    shape = {
      keys: entries.map(([k]) => k),
      columns: entries.map(([, c]) => c),
      plain: entries.map(([, c]) => PLAIN_KINDS.has((c.constructor as unknown as Record<symbol, string>)[entityKind])),
      head: `INSERT INTO "${getTableName(table)}" (${entries.map(([, c]) => `"${c.name}"`).join(", ")}) VALUES `,
    };
    shapes.set(table, shape);
  }
  return shape;
}

/** Per connection, per table: the plain inserts, and the counters' adds (`tail` is their conflict clause). */
const statements = new WeakMap<Database.Database, Map<Table, Prepared>>();
const upserts = new WeakMap<Database.Database, Map<Table, Prepared>>();

function prepared(client: Database.Database, table: Table, tail?: string): Prepared {
  const cache = tail === undefined ? statements : upserts;
  let perTable = cache.get(client);
  if (!perTable) cache.set(client, (perTable = new Map()));
  let p = perTable.get(table);
  if (!p) {
    const shape = shapeOf(table);
    p = { ...shape, tuple: `(${shape.keys.map(() => "?").join(", ")})`, tail, bySize: new Map() };
    perTable.set(table, p);
  }
  return p;
}

/** Runs `p`'s statement over `rows`, up to CHUNK rows a statement. */
function runChunks(client: Database.Database, p: Prepared, rows: Record<string, unknown>[]): void {
  for (let start = 0; start < rows.length; start += CHUNK) {
    const part = rows.slice(start, start + CHUNK);
    statement(client, p, part.length).run(encodeRows(p, part));
  }
}

/** The text of a Postgres INSERT of `size` rows ($1, $2, … in row order), built once per table and size. */
const pgTexts = new WeakMap<Table, Map<number, string>>();
function pgText(table: Table, shape: Shape, size: number): string {
  let bySize = pgTexts.get(table);
  if (!bySize) pgTexts.set(table, (bySize = new Map()));
  let text = bySize.get(size);
  if (!text) {
    const n = shape.keys.length;
    const tuples = Array.from({ length: size }, (_, r) => `(${shape.keys.map((_k, i) => `$${r * n + i + 1}`).join(", ")})`);
    bySize.set(size, (text = shape.head + tuples.join(", ")));
  }
  return text;
}

/** The INSERT of `size` rows (sizes 1..CHUNK, prepared once each). */
function statement(client: Database.Database, p: Prepared, size: number): Database.Statement {
  let stmt = p.bySize.get(size);
  if (!stmt) p.bySize.set(size, (stmt = client.prepare(p.head + Array(size).fill(p.tuple).join(", ") + (p.tail ?? ""))));
  return stmt;
}

function encode(column: Column, value: unknown): unknown {
  if (value === undefined) {
    if (column.defaultFn) value = column.defaultFn();
    else if (column.default !== undefined) value = column.default;
    else if (column.onUpdateFn) value = column.onUpdateFn();
    else return null;
  }
  if (value === null) return null;
  if (value instanceof JsonText) return value.text;
  if (typeof value === "object" && is(value, SQL)) throw new Error(`insertRows cannot write SQL expressions (column ${column.name}); use the query builder`);
  return column.mapToDriverValue(value);
}

/** An object already encoded by an earlier column of the same kind in this row (a decision's output and final output) is encoded once. */
function encodeShared(columns: Column[], row: Record<string, unknown>, keys: string[], values: unknown[], base: number, i: number, v: object): unknown {
  for (let j = 0; j < i; j++) {
    if (row[keys[j]] === v && columns[j].mapToDriverValue === columns[i].mapToDriverValue) return values[base + j];
  }
  return encode(columns[i], v);
}

/** The parameters of one INSERT of `rows`, row after row, encoded as drizzle would. */
function encodeRows(shape: Shape, rows: Record<string, unknown>[]): unknown[] {
  const { keys, columns, plain } = shape;
  const n = keys.length;
  const values: unknown[] = new Array(rows.length * n);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const base = r * n;
    for (let i = 0; i < n; i++) {
      const v = row[keys[i]];
      const t = typeof v;
      values[base + i] =
        (t === "string" || t === "number") && plain[i]
          ? v
          : v instanceof JsonText
            ? v.text
            : typeof v === "object" && v !== null
              ? encodeShared(columns, row, keys, values, base, i, v)
              : encode(columns[i], v);
    }
  }
  return values;
}

export async function insertRows<T extends Table>(db: DbOrTx, table: T, rows: T["$inferInsert"][]): Promise<void> {
  if (rows.length === 0) return;
  const client = sqliteClientOf(db);
  if (!client) {
    // Postgres: named statements of up to CHUNK rows, prepared once per pooled connection by the driver. On a
    // transaction's connection (pipelined: see pgTransaction) every statement is sent at once, one round trip in
    // all, so the insert can also go with the commit (writeBehind); elsewhere each waits for the last.
    const pg = pgClientOf(db);
    const pipelined = isPipelined(db);
    const shape = shapeOf(table);
    const sent: Promise<unknown>[] = [];
    for (let start = 0; start < rows.length; start += CHUNK) {
      const part = rows.slice(start, start + CHUNK) as Record<string, unknown>[];
      const query = pg.query({
        name: `insert_rows_${getTableName(table)}_${part.length}`,
        text: pgText(table, shape, part.length),
        values: encodeRows(shape, part),
      });
      if (pipelined) sent.push(query);
      else await query;
    }
    await Promise.all(sent);
    return;
  }
  runChunks(client, prepared(client, table), rows as Record<string, unknown>[]);
}

/**
 * The counter tables whose rows every writer shares: each row adds its `value` to the row with the same key. On
 * SQLite the add is the table's insert with this conflict clause, the statement drizzle's
 * `insert(...).values(rows).onConflictDoUpdate(...)` would build, prepared once per connection and size instead: every
 * write path adds to these counters, several times a transaction, and building that statement cost more than running it.
 */
function counter(table: typeof schema.rollups | typeof schema.reviewerRollups | typeof schema.monitorCounters, key: Column[]) {
  const value = `"${table.value.name}"`;
  const conflict = ` ON CONFLICT (${key.map((c) => `"${c.name}"`).join(", ")}) DO UPDATE SET ${value} = "${getTableName(table)}".${value} + excluded.${value}`;
  return { table, conflict };
}

const COUNTER_TABLES = {
  rollups: counter(schema.rollups, [
    schema.rollups.typeKey,
    schema.rollups.hour,
    schema.rollups.modelVersion,
    schema.rollups.policyVersion,
    schema.rollups.metric,
  ]),
  reviewerRollups: counter(schema.reviewerRollups, [
    schema.reviewerRollups.span,
    schema.reviewerRollups.start,
    schema.reviewerRollups.typeKey,
    schema.reviewerRollups.reviewerId,
    schema.reviewerRollups.metric,
  ]),
  monitorCounters: counter(schema.monitorCounters, [schema.monitorCounters.typeKey, schema.monitorCounters.metric, schema.monitorCounters.minute]),
} as const;

/** Adds the rows' values to the counters of the same key (a missing row counts from zero), through writeAtCommit. */
export async function addToCounters<K extends keyof typeof COUNTER_TABLES>(db: DbOrTx, kind: K, rows: NonNullable<CommitWrites[K]>): Promise<void> {
  const { table, conflict } = COUNTER_TABLES[kind];
  // SQLite applies them now, on the transaction's connection (in one of its own outside a transaction); Postgres at
  // the commit (writeAtCommit).
  await writeAtCommit(db, kind, rows, (tx) =>
    transaction(tx, (t) => {
      const client = sqliteClientOf(t)!;
      runChunks(client, prepared(client, table, conflict), rows);
    }),
  );
}
