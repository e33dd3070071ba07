/**
 * The transactional outbox: events for source systems are written in the same
 * transaction as the change they announce. A delivery worker (signed webhooks)
 * reads pending rows; until then integrators can poll the decisions API.
 */
import type { DbOrTx } from "@db/client.server";
import { outbox } from "@db/schema/index";
import { insertRows, JsonText } from "@db/bulk-insert.server";

export type OutboxEvent = {
  eventType: "decision.finalized" | "decision.escalated" | "decision.qa_reviewed";
  typeKey: string;
  entityId: string;
  /** Any JSON value, or its text already written (see `jsonText`). */
  payload: unknown;
  at: number;
};

export async function enqueueEvents(tx: DbOrTx, events: OutboxEvent[]): Promise<void> {
  const rows = events.map((e) => ({
    eventType: e.eventType,
    typeKey: e.typeKey,
    entityId: e.entityId,
    payload: e.payload instanceof JsonText ? e.payload.text : JSON.stringify(e.payload),
    createdAt: e.at,
    nextAttemptAt: e.at,
  }));
  await insertRows(tx, outbox, rows);
}
