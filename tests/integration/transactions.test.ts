/**
 * A transaction is all or nothing, on both stores, whatever it wrote: rows of its own and the shared rows that
 * Postgres writes as the transaction commits (roll-ups, counters, the audit chain's head; writeAtCommit), which
 * there travel to the database together with the COMMIT (db/client.server.ts, pgTransaction), and the writes sent
 * without waiting for their answers (writeBehind), which Postgres answers with the COMMIT.
 */
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { sqlRun, transaction, writeBehind, type Db } from "@db/client.server";
import { isUniqueViolation } from "@db/sql";
import { settings } from "@db/schema/index";
import { DECISION_INGESTED, verifyAuditChain } from "~/domain/audit/audit.server";
import { listDecisions } from "~/domain/decisions/decisions.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { queueCounts } from "~/domain/queue/queue.server";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb } from "../support/db";
import { auditEntries } from "../support/reads";

async function externalIds(db: Db): Promise<string[]> {
  return (await listDecisions(db, { type: "invoice", limit: 500 })).decisions.map((d) => d.externalId);
}

async function arranged() {
  const db = await testDb();
  const owner = await makeUser(db, "manager");
  await makeType(db, invoiceType(owner.email));
  // One committed decision, so there are roll-ups and a chain to keep exact.
  await ingestDecisions(db, [invoiceDecision("before", { confidence: 0.5 })], { batch: false, actor: "test" });
  const before = { audit: (await auditEntries(db)).length, rollups: await rollupSnapshot(db), queue: await queueCounts(db) };
  const unchanged = async () => {
    expect(await externalIds(db)).toEqual(["before"]);
    expect((await auditEntries(db)).length).toBe(before.audit);
    expect(await rollupSnapshot(db)).toEqual(before.rollups);
    expect(await rollupSnapshot(db)).toEqual(await aggregateFromScratch(db));
    expect(await queueCounts(db)).toEqual(before.queue);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  };
  return { db, unchanged };
}

describe("a transaction", () => {
  it("that fails after writing leaves nothing behind: its decision, task, roll-ups and audit entry are all gone", async () => {
    const { db, unchanged } = await arranged();
    await expect(
      transaction(db, async () => {
        await ingestDecisions(db, [invoiceDecision("inside", { confidence: 0.5 })], { batch: false, actor: "test" });
        await sqlRun(db, sql`SELECT * FROM no_such_table`);
      }),
    ).rejects.toThrow(/no_such_table/);
    await unchanged();
  });

  it("that caught a failed statement and went on either commits everything it wrote or throws and keeps none of it", async () => {
    const { db, unchanged } = await arranged();
    const outcome = await transaction(db, async () => {
      await ingestDecisions(db, [invoiceDecision("inside", { confidence: 0.5 })], { batch: false, actor: "test" });
      await sqlRun(db, sql`SELECT * FROM no_such_table`).catch(() => undefined);
      return "committed" as const;
    }).catch((e: Error) => e);
    if (outcome === "committed") {
      // SQLite undoes the failed statement alone and the transaction goes on.
      expect(await externalIds(db)).toEqual(["before", "inside"]);
      expect(await rollupSnapshot(db)).toEqual(await aggregateFromScratch(db));
      expect((await verifyAuditChain(db)).ok).toBe(true);
    } else {
      // Postgres aborts the transaction at the failed statement: what follows, its commit writes and the COMMIT,
      // cannot commit, and the transaction throws instead of passing for success.
      expect(outcome).toBeInstanceOf(Error);
      await unchanged();
    }
  });

  it("commits its writes and the shared rows with them", async () => {
    const { db } = await arranged();
    await transaction(db, async () => {
      await ingestDecisions(db, [invoiceDecision("inside", { confidence: 0.5 })], { batch: false, actor: "test" });
    });
    expect(await externalIds(db)).toEqual(["before", "inside"]);
    expect(await rollupSnapshot(db)).toEqual(await aggregateFromScratch(db));
    const last = (await auditEntries(db)).at(-1)!;
    expect(last.action).toBe(DECISION_INGESTED);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it("sees a write sent without waiting in its next statements, and commits it", async () => {
    const { db } = await arranged();
    const seen = await transaction(db, async (tx) => {
      await writeBehind(tx, (w) => w.insert(settings).values({ key: "test.behind", value: "one" }));
      await writeBehind(tx, (w) => w.update(settings).set({ value: "two" }).where(eq(settings.key, "test.behind")));
      return (await tx.select().from(settings).where(eq(settings.key, "test.behind")))[0]?.value;
    });
    expect(seen).toBe("two");
    expect((await db.select().from(settings).where(eq(settings.key, "test.behind")))[0]?.value).toBe("two");
  });

  it("whose write sent without waiting fails throws that write's own error and keeps nothing, whatever ran after it", async () => {
    const { db, unchanged } = await arranged();
    await db.insert(settings).values({ key: "test.taken", value: "first" });
    const failed = await transaction(db, async (tx) => {
      await ingestDecisions(db, [invoiceDecision("inside", { confidence: 0.5 })], { batch: false, actor: "test" });
      await writeBehind(tx, (w) => w.insert(settings).values({ key: "test.taken", value: "second" }));
      // On Postgres this read is answered after the failed insert: "transaction aborted", not the cause.
      await tx.select().from(settings);
      await ingestDecisions(db, [invoiceDecision("after", { confidence: 0.5 })], { batch: false, actor: "test" });
    }).catch((e: unknown) => e);
    // The unique violation itself (what ingest's retry of a racing repeat looks for), on both stores.
    expect(isUniqueViolation(failed)).toBe(true);
    expect((await db.select().from(settings).where(eq(settings.key, "test.taken")))[0]?.value).toBe("first");
    await db.delete(settings).where(eq(settings.key, "test.taken"));
    await unchanged();
  });
});
