/** Decision statuses, isomorphic so pages can list them in the browser too. */
/** The one list, declared with the schema (its CHECK constraint). */
import { DECISION_STATUSES } from "@db/schema/tables";
export { DECISION_STATUSES };
export type DecisionStatus = (typeof DECISION_STATUSES)[number];
/** Statuses whose outcome is decided: released automatically or by a final human verdict. */
export const FINAL_STATUSES: ReadonlySet<DecisionStatus> = new Set(["approved", "corrected", "rejected", "auto_approved"]);
