/**
 * Fast multi-row inserts for hot write paths (ingest batches of 1,000).
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
import { sqliteClientOf, type DbOrTx } from "./client.server";
import { JsonText } from "./json-text";

export { JsonText, jsonText } from "./json-text";

const CHUNK = 100;

type Prepared = { keys: string[]; columns: Column[]; plain: boolean[]; head: string; tuple: string; bySize: Map<number, Database.Statement> };

/** Column kinds whose driver value is the JS string or number itself (drizzle maps them as is). */
const PLAIN_KINDS = new Set(["SQLiteText", "SQLiteInteger", "SQLiteReal"]);

const statements = new WeakMap<Database.Database, Map<Table, Prepared>>();

function prepared(client: Database.Database, table: Table): Prepared {
  let perTable = statements.get(client);
  if (!perTable) statements.set(client, (perTable = new Map()));
  let p = perTable.get(table);
  if (!p) {
    // Auto-increment keys are left to SQLite.
    const entries = Object.entries(getTableColumns(table)).filter(([, c]) => !(c as Column & { autoIncrement?: boolean }).autoIncrement) as [string, Column][];
    p = {
      keys: entries.map(([k]) => k),
      columns: entries.map(([, c]) => c),
      plain: entries.map(([, c]) => PLAIN_KINDS.has((c.constructor as unknown as Record<symbol, string>)[entityKind])),
      head: `INSERT INTO "${getTableName(table)}" (${entries.map(([, c]) => `"${c.name}"`).join(", ")}) VALUES `,
      tuple: `(${entries.map(() => "?").join(", ")})`,
      bySize: new Map(),
    };
    perTable.set(table, p);
  }
  return p;
}

/** The INSERT of `size` rows (sizes 1..CHUNK, prepared once each). */
function statement(client: Database.Database, p: Prepared, size: number): Database.Statement {
  let stmt = p.bySize.get(size);
  if (!stmt) p.bySize.set(size, (stmt = client.prepare(p.head + Array(size).fill(p.tuple).join(", "))));
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

/** Postgres takes at most 65,535 parameters per statement. */
const PG_PARAMS = 60_000;

export async function insertRows<T extends Table>(db: DbOrTx, table: T, rows: T["$inferInsert"][]): Promise<void> {
  if (rows.length === 0) return;
  const client = sqliteClientOf(db);
  if (!client) {
    // Postgres: the query builder, a few thousand parameters per statement (JsonText is written as is by the json column).
    const per = Math.max(1, Math.floor(PG_PARAMS / Object.keys(getTableColumns(table)).length));
    for (let start = 0; start < rows.length; start += per) await db.insert(table as never).values(rows.slice(start, start + per) as never);
    return;
  }
  const p = prepared(client, table);
  const { keys, columns, plain } = p;
  const n = keys.length;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const size = Math.min(CHUNK, rows.length - start);
    const values: unknown[] = new Array(size * n);
    for (let r = 0; r < size; r++) {
      const row = rows[start + r] as Record<string, unknown>;
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
    statement(client, p, size).run(values);
  }
}
