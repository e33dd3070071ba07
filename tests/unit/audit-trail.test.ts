import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { transaction } from "@db/client.server";
import { auditLog } from "@db/schema/index";
import { getDecisionRow } from "~/domain/decisions/decisions.server";
import { appendAudit, auditTrail, batchItems, verifyAuditChain } from "~/domain/audit/audit.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb } from "../support/db";
import { dropAuditTriggers } from "../support/reads";

async function setup() {
  const db = await testDb();
  await makeType(db, invoiceType((await makeUser(db, "admin")).email));
  return db;
}
function body(i: number) {
  return invoiceDecision(`x-${i}`, { confidence: 0.99, fieldConfidence: { total: 0.99 }, output: { total: i, currency: "EUR" } });
}

describe("a decision's audit trail", () => {
  it("a batch is one chained entry naming every decision with its body hash, found from each decision", async () => {
    const db = await setup();
    const now = 1_700_000_000_000;
    const first = await ingestDecisions(db, [body(1), body(2), body(3)], { batch: true, actor: "key:a", now });
    // a second batch in the same millisecond must not show up in the first batch's trails
    const second = await ingestDecisions(db, [body(4), body(5)], { batch: true, actor: "key:b", now });
    for (const [results, actor] of [
      [first, "key:a"],
      [second, "key:b"],
    ] as const) {
      for (const r of results) {
        const trail = await auditTrail(db, "decision", r.id);
        expect(trail.map((e) => [e.action, e.actor])).toEqual([["decisions.ingested", actor]]);
        const row = (await getDecisionRow(db, r.id))!;
        expect(batchItems(trail[0]).find((d) => d.id === r.id)).toEqual({
          id: r.id,
          type: row.typeKey,
          externalId: row.externalId,
          bodyHash: row.bodyHash,
          route: row.route,
          status: row.status,
        });
      }
    }
    expect(batchItems((await auditTrail(db, "decision", first[0].id))[0])).toHaveLength(3);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: expect.any(Number) });
  });

  it("a single decision keeps its own entry; later entries on the decision follow in order", async () => {
    const db = await setup();
    const [one] = await ingestDecisions(db, [body(1)], { batch: false, actor: "key:a" });
    const [fromBatch] = await ingestDecisions(db, [body(2), body(3)], { batch: true, actor: "key:a" });
    await transaction(db, async (tx) => {
      await appendAudit(tx, { actor: "rev", action: "review.approve", entityType: "decision", entityId: one.id, at: Date.now() });
      await appendAudit(tx, { actor: "rev", action: "review.approve", entityType: "decision", entityId: fromBatch.id, at: Date.now() });
    });
    expect((await auditTrail(db, "decision", one.id)).map((e) => e.action)).toEqual(["decision.ingested", "review.approve"]);
    expect((await auditTrail(db, "decision", fromBatch.id)).map((e) => e.action)).toEqual(["decisions.ingested", "review.approve"]);
    expect(await auditTrail(db, "decision", "dec_unknown")).toEqual([]);
  });

  it("an altered batch entry breaks the chain", async () => {
    const db = await setup();
    const [r] = await ingestDecisions(db, [body(1), body(2)], { batch: true, actor: "key:a" });
    const entry = (await auditTrail(db, "decision", r.id))[0];
    await dropAuditTriggers(db, ["update"]); // as someone with write access to the store
    await db
      .update(auditLog)
      .set({ data: sql`replace(${auditLog.data}, ${r.id}, 'dec_forged')` })
      .where(eq(auditLog.seq, entry.seq));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: entry.seq });
  });
});
