/**
 * What one decision, in its current state, contributes to the hourly roll-ups.
 * Pure: reports are sums of these contributions, and every write applies
 * contribution(after) − contribution(before) in its own transaction, so the
 * roll-ups always equal a from-scratch aggregate over the decisions
 * (tests/unit/reports-rollups.property.test.ts checks exactly that).
 *
 * Metric names (one counter row per type, model version, policy version, hour of occurredAt):
 *   volume, route:auto|review, pending, final:auto|reviewed, outcome:<status>,
 *   rule:<rule>            a routing rule that sent the decision to review
 *   ttd:<route>:<bucket>   time-to-decision histogram (see ttdBucket), ttd_sum_ms
 *   field:<path>           review lane: a field the human changed in the final verdict
 *   reason:<code>          review lane: reason codes on the final verdict
 *   escalated              ever escalated to the type's owner (open or resolved)
 *   qa:sampled|reviewed|approved, qa_field:<path>, qa_reason:<code>   QA of the auto lane
 */
import { FINAL_STATUSES, type DecisionStatus } from "../decisions/statuses";
import { ruleKindOf } from "../routing/policy";

export type { DecisionStatus };

export type DecisionFacts = {
  typeKey: string;
  modelVersion: string;
  /** The routing policy version the decision was routed under. */
  policyVersion: number;
  /** The model's overall confidence and the decision's monitored segment: read by the drift monitors' counters only (monitors/counters.ts), not by the roll-ups. */
  confidence: number;
  segment: string | null;
  occurredAt: number;
  receivedAt: number;
  route: "auto" | "review";
  status: DecisionStatus;
  qaSampled: boolean;
  finalizedAt: number | null;
  reasons: string[];
  /** Output fields the human changed: the final verdict (review lane) or the QA verdict (auto lane). */
  changedFields: string[];
  /** Reason codes on that same verdict. */
  reasonCodes: string[];
  /** For QA-sampled auto decisions: the QA reviewer's verdict once given. */
  qaVerdict: "approved" | "changed" | null;
  /** The decision went to its type's owner at some point (a resolved escalation keeps this). */
  escalated: boolean;
};

/**
 * Latency histogram with 25% wide buckets: bucket 0 holds [0, 1) ms (reported as 0),
 * bucket k ≥ 1 holds [1.25^(k−1), 1.25^k) ms. 100 buckets reach past a year.
 */
export const TTD_BASE = 1.25;
export function ttdBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  const k = Math.floor(Math.log(ms) / Math.log(TTD_BASE)) + 1;
  // Guard against floating-point error at the exact bucket edges.
  if (ms < ttdBucketLower(k)) return k - 1;
  if (ms >= ttdBucketUpper(k)) return k + 1;
  return k;
}
export function ttdBucketLower(k: number): number {
  return k <= 0 ? 0 : TTD_BASE ** (k - 1);
}
export function ttdBucketUpper(k: number): number {
  return k <= 0 ? 1 : TTD_BASE ** k;
}

/** Array indexes fold into `*` so line items aggregate per field. */
export function normalizeFieldPath(path: string): string {
  return path
    .split(".")
    .map((s) => (/^\d+$/.test(s) ? "*" : s))
    .join(".");
}

/** A routing reason, reduced to the rule that fired ("confidence", "field:total", "flag:policy:*"). */
export function ruleKey(reason: string): string {
  const kind = ruleKindOf(reason);
  const words = reason.split(" ");
  if (kind === "confidence") return "confidence";
  if (kind === "field") return `field:${normalizeFieldPath(words[1] ?? "")}`;
  if (kind === "flag") return `flag:${words[3] ?? words[1]}`;
  return `other:${reason}`;
}

export function contributions(f: DecisionFacts): Map<string, number> {
  const m = new Map<string, number>();
  const add = (k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);
  add("volume");
  add(`route:${f.route}`);
  for (const r of new Set(f.reasons.map(ruleKey))) add(`rule:${r}`);
  if (f.escalated || f.status === "escalated") add("escalated");
  const fields = [...new Set(f.changedFields.map(normalizeFieldPath))];
  const codes = [...new Set(f.reasonCodes)];
  if (FINAL_STATUSES.has(f.status)) {
    add(f.route === "auto" ? "final:auto" : "final:reviewed");
    add(`outcome:${f.status}`);
    if (f.finalizedAt != null) {
      const ms = Math.max(0, f.finalizedAt - f.receivedAt);
      add(`ttd:${f.route}:${ttdBucket(ms)}`);
      add("ttd_sum_ms", Math.round(ms));
    }
    if (f.route === "review") {
      for (const p of fields) add(`field:${p}`);
      for (const c of codes) add(`reason:${c}`);
    }
  } else {
    add("pending");
  }
  if (f.qaSampled) {
    add("qa:sampled");
    if (f.qaVerdict) {
      add("qa:reviewed");
      if (f.qaVerdict === "approved") add("qa:approved");
      else {
        for (const p of fields) add(`qa_field:${p}`);
        for (const c of codes) add(`qa_reason:${c}`);
      }
    }
  }
  return m;
}
