/**
 * What one decision, in its current state, contributes to the hourly roll-ups.
 * Pure: reports are sums of these contributions, and every write applies
 * contribution(after) − contribution(before) in its own transaction, so the
 * roll-ups always equal a from-scratch aggregate over the decisions.
 */
import { ruleKindOf } from "../routing/policy";

export type DecisionStatus = "pending_review" | "in_review" | "approved" | "corrected" | "rejected" | "escalated" | "auto_approved";

export type DecisionFacts = {
  typeKey: string;
  modelVersion: string;
  occurredAt: number;
  receivedAt: number;
  route: "auto" | "review";
  status: DecisionStatus;
  qaSampled: boolean;
  finalizedAt: number | null;
  reasons: string[];
  /** Output fields the human changed (final review of the review lane). */
  changedFields: string[];
  /** Reason codes on the final human verdict. */
  reasonCodes: string[];
  /** For QA-sampled auto decisions: the QA reviewer's verdict once given. */
  qaVerdict: "approved" | "changed" | null;
};

export const FINAL_STATUSES: ReadonlySet<DecisionStatus> = new Set(["approved", "corrected", "rejected", "auto_approved"]);

/** Latency histogram: bucket i holds durations in [1.25^i, 1.25^(i+1)) ms. */
export const TTD_BASE = 1.25;
export function ttdBucket(ms: number): number {
  return ms < 1 ? 0 : Math.floor(Math.log(ms) / Math.log(TTD_BASE));
}
export function ttdBucketUpper(bucket: number): number {
  return TTD_BASE ** (bucket + 1);
}

/** Array indexes fold into `*` so line items aggregate per field. */
export function normalizeFieldPath(path: string): string {
  return path
    .split(".")
    .map((s) => (/^\d+$/.test(s) ? "*" : s))
    .join(".");
}

export function ruleKey(reason: string): string {
  const kind = ruleKindOf(reason);
  const words = reason.split(" ");
  if (kind === "confidence") return "confidence";
  if (kind === "field") return `field:${words[1]}`;
  if (kind === "flag") return `flag:${words[3] ?? words[1]}`;
  return `other:${reason}`;
}

export function contributions(f: DecisionFacts): Map<string, number> {
  const m = new Map<string, number>();
  const add = (k: string, v = 1) => m.set(k, (m.get(k) ?? 0) + v);
  add("volume");
  add(`route:${f.route}`);
  for (const r of f.reasons) add(`rule:${ruleKey(r)}`);
  if (FINAL_STATUSES.has(f.status)) {
    add(f.route === "auto" ? "final:auto" : "final:reviewed");
    add(`outcome:${f.status}`);
    if (f.finalizedAt != null) {
      const ms = Math.max(0, f.finalizedAt - f.receivedAt);
      add(`ttd:${ttdBucket(ms)}`);
      add("ttd_sum_ms", Math.round(ms));
    }
    if (f.route === "review") {
      for (const p of new Set(f.changedFields.map(normalizeFieldPath))) add(`field:${p}`);
      for (const c of f.reasonCodes) add(`reason:${c}`);
    }
  } else {
    add("pending");
  }
  if (f.qaSampled) {
    add("qa:sampled");
    if (f.qaVerdict) {
      add("qa:reviewed");
      if (f.qaVerdict === "approved") add("qa:approved");
      else for (const c of f.reasonCodes) add(`qa_reason:${c}`);
    }
  }
  return m;
}
