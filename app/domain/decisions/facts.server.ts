/**
 * Builds the roll-up facts of a decision: from its row and the verdict the
 * write path just recorded (`factsOf`), or from its row and its stored reviews
 * (`factsFromHistory`, the from-scratch derivation the roll-ups are checked against).
 */
import type { decisions, reviews } from "@db/schema/index";
import type { DecisionFacts } from "../reports/contributions";

export type VerdictFacts = {
  changedFields: string[];
  reasonCodes: string[];
  qaVerdict: "approved" | "changed" | null;
  /** True when this verdict resolves an escalation. */
  escalated?: boolean;
};

/** The decision columns the facts read (a reader that derives facts in bulk selects these alone). */
export type DecisionRowLike = Pick<
  typeof decisions.$inferSelect,
  | "typeKey"
  | "modelVersion"
  | "policyVersion"
  | "confidence"
  | "segment"
  | "occurredAt"
  | "receivedAt"
  | "route"
  | "status"
  | "qaSampled"
  | "finalizedAt"
  | "reasons"
>;
export type ReviewRowLike = Pick<typeof reviews.$inferSelect, "taskKind" | "action" | "changedFields" | "reasonCodes" | "seq">;

export function factsOf(row: DecisionRowLike, verdict: VerdictFacts | null): DecisionFacts {
  return {
    typeKey: row.typeKey,
    modelVersion: row.modelVersion,
    policyVersion: row.policyVersion,
    confidence: row.confidence,
    segment: row.segment ?? null,
    occurredAt: row.occurredAt,
    receivedAt: row.receivedAt,
    route: row.route,
    status: row.status,
    qaSampled: row.qaSampled,
    finalizedAt: row.finalizedAt ?? null,
    reasons: row.reasons,
    changedFields: verdict?.changedFields ?? [],
    reasonCodes: verdict?.reasonCodes ?? [],
    qaVerdict: verdict?.qaVerdict ?? null,
    escalated: row.status === "escalated" || (verdict?.escalated ?? false),
  };
}

/**
 * The verdict that counts, read from a decision's stored reviews: for the auto
 * lane the QA review; for the review lane the last deciding (non-escalate) review.
 */
export function verdictFromReviews(row: Pick<DecisionRowLike, "route">, history: ReviewRowLike[]): VerdictFacts | null {
  const sorted = [...history].sort((a, b) => a.seq - b.seq);
  // Escalated by a reviewer, or sent to the owner by a four-eyes disagreement (resolved through an escalation task).
  const escalated = sorted.some((r) => r.action === "escalate" || r.taskKind === "escalation");
  if (row.route === "auto") {
    const qa = sorted.filter((r) => r.taskKind === "qa").at(-1);
    if (!qa) return escalated ? { changedFields: [], reasonCodes: [], qaVerdict: null, escalated } : null;
    return { changedFields: qa.changedFields, reasonCodes: qa.reasonCodes, qaVerdict: qa.action === "approve" ? "approved" : "changed", escalated };
  }
  const deciding = sorted.filter((r) => r.taskKind !== "qa" && r.action !== "escalate").at(-1);
  return { changedFields: deciding?.changedFields ?? [], reasonCodes: deciding?.reasonCodes ?? [], qaVerdict: null, escalated };
}

export function factsFromHistory(row: DecisionRowLike, history: ReviewRowLike[]): DecisionFacts {
  return factsOf(row, verdictFromReviews(row, history));
}
