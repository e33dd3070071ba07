/**
 * Writes roll-up deltas. Callers hand in (before, after) facts for every
 * decision their transaction changes; deltas are summed per key and applied
 * with one upsert per touched counter.
 *
 * Counters live per hour of occurredAt, and again per UTC day (metric
 * "day:<name>", hour column = the day's start), so a 90-day report by day or
 * week reads ~90 rows per metric instead of ~2,160.
 */
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { decisions, reviews, rollups } from "@db/schema/index";
import { factsFromHistory } from "../decisions/facts.server";
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

export async function applyRollupChanges(tx: DbOrTx, changes: FactsChange[]): Promise<void> {
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
  const deltas = new Map<string, { typeKey: string; modelVersion: string; hour: number; metric: string; value: number }>();
  for (const { f, times } of distinct.values()) {
    if (times === 0) continue;
    for (const [hour, metric, v] of counterRows(f)) {
      const k = `${f.typeKey}\u0000${f.modelVersion}\u0000${hour}\u0000${metric}`;
      const cur = deltas.get(k);
      if (cur) cur.value += times * v;
      else deltas.set(k, { typeKey: f.typeKey, modelVersion: f.modelVersion, hour, metric, value: times * v });
    }
  }
  const rows = [...deltas.values()].filter((d) => d.value !== 0);
  for (let i = 0; i < rows.length; i += 500) {
    await tx
      .insert(rollups)
      .values(rows.slice(i, i + 500))
      .onConflictDoUpdate({
        target: [rollups.typeKey, rollups.hour, rollups.modelVersion, rollups.metric],
        set: { value: sql`${rollups.value} + excluded.value` },
      });
  }
}

export const rollupKey = (typeKey: string, modelVersion: string, hour: number, metric: string) => `${typeKey}|${modelVersion}|${hour}|${metric}`;

/** The roll-up table as a map of non-zero counters keyed by rollupKey. */
export async function rollupSnapshot(db: DbOrTx): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await db.select().from(rollups)) if (r.value !== 0) out.set(rollupKey(r.typeKey, r.modelVersion, r.hour, r.metric), r.value);
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
      const k = rollupKey(f.typeKey, f.modelVersion, hour, metric);
      out.set(k, (out.get(k) ?? 0) + v);
    }
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}
