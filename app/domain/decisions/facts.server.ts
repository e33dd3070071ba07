/**
 * Builds the roll-up facts of a decision from its row and its human verdicts.
 */
import type { decisions } from "@db/schema/index";
import type { DecisionFacts } from "../reports/contributions";

export type VerdictFacts = {
  changedFields: string[];
  reasonCodes: string[];
  qaVerdict: "approved" | "changed" | null;
};

export function factsOf(row: typeof decisions.$inferSelect, verdict: VerdictFacts | null): DecisionFacts {
  return {
    typeKey: row.typeKey,
    modelVersion: row.modelVersion,
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
  };
}
