/** Decision statuses, isomorphic so pages can list them in the browser too. */
export const DECISION_STATUSES = ["pending_review", "in_review", "approved", "corrected", "rejected", "escalated", "auto_approved"] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];
/** Statuses whose outcome is decided: released automatically or by a final human verdict. */
export const FINAL_STATUSES: ReadonlySet<DecisionStatus> = new Set(["approved", "corrected", "rejected", "auto_approved"]);
