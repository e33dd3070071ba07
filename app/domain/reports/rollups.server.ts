/**
 * Writes roll-up deltas. Callers hand in (before, after) facts for every
 * decision their transaction changes; deltas are summed per key and applied
 * with one upsert per touched counter.
 *
 * Counters live per hour of occurredAt, and again per UTC day (metric
 * "day:<name>", hour column = the day's start), so a 90-day report by day or
 * week reads ~90 rows per metric instead of ~2,160.
 */
import { and, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import { addToCounters, dialectOf, sqlOne, sqlRun, transaction, type DbOrTx } from "@db/client.server";
import { decisions, reviews, rollups } from "@db/schema/index";
import { factsFromHistory, type ReviewRowLike } from "../decisions/facts.server";
import { applyMonitorChanges } from "../monitors/counters";
import { DAY, hourStart } from "~/lib/time";
import { contributions, type DecisionFacts } from "./contributions";

const dayStart = (ms: number) => Math.floor(ms / DAY) * DAY;

/** Daily counters carry this prefix on the metric name. */
export const DAILY_PREFIX = "day:" as const;

/** The counter rows (hour or day start, metric, value) one decision state contributes. */
export function counterRows(f: DecisionFacts): [number, string, number][] {
  const hour = hourStart(f.occurredAt);
  const day = dayStart(f.occurredAt);
  const out: [number, string, number][] = [];
  for (const [metric, v] of contributions(f)) {
    out.push([hour, metric, v]);
    out.push([day, DAILY_PREFIX + metric, v]);
  }
  return out;
}

export type FactsChange = { before: DecisionFacts | null; after: DecisionFacts | null };

/** Equal for facts that contribute equally: every field, with occurredAt cut to its hour (an array: cheaper to write than the object). */
function factsKey(f: DecisionFacts): string {
  return JSON.stringify([
    f.typeKey,
    f.modelVersion,
    f.policyVersion,
    hourStart(f.occurredAt),
    f.receivedAt,
    f.route,
    f.status,
    f.qaSampled,
    f.finalizedAt,
    f.reasons,
    f.changedFields,
    f.reasonCodes,
    f.qaVerdict,
    f.escalated,
  ]);
}

/** Applies what the changed decisions contribute: to the roll-ups and to the drift monitors' counters. */
export async function applyRollupChanges(tx: DbOrTx, changes: FactsChange[]): Promise<void> {
  await writeRollups(tx, changes);
  await applyMonitorChanges(tx, changes);
}

type RollupRow = { typeKey: string; modelVersion: string; policyVersion: number; hour: number; metric: string; value: number };

async function writeRollups(tx: DbOrTx, changes: FactsChange[]): Promise<void> {
  const deltas = new Map<string, RollupRow>();
  addDeltas(deltas, changes);
  await writeDeltas(tx, deltas);
}

/** Adds what the changes contribute to `deltas` (counter rows keyed by rollupKey). */
function addDeltas(deltas: Map<string, RollupRow>, changes: FactsChange[]): void {
  // Equal facts contribute equally: a batch's decisions mostly share their facts, so each
  // distinct facts value is expanded once and applied with its multiplicity. Only the hour
  // of occurredAt matters (it, and the day it falls in, key the counters; contributions()
  // does not read it).
  const distinct = new Map<string, { f: DecisionFacts; times: number }>();
  const count = (f: DecisionFacts, sign: 1 | -1) => {
    const k = factsKey(f);
    const cur = distinct.get(k);
    if (cur) cur.times += sign;
    else distinct.set(k, { f, times: sign });
  };
  for (const c of changes) {
    if (c.before) count(c.before, -1);
    if (c.after) count(c.after, 1);
  }
  for (const { f, times } of distinct.values()) {
    if (times === 0) continue;
    for (const [hour, metric, v] of counterRows(f)) {
      const k = rollupKey(f.typeKey, f.modelVersion, f.policyVersion, hour, metric);
      const cur = deltas.get(k);
      if (cur) cur.value += times * v;
      else deltas.set(k, { typeKey: f.typeKey, modelVersion: f.modelVersion, policyVersion: f.policyVersion, hour, metric, value: times * v });
    }
  }
}

/** Applies the non-zero deltas (addToCounters). */
async function writeDeltas(tx: DbOrTx, deltas: Map<string, RollupRow>): Promise<void> {
  const rows = [...deltas.values()].filter((d) => d.value !== 0);
  // Every write of a type moves the same counter rows: on Postgres they are added while the transaction commits.
  await addToCounters(tx, "rollups", rows);
}

export const rollupKey = (typeKey: string, modelVersion: string, policyVersion: number, hour: number, metric: string) =>
  `${typeKey}|${modelVersion}|${policyVersion}|${hour}|${metric}`;

/** The roll-up table as a map of non-zero counters keyed by rollupKey. */
export async function rollupSnapshot(db: DbOrTx): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await db.select().from(rollups)) if (r.value !== 0) out.set(rollupKey(r.typeKey, r.modelVersion, r.policyVersion, r.hour, r.metric), r.value);
  return out;
}

/**
 * The roll-ups recomputed from the decisions and their reviews alone, ignoring
 * the roll-up table: what the incremental counters must always equal.
 */
export async function aggregateFromScratch(db: DbOrTx): Promise<Map<string, number>> {
  const history = new Map<string, (typeof reviews.$inferSelect)[]>();
  for (const r of await db.select().from(reviews).orderBy(reviews.seq)) history.set(r.decisionId, [...(history.get(r.decisionId) ?? []), r]);
  const out = new Map<string, number>();
  for (const d of await db.select().from(decisions)) {
    const f = factsFromHistory(d, history.get(d.id) ?? []);
    for (const [hour, metric, v] of counterRows(f)) {
      const k = rollupKey(f.typeKey, f.modelVersion, f.policyVersion, hour, metric);
      out.set(k, (out.get(k) ?? 0) + v);
    }
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

/**
 * Counters written before the policy version was a dimension (policy_version 0: a store upgraded from a
 * build without it) are split by rebuilding their days from the decisions, one (type, UTC day) per
 * transaction: the day's hourly and daily counters are deleted and written again from each decision's
 * facts, the same derivation as aggregateFromScratch. Totals are right before, during and after; only the
 * split by policy version waits for it. Runs as a background job until nothing is left; returns how many
 * days it rebuilt and whether any remain. `pageRows`: decisions read at a time (tests make it small).
 */
export async function splitRollups(db: DbOrTx, opts: { budgetMs?: number; pageRows?: number } = {}): Promise<{ days: number; done: boolean }> {
  const deadline = Date.now() + (opts.budgetMs ?? 1_000);
  let days = 0;
  for (;;) {
    // A literal 0, so that SQLite's planner can use the partial index rollups_unsplit_idx.
    const next = await sqlOne<{ type_key: string; hour: number | string }>(db, sql`SELECT type_key, hour FROM rollups WHERE policy_version = 0 LIMIT 1`);
    if (!next) return { days, done: true };
    await transaction(db, (tx) => rebuildDay(tx, next.type_key, dayStart(Number(next.hour)), opts.pageRows ?? REBUILD_PAGE_ROWS));
    days++;
    if (Date.now() >= deadline) return { days, done: false };
  }
}

/** Decisions a day's rebuild reads at a time, with their reviews: all it holds besides the day's counters. */
const REBUILD_PAGE_ROWS = 1_000;

/** What the facts of a decision need (factsFromHistory), and the keyset. */
const factColumns = {
  seq: decisions.seq,
  id: decisions.id,
  typeKey: decisions.typeKey,
  modelVersion: decisions.modelVersion,
  policyVersion: decisions.policyVersion,
  confidence: decisions.confidence,
  segment: decisions.segment,
  occurredAt: decisions.occurredAt,
  receivedAt: decisions.receivedAt,
  route: decisions.route,
  status: decisions.status,
  qaSampled: decisions.qaSampled,
  finalizedAt: decisions.finalizedAt,
  reasons: decisions.reasons,
};
const verdictColumns = {
  decisionId: reviews.decisionId,
  seq: reviews.seq,
  taskKind: reviews.taskKind,
  action: reviews.action,
  changedFields: reviews.changedFields,
  reasonCodes: reviews.reasonCodes,
};

async function rebuildDay(tx: DbOrTx, typeKey: string, day: number, pageRows: number): Promise<void> {
  // Postgres: no other transaction writes counters until this one commits (a review of a decision of this
  // day must apply its delta to the rebuilt counters, not to the deleted ones). SQLite has one writer.
  if (dialectOf(tx) === "postgres") await sqlRun(tx, sql`LOCK TABLE rollups IN SHARE ROW EXCLUSIVE MODE`);
  await tx.delete(rollups).where(and(eq(rollups.typeKey, typeKey), gte(rollups.hour, day), lt(rollups.hour, day + DAY)));
  // The day's decisions a page at a time by seq (keyset), their counters summed as they go: memory is one page
  // and the day's counters, however many decisions the day has. No index leads with occurred_at, so each page
  // walks the primary key on from the last one (`type_key || ''` keeps both planners off the type indexes: with
  // one, SQLite read every decision of the type and sorted them, for every page).
  const deltas = new Map<string, RollupRow>();
  for (let after = 0; ;) {
    const page = await tx
      .select(factColumns)
      .from(decisions)
      .where(and(eq(sql`${decisions.typeKey} || ''`, typeKey), gte(decisions.occurredAt, day), lt(decisions.occurredAt, day + DAY), gt(decisions.seq, after)))
      .orderBy(decisions.seq)
      .limit(pageRows);
    if (page.length === 0) break;
    const history = new Map<string, ReviewRowLike[]>();
    const found = await tx
      .select(verdictColumns)
      .from(reviews)
      .where(
        inArray(
          reviews.decisionId,
          page.map((d) => d.id),
        ),
      );
    for (const r of found) history.set(r.decisionId, [...(history.get(r.decisionId) ?? []), r]);
    addDeltas(
      deltas,
      page.map((d) => ({ before: null, after: factsFromHistory(d, history.get(d.id) ?? []) })),
    );
    if (page.length < pageRows) break;
    after = page[page.length - 1].seq;
    // SQLite's statements are synchronous: between pages, requests waiting on the event loop get their turn
    // (reads run on their own connection; writes queue behind this transaction either way).
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The roll-ups only: the monitors' counters were never split (and are kept for days, not for ever).
  await writeDeltas(tx, deltas);
}
