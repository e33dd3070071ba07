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

/**
 * Paging in commit order (GET /api/v1/decisions). A decision takes its `seq` when it is inserted, and on Postgres
 * transactions commit in any order: a page read while a lower-numbered decision is still uncommitted would step over
 * it, and a client following the cursor would never see it. So:
 *
 * - markFeedPosition: a transaction that inserts decisions first marks where its numbers start, with a shared
 *   transaction-scoped advisory lock keyed by the sequence's last value (FEED_LOCKS + that value), taken before it
 *   draws a number: every number it draws is above its mark, and the mark is held until it commits or rolls back.
 * - feedHorizon: a reader first reads the lowest mark still held (and the sequence's last value), then, in a later
 *   statement and so a later snapshot, pages only up to it. Every number up to the horizon belongs to a transaction
 *   that has ended (visible, or rolled back): no later page can find one below a cursor handed out.
 *
 * Decisions written by a transaction still open are held back until it ends, along with those numbered above its
 * mark. SQLite's one writer commits in seq order: no mark, no horizon.
 */
const FEED_LOCKS = "4611686018427387904"; // 2^62: far above every other advisory key (the audit chain, migrations, db copy)
const DECISIONS_SEQ = "pg_get_serial_sequence('decisions', 'seq')::regclass";

export async function markFeedPosition(db: DbOrTx): Promise<void> {
  if (!pg(db)) return;
  await pgClientOf(db).query({
    name: "decisions_feed_mark",
    text: `SELECT pg_advisory_xact_lock_shared(${FEED_LOCKS}::bigint + coalesce(pg_sequence_last_value(${DECISIONS_SEQ}), 0))`,
  });
}

/** The highest decision `seq` a page may show now (Postgres); undefined on SQLite, where every committed row is settled. */
export async function feedHorizon(db: DbOrTx): Promise<number | undefined> {
  if (!pg(db)) return undefined;
  const { rows } = await pgClientOf(db).query<{ h: string | number }>({
    name: "decisions_feed_horizon",
    text: `SELECT least(
      coalesce(pg_sequence_last_value(${DECISIONS_SEQ}), 0),
      (SELECT min(((l.classid::bigint << 32) | l.objid::bigint) - ${FEED_LOCKS}::bigint) FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.classid::bigint >= (${FEED_LOCKS}::bigint >> 32)
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
    ) AS h`,
  });
  return Number(rows[0].h);
}

/** Whether an error is a unique-constraint violation (two writers raced to insert the same key). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } } | null;
  const code = err?.code ?? err?.cause?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
