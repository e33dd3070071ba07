/**
 * The rows every writer of a type shares (task counters, roll-ups, monitor counters, the audit chain's head)
 * must not be held while a transaction is still at work: on Postgres they are written at commit
 * (db/client.server.ts, writeAtCommit; schema/extras.ts). Here a transaction of one instance has ingested
 * a decision and is still open when a second instance ingests, claims and reviews decisions of the same
 * type: the second instance must finish meanwhile, and after both commit the counters, roll-ups and chain
 * must be exact. SQLite has one writer at a time by design: there the other writes wait for the commit.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, transaction, type Db } from "@db/client.server";
import { verifyAuditChain } from "~/domain/audit/audit.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { queueCounts } from "~/domain/queue/queue.server";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
import { submitReview } from "~/domain/review/review.server";
import { invoiceDecision, invoiceType, makeType, makeUser, onPostgres, testStore } from "../support/db";

const review = (id: string) => invoiceDecision(id, { confidence: 0.5 });

describe("the rows every writer shares", () => {
  const opened: Db[] = [];
  afterAll(async () => {
    for (const db of opened) await closeDatabase(db);
  });

  if (onPostgres())
    it("are not held by an open transaction: another instance ingests, claims and reviews the same type meanwhile, and the counters, roll-ups and chain come out exact", async () => {
      const { db, env } = await testStore();
      const owner = await makeUser(db, "manager");
      const reviewer = await makeUser(db, "reviewer");
      await makeType(db, invoiceType(owner.email));
      const other = openDatabase(env.DATABASE_URL);
      opened.push(other);

      let outcome: "finished" | "blocked" = "blocked";
      await transaction(db, async () => {
        await ingestDecisions(db, [review("held-1")], { batch: false, actor: "test" });
        // The second instance's writes, while this transaction holds its task, roll-ups and audit entry.
        const work = (async () => {
          await ingestDecisions(other, [review("other-1"), review("other-2")], { batch: true, actor: "test" });
          const task = await claim(other, reviewer, { next: { type: "invoice" } });
          expect(task && "decisionId" in task).toBe(true);
          await submitReview(other, reviewer, (task as { id: string }).id, { action: "approve" });
          return "finished" as const;
        })();
        const blocked = new Promise<"blocked">((resolve) => setTimeout(() => resolve("blocked"), 10_000));
        outcome = await Promise.race([work, blocked]);
        // Before the writes moved to the commit, `work` waited here on the counter row until this commit.
        if (outcome === "blocked") await work;
      });
      expect(outcome).toBe("finished");

      const counts = (await queueCounts(db)).filter((c) => c.typeKey === "invoice" && c.kind === "review");
      expect(counts).toEqual([{ typeKey: "invoice", kind: "review", open: 2, claimed: 0 }]);
      expect(await rollupSnapshot(db)).toEqual(await aggregateFromScratch(db));
      const chain = await verifyAuditChain(db);
      expect(chain.ok).toBe(true);
    }, 60_000);
  else
    it("are written inside the transaction on SQLite, whose writers take turns: another request's writes wait for the commit", async () => {
      const { db } = await testStore();
      const owner = await makeUser(db, "manager");
      await makeType(db, invoiceType(owner.email));
      const order: string[] = [];
      // Started outside the transaction (a promise reaction keeps the context it was created in): another request.
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const second = gate.then(() => ingestDecisions(db, [review("other-1")], { batch: false, actor: "test" })).then(() => order.push("second"));
      await transaction(db, async () => {
        await ingestDecisions(db, [review("held-1")], { batch: false, actor: "test" });
        open();
        await new Promise((r) => setTimeout(r, 200));
        order.push("first commits");
      });
      await second;
      expect(order).toEqual(["first commits", "second"]);
      const counts = (await queueCounts(db)).filter((c) => c.typeKey === "invoice" && c.kind === "review");
      expect(counts).toEqual([{ typeKey: "invoice", kind: "review", open: 2, claimed: 0 }]);
      expect(await rollupSnapshot(db)).toEqual(await aggregateFromScratch(db));
      expect((await verifyAuditChain(db)).ok).toBe(true);
    });
});
