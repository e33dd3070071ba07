/**
 * Fast multi-row inserts for hot write paths (ingest batches of 1,000).
 * Building a multi-row INSERT through the query builder costs more than
 * SQLite's work; here each table gets one prepared statement per connection,
 * built from the drizzle table's own column metadata, so values are encoded
 * exactly as drizzle would (JSON, booleans, defaults, NULLs). Call it inside
 * `transaction(db, …)`: the statement runs on the same connection.
 */
import type Database from "better-sqlite3";
import { getTableColumns, getTableName, is, SQL, type Column } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { DbOrTx } from "@db/client.server";

type Prepared = { stmt: Database.Statement; keys: string[]; columns: Column[] };

const statements = new WeakMap<Database.Database, Map<SQLiteTable, Prepared>>();

function prepared(client: Database.Database, table: SQLiteTable): Prepared {
  let perTable = statements.get(client);
  if (!perTable) statements.set(client, (perTable = new Map()));
  let p = perTable.get(table);
  if (!p) {
    // Auto-increment keys are left to SQLite.
    const entries = Object.entries(getTableColumns(table)).filter(([, c]) => !(c as Column & { autoIncrement?: boolean }).autoIncrement) as [string, Column][];
    const sql = `INSERT INTO "${getTableName(table)}" (${entries.map(([, c]) => `"${c.name}"`).join(", ")}) VALUES (${entries.map(() => "?").join(", ")})`;
    p = { stmt: client.prepare(sql), keys: entries.map(([k]) => k), columns: entries.map(([, c]) => c) };
    perTable.set(table, p);
  }
  return p;
}

function encode(column: Column, value: unknown): unknown {
  if (value === undefined) {
    if (column.defaultFn) value = column.defaultFn();
    else if (column.default !== undefined) value = column.default;
    else if (column.onUpdateFn) value = column.onUpdateFn();
    else return null;
  }
  if (value === null) return null;
  if (typeof value === "object" && is(value, SQL)) throw new Error(`insertRows cannot write SQL expressions (column ${column.name}); use the query builder`);
  return column.mapToDriverValue(value);
}

export function insertRows<T extends SQLiteTable>(db: DbOrTx, table: T, rows: T["$inferInsert"][]): void {
  if (rows.length === 0) return;
  const { stmt, keys, columns } = prepared(db.$client, table);
  const n = keys.length;
  const values: unknown[] = new Array(n);
  for (const row of rows) {
    for (let i = 0; i < n; i++) values[i] = encode(columns[i], (row as Record<string, unknown>)[keys[i]]);
    stmt.run(values);
  }
}
