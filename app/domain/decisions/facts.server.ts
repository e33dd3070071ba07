/**
 * Builds the roll-up facts of a decision: from its row and the verdict the
 * write path just recorded (`factsOf`), or from its row and its stored reviews
 * (`factsFromHistory`, the from-scratch derivation the roll-ups are checked against); and the
 * review history the reviewer roll-up is a function of (`reviewHistories`).
 */
import { and, asc, eq, inArray, lte } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { reviews as reviewsTable, tasks } from "@db/schema/index";
import type { decisions, reviews } from "@db/schema/index";
import type { DecisionFacts } from "../reports/contributions";
import type { ReviewedFact } from "../teams/reviewer-metrics";

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

/** A decision's review history as the reviewer roll-up reads it (teams/reviewer-metrics.ts), with the decision's type. */
export type ReviewHistory = { typeKey: string; history: (ReviewedFact & { id: string })[] };

/**
 * The review histories of some decisions (reviews in seq order, each with its task's kind, due time and type),
 * through reviews_decision_idx; `upToSeq`: only the reviews with seq <= it (the reviewer roll-up's backfill).
 */
export async function reviewHistories(db: DbOrTx, decisionIds: readonly string[], opts: { upToSeq?: number } = {}): Promise<Map<string, ReviewHistory>> {
  const out = new Map<string, ReviewHistory>();
  for (let i = 0; i < decisionIds.length; i += 500) {
    const ids = decisionIds.slice(i, i + 500);
    const rows = await db
      .select({
        decisionId: reviewsTable.decisionId,
        typeKey: tasks.typeKey,
        id: reviewsTable.id,
        seq: reviewsTable.seq,
        reviewerId: reviewsTable.reviewerId,
        taskKind: reviewsTable.taskKind,
        action: reviewsTable.action,
        output: reviewsTable.output,
        createdAt: reviewsTable.createdAt,
        handlingMs: reviewsTable.handlingMs,
        dueAt: tasks.dueAt,
      })
      .from(reviewsTable)
      .innerJoin(tasks, eq(tasks.id, reviewsTable.taskId))
      .where(and(inArray(reviewsTable.decisionId, ids), opts.upToSeq == null ? undefined : lte(reviewsTable.seq, opts.upToSeq)))
      .orderBy(asc(reviewsTable.seq));
    for (const { decisionId, typeKey, ...r } of rows) {
      const fact: ReviewedFact & { id: string } = {
        ...r,
        seq: Number(r.seq),
        createdAt: Number(r.createdAt),
        dueAt: Number(r.dueAt),
        handlingMs: r.handlingMs == null ? null : Number(r.handlingMs),
      };
      const h = out.get(decisionId);
      if (h) h.history.push(fact);
      else out.set(decisionId, { typeKey, history: [fact] });
    }
  }
  return out;
}
