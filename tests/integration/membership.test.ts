/**
 * Queue membership over real HTTP, on either store: a type's members (GET/PUT
 * /api/v1/decision-types/:key/members, the type's admin page, the users page)
 * are the only reviewers offered and allowed its tasks: claims, work mode, the
 * queue page, the review page and the review API. A type without members stays
 * open to every reviewer; escalations stay with the type's owner. Bad input
 * changes nothing.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users } from "@db/schema/index";
import { invoiceType } from "../support/db";
import { claim, client, freshType, ingest, person, review, reviewDecision, tasksOf, type Person } from "../support/api";
import { auditEntries, taskRow } from "../support/reads";
import { signIn } from "../support/principals";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("queue membership", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  /** Each test's tasks get a priority of their own, above anything else in the shared server, so "the head of the queue" is theirs. */
  let priority = 900;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer());
  });
  afterAll(async () => s?.close());

  const putMembers = (key: string, type: string, body: unknown) =>
    client(s, key).PUT("/api/v1/decision-types/{key}/members", { params: { path: { key: type } }, body: body as never });
  const getMembers = async (type: string) => (await client(s, admin.key).GET("/api/v1/decision-types/{key}/members", { params: { path: { key: type } } })).data;
  const membersAudit = async (type: string) =>
    (await auditEntries(s.db, { action: "decision_type.members_changed", entityType: "decision_type", entityId: type, exact: true })).length;

  /** A type owned by `owner` (the admin by default) with `n` decisions routed to review, all at this test's priority; returns its key and task ids. */
  async function queueOf(n: number, owner = admin.email) {
    const type = await freshType(s.db, owner);
    const p = ++priority;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await ingest(s, ingestKey, reviewDecision(type, `${type}-${i}`, { priority: p }));
      expect(res.status).toBe(201);
      ids.push((await tasksOf(s.db, res.body.id))[0].id);
    }
    return { type, tasks: ids, name: `Invoice extraction` };
  }

  const page = async (cookie: string, path: string) => {
    const res = await fetch(`${s.url}${path}`, { headers: { Cookie: cookie }, redirect: "manual" });
    return { status: res.status, text: await res.text(), location: res.headers.get("location") ?? "" };
  };
  const post = async (cookie: string, path: string, fields: [string, string][]) => {
    const res = await fetch(`${s.url}${path}`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams(fields),
      redirect: "manual",
    });
    return { status: res.status, text: await res.text(), location: res.headers.get("location") ?? "" };
  };

  it("GET and PUT answer {members: [{email, name}]}; a PUT replaces the set, one audit entry per change, none for no change", async () => {
    const { type } = await queueOf(0);
    const [alice, bob] = [await person(s.db, "reviewer"), await person(s.db, "reviewer")];
    expect(await getMembers(type)).toEqual({ members: [] });
    const put = await putMembers(admin.key, type, { members: [bob.email.toUpperCase(), alice.email] });
    expect(put.response.status).toBe(200);
    const both = [alice, bob].sort((a, b) => a.email.localeCompare(b.email)).map((u) => ({ email: u.email, name: u.name }));
    expect(put.data).toEqual({ members: both });
    expect(await getMembers(type)).toEqual({ members: both });
    expect(await membersAudit(type)).toBe(1);

    expect((await putMembers(admin.key, type, { members: [alice.email, bob.email] })).response.status).toBe(200);
    expect(await membersAudit(type)).toBe(1);

    const replaced = await putMembers(admin.key, type, { members: [alice.email] });
    expect(replaced.data).toEqual({ members: [{ email: alice.email, name: alice.name }] });
    const [, last] = await auditEntries(s.db, { action: "decision_type.members_changed", entityId: type, exact: true });
    expect(last.data).toMatchObject({ added: [], removed: [bob.email], members: [alice.email] });
    expect(await membersAudit(type)).toBe(2);
  });

  it("a PUT naming an unknown, disabled, pending or non-reviewing user is a 400 naming members.N, and changes nothing", async () => {
    const { type } = await queueOf(0);
    const alice = await person(s.db, "reviewer");
    expect((await putMembers(admin.key, type, { members: [alice.email] })).response.status).toBe(200);
    const before = await membersAudit(type);
    const disabled = await person(s.db, "reviewer");
    await s.db.update(users).set({ disabledAt: Date.now() }).where(eq(users.id, disabled.id));
    const pending = await person(s.db, "reviewer");
    await s.db.update(users).set({ role: null }).where(eq(users.id, pending.id));
    const auditor = await person(s.db, "auditor");
    const bob = await person(s.db, "reviewer");

    const bad = await putMembers(admin.key, type, {
      members: [bob.email, "nobody@example.com", disabled.email, pending.email, auditor.email],
    });
    expect(bad.response.status).toBe(400);
    const paths = bad.error!.error.issues.map((i) => i.path);
    expect(paths).toEqual(["members.1", "members.2", "members.3", "members.4"]);
    expect(bad.error!.error.issues[0].message).toContain("nobody@example.com");
    for (const body of [{ members: ["not an email"] }, { members: alice.email }, {}, { members: [], extra: 1 }]) {
      const res = await putMembers(admin.key, type, body);
      expect(res.response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await putMembers(admin.key, "no-such-type", { members: [] })).response.status).toBe(404);
    expect(await getMembers(type)).toEqual({ members: [{ email: alice.email, name: alice.name }] });
    expect(await membersAudit(type)).toBe(before);
  });

  it("managers manage members over the API; reviewers and review keys may not", async () => {
    const { type } = await queueOf(0);
    const manager = await person(s.db, "manager", ["admin"]);
    const reviewer = await person(s.db, "reviewer", ["review", "read"]);
    expect((await putMembers(manager.key, type, { members: [reviewer.email] })).response.status).toBe(200);
    const refused = await putMembers(reviewer.key, type, { members: [] });
    expect(refused.response.status).toBe(403);
    expect(refused.error!.error.code).toBe("forbidden");
    expect((await client(s, reviewer.key).GET("/api/v1/decision-types/{key}/members", { params: { path: { key: type } } })).response.status).toBe(403);
    expect(await getMembers(type)).toEqual({ members: [{ email: reviewer.email, name: reviewer.name }] });
  });

  it("claims over the API: a non-member is never given the type's tasks and is told 403 for it; members and open types work as before", async () => {
    // An open type, and above it (a higher priority) a closed one: the head of the queue is the closed type's.
    const open = await queueOf(1);
    const closed = await queueOf(2);
    const alice = await person(s.db, "reviewer");
    const bob = await person(s.db, "reviewer");
    expect((await putMembers(admin.key, closed.type, { members: [alice.email] })).response.status).toBe(200);

    const head = await claim(s, bob.key, {});
    expect(head.status).toBe(200);
    expect(head.body.task.type).toBe(open.type);
    const named = await claim(s, bob.key, { type: closed.type });
    expect(named.status).toBe(403);
    expect(named.body.error.code).toBe("forbidden");
    expect(named.body.error.message).toBe("You are not a member of the Invoice extraction queue");

    // The review API on a task of the closed queue: 403, not "claim it first".
    const [first, second] = closed.tasks;
    for (const [what, res] of [
      ["review", await review(s, bob.key, first, { action: "approve" })],
      ["renew", await s.request(`/api/v1/tasks/${first}/renew`, { key: bob.key, method: "POST" })],
      ["release", await s.request(`/api/v1/tasks/${first}/release`, { key: bob.key, method: "POST" })],
    ] as const) {
      expect(res.status, what).toBe(403);
      expect(res.body.error.message, what).toContain("not a member of the Invoice extraction queue");
    }
    expect((await taskRow(s.db, first)).status).toBe("open");

    const mine = await claim(s, alice.key, { type: closed.type });
    expect(mine.status).toBe(200);
    expect(mine.body.task.id).toBe(first);
    expect((await s.request(`/api/v1/tasks/${first}/renew`, { key: alice.key, method: "POST" })).status).toBe(200);
    expect((await review(s, alice.key, first, { action: "approve" })).status).toBe(200);
    expect((await claim(s, alice.key, {})).body.task.id).toBe(second);

    // Opened again (no members): anyone may work it.
    expect((await putMembers(admin.key, closed.type, { members: [] })).response.status).toBe(200);
    expect((await review(s, alice.key, second, { action: "approve" })).status).toBe(200);
    const later = await queueOf(1);
    expect((await putMembers(admin.key, later.type, { members: [] })).response.status).toBe(200);
    expect((await claim(s, bob.key, { type: later.type })).body.task.id).toBe(later.tasks[0]);
  });

  it("a member removed while holding a lease can no longer renew or submit it", async () => {
    const q = await queueOf(1);
    const alice = await person(s.db, "reviewer");
    const bob = await person(s.db, "reviewer");
    await putMembers(admin.key, q.type, { members: [alice.email] });
    expect((await claim(s, alice.key, { type: q.type })).body.task.id).toBe(q.tasks[0]);
    await putMembers(admin.key, q.type, { members: [bob.email] });
    expect((await s.request(`/api/v1/tasks/${q.tasks[0]}/renew`, { key: alice.key, method: "POST" })).status).toBe(403);
    expect((await review(s, alice.key, q.tasks[0], { action: "approve" })).status).toBe(403);
    expect((await taskRow(s.db, q.tasks[0])).status).toBe("claimed");
  });

  it("escalations stay with the type's owner, member or not", async () => {
    const owner = await person(s.db, "manager", ["review", "read"]);
    const q = await queueOf(1, owner.email);
    const alice = await person(s.db, "reviewer");
    await putMembers(admin.key, q.type, { members: [alice.email] });
    expect((await claim(s, alice.key, { type: q.type })).status).toBe(200);
    expect((await review(s, alice.key, q.tasks[0], { action: "escalate", note: "owner's call" })).status).toBe(200);
    const escalated = await claim(s, owner.key, { type: q.type });
    expect(escalated.status).toBe(200);
    expect(escalated.body.task.route).toBe("escalation");
    expect((await review(s, owner.key, escalated.body.task.id, { action: "approve" })).status).toBe(200);
  });

  it("pages: the queue page lists only the reviewer's queues, and the review page, the queue's claims and work mode answer 403 for another queue", async () => {
    const open = await queueOf(1);
    const closed = await queueOf(1);
    const alice = await person(s.db, "reviewer");
    const bob = await person(s.db, "reviewer");
    await putMembers(admin.key, closed.type, { members: [alice.email] });
    const cookie = await signIn(s.url, bob.email);

    const queue = await page(cookie, "/queue");
    expect(queue.status).toBe(200);
    expect(queue.text).not.toContain(closed.type);
    expect(queue.text).toContain(open.type);
    const filtered = await page(cookie, `/queue?type=${closed.type}`);
    expect(filtered.text).toContain("You are not a member of the Invoice extraction queue");
    expect(filtered.text).not.toContain(`${closed.type}-0`);
    expect((await page(await signIn(s.url, alice.email), "/queue")).text).toContain(closed.type);

    const reviewPage = await page(cookie, `/review/${closed.tasks[0]}`);
    expect(reviewPage.status).toBe(403);
    expect(reviewPage.text).toContain("You are not a member of the Invoice extraction queue");
    expect(reviewPage.text).not.toContain("Claim and review");

    for (const [path, fields] of [
      [`/review/${closed.tasks[0]}`, [["intent", "claim"]]],
      [
        "/queue",
        [
          ["intent", "claim"],
          ["taskId", closed.tasks[0]],
        ],
      ],
      [
        "/queue",
        [
          ["intent", "start"],
          ["type", closed.type],
        ],
      ],
    ] as [string, [string, string][]][]) {
      const res = await post(cookie, path, fields);
      expect(res.status, `${path} ${JSON.stringify(fields)}`).toBe(403);
      expect(res.text).toContain("You are not a member of the Invoice extraction queue");
    }
    expect((await taskRow(s.db, closed.tasks[0])).status).toBe("open");

    // Work mode from the whole queue: the closed type's task (this test's, higher) is passed over for the open one.
    const started = await post(cookie, "/queue", [["intent", "start"]]);
    expect(started.status).toBe(302);
    expect(started.location).toMatch(new RegExp(`^/review/${open.tasks[0]}`));
    // Alice, a member, starts on the closed queue.
    const aliceStarted = await post(await signIn(s.url, alice.email), "/queue", [
      ["intent", "start"],
      ["type", closed.type],
    ]);
    expect(aliceStarted.location).toMatch(new RegExp(`^/review/${closed.tasks[0]}`));
  });

  it("the type's page and the users page change membership for admins and managers; bad input is shown inline and changes nothing", async () => {
    const q = await queueOf(0);
    const alice = await person(s.db, "reviewer");
    const bob = await person(s.db, "reviewer");
    const auditor = await person(s.db, "auditor");
    const manager = await person(s.db, "manager");
    const adminCookie = await signIn(s.url, admin.email);
    const managerCookie = await signIn(s.url, manager.email);

    // The type's page: a manager may open it and set its members, but not change its definition.
    const typePage = await page(managerCookie, `/admin/types/${q.type}`);
    expect(typePage.status).toBe(200);
    expect(typePage.text).toContain("Queue members");
    const saved = await post(managerCookie, `/admin/types/${q.type}?section=members`, [
      ["members", alice.email],
      ["members", bob.email],
    ]);
    expect(saved.status).toBe(200);
    expect((await getMembers(q.type))?.members.map((m) => m.email).sort()).toEqual([alice.email, bob.email].sort());
    expect((await post(managerCookie, `/admin/types/${q.type}`, [["name", "Renamed"]])).status).toBe(403);
    const before = await membersAudit(q.type);
    const refused = await post(adminCookie, `/admin/types/${q.type}?section=members`, [
      ["members", alice.email],
      ["members", auditor.email],
    ]);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain(`${auditor.email} is an auditor, who does not review tasks`);
    expect(await membersAudit(q.type)).toBe(before);
    expect((await getMembers(q.type))?.members).toHaveLength(2);

    // The users page: the person's queues, replaced as one set.
    const usersPage = await page(managerCookie, "/admin/users");
    expect(usersPage.status).toBe(200);
    expect(usersPage.text).toContain(`Edit queues of ${alice.email}`);
    const other = await queueOf(0);
    const moved = await post(managerCookie, "/admin/users?section=queues", [
      ["id", alice.id],
      ["queues", other.type],
    ]);
    expect(moved.status).toBe(200);
    expect((await getMembers(q.type))?.members.map((m) => m.email)).toEqual([bob.email]);
    expect((await getMembers(other.type))?.members.map((m) => m.email)).toEqual([alice.email]);
    const userAudit = await auditEntries(s.db, { action: "user.queues_changed", entityId: alice.id, exact: true });
    expect(userAudit).toHaveLength(1);
    expect(userAudit[0].data).toMatchObject({ added: [other.type], removed: [q.type] });

    const unknown = await post(adminCookie, "/admin/users?section=queues", [
      ["id", alice.id],
      ["queues", q.type],
      ["queues", "no-such-type"],
    ]);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("no decision type with key no-such-type");
    expect((await getMembers(other.type))?.members.map((m) => m.email)).toEqual([alice.email]);
    expect(await auditEntries(s.db, { action: "user.queues_changed", entityId: alice.id, exact: true })).toHaveLength(1);

    // A reviewer may open neither page.
    const reviewerCookie = await signIn(s.url, alice.email);
    expect((await page(reviewerCookie, `/admin/types/${q.type}`)).status).toBe(403);
    expect((await post(reviewerCookie, "/admin/users?section=queues", [["id", alice.id]])).status).toBe(403);
  });

  it("automatic assignment: autoAssign in the type's JSON and PUT; new review tasks go to the member with the fewest open assigned tasks, ties by email", async () => {
    const key = `auto-${process.pid}`;
    const put = (body: unknown) => client(s, admin.key).PUT("/api/v1/decision-types/{key}", { params: { path: { key } }, body: body as never });
    const created = await put(invoiceType(admin.email, { key }));
    expect(created.response.status).toBe(201);
    expect(created.data?.autoAssign).toBe(false);
    const bad = await put(invoiceType(admin.email, { key, autoAssign: "yes" }));
    expect(bad.response.status).toBe(400);
    expect(bad.error!.error.issues.map((i) => i.path)).toEqual(["autoAssign"]);
    expect((await client(s, admin.key).GET("/api/v1/decision-types/{key}", { params: { path: { key } } })).data?.autoAssign).toBe(false);
    const on = await put(invoiceType(admin.email, { key, autoAssign: true }));
    expect(on.data?.autoAssign).toBe(true);

    // No members yet: new tasks stay in the shared queue.
    const p = ++priority;
    const first = await ingest(s, ingestKey, reviewDecision(key, "auto-0", { priority: p }));
    expect((await tasksOf(s.db, first.body.id))[0].assigneeId).toBeNull();

    const [alice, bob] = [await person(s.db, "reviewer"), await person(s.db, "reviewer")].sort((a, b) => a.email.localeCompare(b.email));
    await putMembers(admin.key, key, { members: [alice.email, bob.email] });
    // The first goes to alice (a tie, broken by email); the batch evens them out, then alternates.
    const one = await ingest(s, ingestKey, reviewDecision(key, "auto-1", { priority: p }));
    expect((await tasksOf(s.db, one.body.id))[0].assigneeId).toBe(alice.id);
    const batch = await ingest(s, ingestKey, { decisions: [1, 2, 3, 4].map((i) => reviewDecision(key, `auto-b${i}`, { priority: p })) });
    expect(batch.status).toBe(201);
    const assignees = [];
    for (const d of batch.body.decisions) assignees.push((await tasksOf(s.db, d.id))[0].assigneeId);
    expect(assignees).toEqual([bob.id, alice.id, bob.id, alice.id]);
    const entries = await auditEntries(s.db, { action: "tasks.auto_assigned", entityId: key, exact: true });
    expect(entries).toHaveLength(2);
    expect((entries[1].data as { tasks: string[][] }).tasks.map((t) => t[2])).toEqual([bob.email, alice.email, bob.email, alice.email]);

    // An assigned task is its assignee's: bob is given his own first, then the shared one, never alice's.
    const got: (string | null)[] = [];
    for (let res = await claim(s, bob.key, { type: key }); res.status === 200; res = await claim(s, bob.key, { type: key })) {
      got.push((await taskRow(s.db, res.body.task.id)).assigneeId);
    }
    expect(got).toEqual([bob.id, bob.id, null]);
  });
});
