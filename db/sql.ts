/**
 * The SQL fragments that differ between SQLite and Postgres, in one place.
 * Each takes the handle it will run on; domain code composes them and never
 * asks which store it is on.
 */
import { sql, type SQL } from "drizzle-orm";
import { dialectOf, pgClientOf, type DbOrTx } from "./client.server";

const pg = (db: DbOrTx) => dialectOf(db) === "postgres";

/** A table read through a named index: SQLite's planner gets the hint; Postgres chooses by itself. */
export function indexedBy(db: DbOrTx, table: string, index: string): SQL {
  return pg(db) ? sql.raw(`"${table}"`) : sql.raw(`"${table}" INDEXED BY "${index}"`);
}

/** Whether a JSON array column (stored as text) holds this string. */
export function jsonArrayHas(db: DbOrTx, column: SQL | SQL.Aliased | unknown, value: string): SQL {
  return pg(db) ? sql`jsonb_exists(${column}::jsonb, ${value})` : sql`exists (select 1 from json_each(${column}) where json_each.value = ${value})`;
}

/** Whether a JSON array column (stored as text) holds any of these strings. */
export function jsonArrayHasAny(db: DbOrTx, column: SQL | unknown, values: string[]): SQL {
  if (values.length === 0) return sql`(1 = 0)`;
  const list = sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );
  return pg(db)
    ? sql`jsonb_exists_any(${column}::jsonb, array[${list}]::text[])`
    : sql`exists (select 1 from json_each(${column}) where json_each.value in (${list}))`;
}

/** A number inside a JSON object column (stored as text), by top-level key. */
export function jsonNumber(db: DbOrTx, column: SQL | unknown, key: string): SQL {
  return pg(db) ? sql`((${column})::jsonb ->> ${key})::double precision` : sql`json_extract(${column}, ${"$." + key})`;
}

/** Whether two JSON columns (stored as text) hold the same value, whatever their formatting and key order. */
export function jsonEqual(db: DbOrTx, a: SQL | unknown, b: SQL | unknown): SQL {
  return pg(db) ? sql`((${a})::jsonb = (${b})::jsonb)` : sql`(json(${a}) = json(${b}))`;
}

/** A condition as 1 or 0, to be summed. */
export function countIf(condition: SQL): SQL {
  return sql`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
}

/** A join whose loop order is the written one: CROSS JOIN … ON pins it on SQLite; Postgres plans joins itself. */
export function joinInOrder(db: DbOrTx): SQL {
  return pg(db) ? sql.raw("JOIN") : sql.raw("CROSS JOIN");
}

type Lockable = { for(strength: "update", config?: { skipLocked?: boolean }): unknown };

/** Locks the selected rows until the transaction ends (Postgres; SQLite's one writer already excludes others). */
export function forUpdate<Q>(db: DbOrTx, query: Q): Q {
  return pg(db) ? ((query as unknown as Lockable).for("update") as Q) : query;
}

/** Locks the selected rows, skipping rows another transaction holds (claims: concurrent reviewers take different tasks). */
export function forUpdateSkipLocked<Q>(db: DbOrTx, query: Q): Q {
  return pg(db) ? ((query as unknown as Lockable).for("update", { skipLocked: true }) as Q) : query;
}

/**
 * Serialises a singleton inside a transaction (the audit chain's head): on Postgres a
 * transaction-scoped advisory lock on `key`; on SQLite the one writer already does.
 */
export async function lockSingleton(db: DbOrTx, key: number): Promise<void> {
  // A named statement on the transaction's connection: parsed once per connection, no SQL built per call.
  if (pg(db)) await pgClientOf(db).query({ name: "advisory_xact_lock", text: "SELECT pg_advisory_xact_lock($1)", values: [key] });
}

/** Whether an error is a unique-constraint violation (two writers raced to insert the same key). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } } | null;
  const code = err?.code ?? err?.cause?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
