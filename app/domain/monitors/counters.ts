/**
 * The drift monitors' per-minute counters (issue 15): what one decision, in its current state, contributes,
 * keyed by the minute it occurred in. Written by the same writes as the roll-ups, from the same (before,
 * after) facts (reports/rollups.server.ts applies both), so they always equal a from-scratch count.
 *
 * Metrics:
 *   n                      decisions
 *   review                 routed to review
 *   conf:<bin>             model confidence in 20 equal bins of 0.05 (bin 19 holds 0.95–1)
 *   ovr:n|<seg>, ovr:k|<seg>   review lane: decided by a human (n), and changed by them (k: corrected or rejected);
 *                          <seg> is "" (the whole type), "model=<version>" and "segment=<value>"
 *   qa:n, qa:ok            auto lane: QA verdicts, and those that let the output stand
 */
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { monitorCounters } from "@db/schema/index";
import type { DecisionFacts } from "../reports/contributions";

export const MINUTE = 60_000;
export const CONFIDENCE_BINS = 20;

export const minuteStart = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
export const confidenceBin = (c: number) => Math.min(CONFIDENCE_BINS - 1, Math.max(0, Math.floor(c * CONFIDENCE_BINS)));

const HUMAN_OUTCOMES = new Set(["approved", "corrected", "rejected"]);

/** The segments a decision's override counts in: the whole type, its model version, its segment value. */
export function segmentsOf(f: Pick<DecisionFacts, "modelVersion" | "segment">): string[] {
  const out = ["", `model=${f.modelVersion}`];
  if (f.segment !== null) out.push(`segment=${f.segment}`);
  return out;
}

export function monitorContributions(f: DecisionFacts): [string, number][] {
  const out: [string, number][] = [
    ["n", 1],
    [`conf:${confidenceBin(f.confidence)}`, 1],
  ];
  if (f.route === "review") {
    out.push(["review", 1]);
    if (HUMAN_OUTCOMES.has(f.status)) {
      const changed = f.status !== "approved" ? 1 : 0;
      for (const seg of segmentsOf(f)) {
        out.push([`ovr:n|${seg}`, 1]);
        if (changed) out.push([`ovr:k|${seg}`, 1]);
      }
    }
  } else if (f.qaVerdict) {
    out.push(["qa:n", 1]);
    if (f.qaVerdict === "approved") out.push(["qa:ok", 1]);
  }
  return out;
}

/** Applies the counters' deltas for decisions changing from `before` to `after` (either may be null). */
export async function applyMonitorChanges(tx: DbOrTx, changes: readonly { before: DecisionFacts | null; after: DecisionFacts | null }[]): Promise<void> {
  const deltas = new Map<string, { typeKey: string; metric: string; minute: number; value: number }>();
  const add = (f: DecisionFacts, sign: 1 | -1) => {
    const minute = minuteStart(f.occurredAt);
    for (const [metric, v] of monitorContributions(f)) {
      const k = `${f.typeKey}|${metric}|${minute}`;
      const cur = deltas.get(k);
      if (cur) cur.value += sign * v;
      else deltas.set(k, { typeKey: f.typeKey, metric, minute, value: sign * v });
    }
  };
  for (const c of changes) {
    if (c.before) add(c.before, -1);
    if (c.after) add(c.after, 1);
  }
  const rows = [...deltas.values()].filter((d) => d.value !== 0);
  for (let i = 0; i < rows.length; i += 500) {
    await tx
      .insert(monitorCounters)
      .values(rows.slice(i, i + 500))
      .onConflictDoUpdate({
        target: [monitorCounters.typeKey, monitorCounters.metric, monitorCounters.minute],
        set: { value: sql`${monitorCounters.value} + excluded.value` },
      });
  }
}

/** The counters recomputed from facts alone (what the table must equal), keyed `type|metric|minute`. */
export function monitorCountersFromFacts(facts: Iterable<DecisionFacts>): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of facts) {
    const minute = minuteStart(f.occurredAt);
    for (const [metric, v] of monitorContributions(f)) {
      const k = `${f.typeKey}|${metric}|${minute}`;
      out.set(k, (out.get(k) ?? 0) + v);
    }
  }
  return out;
}
