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
import { dialectOf, sqlAll, sqlOne, sqlRun, transaction, type DbOrTx } from "@db/client.server";
import { addToCounters } from "@db/bulk-insert.server";
import { decisions, reviewerRollupBackfill, reviewerRollups, reviews, rollups } from "@db/schema/index";
import { factsFromHistory, reviewHistories, type ReviewRowLike } from "../decisions/facts.server";
import { historyRows, type ReviewedFact } from "../teams/reviewer-metrics";
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

/**
 * What a write changed of one decision: its facts before and after (null: none, a new decision), and, when the write
 * added a review, its review history before and after (the reviewer roll-up is a function of it: the agreement
 * figures of earlier reviews change when a later review by someone else arrives).
 */
export type FactsChange = { before: DecisionFacts | null; after: DecisionFacts | null; reviews?: ReviewHistoryChange };
export type ReviewHistoryChange = { typeKey: string; before: readonly ReviewedFact[]; after: readonly ReviewedFact[] };

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
  await writeReviewerRollups(tx, changes);
  await applyMonitorChanges(tx, changes);
}

type ReviewerRollupRow = { typeKey: string; reviewerId: string; span: number; start: number; metric: string; value: number };

export const reviewerRollupKey = (typeKey: string, reviewerId: string, span: number, start: number, metric: string) =>
  `reviewer|${typeKey}|${reviewerId}|${span}|${start}|${metric}`;

/** Adds what a review history contributes, times `sign`, to `deltas` (counter rows keyed by reviewerRollupKey). */
function addReviewerDeltas(deltas: Map<string, ReviewerRollupRow>, typeKey: string, history: readonly ReviewedFact[], sign: 1 | -1): void {
  for (const [reviewerId, span, start, metric, v] of historyRows(history)) {
    const k = reviewerRollupKey(typeKey, reviewerId, span, start, metric);
    const cur = deltas.get(k);
    if (cur) cur.value += sign * v;
    else deltas.set(k, { typeKey, reviewerId, span, start, metric, value: sign * v });
  }
}

/** The reviewer roll-up: (after − before) of every changed review history, summed per counter (addToCounters). */
async function writeReviewerRollups(tx: DbOrTx, changes: readonly FactsChange[]): Promise<void> {
  const deltas = new Map<string, ReviewerRollupRow>();
  for (const c of changes) {
    if (!c.reviews) continue;
    addReviewerDeltas(deltas, c.reviews.typeKey, c.reviews.before, -1);
    addReviewerDeltas(deltas, c.reviews.typeKey, c.reviews.after, 1);
  }
  const rows = [...deltas.values()].filter((d) => d.value !== 0);
  if (rows.length) await addToCounters(tx, "reviewerRollups", rows);
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

/** The roll-up tables as a map of non-zero counters keyed by rollupKey (and reviewerRollupKey for the reviewer roll-up). */
export async function rollupSnapshot(db: DbOrTx): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await db.select().from(rollups)) if (r.value !== 0) out.set(rollupKey(r.typeKey, r.modelVersion, r.policyVersion, r.hour, r.metric), r.value);
  for (const r of await db.select().from(reviewerRollups))
    if (Number(r.value) !== 0) out.set(reviewerRollupKey(r.typeKey, r.reviewerId, Number(r.span), Number(r.start), r.metric), Number(r.value));
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
  // The reviewer roll-up: each decision's review history, as its reviews and tasks hold it now.
  for (const { typeKey, history: h } of (await reviewHistories(db, [...history.keys()])).values())
    for (const [reviewerId, span, start, metric, v] of historyRows(h)) {
      const k = reviewerRollupKey(typeKey, reviewerId, span, start, metric);
      out.set(k, (out.get(k) ?? 0) + v);
    }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

/**
 * The reviewer roll-up on a store that had reviews before it existed. Migration 0019 (Postgres 0011) writes
 * reviewer_rollup_backfill's row when the store has reviews: below_seq, the last review's seq then. Every review
 * written since (seq > below_seq) went through the write path, which applied its decision's (after − before); so
 * what is missing of each decision is exactly the contribution of its history up to below_seq (the deltas
 * telescope: contribution(history up to below_seq) + Σ deltas = contribution(history now)). This adds it, a page of
 * decisions (in decision_id order, after_decision the last one done) per transaction, and deletes the row with the
 * last page. Until then the report reads the reviews themselves (reviewerRollupReady), never a partial roll-up.
 * Runs as a background job until it is done; returns how many decisions it counted and whether it is done.
 */
export async function backfillReviewerRollups(
  db: DbOrTx,
  opts: { budgetMs?: number; pageDecisions?: number } = {},
): Promise<{ decisions: number; done: boolean }> {
  const deadline = Date.now() + (opts.budgetMs ?? 1_000);
  const page = opts.pageDecisions ?? 500;
  let counted = 0;
  for (;;) {
    const done = await transaction(db, async (tx) => {
      const state = (await tx.select().from(reviewerRollupBackfill).where(eq(reviewerRollupBackfill.id, 1)).limit(1))[0];
      if (!state) return true;
      const ids = (
        await sqlAll<{ decision_id: string }>(
          tx,
          sql`SELECT DISTINCT decision_id FROM reviews WHERE decision_id > ${state.afterDecision} ORDER BY decision_id LIMIT ${page}`,
        )
      ).map((r) => r.decision_id);
      // The state row is written in every page's transaction: two runs of the job (which one instance holds at a
      // time) could not both count a page (on Postgres the second waits for the first's row, then finds it moved).
      const moved = await tx
        .update(reviewerRollupBackfill)
        .set({ afterDecision: ids.at(-1) ?? state.afterDecision })
        .where(and(eq(reviewerRollupBackfill.id, 1), eq(reviewerRollupBackfill.afterDecision, state.afterDecision)))
        .returning({ id: reviewerRollupBackfill.id });
      if (moved.length === 0) return false;
      const deltas = new Map<string, ReviewerRollupRow>();
      for (const { typeKey, history } of (await reviewHistories(tx, ids, { upToSeq: Number(state.belowSeq) })).values())
        addReviewerDeltas(deltas, typeKey, history, 1);
      const rows = [...deltas.values()].filter((d) => d.value !== 0);
      if (rows.length) await addToCounters(tx, "reviewerRollups", rows);
      counted += ids.length;
      if (ids.length < page) {
        await tx.delete(reviewerRollupBackfill).where(eq(reviewerRollupBackfill.id, 1));
        return true;
      }
      return false;
    });
    if (done) return { decisions: counted, done: true };
    if (Date.now() >= deadline) return { decisions: counted, done: false };
    // Between pages, requests waiting on the event loop get their turn (SQLite's statements are synchronous).
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Whether the reviewer roll-up holds every review (no backfill left to run): the report reads it only then. */
export async function reviewerRollupReady(db: DbOrTx): Promise<boolean> {
  return (await db.select({ id: reviewerRollupBackfill.id }).from(reviewerRollupBackfill).limit(1)).length === 0;
}

/**
 * Counts the reviewer roll-up again from the reviews: empties it and starts its backfill over all reviews (run
 * backfillReviewerRollups, or let the job do it). For rows written behind the app's back (a test arranging the
 * store, a repair); the report reads the reviews until the backfill is done. Reviews being written meanwhile are
 * counted correctly only if they commit before this does (seq order): run it when the store is quiet.
 */
export async function resetReviewerRollups(db: DbOrTx): Promise<void> {
  await transaction(db, async (tx) => {
    if (dialectOf(tx) === "postgres") await sqlRun(tx, sql`LOCK TABLE reviewer_rollups IN SHARE ROW EXCLUSIVE MODE`);
    await tx.delete(reviewerRollups);
    await tx.delete(reviewerRollupBackfill);
    const last = await sqlOne<{ seq: number | string | null }>(tx, sql`SELECT max(seq) AS seq FROM reviews`);
    if (last?.seq != null) await tx.insert(reviewerRollupBackfill).values({ id: 1, belowSeq: Number(last.seq), afterDecision: "" });
  });
}

/** resetReviewerRollups, then the backfill to its end, here and now. */
export async function rebuildReviewerRollups(db: DbOrTx): Promise<void> {
  await resetReviewerRollups(db);
  while (!(await backfillReviewerRollups(db, { budgetMs: 60_000 })).done);
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
