import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceType, makeType } from "../support/db";
import { queueCounts } from "~/domain/queue/queue.server";
import {
  answer,
  claim,
  client,
  counts,
  freshType,
  getDecision,
  ingest,
  person,
  release,
  renew,
  review,
  reviewDecision,
  tasksOf,
  type Person,
} from "../support/api";
import { ageLease, auditEntries, taskRow } from "../support/reads";
import { startServer, type TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("the review queue over HTTP: claim, lease, renew, release", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  let alice: Person;
  let bob: Person;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer());
    alice = await person(s.db, "reviewer");
    bob = await person(s.db, "reviewer");
  });
  afterAll(async () => s?.close());

  it("answers a claim with the task and the decision, and 204 when nothing is open", async () => {
    const type = await freshType(s.db, admin.email);
    const created = await ingest(s, ingestKey, reviewDecision(type, "shape-1"));
    const r = await claim(s, alice.key, { type });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["decision", "task"]);
    expect(r.body.task).toMatchObject({ id: expect.stringMatching(/^tsk_/), decisionId: created.body.id, route: "review", leaseExpiresAt: expect.any(String) });
    const lease = Date.parse(r.body.task.leaseExpiresAt!) - Date.now();
    expect(lease).toBeGreaterThan(14 * 60_000);
    expect(lease).toBeLessThanOrEqual(15 * 60_000);
    const get = await getDecision(s, alice.key, created.body.id);
    expect(r.body.decision).toEqual(get.body);
    expect(r.body.decision.status).toBe("in_review");

    const empty = await claim(s, alice.key, { type });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect((await claim(s, bob.key, { type: "no-such-type" })).status).toBe(204);
  });

  it("accepts a claim without a body and validates the body when there is one", async () => {
    const noBody = await answer(client(s, alice.key).POST("/api/v1/tasks/claim"));
    expect([200, 204]).toContain(noBody.status);
    if (noBody.status === 200) await release(s, alice.key, noBody.body.task.id);
    for (const [body, path] of [
      [{ leaseSeconds: 0 }, "leaseSeconds"],
      [{ leaseSeconds: 1.5 }, "leaseSeconds"],
      [{ type: 7 }, "type"],
      [{ colour: "red" }, ""],
    ] as const) {
      const r = await claim(s, alice.key, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
  });

  it("orders by priority, then SLA due time, then arrival", async () => {
    const type = await freshType(s.db, admin.email);
    await ingest(s, ingestKey, { decisions: [reviewDecision(type, "a"), reviewDecision(type, "b")] }); // due in 240 min, a before b
    await makeType(s.db, invoiceType(admin.email, { key: type, slaMinutes: 30 }));
    await ingest(s, ingestKey, reviewDecision(type, "c")); // due in 30 min: sooner than a and b
    await ingest(s, ingestKey, reviewDecision(type, "d", { priority: 5 })); // highest priority
    await ingest(s, ingestKey, reviewDecision(type, "e", { priority: -1 })); // lowest priority, though due soon
    const order: string[] = [];
    for (;;) {
      const r = await claim(s, alice.key, { type });
      if (r.status === 204) break;
      order.push(r.body.decision.externalId);
    }
    expect(order).toEqual(["d", "c", "a", "b", "e"]);
  });

  it("never gives the same task to two reviewers, under many parallel claims", async () => {
    const type = await freshType(s.db, admin.email);
    const n = 60;
    await ingest(s, ingestKey, { decisions: Array.from({ length: n }, (_, i) => reviewDecision(type, `par-${i}`)) });
    const reviewers = [alice, bob, ...(await Promise.all(Array.from({ length: 4 }, () => person(s.db, "reviewer"))))];
    const attempts = reviewers.flatMap((r) => Array.from({ length: 14 }, () => r));
    // two server processes on one database file: claims race for real, not just inside one event loop
    const twin = await startServer(s.env);
    const results = await Promise.all(attempts.map(async (r, i) => ({ who: r, res: await claim(i % 2 ? twin : s, r.key, { type }) }))).finally(async () =>
      twin.close(),
    );
    const won = results.filter((x) => x.res.status === 200);
    expect(results.every((x) => x.res.status === 200 || x.res.status === 204)).toBe(true);
    expect(won).toHaveLength(n);
    const ids = won.map((x) => x.res.body.task.id);
    expect(new Set(ids).size).toBe(n);
    for (const { who, res } of won) {
      const row = await taskRow(s.db, res.body.task.id);
      expect({ claimedBy: row.claimedBy, status: row.status }).toEqual({ claimedBy: who.id, status: "claimed" });
    }
    expect((await queueCounts(s.db)).filter((c) => c.typeKey === type).reduce((sum, c) => sum + c.claimed, 0)).toBe(n);
    const claims = (await auditEntries(s.db, { action: "task.claimed", exact: true, entityType: "task" })).filter((e) => ids.includes(e.entityId));
    expect(claims).toHaveLength(n);
  });

  it("returns a task whose lease expired to the queue; the old holder's submit is a 409 that changes nothing", async () => {
    const type = await freshType(s.db, admin.email);
    const created = await ingest(s, ingestKey, reviewDecision(type, "lease-1"));
    const first = await claim(s, alice.key, { type, leaseSeconds: 1 });
    expect(first.status).toBe(200);
    expect((await claim(s, bob.key, { type })).status).toBe(204);
    await ageLease(s.db, first.body.task.id, 1100); // the one-second lease lapses, without sleeping through it

    // expired but not yet taken: the old holder can no longer submit
    const late = await review(s, alice.key, first.body.task.id, { action: "approve" });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/expired/);

    const second = await claim(s, bob.key, { type });
    expect(second.status).toBe(200);
    expect(second.body.task.id).toBe(first.body.task.id);
    expect(second.body.decision.status).toBe("in_review");

    const before = await counts(s.db);
    const stale = await review(s, alice.key, first.body.task.id, { action: "approve" });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("conflict");
    expect((await renew(s, alice.key, first.body.task.id)).status).toBe(409);
    expect((await release(s, alice.key, first.body.task.id)).status).toBe(409);
    expect(await counts(s.db)).toEqual(before);
    const d = await getDecision(s, bob.key, created.body.id);
    expect(d.body).toMatchObject({ status: "in_review", finalOutput: null, reviews: [] });
    expect((await tasksOf(s.db, created.body.id))[0]).toMatchObject({ status: "claimed", claimedBy: bob.id });

    const ok = await review(s, bob.key, second.body.task.id, { action: "approve" });
    expect(ok.status).toBe(200);
    expect(ok.body.decision).toMatchObject({ status: "approved", finalOutput: created.body && reviewDecision(type, "lease-1").output });
    expect(await auditEntries(s.db, { action: "task.lease_expired", exact: true, entityId: first.body.task.id })).toHaveLength(1);
  });

  it("renews a lease so it outlives its first expiry", async () => {
    const type = await freshType(s.db, admin.email);
    await ingest(s, ingestKey, reviewDecision(type, "renew-1"));
    const c = await claim(s, alice.key, { type, leaseSeconds: 1 });
    const renewed = await renew(s, alice.key, c.body.task.id);
    expect(renewed.status).toBe(200);
    expect(renewed.body.task).toMatchObject({ id: c.body.task.id, status: "claimed" });
    expect(Date.parse(renewed.body.task.leaseExpiresAt!)).toBeGreaterThan(Date.parse(c.body.task.leaseExpiresAt!));
    await ageLease(s.db, c.body.task.id, 1100); // past the first expiry, without sleeping through it
    expect((await claim(s, bob.key, { type })).status).toBe(204);
    expect((await renew(s, bob.key, c.body.task.id)).status).toBe(409);
    expect((await review(s, alice.key, c.body.task.id, { action: "approve" })).status).toBe(200);
    expect((await renew(s, alice.key, c.body.task.id)).status).toBe(409);
  });

  it("releases a task back to the queue for someone else", async () => {
    const type = await freshType(s.db, admin.email);
    const created = await ingest(s, ingestKey, reviewDecision(type, "rel-1"));
    const c = await claim(s, alice.key, { type });
    expect((await release(s, bob.key, c.body.task.id)).status).toBe(409);
    const rel = await release(s, alice.key, c.body.task.id);
    expect(rel.status).toBe(200);
    expect(rel.body.task).toMatchObject({ id: c.body.task.id, status: "open", claimedBy: null, leaseExpiresAt: null });
    expect((await getDecision(s, alice.key, created.body.id)).body.status).toBe("pending_review");
    expect((await review(s, alice.key, c.body.task.id, { action: "approve" })).status).toBe(409);
    const again = await claim(s, bob.key, { type });
    expect(again.body.task.id).toBe(c.body.task.id);
    expect((await release(s, alice.key, "tsk_nope")).status).toBe(404);
    expect((await renew(s, alice.key, "tsk_nope")).status).toBe(404);
  });

  it("refuses keys that cannot review: 403 without a user, 403 for an auditor, 403 for an ingest-only key", async () => {
    const ingestOnly = (await person(s.db, "admin", ["ingest"])).key;
    const keyWithoutUser = await (await import("../support/db")).makeKey(s.db, ["review", "read"]);
    for (const k of [keyWithoutUser, (await person(s.db, "auditor", ["review", "read"])).key, ingestOnly]) {
      const r = await claim(s, k, {});
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe("forbidden");
    }
    const noUser = await claim(s, keyWithoutUser, {});
    expect(noUser.body.error.message).toMatch(/tied to a user/);
  });
});
