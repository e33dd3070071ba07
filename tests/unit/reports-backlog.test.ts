import { describe, expect, it } from "vitest";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { backlog } from "~/domain/reports/reports.server";
import { submitReview } from "~/domain/review/review.server";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb } from "../support/db";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const MIN = 60_000;

// backlog() names tasks_backlog_idx with INDEXED BY, so it fails loudly if the index is ever dropped.
describe("backlog", () => {
  it("counts open work per queue and per accountable owner, with oldest age and items past SLA", async () => {
    const db = await testDb();
    const alice = await makeUser(db, "manager");
    const bob = await makeUser(db, "manager");
    const reviewer = await makeUser(db, "reviewer");
    await makeType(db, invoiceType(alice.email, { slaMinutes: 60, routing: { minConfidence: 0.9, qaSampleRate: 0 } }));
    await makeType(db, invoiceType(bob.email, { key: "receipt", name: "Receipts", slaMinutes: 600, routing: { minConfidence: 0.9, qaSampleRate: 0 } }));
    const low = (id: string, type = "invoice") => invoiceDecision(id, { type, confidence: 0.5 });
    await ingestDecisions(db, [low("i1"), low("i2")], { batch: true, actor: "t", now: T0 });
    await ingestDecisions(db, [low("i3")], { batch: true, actor: "t", now: T0 + 90 * MIN });
    await ingestDecisions(db, [low("r1", "receipt")], { batch: true, actor: "t", now: T0 + 30 * MIN });
    // One invoice task is decided, one escalated to alice, the third stays open.
    const t1 = (await claim(db, reviewer, { next: { type: "invoice" } }, { now: T0 + 100 * MIN }))!;
    await submitReview(db, reviewer, t1.id, { action: "approve" }, { now: T0 + 101 * MIN });
    const t2 = (await claim(db, reviewer, { next: { type: "invoice" } }, { now: T0 + 102 * MIN }))!;
    await submitReview(db, reviewer, t2.id, { action: "escalate", note: "policy question" }, { now: T0 + 103 * MIN });
    await claim(db, reviewer, { next: { type: "receipt" } }, { now: T0 + 104 * MIN });

    const now = T0 + 120 * MIN;
    const b = await backlog(db, now);
    const q = (type: string, kind: string) => b.queues.find((x) => x.typeKey === type && x.kind === kind);
    // i3 arrived at +90 min, due at +150: open, not yet past SLA.
    expect(q("invoice", "review")).toMatchObject({ owner: alice.email, open: 1, claimed: 0, oldestAgeMs: 30 * MIN, pastSla: 0 });
    // The escalation was created at +103 min, due an SLA later.
    expect(q("invoice", "escalation")).toMatchObject({ owner: alice.email, open: 1, oldestAgeMs: 17 * MIN, pastSla: 0 });
    expect(q("receipt", "review")).toMatchObject({ owner: bob.email, open: 0, claimed: 1, oldestAgeMs: 90 * MIN, pastSla: 0 });
    expect(b.owners).toEqual(
      expect.arrayContaining([
        { owner: alice.email, open: 2, claimed: 0, oldestAgeMs: 30 * MIN, pastSla: 0 },
        { owner: bob.email, open: 0, claimed: 1, oldestAgeMs: 90 * MIN, pastSla: 0 },
      ]),
    );
    // Four hours later the invoice items are past their one-hour SLA; the receipt is not.
    const later = await backlog(db, T0 + 240 * MIN);
    expect(later.owners.find((o) => o.owner === alice.email)?.pastSla).toBe(2);
    expect(later.owners.find((o) => o.owner === bob.email)?.pastSla).toBe(0);
    expect(later.owners[0].owner).toBe(alice.email);
  });
});
