/**
 * GET /api/v1/decisions pages by `seq`, which a decision takes when it is inserted. On Postgres transactions commit
 * in any order: while a transaction that holds a lower-numbered decision is still open, a page must not hand out a
 * cursor beyond it, or a client following the cursors would never see that decision (db/sql.ts, feedHorizon).
 * SQLite has one writer, which commits in seq order: there another writer waits for the commit.
 */
import { afterAll, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, transaction, type Db } from "@db/client.server";
import { listDecisions, listQuerySchema } from "~/domain/decisions/decisions.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { invoiceDecision, invoiceType, makeType, makeUser, onPostgres, testStore } from "../support/db";

const decision = (id: string) => invoiceDecision(id, { confidence: 0.99 });

/** The external ids of every decision a client sees following the cursors from `cursor` on, page by page. */
async function follow(db: Db, cursor: string | undefined, limit = 1): Promise<{ seen: string[]; last: string | undefined }> {
  const seen: string[] = [];
  let last = cursor;
  for (;;) {
    const page = await listDecisions(db, listQuerySchema.parse({ limit, ...(last ? { cursor: last } : {}) }));
    seen.push(...page.decisions.map((d) => d.externalId));
    if (!page.nextCursor) return { seen, last };
    last = page.nextCursor;
  }
}

describe("the decisions feed", () => {
  const opened: Db[] = [];
  afterAll(async () => {
    for (const db of opened) await closeDatabase(db);
  });

  if (onPostgres())
    it("never hands out a cursor beyond a decision whose transaction is still open: a client following it sees every decision once, in order", async () => {
      const { db, env } = await testStore();
      const owner = await makeUser(db, "manager");
      await makeType(db, invoiceType(owner.email));
      await ingestDecisions(db, [decision("before-1"), decision("before-2")], { batch: true, actor: "test" });
      const other = openDatabase(env.DATABASE_URL);
      opened.push(other);

      let whileOpen: string[] = [];
      let firstPage: { seen: string[]; last: string | undefined } = { seen: [], last: undefined };
      await transaction(db, async () => {
        // This transaction draws the lower number, then another instance commits two decisions numbered above it.
        await ingestDecisions(db, [decision("late")], { batch: false, actor: "test" });
        await ingestDecisions(other, [decision("after-1"), decision("after-2")], { batch: true, actor: "test" });
        whileOpen = (await listDecisions(other, listQuerySchema.parse({ limit: 100 }))).decisions.map((d) => d.externalId);
        // A client starts following the feed now, one decision a page.
        const page = await listDecisions(other, listQuerySchema.parse({ limit: 1 }));
        firstPage = { seen: page.decisions.map((d) => d.externalId), last: page.nextCursor ?? undefined };
      });
      // Held back: the decisions numbered above the open transaction's, committed or not.
      expect(whileOpen).toEqual(["before-1", "before-2"]);
      expect(firstPage.seen).toEqual(["before-1"]);
      expect(firstPage.last).toBeDefined();

      // After the commit the client goes on from its cursor and sees the rest, each once, in number order.
      const rest = await follow(other, firstPage.last);
      expect([...firstPage.seen, ...rest.seen]).toEqual(["before-1", "before-2", "late", "after-1", "after-2"]);
    }, 60_000);

  it("a rolled-back transaction leaves no gap that holds the feed back", async () => {
    const { db } = await testStore();
    const owner = await makeUser(db, "manager");
    await makeType(db, invoiceType(owner.email));
    await ingestDecisions(db, [decision("kept-1")], { batch: false, actor: "test" });
    await expect(
      transaction(db, async () => {
        await ingestDecisions(db, [decision("rolled-back")], { batch: false, actor: "test" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    await ingestDecisions(db, [decision("kept-2")], { batch: false, actor: "test" });
    expect((await follow(db, undefined)).seen).toEqual(["kept-1", "kept-2"]);
  });
});
