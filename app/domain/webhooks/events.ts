/** The webhook event types (isomorphic: the admin page lists them too). */
export const WEBHOOK_EVENTS = ["decision.finalized", "decision.escalated", "decision.corrected_after_release", "decision.qa_reviewed"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
