/**
 * Four-eyes through the HTTP API: a matching decision needs a second,
 * different reviewer who cannot see the first answer; agreement finalizes,
 * disagreement escalates to the type owner. Roll-ups count only the final
 * verdict, and always equal a from-scratch aggregate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listUsers } from "~/domain/auth/users.server";
import { claim as domainClaim } from "~/domain/queue/claim.server";
import { outboxForEntity } from "~/domain/webhooks/outbox-read.server";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { claim as apiClaim, getDecision, ingest as apiIngest, review as apiReview, tasksOf } from "../support/api";
import { auditEntries } from "../support/reads";
import { startServer, type TestServer } from "../support/server";

describe("four-eyes review over HTTP", () => {
  let s: TestServer;
  let ingestKey: string;
  let keyA: string;
  let keyB: string;
  let ownerKey: string;
  let owner: Awaited<ReturnType<typeof makeUser>>;
  let n = 0;

  beforeAll(async () => {
    s = await startServer();
    owner = await makeUser(s.db, "manager");
    const a = await makeUser(s.db, "reviewer");
    const b = await makeUser(s.db, "reviewer");
    await makeType(s.db, invoiceType(owner.email, { fourEyes: { flags: ["risk:*"], fieldAbove: { total: 1000 } } }));
    ingestKey = await makeKey(s.db, ["ingest", "read"]);
    keyA = await makeKey(s.db, ["review"], a.email);
    keyB = await makeKey(s.db, ["review"], b.email);
    ownerKey = await makeKey(s.db, ["review"], owner.email);
  });
  afterAll(async () => s?.close());

  async function ingest(overrides: Record<string, unknown>) {
    n += 1;
    const res = await apiIngest(s, ingestKey, invoiceDecision(`fe-${n}`, { confidence: 0.5, ...overrides }));
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const claim = async (key: string) => apiClaim(s, key, { type: "invoice" });
  const review = async (key: string, taskId: string, body: unknown) => apiReview(s, key, taskId, body);
  const get = (id: string) => getDecision(s, ingestKey, id).then((r) => r.body);

  /** The incremental roll-ups equal the reports domain's from-scratch aggregate over decisions + reviews. */
  async function rollupsMatchFromScratch() {
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    expect(sorted(await rollupSnapshot(s.db))).toEqual(sorted(await aggregateFromScratch(s.db)));
  }

  it("a decision under the limit with no matching flag finalizes on the first verdict", async () => {
    const id = await ingest({});
    const c = await claim(keyA);
    expect(c.body.decision.id).toBe(id);
    const r = await review(keyA, c.body.task.id, { action: "approve" });
    expect(r.body.decision.status).toBe("approved");
    await rollupsMatchFromScratch();
  });

  it("agreement: the first verdict is sealed, a different reviewer confirms, the decision finalizes", async () => {
    const id = await ingest({ output: { total: 5000, currency: "EUR", lines: [] } });
    const first = await claim(keyA);
    const r1 = await review(keyA, first.body.task.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: "a quote, not an invoice" });
    expect(r1.status).toBe(200);
    expect(r1.body.decision.status).toBe("pending_review");
    expect(r1.body.decision.finalOutput).toBeNull();
    // Sealed: nobody reads the first answer before the second review is in.
    expect((await get(id)).reviews).toEqual([]);

    // The first reviewer cannot take the second review.
    expect((await claim(keyA)).status).toBe(204);
    const second = await claim(keyB);
    expect(second.status).toBe(200);
    expect(second.body.task).toMatchObject({ decisionId: id, route: "second" });
    expect(second.body.decision.reviews).toEqual([]);
    expect(second.body.decision.status).toBe("in_review");

    const r2 = await review(keyB, second.body.task.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    expect(r2.body.decision.status).toBe("rejected");
    expect(r2.body.decision.reviews.map((v) => [v.kind, v.action])).toEqual([
      ["review", "reject"],
      ["second", "reject"],
    ]);
    const events = await outboxForEntity(s.db, id);
    expect(events.map((e) => e.eventType)).toEqual(["decision.finalized"]);
    // Only the final verdict's reason codes count: one rejection, one NOT_AN_INVOICE.
    const reasonCount = [...(await rollupSnapshot(s.db))].filter(([k]) => k.split("|")[4] === "reason:NOT_AN_INVOICE").reduce((sum, [, v]) => sum + v, 0);
    expect(reasonCount).toBe(1);
    await rollupsMatchFromScratch();
  });

  it("disagreement escalates to the owner, who resolves it", async () => {
    const id = await ingest({ flags: ["risk:high"] });
    const first = await claim(keyA);
    const corrected = {
      total: 130,
      currency: "EUR",
      lines: [
        { sku: "A-1", amount: 110 },
        { sku: "B-2", amount: 20 },
      ],
    };
    await review(keyA, first.body.task.id, { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"] });
    const second = await claim(keyB);
    const r2 = await review(keyB, second.body.task.id, { action: "approve" });
    expect(r2.body.decision.status).toBe("escalated");
    expect(r2.body.decision.reviews.map((v) => [v.kind, v.action])).toEqual([
      ["review", "correct"],
      ["second", "approve"],
    ]);

    const esc = (await tasksOf(s.db, id)).find((t) => t.kind === "escalation")!;
    expect(esc).toMatchObject({ status: "open", assigneeId: owner.id });
    // Escalations are not in the shared queue; the owner takes it by id.
    expect((await claim(keyB)).status).toBe(204);
    await domainClaim(s.db, owner, { task: esc.id });
    const r3 = await review(ownerKey, esc.id, { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"], note: "first reviewer was right" });
    expect(r3.status).toBe(200);
    expect(r3.body.decision).toMatchObject({ status: "corrected", finalOutput: corrected });
    const audit = await auditEntries(s.db, { entityId: id, action: "review." });
    expect(audit.map((a) => (a.data as { outcome: string }).outcome)).toEqual(["first_of_two", "four_eyes_disagreement", "correct"]);
    await rollupsMatchFromScratch();
  });

  it("a correction that raises a field above the limit needs a second review too", async () => {
    await ingest({});
    const first = await claim(keyA);
    const r1 = await review(keyA, first.body.task.id, { action: "correct", output: { total: 2500, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] });
    expect(r1.body.decision.status).toBe("pending_review");
    const second = await claim(keyB);
    expect(second.body.task.route).toBe("second");
    // Agreement on a correction means the same output.
    const r2 = await review(keyB, second.body.task.id, { action: "correct", output: { total: 2500, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] });
    expect(r2.body.decision).toMatchObject({ status: "corrected", finalOutput: { total: 2500, currency: "EUR" } });
    await rollupsMatchFromScratch();
  });

  it("the second reviewer may escalate; the first reviewer is refused the second task by id", async () => {
    const id = await ingest({ output: { total: 9000, currency: "USD" } });
    const first = await claim(keyA);
    await review(keyA, first.body.task.id, { action: "approve" });
    const t = (await tasksOf(s.db, id)).find((t) => t.kind === "second")!;
    expect(t.excludedUserId).toBe(first.body.task.claimedBy);
    const a = (await listUsers(s.db)).find((u) => u.id === t.excludedUserId)!;
    await expect(domainClaim(s.db, a, { task: t.id })).rejects.toThrow(/different reviewer/);
    const second = await claim(keyB);
    const noNote = await review(keyB, second.body.task.id, { action: "escalate" });
    expect(noNote.status).toBe(400);
    expect(noNote.body.error.issues).toEqual([{ path: "note", message: "say why you escalate" }]);
    const r2 = await review(keyB, second.body.task.id, { action: "escalate", note: "amount looks off" });
    expect(r2.body.decision.status).toBe("escalated");
    await rollupsMatchFromScratch();
  });
});
