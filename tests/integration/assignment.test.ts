/**
 * Issue 13, assignment: a manager assigns a task to a person (or back to the
 * shared queue) over the API and in bulk, from the API and the queue page's
 * manager view. Assigned tasks go to their assignee first and to nobody else,
 * also under concurrent claims; escalations and four-eyes exclusions are
 * refused; disabling a person hands their tasks back; a bulk action is all or
 * nothing, with one audit entry that every task's trail finds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "~/domain/audit/audit.server";
import { decisionAuditTrail } from "~/domain/audit/audit-read.server";
import { answer, assign, bulk, claim, client, counts, freshType, ingest, person, release, review, reviewDecision, tasksOf, type Person } from "../support/api";
import { signIn } from "../support/principals";
import { taskRow } from "../support/reads";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("assigning tasks to people", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  /** A manager with an admin-scope key: the key may do what the manager's role allows (tasks:assign among it). */
  let manager: Person;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer({ ingestScopes: ["ingest", "read"] }));
    manager = await person(s.db, "manager", ["admin"]);
  });
  afterAll(async () => s?.close());

  /** A type of its own with `n` decisions routed to review (priorities as given, else 0); returns the type and the open task ids in ingest order. */
  async function seed(n: number, opts: { priorities?: number[]; type?: Record<string, unknown>; overrides?: Record<string, unknown> } = {}) {
    const type = await freshType(s.db, admin.email, opts.type ?? {});
    const decisions = Array.from({ length: n }, (_, i) => reviewDecision(type, `${type}-${i}`, { priority: opts.priorities?.[i] ?? 0, ...opts.overrides }));
    const res = await ingest(s, ingestKey, n === 1 ? decisions[0] : { decisions });
    expect(res.status).toBe(201);
    const ids: string[] = n === 1 ? [res.body.id] : res.body.decisions.map((r: { id: string }) => r.id);
    const taskIds: string[] = [];
    for (const id of ids) taskIds.push((await tasksOf(s.db, id)).find((t) => t.status === "open")!.id);
    return { type, decisionIds: ids, taskIds };
  }
  const reviewer = () => person(s.db, "reviewer", ["review", "read"]);
  const claimOf = async (p: Person, type: string) => {
    const r = await claim(s, p.key, { type });
    return r.status === 204 ? null : (r.body.task as { id: string; assignee: string | null });
  };

  it("assigns and unassigns over the API: the task JSON names the assignee, who gets it first, and nobody else may claim it", async () => {
    const { type, taskIds } = await seed(3, { priorities: [9, 5, 1] });
    const [high, mid, low] = taskIds;
    const r1 = await reviewer();
    const r2 = await reviewer();

    const a = await assign(s, manager.key, low, { assignee: r1.email });
    expect(a.status).toBe(200);
    expect(a.body.task).toMatchObject({ id: low, status: "open", assignee: r1.email, claimedBy: null });

    // Everyone else works through the shared queue and never gets the assigned task.
    expect((await claimOf(r2, type))?.id).toBe(high);
    expect((await claimOf(r2, type))?.id).toBe(mid);
    expect(await claimOf(r2, type)).toBeNull();
    // The assignee gets it although it has the lowest priority; the claim's task JSON names them.
    const mine = await claimOf(r1, type);
    expect(mine).toMatchObject({ id: low, assignee: r1.email });

    // Back to the shared queue: the lease stays with its holder, and once released anyone may take it.
    const back = await assign(s, manager.key, low, { assignee: null });
    expect(back.status).toBe(200);
    expect(back.body.task).toMatchObject({ id: low, status: "claimed", assignee: null });
    const released = await release(s, r1.key, low);
    expect(released.body.task).toMatchObject({ id: low, status: "open", assignee: null });
    expect((await claimOf(r2, type))?.id).toBe(low);

    // Each assignment is one audit entry on the task.
    const trail = (await auditTrail(s.db, "task", low)).map((e) => e.action);
    expect(trail.filter((x) => x === "task.assigned" || x === "task.unassigned")).toEqual(["task.assigned", "task.unassigned"]);
  });

  it("refuses bad input with 400 naming `assignee`, reviewers with 403, unknown tasks with 404, and writes nothing", async () => {
    const { taskIds } = await seed(1);
    const r1 = await reviewer();
    const auditor = await person(s.db, "auditor", ["read"]);
    const before = await counts(s.db);
    for (const body of [{ assignee: "nobody@example.com" }, { assignee: auditor.email }, { assignee: "not an email" }, {}, { assignee: r1.email, extra: 1 }]) {
      const r = await assign(s, manager.key, taskIds[0], body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.length).toBeGreaterThan(0);
    }
    const nobody = await assign(s, manager.key, taskIds[0], { assignee: "nobody@example.com" });
    expect(nobody.body.error.issues).toEqual([{ path: "assignee", message: "no user has this email" }]);
    const notReviewing = await assign(s, manager.key, taskIds[0], { assignee: auditor.email });
    expect(notReviewing.body.error.issues[0].path).toBe("assignee");
    expect((await assign(s, r1.key, taskIds[0], { assignee: r1.email })).status).toBe(403);
    expect((await assign(s, manager.key, "tsk_nope", { assignee: r1.email })).status).toBe(404);
    expect(await counts(s.db)).toEqual(before);
    expect((await taskRow(s.db, taskIds[0])).assigneeId).toBeNull();
  });

  it("answers 409 for an escalation (it stays with its owner), a completed task, and a four-eyes second review assigned to the reviewer it excludes", async () => {
    const { type, taskIds } = await seed(2, { type: { fourEyes: { flags: ["risk:*"] } }, overrides: { flags: ["risk:high"] } });
    const r1 = await reviewer();
    const r2 = await reviewer();
    expect((await claimOf(r1, type))?.id).toBe(taskIds[0]);
    expect((await claimOf(r2, type))?.id).toBe(taskIds[1]);
    // First verdict on the first decision: a second review that excludes r1.
    expect((await review(s, r1.key, taskIds[0], { action: "approve" })).status).toBe(200);
    const second = (await tasksOf(s.db, (await taskRow(s.db, taskIds[0])).decisionId)).find((t) => t.kind === "second")!;
    expect(second.excludedUserId).toBe(r1.id);
    // Escalate the second decision: its escalation task belongs to the type's owner.
    expect((await review(s, r2.key, taskIds[1], { action: "escalate", note: "needs the owner" })).status).toBe(200);
    const escalation = (await tasksOf(s.db, (await taskRow(s.db, taskIds[1])).decisionId)).find((t) => t.kind === "escalation")!;

    const before = await counts(s.db);
    const fourEyes = await assign(s, manager.key, second.id, { assignee: r1.email });
    expect(fourEyes.status).toBe(409);
    expect(fourEyes.body.error.message).toMatch(/four-eyes/);
    const esc = await assign(s, manager.key, escalation.id, { assignee: r2.email });
    expect(esc.status).toBe(409);
    expect(esc.body.error.message).toMatch(/escalation/);
    const done = await assign(s, manager.key, taskIds[0], { assignee: r2.email });
    expect(done.status).toBe(409);
    expect(done.body.error.message).toMatch(/completed/);
    expect(await counts(s.db)).toEqual(before);
    // The other reviewer may take the second review.
    expect((await assign(s, manager.key, second.id, { assignee: r2.email })).body.task.assignee).toBe(r2.email);
  });

  it("answers 409 when the assignee is not a member of the task's queue, and changes nothing", async () => {
    const { type, taskIds } = await seed(1);
    const member = await reviewer();
    const outsider = await reviewer();
    const put = await answer(
      client(s, manager.key).PUT("/api/v1/decision-types/{key}/members", { params: { path: { key: type } }, body: { members: [member.email] } }),
    );
    expect(put.status).toBe(200);
    const before = await counts(s.db);
    const refused = await assign(s, manager.key, taskIds[0], { assignee: outsider.email });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("not a member");
    expect(await counts(s.db)).toEqual(before);
    expect((await assign(s, manager.key, taskIds[0], { assignee: member.email })).body.task).toMatchObject({ assignee: member.email });
  });

  it("assigning a task someone else holds ends their lease; the new assignee claims it and the former holder's verdict is refused", async () => {
    const { type, taskIds } = await seed(1);
    const r1 = await reviewer();
    const r2 = await reviewer();
    expect((await claimOf(r2, type))?.id).toBe(taskIds[0]);
    const a = await assign(s, manager.key, taskIds[0], { assignee: r1.email });
    expect(a.body.task).toMatchObject({ status: "open", claimedBy: null, assignee: r1.email });
    expect((await review(s, r2.key, taskIds[0], { action: "approve" })).status).toBe(409);
    expect((await claimOf(r1, type))?.id).toBe(taskIds[0]);
    // Assigning a task to the person who holds it keeps their lease.
    const kept = await assign(s, manager.key, taskIds[0], { assignee: r1.email });
    expect(kept.body.task).toMatchObject({ status: "claimed", claimedBy: r1.id, assignee: r1.email });
    expect((await review(s, r1.key, taskIds[0], { action: "approve" })).status).toBe(200);
  });

  it("under concurrent claims, assigned tasks go to their assignee first and to nobody else", async () => {
    const { type, taskIds } = await seed(12, { priorities: Array.from({ length: 12 }, (_, i) => 12 - i) });
    const people = [await reviewer(), await reviewer(), await reviewer(), await reviewer()];
    const [r1] = people;
    // The four lowest-priority tasks: the last the shared queue would serve.
    const assigned = taskIds.slice(8);
    const b = await bulk(s, manager.key, { action: "assign", taskIds: assigned, assignee: r1.email });
    expect(b.status).toBe(200);
    const got = new Map<string, string[]>(people.map((p) => [p.id, []]));
    await Promise.all(
      people.map(async (p) => {
        for (;;) {
          const t = await claimOf(p, type);
          if (!t) return;
          got.get(p.id)!.push(t.id);
        }
      }),
    );
    const all = [...got.values()].flat();
    expect(all.sort()).toEqual([...taskIds].sort());
    expect(new Set(all).size).toBe(12);
    expect(got.get(r1.id)!.slice(0, 4).sort()).toEqual([...assigned].sort());
    for (const p of people.slice(1)) expect(got.get(p.id)!.filter((id) => assigned.includes(id))).toEqual([]);
  });

  it("disabling a reviewer hands their assigned tasks back to the shared queue, leases included, with one audit entry", async () => {
    const { type, taskIds } = await seed(2);
    const leaving = await reviewer();
    const other = await reviewer();
    expect((await bulk(s, manager.key, { action: "assign", taskIds, assignee: leaving.email })).status).toBe(200);
    expect((await claimOf(leaving, type))?.id).toBe(taskIds[0]);
    expect(await claimOf(other, type)).toBeNull();

    const cookie = await signIn(s.url, admin.email);
    const res = await fetch(`${s.url}/admin/users`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ intent: "disable", id: leaving.id }),
      redirect: "manual",
    });
    await res.text();
    expect(res.status).toBe(200);
    for (const id of taskIds) expect(await taskRow(s.db, id)).toMatchObject({ assigneeId: null, status: "open", claimedBy: null });
    const entries = (await auditTrail(s.db, "task", taskIds[1])).filter((e) => e.action === "tasks.unassigned");
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0].data)).toMatchObject({ reason: "user disabled", user: leaving.email, leasesEnded: [taskIds[0]] });
    expect(new Set([(await claimOf(other, type))?.id, (await claimOf(other, type))?.id])).toEqual(new Set(taskIds));
    // A disabled person cannot be given work.
    const refused = await assign(s, manager.key, taskIds[0], { assignee: leaving.email });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues[0]).toEqual({ path: "assignee", message: "this user is disabled" });
  });

  it("bulk actions are all or nothing: one task that cannot take the action and nothing changes, audit included", async () => {
    const { type, taskIds } = await seed(3);
    const esc = await seed(1);
    const r1 = await reviewer();
    const r2 = await reviewer();
    expect((await claimOf(r2, esc.type))?.id).toBe(esc.taskIds[0]);
    expect((await review(s, r2.key, esc.taskIds[0], { action: "escalate", note: "owner, please" })).status).toBe(200);
    const escalation = (await tasksOf(s.db, esc.decisionIds[0])).find((t) => t.kind === "escalation")!;

    const before = await counts(s.db);
    const mixed = await bulk(s, manager.key, { action: "assign", taskIds: [...taskIds, escalation.id], assignee: r1.email });
    expect(mixed.status).toBe(409);
    expect(mixed.body.error.message).toMatch(/nothing was changed/);
    expect(mixed.body.error.issues).toEqual([{ path: `taskIds.${escalation.id}`, message: expect.stringMatching(/escalation/) }]);
    const missing = await bulk(s, manager.key, { action: "priority", taskIds: [taskIds[0], "tsk_missing"], priority: 5 });
    expect(missing.status).toBe(409);
    // Releasing leases of open tasks: nothing to release.
    const notClaimed = await bulk(s, manager.key, { action: "release", taskIds });
    expect(notClaimed.status).toBe(409);
    expect(notClaimed.body.error.issues).toHaveLength(3);
    expect(await counts(s.db)).toEqual(before);
    for (const id of taskIds) expect(await taskRow(s.db, id)).toMatchObject({ assigneeId: null, priority: 0, status: "open" });

    // Bad bodies: 400 naming the field.
    const noAssignee = await bulk(s, manager.key, { action: "assign", taskIds });
    expect(noAssignee.status).toBe(400);
    expect(noAssignee.body.error.issues).toEqual([{ path: "assignee", message: "required to assign" }]);
    expect((await bulk(s, manager.key, { action: "assign", assignee: r1.email })).status).toBe(400);
    expect((await bulk(s, r1.key, { action: "unassign", taskIds })).status).toBe(403);
    expect(await counts(s.db)).toEqual(before);

    // The whole selection: one entry, found from each task's trail and each decision's.
    const ok = await bulk(s, manager.key, { action: "assign", taskIds, assignee: r1.email });
    expect(ok.status).toBe(200);
    expect(ok.body.taskIds.sort()).toEqual([...taskIds].sort());
    expect((await counts(s.db)).audit).toBe(before.audit + 1);
    const seqs = new Set<number>();
    for (const id of taskIds) {
      expect((await taskRow(s.db, id)).assigneeId).toBe(r1.id);
      const entry = (await auditTrail(s.db, "task", id)).find((e) => e.action === "tasks.assigned")!;
      expect(entry).toMatchObject({ entityType: "task_batch", entityId: ok.body.batchId, actor: expect.stringContaining(manager.email) });
      seqs.add(entry.seq);
      const t = await taskRow(s.db, id);
      const decisionTrail = await decisionAuditTrail(s.db, t.decisionId, [id]);
      const shown = decisionTrail.find((e) => e.action === "tasks.assigned")!;
      expect(shown.data).toMatchObject({ assignee: r1.email, batchSize: 3, tasks: [{ task: id, decision: t.decisionId, before: null }] });
    }
    expect(seqs.size).toBe(1);

    // By filter: the priority of every task assigned to r1 in this type, then the leases, then back to the shared queue.
    const prio = await bulk(s, manager.key, { action: "priority", priority: 7, filter: { type, assignee: r1.email } });
    expect(prio.status).toBe(200);
    expect(prio.body.taskIds).toHaveLength(3);
    for (const id of taskIds) expect((await taskRow(s.db, id)).priority).toBe(7);
    const held = await claimOf(r1, type);
    const rel = await bulk(s, manager.key, { action: "release", filter: { type, status: "claimed" } });
    expect(rel.body).toMatchObject({ taskIds: [held!.id], leasesEnded: [held!.id] });
    expect(await taskRow(s.db, held!.id)).toMatchObject({ status: "open", claimedBy: null, assigneeId: r1.id });
    const un = await bulk(s, manager.key, { action: "unassign", filter: { type, assignee: r1.email } });
    expect(un.body.taskIds).toHaveLength(3);
    expect((await bulk(s, manager.key, { action: "unassign", filter: { type, assignee: r1.email } })).status).toBe(400);
  });

  it("the queue page's manager view lists, selects and assigns in bulk; reviewers may not", async () => {
    const { type, taskIds } = await seed(3);
    const r1 = await reviewer();
    const cookie = await signIn(s.url, manager.email);
    const page = await fetch(`${s.url}/queue?manage=1&type=${type}`, { headers: { Cookie: cookie } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain("Manage tasks");
    expect(html).toContain("All 3 tasks matching this filter");
    const post = async (c: string, fields: [string, string][]) => {
      const res = await fetch(`${s.url}/queue`, {
        method: "POST",
        headers: { Cookie: c, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
        body: new URLSearchParams(fields),
        redirect: "manual",
      });
      return { status: res.status, location: res.headers.get("location") ?? "", text: await res.text() };
    };
    const done = await post(cookie, [
      ["intent", "bulk-assign"],
      ["taskId", taskIds[0]],
      ["taskId", taskIds[1]],
      ["assignTo", r1.email],
      ["type", type],
    ]);
    expect(done.status).toBe(302);
    expect(decodeURIComponent(done.location.replace(/\+/g, " "))).toContain(`Assigned 2 tasks to ${r1.email}`);
    expect((await taskRow(s.db, taskIds[0])).assigneeId).toBe(r1.id);
    expect((await taskRow(s.db, taskIds[2])).assigneeId).toBeNull();
    // Every task matching the filter: all three.
    const all = await post(cookie, [
      ["intent", "bulk-priority"],
      ["all", "1"],
      ["newPriority", "4"],
      ["type", type],
    ]);
    expect(all.status).toBe(302);
    for (const id of taskIds) expect((await taskRow(s.db, id)).priority).toBe(4);
    // Refused: nothing selected; releasing open tasks names them.
    expect(
      (
        await post(cookie, [
          ["intent", "bulk-unassign"],
          ["type", type],
        ])
      ).status,
    ).toBe(400);
    const refused = await post(cookie, [
      ["intent", "bulk-release"],
      ["taskId", taskIds[2]],
      ["type", type],
    ]);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain("holds no lease");
    const reviewerCookie = await signIn(s.url, r1.email);
    expect(
      (
        await post(reviewerCookie, [
          ["intent", "bulk-unassign"],
          ["taskId", taskIds[0]],
        ])
      ).status,
    ).toBe(403);
    // A reviewer asking for the manager view gets their own queue.
    const own = await (await fetch(`${s.url}/queue?manage=1&type=${type}`, { headers: { Cookie: reviewerCookie } })).text();
    expect(own).not.toContain("Bulk actions");
  });
});
