import { asc, count, eq, inArray, isNotNull, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisions, outbox, rollups, tasks } from "@db/schema/index";
import { batchItems, verifyAuditChain } from "~/domain/audit/audit.server";
import { makeKey } from "../support/db";
import {
  answer,
  auditFor,
  autoDecision,
  claim,
  client,
  counts,
  freshType,
  getDecision,
  ingest,
  outboxFor,
  person,
  review,
  reviewDecision,
  tasksOf,
  type Person,
} from "../support/api";
import { auditEntries, failInserts } from "../support/reads";
import { startServer, type TestServer } from "../support/server";

describe("POST /api/v1/tasks/:id/review", () => {
  let s: TestServer;
  let owner: Person;
  let ingestKey: string;
  let alice: Person;
  let bob: Person;
  let type: string;
  beforeAll(async () => {
    s = await startServer();
    owner = await person(s.db, "manager", ["review", "read"]);
    ingestKey = (await person(s.db, "admin", ["ingest"])).key;
    alice = await person(s.db, "reviewer");
    bob = await person(s.db, "reviewer");
    type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
  });
  afterAll(async () => s?.close());

  /** Ingests one review-lane decision and has `who` claim it. */
  async function claimed(externalId: string, who: Person = alice, t = type) {
    const created = await ingest(s, ingestKey, reviewDecision(t, externalId));
    expect(created.status).toBe(201);
    const c = await claim(s, who.key, { type: t });
    expect(c.status).toBe(200);
    expect(c.body.decision.id).toBe(created.body.id);
    return { decisionId: created.body.id as string, taskId: c.body.task.id as string, output: c.body.decision.output };
  }

  // Every roll-up row, zero-valued ones too: a rolled-back review must leave the table exactly as it was.
  const rollupRows = async () => s.db.select().from(rollups).orderBy(asc(rollups.typeKey), asc(rollups.hour), asc(rollups.modelVersion), asc(rollups.metric));

  it("approves: final output = model output, task done, one review, audit entry and outbox event", async () => {
    const { decisionId, taskId, output } = await claimed("ap-1");
    const before = await counts(s.db);
    const r = await review(s, alice.key, taskId, { action: "approve", note: "looks right" });
    expect(r.status).toBe(200);
    expect(r.body.decision).toMatchObject({ id: decisionId, status: "approved", finalOutput: output, finalizedAt: expect.any(String) });
    expect(r.body.decision.reviews).toEqual([
      { action: "approve", reviewer: alice.email, kind: "review", reasonCodes: [], changedFields: [], note: "looks right", at: expect.any(String) },
    ]);
    expect(await counts(s.db)).toEqual({ ...before, reviews: before.reviews + 1, audit: before.audit + 1, outbox: before.outbox + 1 });
    expect((await auditFor(s.db, decisionId)).map((a) => a.action)).toEqual(["decision.ingested", "review.approve"]);
    expect((await outboxFor(s.db, decisionId)).map((e) => e.eventType)).toEqual(["decision.finalized"]);
    expect((await tasksOf(s.db, decisionId))[0]).toMatchObject({ status: "done" });
    expect((await review(s, alice.key, taskId, { action: "approve" })).status).toBe(409);
  });

  it("corrects with a schema-valid output and records the changed fields", async () => {
    const { decisionId, taskId, output } = await claimed("co-1");
    const corrected = { ...output, total: 99, lines: [{ sku: "A-1", amount: 99 }] };
    const r = await review(s, alice.key, taskId, { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"] });
    expect(r.status).toBe(200);
    expect(r.body.decision).toMatchObject({ status: "corrected", output, finalOutput: corrected });
    expect(r.body.decision.reviews[0]).toMatchObject({
      action: "correct",
      reasonCodes: ["WRONG_TOTAL"],
      changedFields: ["total", "lines.0.amount", "lines.1.sku", "lines.1.amount"],
    });
    const event = JSON.parse((await outboxFor(s.db, decisionId))[0].payload);
    expect(event).toEqual({ type: "decision.finalized", timestamp: r.body.decision.finalizedAt, data: r.body.decision });
  });

  it("rejects an invalid correction with 400 by path and changes nothing (no review, audit, outbox or roll-up)", async () => {
    const { decisionId, taskId, output } = await claimed("co-bad");
    const before = await counts(s.db);
    const rollupsBefore = await rollupRows();
    const cases: [unknown, string[]][] = [
      [{ action: "correct", output: { ...output, total: -1, currency: "GBP" }, reasonCodes: ["WRONG_TOTAL"] }, ["output.currency", "output.total"]],
      [{ action: "correct", output: { ...output, lines: [{ sku: 1 }] }, reasonCodes: ["WRONG_TOTAL"] }, ["output.lines.0.sku"]],
      [{ action: "correct", output: { ...output, extra: 1 }, reasonCodes: ["WRONG_TOTAL"] }, ["output"]],
      [{ action: "correct", reasonCodes: ["WRONG_TOTAL"] }, ["output"]],
      [{ action: "correct", output, reasonCodes: ["WRONG_TOTAL"] }, ["output"]],
      [{ action: "correct", output: { ...output, total: 1 } }, ["reasonCodes"]],
      [{ action: "correct", output: { ...output, total: 1 }, reasonCodes: ["NOPE"] }, ["reasonCodes.0"]],
      [{ action: "correct", output: "not an object", reasonCodes: ["WRONG_TOTAL"] }, ["output"]],
      [{ action: "approve", output }, ["output"]],
      [{ action: "delete" }, ["action"]],
      [{}, ["action"]],
      [{ action: "approve", extra: true }, [""]],
      [{ action: "approve", note: 5 }, ["note"]],
    ];
    for (const [body, paths] of cases) {
      const r = await review(s, alice.key, taskId, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path).sort(), JSON.stringify(body)).toEqual(paths);
    }
    expect(await counts(s.db)).toEqual(before);
    expect(await rollupRows()).toEqual(rollupsBefore);
    expect((await tasksOf(s.db, decisionId))[0]).toMatchObject({ status: "claimed", claimedBy: alice.id });
    expect((await getDecision(s, alice.key, decisionId)).body).toMatchObject({
      status: "in_review",
      finalOutput: null,
      reviews: [],
    });
    // still fine to finish afterwards
    expect((await review(s, alice.key, taskId, { action: "correct", output: { ...output, total: 1 }, reasonCodes: ["WRONG_TOTAL"] })).status).toBe(200);
  });

  it("rejects: a reason code is required; the final output is empty", async () => {
    const { taskId } = await claimed("rj-1");
    const noCode = await review(s, alice.key, taskId, { action: "reject" });
    expect(noCode.status).toBe(400);
    expect(noCode.body.error.issues).toEqual([{ path: "reasonCodes", message: expect.any(String) }]);
    const r = await review(s, alice.key, taskId, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    expect(r.status).toBe(200);
    expect(r.body.decision).toMatchObject({ status: "rejected", finalOutput: null });
    expect(r.body.decision.reviews[0].reasonCodes).toEqual(["NOT_AN_INVOICE"]);
  });

  it("escalates: a note is required; the escalation task goes to the type's owner only", async () => {
    const { decisionId, taskId } = await claimed("es-1");
    const noNote = await review(s, alice.key, taskId, { action: "escalate", note: "   " });
    expect(noNote.status).toBe(400);
    expect(noNote.body.error.issues).toEqual([{ path: "note", message: "say why you escalate" }]);
    // A reason code does not replace the note; an unknown one is refused by index.
    const codeOnly = await review(s, alice.key, taskId, { action: "escalate", reasonCodes: ["WRONG_TOTAL"] });
    expect(codeOnly.body.error.issues).toEqual([{ path: "note", message: "say why you escalate" }]);
    const unknown = await review(s, alice.key, taskId, { action: "escalate", reasonCodes: ["NOPE"], note: "x" });
    expect(unknown.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["reasonCodes.0"]);
    // The type has reason codes, yet an escalation with a note and none is accepted: reason codes are optional for it.
    const r = await review(s, alice.key, taskId, { action: "escalate", note: "vendor unknown, needs the owner" });
    expect(r.status).toBe(200);
    expect(r.body.decision).toMatchObject({ status: "escalated", finalOutput: null, finalizedAt: null });
    const [first, escalation] = await tasksOf(s.db, decisionId);
    expect(first).toMatchObject({ kind: "review", status: "done" });
    expect(escalation).toMatchObject({ kind: "escalation", status: "open", assigneeId: owner.id });
    expect((await outboxFor(s.db, decisionId)).map((e) => e.eventType)).toEqual(["decision.escalated"]);
    expect(JSON.parse((await outboxFor(s.db, decisionId))[0].payload).data.escalation).toEqual({ owner: owner.email, reason: "reviewer" });
    // the shared queue does not hand it to other reviewers
    expect((await claim(s, bob.key, { type })).status).toBe(204);
    expect((await review(s, bob.key, escalation.id, { action: "approve" })).status).toBe(409);

    // the owner claims it and resolves it
    const mine = await claim(s, owner.key, { type });
    expect(mine.status).toBe(200);
    expect(mine.body.task).toMatchObject({ id: escalation.id, route: "escalation" });
    expect(mine.body.decision.status).toBe("escalated");
    const again = await review(s, owner.key, escalation.id, { action: "escalate", note: "again" });
    expect(again.status).toBe(400);
    const resolved = await review(s, owner.key, escalation.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: "owner's call" });
    expect(resolved.status).toBe(200);
    expect(resolved.body.decision).toMatchObject({ status: "rejected", finalOutput: null });
    expect(resolved.body.decision.reviews.map((r: { action: string; kind: string }) => `${r.kind}:${r.action}`)).toEqual([
      "review:escalate",
      "escalation:reject",
    ]);
    expect((await outboxFor(s.db, decisionId)).map((e) => e.eventType)).toEqual(["decision.escalated", "decision.finalized"]);
  });

  it("records a QA check of an auto decision without changing its released outcome", async () => {
    const qaType = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 1 } });
    const created = await ingest(s, ingestKey, autoDecision(qaType, "qa-1"));
    expect(created.body).toMatchObject({ status: "auto_approved", route: "auto" });
    const c = await claim(s, bob.key, { type: qaType });
    expect(c.body.task).toMatchObject({ decisionId: created.body.id, route: "qa" });
    expect(c.body.decision.status).toBe("auto_approved");
    const esc = await review(s, bob.key, c.body.task.id, { action: "escalate", note: "?" });
    expect(esc.status).toBe(400);
    expect(esc.body.error.issues[0].path).toBe("action");
    const r = await review(s, bob.key, c.body.task.id, { action: "reject", reasonCodes: ["WRONG_TOTAL"] });
    expect(r.status).toBe(200);
    expect(r.body.decision).toMatchObject({ status: "auto_approved", finalOutput: autoDecision(qaType, "qa-1").output });
    expect(r.body.decision.reviews[0]).toMatchObject({ kind: "qa", action: "reject" });
    // The answer is the decision as GET shows it now, and as the QA events carry it.
    expect(r.body.decision).toEqual((await getDecision(s, ingestKey, created.body.id)).body);
    // A QA rejection says the released output was wrong: the correction event carries the QA verdict beside the released output.
    const events = await outboxFor(s.db, created.body.id);
    expect(events.map((e) => e.eventType)).toEqual(["decision.finalized", "decision.qa_reviewed", "decision.corrected_after_release"]);
    expect(JSON.parse(events[1].payload).data).toEqual(r.body.decision);
    expect(JSON.parse(events[2].payload).data).toMatchObject({
      finalOutput: autoDecision(qaType, "qa-1").output,
      correction: { action: "reject", output: null, reasonCodes: ["WRONG_TOTAL"], reviewer: bob.email },
    });
  });

  it("refuses callers who cannot review: no user behind the key, an auditor, no key, a bad key", async () => {
    const { taskId } = await claimed("auth-1");
    const noUser = await review(s, await makeKey(s.db, ["review"]), taskId, { action: "approve" });
    expect(noUser.status).toBe(403);
    expect(noUser.body.error.message).toMatch(/tied to a user/);
    expect((await review(s, (await person(s.db, "auditor", ["review"])).key, taskId, { action: "approve" })).status).toBe(403);
    expect((await answer(client(s).POST("/api/v1/tasks/{id}/review", { params: { path: { id: taskId } }, body: { action: "approve" } }))).status).toBe(401);
    expect((await review(s, "lm_not-a-real-key", taskId, { action: "approve" })).status).toBe(401);
    expect((await review(s, bob.key, taskId, { action: "approve" })).status).toBe(409);
    expect((await review(s, bob.key, "tsk_missing", { action: "approve" })).status).toBe(404);
    expect((await review(s, alice.key, taskId, { action: "approve" })).status).toBe(200);
  });

  it("rolls back everything a review wrote when its transaction fails late", async () => {
    const { decisionId, taskId } = await claimed("tx-1");
    const before = await counts(s.db);
    const rollupsBefore = await rollupRows();
    // The outbox insert is the last write of a review: make it fail.
    const undo = await failInserts(s.db, "outbox", "simulated outbox failure");
    try {
      const r = await review(s, alice.key, taskId, { action: "approve" });
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe("internal");
      const ing = await ingest(s, ingestKey, autoDecision(type, "tx-auto"));
      expect(ing.status).toBe(500);
    } finally {
      await undo();
    }
    expect(await counts(s.db)).toEqual(before);
    expect(await rollupRows()).toEqual(rollupsBefore);
    expect((await tasksOf(s.db, decisionId))[0]).toMatchObject({ status: "claimed", claimedBy: alice.id });
    expect((await getDecision(s, alice.key, decisionId)).body.status).toBe("in_review");
    expect((await verifyAuditChain(s.db)).ok).toBe(true);
    expect((await review(s, alice.key, taskId, { action: "approve" })).status).toBe(200);
  });

  it("leaves a verifiable audit chain with one entry per write after the whole flow", async () => {
    const check = await verifyAuditChain(s.db);
    expect(check.ok).toBe(true);
    const entries = await auditEntries(s.db);
    const byAction: Record<string, number> = {};
    for (const e of entries) byAction[e.action] = (byAction[e.action] ?? 0) + 1;
    const n = async (table: typeof decisions | typeof tasks | typeof outbox, where?: SQL) => (await s.db.select({ n: count() }).from(table).where(where))[0]!.n;
    const total = await counts(s.db);
    // every decision's ingest is recorded once: on its own, or as an item of its batch's entry
    const batched = entries
      .filter((e) => e.action === "decisions.ingested")
      .flatMap((e) => batchItems({ action: e.action, data: JSON.stringify(e.data) }).map((d) => d.id));
    expect(new Set(batched).size).toBe(batched.length);
    expect((byAction["decision.ingested"] ?? 0) + batched.length).toBe(total.decisions);
    expect(byAction["task.claimed"]).toBe(await n(tasks, inArray(tasks.status, ["claimed", "done"])));
    const reviewActions = ["approve", "correct", "reject", "escalate"].reduce((sum, a) => sum + (byAction[`review.${a}`] ?? 0), 0);
    expect(reviewActions).toBe(total.reviews);
    // every finalized decision announced itself exactly once
    expect(await n(outbox, eq(outbox.eventType, "decision.finalized"))).toBe(await n(decisions, isNotNull(decisions.finalizedAt)));
  });
});
