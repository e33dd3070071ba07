/**
 * The transactional outbox: events for source systems are written in the same
 * transaction as the change they announce, together with one pending delivery
 * per webhook subscription that wants the event (delivery.server.ts sends them).
 * A subscription therefore receives exactly the events committed after it.
 *
 * Every event's body is what a subscriber receives:
 * `{"type", "timestamp", "data": <the decision as GET /api/v1/decisions/:id showed it then>}`.
 */
import { isNull } from "drizzle-orm";
import { z } from "zod";
import { afterCommit, preparedQuery, writeBehind, type DbOrTx } from "@db/client.server";
import { outbox, webhookDeliveries, webhookSubscriptions } from "@db/schema/index";
import { insertRows, JsonText } from "@db/bulk-insert.server";
import { decisionJsonSchema, getDecision, type DecisionJson } from "../decisions/decisions.server";

import { DECISION_EVENTS, WEBHOOK_EVENTS, type WebhookEventType } from "./events";

export { WEBHOOK_EVENTS, type WebhookEventType };

export type OutboxEvent = {
  eventType: WebhookEventType;
  typeKey: string;
  entityId: string;
  /** The event's `data`: any JSON value, or its text already written (see `jsonText`). */
  data: unknown;
  at: number;
};

/** The body subscribers receive, as JSON text (the data's own text is spliced in, not serialised again). */
export function eventBody(e: Pick<OutboxEvent, "eventType" | "data" | "at">): string {
  const data = e.data instanceof JsonText ? e.data.text : JSON.stringify(e.data);
  return `{"type":${JSON.stringify(e.eventType)},"timestamp":${JSON.stringify(new Date(e.at).toISOString())},"data":${data}}`;
}

/** One event of announceDecision: its type, and members its `data` carries beside the decision. */
export type DecisionAnnouncement = { type: WebhookEventType; extra?: Record<string, unknown> };

/**
 * Announces a change to a decision: reads it as GET /api/v1/decisions/:id shows it, inside the transaction that
 * changed it and after its writes, and enqueues each event with it as `data` (plus the event's `extra` members).
 * Gives the decision read, which is what the change's caller answers with.
 */
export async function announceDecision(tx: DbOrTx, decisionId: string, at: number, events: DecisionAnnouncement[]): Promise<DecisionJson> {
  const decision = await getDecision(tx, decisionId);
  await enqueueEvents(
    tx,
    events.map((e) => ({ eventType: e.type, typeKey: decision.type, entityId: decisionId, at, data: { ...decision, ...e.extra } })),
  );
  return decision;
}

/**
 * The body a subscriber receives (the contract documents it; eventBody writes it). `data` is the decision as
 * GET /api/v1/decisions/:id showed it at the event, with `escalation` on decision.escalated and `correction`
 * on decision.corrected_after_release.
 */
export const webhookEventSchema = z
  .object({
    type: z.enum(DECISION_EVENTS),
    timestamp: z.iso.datetime(),
    data: decisionJsonSchema.extend({
      escalation: z.object({ reason: z.string(), owner: z.string() }).optional().describe("decision.escalated: why, and the type's owner"),
      correction: z
        .object({
          action: z.enum(["correct", "reject"]),
          output: z.record(z.string(), z.unknown()).nullable(),
          changedFields: z.array(z.string()),
          reasonCodes: z.array(z.string()),
          reviewer: z.string(),
          note: z.string().nullable(),
          at: z.iso.datetime(),
        })
        .optional()
        .describe("decision.corrected_after_release: the QA reviewer's verdict on the released output"),
    }),
  })
  .meta({ id: "WebhookEvent" });

export type WebhookEvent = z.output<typeof webhookEventSchema>;

type Subscription = { id: string; events: string[]; types: string[] | null };

const wants = (s: Subscription, e: OutboxEvent) => s.events.includes(e.eventType) && (s.types === null || s.types.includes(e.typeKey));

let wakeDelivery: (() => void) | null = null;

/** The delivery worker asks to hear of new deliveries, once the transaction that made them has committed. */
export function onDeliveriesEnqueued(fn: (() => void) | null): void {
  wakeDelivery = fn;
}

/** The subscriptions in force: every event-writing transaction reads them, so the query is prepared once. */
const activeSubscriptions = preparedQuery("webhook_subscriptions_active", (db) =>
  db
    .select({ id: webhookSubscriptions.id, events: webhookSubscriptions.events, types: webhookSubscriptions.types })
    .from(webhookSubscriptions)
    .where(isNull(webhookSubscriptions.disabledAt)),
);

export async function enqueueEvents(tx: DbOrTx, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    eventType: e.eventType,
    typeKey: e.typeKey,
    entityId: e.entityId,
    payload: eventBody(e),
    createdAt: e.at,
    nextAttemptAt: e.at,
  }));
  const subs = (await activeSubscriptions(tx, {})).filter((s) => events.some((e) => wants(s, e)));
  if (subs.length === 0) {
    // Nothing reads these rows back in this transaction: on Postgres they go with the commit.
    await writeBehind(tx, (db) => insertRows(db, outbox, rows));
    return;
  }
  // Subscribers want some of these: the outbox rows' numbers key their deliveries. Within one call an
  // event is one (entity, type), so returned rows are matched by that, whatever order they come back in.
  const seqs = new Map<string, number>();
  for (let start = 0; start < rows.length; start += 100) {
    const back = await tx
      .insert(outbox)
      .values(rows.slice(start, start + 100))
      .returning({ seq: outbox.seq, entityId: outbox.entityId, eventType: outbox.eventType });
    for (const r of back) seqs.set(`${r.entityId} ${r.eventType}`, r.seq);
  }
  const deliveries: (typeof webhookDeliveries.$inferInsert)[] = [];
  for (const e of events) {
    const outboxSeq = seqs.get(`${e.entityId} ${e.eventType}`)!;
    for (const s of subs) {
      if (!wants(s, e)) continue;
      deliveries.push({
        subscriptionId: s.id,
        outboxSeq,
        entityId: e.entityId,
        eventType: e.eventType,
        status: "pending",
        attempts: 0,
        nextAttemptAt: e.at,
        createdAt: e.at,
      });
    }
  }
  await writeBehind(tx, (db) => insertRows(db, webhookDeliveries, deliveries));
  const wake = wakeDelivery;
  if (deliveries.length > 0 && wake) afterCommit(tx, wake);
}
