/**
 * The queue page's reads: keyset pages cover every open task exactly once in
 * the chosen order, filters hold, and the trigger-kept counters always equal
 * a count of the tasks table.
 */
import { asc, count, eq, ne } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Db } from "@db/client.server";
import { decisions, taskCounters, tasks } from "@db/schema/index";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { releaseTask } from "~/domain/queue/queue.server";
import { claim } from "~/domain/queue/claim.server";
import { listQueue, parseQueueFilter, queueOverview, type QueueFilter } from "~/domain/queue/queue-view.server";
import { submitReview } from "~/domain/review/review.server";
import { fourEyesReason, verdictsAgree } from "~/domain/review/four-eyes";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb } from "../support/db";
import { auditEntries, externalIdOfTask } from "../support/reads";

async function setup(count: number) {
  const db = await testDb();
  const owner = await makeUser(db, "admin");
  await makeType(db, invoiceType(owner.email));
  const reviewer = await makeUser(db, "reviewer");
  const items = Array.from({ length: count }, (_, i) =>
    invoiceDecision(`q-${i}`, {
      confidence: 0.5,
      priority: i % 4,
      flags: i % 5 === 0 ? ["policy:pep"] : [],
      model: { name: "m", version: i % 2 ? "2.0" : "1.0" },
    }),
  );
  const t0 = Date.now();
  for (const [i, it] of items.entries()) await ingestDecisions(db, [it], { batch: false, actor: "t", now: t0 + (i % 7) * 1000 });
  return { db, reviewer, owner, t0 };
}

async function allPages(db: Db, reviewer: { id: string; email: string }, f: Partial<QueueFilter>, now: number) {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await listQueue(db, reviewer, { sort: "queue", ...f, cursor } as QueueFilter, now, 7);
    seen.push(...page.items.map((i) => i.externalId));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return seen;
}

describe("queue view", () => {
  it("keyset pages list every open task once, in queue order and by arrival", async () => {
    const { db, reviewer, t0 } = await setup(60);
    // The expected orders, computed from the open tasks themselves.
    const rows = await db
      .select({ e: decisions.externalId, p: tasks.priority, d: tasks.dueAt, s: tasks.seq })
      .from(tasks)
      .innerJoin(decisions, eq(decisions.id, tasks.decisionId))
      .where(eq(tasks.status, "open"));
    const queueOrder = [...rows].sort((a, b) => b.p - a.p || a.d - b.d || a.s - b.s).map((r) => r.e);
    expect(await allPages(db, reviewer, { sort: "queue" }, t0)).toEqual(queueOrder);
    const arrival = [...rows].sort((a, b) => a.s - b.s).map((r) => r.e);
    expect(await allPages(db, reviewer, { sort: "oldest" }, t0)).toEqual(arrival);
    expect(await allPages(db, reviewer, { sort: "newest" }, t0)).toEqual([...arrival].reverse());
  });

  it("filters by flag, model version, priority and SLA", async () => {
    const { db, reviewer, t0 } = await setup(40);
    const flagged = await allPages(db, reviewer, { flag: "policy:pep" }, t0);
    expect(flagged.sort()).toEqual(["q-0", "q-10", "q-15", "q-20", "q-25", "q-30", "q-35", "q-5"].sort());
    expect((await allPages(db, reviewer, { model: "2.0" }, t0)).every((e) => Number(e.slice(2)) % 2 === 1)).toBe(true);
    expect(await allPages(db, reviewer, { priority: 3 }, t0)).toHaveLength(10);
    expect(await allPages(db, reviewer, { sla: "overdue" }, t0)).toEqual([]);
    expect(await allPages(db, reviewer, { sla: "overdue" }, t0 + 5 * 3_600_000)).toHaveLength(40);
  });

  it("a rare flag is searched window by window, never the whole backlog at once", async () => {
    const db = await testDb();
    const owner = await makeUser(db, "admin");
    await makeType(db, invoiceType(owner.email));
    const reviewer = await makeUser(db, "reviewer");
    const t0 = Date.now();
    const items = Array.from({ length: 4_500 }, (_, i) =>
      invoiceDecision(`r-${i}`, { confidence: 0.5, flags: i === 4_400 || i === 10 ? ["policy:rare"] : [] }),
    );
    for (let i = 0; i < items.length; i += 1000) await ingestDecisions(db, items.slice(i, i + 1000), { batch: true, actor: "t", now: t0 + i });
    const first = await listQueue(db, reviewer, { sort: "queue", flag: "policy:rare" } as QueueFilter, t0);
    expect(first.items.map((i) => i.externalId)).toEqual(["r-10"]);
    expect(first.partial).toBe(true);
    expect(first.nextCursor).not.toBeNull();
    const found = await allPages(db, reviewer, { flag: "policy:rare" }, t0);
    expect(found).toEqual(["r-10", "r-4400"]);
    expect(await allPages(db, reviewer, { flag: "policy:rare", sort: "newest" }, t0)).toEqual(["r-4400", "r-10"]);
  });

  it("reports bad filters instead of failing", () => {
    const { filter, issues } = parseQueueFilter(new URLSearchParams("sort=sideways&priority=high&type=invoice"));
    expect(filter).toMatchObject({ sort: "queue", type: "invoice" });
    expect(issues.map((i) => i.path).sort()).toEqual(["priority", "sort"]);
  });

  it("counters stay equal to the tasks table through claims, releases and verdicts", async () => {
    const { db, reviewer, t0 } = await setup(12);
    const a = (await claim(db, reviewer, { next: {} }, { now: t0 }))!;
    const b = (await claim(db, reviewer, { next: {} }, { now: t0 }))!;
    await releaseTask(db, reviewer, b.id, { now: t0 });
    await submitReview(db, reviewer, a.id, { action: "approve" }, { now: t0 });
    await claim(db, reviewer, { next: {} }, { now: t0, leaseMs: 1 });
    await claim(db, reviewer, { next: {} }, { now: t0 + 10 }); // reaps the expired lease first
    // The invariant the triggers keep, checked on the tables themselves.
    const counters = await db
      .select({ typeKey: taskCounters.typeKey, kind: taskCounters.kind, status: taskCounters.status, n: taskCounters.n })
      .from(taskCounters)
      .where(ne(taskCounters.n, 0))
      .orderBy(asc(taskCounters.typeKey), asc(taskCounters.kind), asc(taskCounters.status));
    const actual = await db
      .select({ typeKey: tasks.typeKey, kind: tasks.kind, status: tasks.status, n: count() })
      .from(tasks)
      .groupBy(tasks.typeKey, tasks.kind, tasks.status)
      .orderBy(asc(tasks.typeKey), asc(tasks.kind), asc(tasks.status));
    expect(counters).toEqual(actual);
    const [q] = await queueOverview(db, t0);
    expect(q).toMatchObject({ key: "invoice", open: 10, inProgress: 1, pastSla: 0 });
    expect((await queueOverview(db, t0 + 5 * 3_600_000))[0]).toMatchObject({ pastSla: 10 });
  });
});

describe("the queue overview", () => {
  it("names each queue's oldest open task and counts every work kind past its SLA, escalations aside", async () => {
    const { db, reviewer, owner, t0 } = await setup(6);
    // A second queue whose every automated decision is sampled for QA: its tasks are of kind "qa".
    await makeType(db, invoiceType(owner.email, { key: "invoice-qa", name: "Invoices (QA)", routing: { minConfidence: 0.5, qaSampleRate: 1 } }));
    for (let i = 0; i < 3; i++)
      await ingestDecisions(db, [invoiceDecision(`qa-${i}`, { type: "invoice-qa" })], { batch: false, actor: "t", now: t0 + 60_000 + i });
    const first = (await claim(db, reviewer, { next: { type: "invoice" } }, { now: t0 }))!;
    await submitReview(db, reviewer, first.id, { action: "escalate", note: "not sure" }, { now: t0 });
    const open = await db.select({ createdAt: tasks.createdAt, kind: tasks.kind }).from(tasks).where(eq(tasks.status, "open")).orderBy(asc(tasks.seq));
    expect(open.filter((t) => t.kind === "escalation")).toHaveLength(1);

    const byKey = (rows: Awaited<ReturnType<typeof queueOverview>>) => Object.fromEntries(rows.map((q) => [q.key, q]));
    const now = byKey(await queueOverview(db, t0));
    expect(now.invoice).toMatchObject({ open: 5, pastSla: 0, pastSlaCapped: false, escalations: 1 });
    // The oldest open work task, by arrival.
    expect(now.invoice.oldestCreatedAt).toBe(open.find((t) => t.kind === "review")!.createdAt);
    expect(now["invoice-qa"]).toMatchObject({ open: 3, pastSla: 0, oldestCreatedAt: t0 + 60_000 });

    const later = byKey(await queueOverview(db, t0 + 30 * 24 * 3_600_000));
    expect(later.invoice).toMatchObject({ pastSla: 5, pastSlaCapped: false });
    expect(later["invoice-qa"]).toMatchObject({ pastSla: 3, pastSlaCapped: false });
    // A queue the reviewer may not work is left out.
    expect((await queueOverview(db, t0, ["invoice-qa"])).map((q) => q.key)).toEqual(["invoice"]);
  });
});

describe("work mode over a filtered list (claim with a view)", () => {
  const externalId = externalIdOfTask;

  for (const f of [
    { sort: "queue" },
    { sort: "oldest", flag: "policy:pep" },
    { sort: "newest", model: "2.0", priority: 1 },
    { sort: "queue", route: "review", flag: "policy:pep" },
    { sort: "oldest", route: "qa" },
  ] as Partial<QueueFilter>[]) {
    it(`claims exactly the list's tasks, in the list's order: ${JSON.stringify(f)}`, async () => {
      const { db, reviewer, t0 } = await setup(60);
      const listed = await allPages(db, reviewer, f, t0);
      if (f.route !== "qa") expect(listed.length).toBeGreaterThan(0);
      const claimed: string[] = [];
      let after: string | undefined; // carried from claim to claim, as work mode does
      for (let guard = 0; guard < 100; guard++) {
        const next = await claim(db, reviewer, { view: { sort: "queue", ...f } as QueueFilter, after }, { now: t0 });
        if (!next.task) {
          expect(next.searchedAll).toBe(true);
          break;
        }
        expect(next.task).toMatchObject({ status: "claimed", claimedBy: reviewer.id });
        claimed.push(await externalId(db, next.task.id));
        after = next.position;
      }
      expect(claimed).toEqual(listed);
      // Every claim went through the lease machinery: one audit entry each.
      expect(await auditEntries(db, { action: "task.claimed", exact: true })).toHaveLength(listed.length);
    });
  }

  it("skips what the reviewer skipped, and two reviewers never get the same task", async () => {
    const { db, reviewer, t0 } = await setup(30);
    const other = await makeUser(db, "reviewer");
    const f = { sort: "oldest", flag: "policy:pep" } as QueueFilter;
    const listed = await allPages(db, reviewer, f, t0);
    const first = (await claim(db, reviewer, { view: f }, { now: t0 })).task!;
    await releaseTask(db, reviewer, first.id, { now: t0 });
    const got: Record<string, string[]> = { [reviewer.id]: [], [other.id]: [] };
    for (let i = 0; i < 20; i++) {
      const who = i % 2 ? other : reviewer;
      const next = (await claim(db, who, { view: f, skip: [first.id] }, { now: t0 })).task;
      if (next) got[who.id].push(await externalId(db, next.id));
    }
    const all = [...got[reviewer.id], ...got[other.id]];
    expect(new Set(all).size).toBe(all.length);
    const firstId = await externalId(db, first.id);
    expect(all.sort()).toEqual(listed.filter((e) => e !== firstId).sort());
    // The skipped task is still there for the next session.
    expect((await claim(db, other, { view: f }, { now: t0 })).task?.id).toBe(first.id);
  });

  it("goes on from where the reviewer is in the list, and sweeps from the top for what came back meanwhile", async () => {
    const { db, reviewer, t0 } = await setup(30);
    const other = await makeUser(db, "reviewer");
    const f = { sort: "queue", flag: "policy:pep" } as QueueFilter;
    const listed = await allPages(db, reviewer, f, t0);
    expect(listed.length).toBe(6);
    // Someone else holds the head of the list while this reviewer starts.
    const held = (await claim(db, other, { view: f }, { now: t0 })).task!;
    const served: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 3; i++) {
      const next = await claim(db, reviewer, { view: f, after }, { now: t0 });
      served.push(await externalId(db, next.task!.id));
      after = next.task ? next.position : after;
    }
    expect(served).toEqual(listed.slice(1, 4));
    // The held task comes back; the reviewer first finishes the list below, then gets it.
    await releaseTask(db, other, held.id, { now: t0 });
    for (let i = 0; i < 3; i++) {
      const next = await claim(db, reviewer, { view: f, after }, { now: t0 });
      served.push(await externalId(db, next.task!.id));
      after = next.task ? next.position : after;
    }
    expect(served).toEqual([...listed.slice(1), listed[0]]);
    expect(await claim(db, reviewer, { view: f, after }, { now: t0 })).toMatchObject({ task: null, searchedAll: true });
  });

  it("without decision filters it always takes the head of the list: a lease that comes back is served next", async () => {
    const { db, reviewer, t0 } = await setup(30);
    const other = await makeUser(db, "reviewer");
    const f = { sort: "queue", route: "review" } as QueueFilter;
    const listed = await allPages(db, reviewer, f, t0);
    expect(listed.length).toBeGreaterThan(4);
    const held = (await claim(db, other, { view: f }, { now: t0 })).task!;
    const first = await claim(db, reviewer, { view: f }, { now: t0 });
    expect(await externalId(db, first.task!.id)).toBe(listed[1]);
    await releaseTask(db, other, held.id, { now: t0 });
    // the position work mode carries does not hold back the head of the queue
    const next = await claim(db, reviewer, { view: f, after: first.task ? first.position : undefined }, { now: t0 });
    expect(await externalId(db, next.task!.id)).toBe(listed[0]);
  });

  it("a rare flag beyond the bounded search is 'not found yet', not 'none left'", async () => {
    const db = await testDb();
    const owner = await makeUser(db, "admin");
    await makeType(db, invoiceType(owner.email, { routing: { minConfidence: 0.9, reviewFlags: ["policy:*"], qaSampleRate: 0 } }));
    const reviewer = await makeUser(db, "reviewer");
    const t0 = Date.now();
    const items = Array.from({ length: 4_500 }, (_, i) => invoiceDecision(`r-${i}`, { confidence: 0.5, flags: i === 4_400 ? ["policy:rare"] : [] }));
    for (let i = 0; i < items.length; i += 1000) await ingestDecisions(db, items.slice(i, i + 1000), { batch: true, actor: "t", now: t0 + i });
    const f = { sort: "oldest", flag: "policy:rare" } as QueueFilter;
    expect(await claim(db, reviewer, { view: f, windows: 1 }, { now: t0 })).toMatchObject({ task: null, searchedAll: false, scanned: 2_000 });
    const found = await claim(db, reviewer, { view: f, windows: 3 }, { now: t0 });
    expect(found.task && (await externalId(db, found.task.id))).toBe("r-4400");
    expect(await claim(db, reviewer, { view: f, windows: 3 }, { now: t0 })).toMatchObject({ task: null, searchedAll: true });
  });
});

describe("four-eyes rules", () => {
  it("match flags by glob and fields above a limit on the model output or the correction", () => {
    const rule = { flags: ["risk:*"], fieldAbove: { total: 1000, "lines.0.amount": 500 } };
    expect(fourEyesReason(rule, ["risk:high"], [{}])).toBe("flag risk:high matches risk:*");
    expect(fourEyesReason(rule, [], [{ total: 10 }, { total: 1001 }])).toBe("field total 1001 > 1000");
    expect(fourEyesReason(rule, [], [{ lines: [{ amount: 501 }] }])).toBe("field lines.0.amount 501 > 500");
    expect(fourEyesReason(rule, ["other"], [{ total: 1000 }])).toBeNull();
    expect(fourEyesReason(null, ["risk:high"], [{ total: 1e9 }])).toBeNull();
  });
  it("agree on the same action, and for corrections on the same output", () => {
    expect(verdictsAgree({ action: "approve" }, { action: "approve" })).toBe(true);
    expect(verdictsAgree({ action: "approve" }, { action: "reject" })).toBe(false);
    expect(verdictsAgree({ action: "correct", output: { a: 1, b: [1] } }, { action: "correct", output: { b: [1], a: 1 } })).toBe(true);
    expect(verdictsAgree({ action: "correct", output: { a: 1 } }, { action: "correct", output: { a: 2 } })).toBe(false);
  });
});
