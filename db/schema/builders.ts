/**
 * One schema description, two dialects. Tables are written once (tables.ts) with
 * these builders; each dialect supplies its column types. The TypeScript types are
 * Postgres's (async-only query builders), so domain code cannot use a SQLite-only
 * call; at run time each store gets its own dialect's tables.
 *
 * Column kinds: `ms` is an epoch-millisecond instant or a counter that may exceed
 * 2^31 (bigint on Postgres, read back as a JS number); `json` is JSON stored as
 * text on both stores, so the bytes (and the audit hashes over them) are the same.
 */
import { sql, type SQL } from "drizzle-orm";
import * as pg from "drizzle-orm/pg-core";
import * as lite from "drizzle-orm/sqlite-core";
import { JsonText } from "../json-text";

export type Dialect = "sqlite" | "postgres";

const pgJson = pg.customType<{ data: unknown; driverData: string }>({
  dataType: () => "text",
  toDriver: (v) => (v instanceof JsonText ? v.text : JSON.stringify(v)),
  fromDriver: (v) => (typeof v === "string" ? JSON.parse(v) : v),
});

/**
 * A boolean column whose driver value is 1 or 0, as SQLite's (Postgres reads '1' and '0' as booleans), and which
 * reads back true/false or 1/0: either dialect's tables then work on either store, as in a process that holds
 * both (`lastmile db copy`, the copy tests).
 */
const pgBool = pg.customType<{ data: boolean; driverData: boolean | number }>({
  dataType: () => "boolean",
  toDriver: (v) => (v ? 1 : 0),
  fromDriver: (v) => v === true || v === 1,
});

/** `"column" IN ('a', 'b')`: the CHECK constraint for an enum column, identical on both stores. */
function oneOfSql(column: string, values: readonly string[]): SQL {
  return sql.raw(`"${column}" IN (${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ")})`);
}

const postgres = {
  dialect: "postgres" as Dialect,
  table: pg.pgTable,
  text: pg.text,
  int: (name: string) => pg.integer(name),
  ms: (name: string) => pg.bigint(name, { mode: "number" }),
  real: (name: string) => pg.doublePrecision(name),
  bool: (name: string) => pgBool(name),
  json: (name: string) => pgJson(name),
  /** Monotonic row number, the table's primary key (explicit values allowed, for copies). */
  seq: (name: string) => pg.bigint(name, { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  index: pg.index,
  uniqueIndex: pg.uniqueIndex,
  primaryKey: pg.primaryKey,
  check: pg.check,
  oneOf: (name: string, column: string, values: readonly string[]) => pg.check(name, oneOfSql(column, values)),
  // Postgres sorts DESC with NULLs first; an index declared DESC NULLS LAST cannot serve `ORDER BY x DESC`
  // (the claim query), so the index takes the query's order.
  desc: (c: pg.ExtraConfigColumn) => c.desc().nullsFirst(),
  /**
   * The row-number column, at the end of an index whose equal keys must be read in row order (`ORDER BY seq`).
   * Postgres needs it spelled out; without it, the open tasks in arrival order are found by walking the primary key
   * past every finished task.
   */
  rowOrder: (seq: pg.ExtraConfigColumn) => [seq],
};

export type Builders = typeof postgres;

const sqlite = {
  dialect: "sqlite" as Dialect,
  table: lite.sqliteTable,
  text: lite.text,
  int: (name: string) => lite.integer(name),
  ms: (name: string) => lite.integer(name),
  real: (name: string) => lite.real(name),
  bool: (name: string) => lite.integer(name, { mode: "boolean" }),
  json: (name: string) => lite.text(name, { mode: "json" }),
  seq: (name: string) => lite.integer(name).primaryKey({ autoIncrement: true }),
  index: lite.index,
  uniqueIndex: lite.uniqueIndex,
  primaryKey: lite.primaryKey,
  check: lite.check,
  oneOf: (name: string, column: string, values: readonly string[]) => lite.check(name, oneOfSql(column, values)),
  desc: (c: lite.SQLiteColumn) => sql`${c} DESC`,
  /** Nothing: every SQLite index ends in the rowid, which `seq` is (INTEGER PRIMARY KEY), so equal keys are in row order. */
  rowOrder: (_seq: lite.SQLiteColumn) => [] as lite.SQLiteColumn[],
};

export function builders(dialect: Dialect): Builders {
  return dialect === "postgres" ? postgres : (sqlite as unknown as Builders);
}
