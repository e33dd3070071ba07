/**
 * What each verdict must carry, in one place: validateVerdict enforces it for
 * the API and the review page alike, and the page's dialog reads it to mark
 * fields as required. An escalation must say why in its note (the owner acts
 * on it); reason codes are optional for it, since the taxonomy describes what
 * was wrong with the output, which an escalation may not know yet. A
 * correction or rejection names at least one reason code when the type has any.
 */
import type { Issue } from "~/lib/errors";

/** What a reviewer may do with a task (the API's `action`). */
import { REVIEW_ACTIONS } from "@db/schema/tables";
/** The one list, declared with the schema (its CHECK constraint). */
export { REVIEW_ACTIONS };
export type VerdictAction = (typeof REVIEW_ACTIONS)[number];

export function verdictNeeds(action: VerdictAction, typeReasonCodes: number): { reasonCodes: boolean; note: boolean } {
  return {
    reasonCodes: (action === "correct" || action === "reject") && typeReasonCodes > 0,
    note: action === "escalate",
  };
}

/** The missing-field issues for a verdict's reason codes and note (the messages the API and the page show). */
export function missingVerdictFields(body: { action: VerdictAction; reasonCodes: string[]; note?: string }, typeReasonCodes: number): Issue[] {
  const needs = verdictNeeds(body.action, typeReasonCodes);
  const issues: Issue[] = [];
  if (needs.reasonCodes && body.reasonCodes.length === 0) issues.push({ path: "reasonCodes", message: `choose at least one reason code to ${body.action}` });
  if (needs.note && !body.note?.trim()) issues.push({ path: "note", message: "say why you escalate" });
  return issues;
}
