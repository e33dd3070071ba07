/** The webhook event types (isomorphic: the admin page lists them too). */
export const DECISION_EVENTS = ["decision.finalized", "decision.escalated", "decision.corrected_after_release", "decision.qa_reviewed"] as const;
/** A drift monitor raised or resolved an alert (monitors/alerts.server.ts). */
export const ALERT_EVENTS = ["alert.fired", "alert.resolved"] as const;
export const WEBHOOK_EVENTS = [...DECISION_EVENTS, ...ALERT_EVENTS] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];
