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
 *
 * Two more families are events, not states, so they are only ever added (never moved by a later change):
 *   in:<field>|<bucket>    at ingest, a monitored input field's value (see inputBucket), for decisions that
 *                          arrive while the field is monitored; keyed by the minute the decision occurred
 *   rv:n|<user>, rv:ok|<user>, rv:fast|<user>   a reviewer's verdicts (approve, correct, reject; not
 *                          escalations), their approvals, and those given within FAST_REVIEW_MS of the
 *                          claim; keyed by the minute of the verdict
 * And one gauge, written by the evaluator: g:backlog, the open review tasks at that minute.
 */
import { type DbOrTx } from "@db/client.server";
import { addToCounters } from "@db/bulk-insert.server";
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

/** The override counters a review-lane decision adds once a human has decided it (none before). */
export function overrideContributions(f: Pick<DecisionFacts, "status" | "modelVersion" | "segment">): [string, number][] {
  if (!HUMAN_OUTCOMES.has(f.status)) return [];
  const out: [string, number][] = [];
  for (const seg of segmentsOf(f)) {
    out.push([`ovr:n|${seg}`, 1]);
    if (f.status !== "approved") out.push([`ovr:k|${seg}`, 1]);
  }
  return out;
}

export function monitorContributions(f: DecisionFacts): [string, number][] {
  const out: [string, number][] = [
    ["n", 1],
    [`conf:${confidenceBin(f.confidence)}`, 1],
  ];
  if (f.route === "review") {
    out.push(["review", 1], ...overrideContributions(f));
  } else if (f.qaVerdict) {
    out.push(["qa:n", 1]);
    if (f.qaVerdict === "approved") out.push(["qa:ok", 1]);
  }
  return out;
}

/** Applies the counters' deltas for decisions changing from `before` to `after` (either may be null). */
export async function applyMonitorChanges(tx: DbOrTx, changes: readonly { before: DecisionFacts | null; after: DecisionFacts | null }[]): Promise<void> {
  const deltas: Deltas = new Map();
  const add = (f: DecisionFacts, sign: 1 | -1) => {
    for (const [metric, v] of monitorContributions(f)) addTo(deltas, f.typeKey, metric, f.occurredAt, sign * v);
  };
  for (const c of changes) {
    if (c.before) add(c.before, -1);
    if (c.after) add(c.after, 1);
  }
  await addCounts(tx, deltas);
}

type Deltas = Map<string, { typeKey: string; metric: string; minute: number; value: number }>;

function addTo(deltas: Deltas, typeKey: string, metric: string, at: number, value: number) {
  const minute = minuteStart(at);
  const k = `${typeKey}|${metric}|${minute}`;
  const cur = deltas.get(k);
  if (cur) cur.value += value;
  else deltas.set(k, { typeKey, metric, minute, value });
}

async function addCounts(tx: DbOrTx, deltas: Deltas): Promise<void> {
  const rows = [...deltas.values()].filter((d) => d.value !== 0);
  // Shared by every write of a type in the same minute: on Postgres added while the transaction commits.
  await addToCounters(tx, "monitorCounters", rows);
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

/**
 * The counter bucket of one input value. Numbers: eight buckets per power of two, by sign
 * (`n:<sign><exponent>.<eighth>`, `n:0` for zero), fine enough to be merged into bins of equal baseline
 * share at evaluation (the bins are fixed from the baseline, whatever its range). Other scalars: the
 * value as text (`c:<value>`, at most 60 characters). null when the field is absent or not a scalar.
 */
export function inputBucket(v: unknown): string | null {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return null;
    if (v === 0) return "n:0";
    const a = Math.abs(v);
    let k = Math.floor(Math.log2(a));
    if (2 ** k > a) k--;
    else if (2 ** (k + 1) <= a) k++;
    const j = Math.min(7, Math.floor((a / 2 ** k - 1) * 8));
    return `n:${v < 0 ? "-" : "+"}${k}.${j}`;
  }
  if (typeof v === "string") return `c:${v.slice(0, 60)}`;
  if (typeof v === "boolean") return `c:${v}`;
  return null;
}

/** Where a numeric bucket starts on the number line (for ordering buckets); NaN for a category. */
export function bucketStart(bucket: string): number {
  if (bucket === "n:0") return 0;
  const m = /^n:([+-])(-?\d+)\.(\d)$/.exec(bucket);
  if (!m) return NaN;
  const [lo, hi] = [2 ** Number(m[2]) * (1 + Number(m[3]) / 8), 2 ** Number(m[2]) * (1 + (Number(m[3]) + 1) / 8)];
  // A negative bucket's numbers run from −hi to −lo: it starts at −hi.
  return m[1] === "+" ? lo : -hi;
}

export type IngestedForMonitors = { typeKey: string; occurredAt: number; input: unknown };

/** The `in:` counts of arriving decisions: each monitored field's bucket. */
export function inputContributions(d: IngestedForMonitors, fields: readonly string[], valueOf: (input: unknown, path: string) => unknown): string[] {
  const out: string[] = [];
  for (const field of fields) {
    const b = inputBucket(valueOf(d.input, field));
    if (b !== null) out.push(`in:${field}|${b}`);
  }
  return out;
}

/** Counts arriving decisions' monitored input fields (in the ingest transaction). */
export async function countInputs(
  tx: DbOrTx,
  decided: readonly IngestedForMonitors[],
  fieldsOf: (typeKey: string) => readonly string[],
  valueOf: (input: unknown, path: string) => unknown,
): Promise<void> {
  const deltas: Deltas = new Map();
  for (const d of decided) {
    const fields = fieldsOf(d.typeKey);
    if (fields.length) for (const metric of inputContributions(d, fields, valueOf)) addTo(deltas, d.typeKey, metric, d.occurredAt, 1);
  }
  if (deltas.size) await addCounts(tx, deltas);
}

/** A verdict within this long of the claim counts as fast (rubber-stamping is fast, near-total approval). */
export const FAST_REVIEW_MS = 5_000;

export type VerdictForMonitors = { typeKey: string; reviewerId: string; action: string; handlingMs: number | null; at: number };

export function reviewContributions(v: VerdictForMonitors): string[] {
  if (v.action !== "approve" && v.action !== "correct" && v.action !== "reject") return [];
  const out = [`rv:n|${v.reviewerId}`];
  if (v.action === "approve") out.push(`rv:ok|${v.reviewerId}`);
  if (v.handlingMs !== null && v.handlingMs < FAST_REVIEW_MS) out.push(`rv:fast|${v.reviewerId}`);
  return out;
}

/** Counts a reviewer's verdict (in the review's transaction). */
export async function countVerdict(tx: DbOrTx, v: VerdictForMonitors): Promise<void> {
  const deltas: Deltas = new Map();
  for (const metric of reviewContributions(v)) addTo(deltas, v.typeKey, metric, v.at, 1);
  if (deltas.size) await addCounts(tx, deltas);
}

/** Sets a gauge's value at a minute (the evaluator records the backlog it saw). */
export async function setGauge(tx: DbOrTx, typeKey: string, metric: string, at: number, value: number): Promise<void> {
  const row = { typeKey, metric, minute: minuteStart(at), value };
  await tx
    .insert(monitorCounters)
    .values(row)
    .onConflictDoUpdate({ target: [monitorCounters.typeKey, monitorCounters.metric, monitorCounters.minute], set: { value } });
}
