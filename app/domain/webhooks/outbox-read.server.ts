/** Reading the outbox: the events announced about one entity and whether they went out. */
import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { outbox } from "@db/schema/index";

export type OutboxEntry = {
  seq: number;
  eventType: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  payload: unknown;
};

export async function outboxForEntity(db: DbOrTx, entityId: string): Promise<OutboxEntry[]> {
  return (await db.select().from(outbox).where(eq(outbox.entityId, entityId)).orderBy(asc(outbox.seq))).map((r) => {
    let payload: unknown = r.payload;
    try {
      payload = JSON.parse(r.payload);
    } catch {
      /* keep the text */
    }
    return {
      seq: r.seq,
      eventType: r.eventType,
      createdAt: r.createdAt,
      attempts: r.attempts,
      nextAttemptAt: r.nextAttemptAt,
      deliveredAt: r.deliveredAt,
      lastError: r.lastError,
      payload,
    };
  });
}
