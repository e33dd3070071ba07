/**
 * Work mode through the page actions of the real server (signed-in browser
 * form posts, no JavaScript): "Start reviewing" on a filtered queue list claims
 * exactly that list's tasks, in the list's order, one verdict after another;
 * the filters ride along in the review URL until the reviewer stops; when
 * nothing matching is left the queue page says so and offers to clear them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listQueue, type QueueFilter } from "~/domain/queue/queue-view.server";
import { makeUser, TEST_PASSWORD } from "../support/db";
import { claim, decisionRow, freshType, ingest, person, reviewDecision, tasksOf, type Person } from "../support/api";
import { externalIdOfTask, taskRow } from "../support/reads";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("work mode follows the queue's filters", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer());
  });
  afterAll(async () => s?.close());

  async function signIn(role: "reviewer" | "manager" = "reviewer") {
    const user = await makeUser(s.db, role);
    const res = await fetch(`${s.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ email: user.email, password: TEST_PASSWORD, redirectTo: "/queue" }),
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    return { user, cookie: res.headers.get("set-cookie")!.split(";")[0] };
  }

  async function post(cookie: string, path: string, fields: Record<string, string>) {
    const res = await fetch(`${s.url}${path}`, { method: "POST", headers: { Cookie: cookie }, body: new URLSearchParams(fields), redirect: "manual" });
    await res.arrayBuffer();
    return { status: res.status, location: res.headers.get("location") ?? "" };
  }

  /** A type with flagged and unflagged items at several priorities; returns the type key. */
  async function seed() {
    const type = await freshType(s.db, admin.email, { routing: { minConfidence: 0.9, reviewFlags: ["policy:*"], qaSampleRate: 0 } });
    const items = [
      { id: "a", priority: 1, flags: ["policy:pep"] },
      { id: "b", priority: 5, flags: [] },
      { id: "c", priority: 9, flags: ["policy:pep"] },
      { id: "d", priority: 0, flags: ["policy:other"] },
      { id: "e", priority: 3, flags: ["policy:pep", "policy:other"] },
      { id: "f", priority: 7, flags: [] },
    ];
    const r = await ingest(s, ingestKey, { decisions: items.map((i) => reviewDecision(type, `${type}-${i.id}`, { priority: i.priority, flags: i.flags })) });
    expect(r.status).toBe(201);
    return type;
  }

  const idOf = (location: string) => /^\/review\/([\w-]+)/.exec(location)?.[1];
  const externalIds = async (ids: string[]) => Promise.all(ids.map((id) => externalIdOfTask(s.db, id)));
  /** The open tasks of a seeded type, as [externalId, taskId], by external id. */
  const openTasks = async (type: string) => {
    const out: [string, string][] = [];
    for (const x of ["a", "b", "c", "d", "e", "f"]) {
      const d = (await decisionRow(s.db, type, `${type}-${x}`))!;
      for (const t of await tasksOf(s.db, d.id)) if (t.status === "open") out.push([d.externalId, t.id]);
    }
    return out;
  };

  for (const sort of ["queue", "oldest", "newest"] as const) {
    it(`claims the flagged list one task after another, in ${sort} order, and says when none is left`, async () => {
      const type = await seed();
      const { user, cookie } = await signIn();
      const filter = { type, flag: "policy:pep", sort } as QueueFilter;
      const listed = (await listQueue(s.db, user, filter, Date.now())).items.map((i) => i.externalId);
      expect(listed).toHaveLength(3);

      const fields: Record<string, string> = { intent: "start", type, flag: "policy:pep", ...(sort === "queue" ? {} : { sort }) };
      let step = await post(cookie, "/queue", fields);
      const claimed: string[] = [];
      for (let guard = 0; guard < 10 && idOf(step.location); guard++) {
        expect(step.status).toBe(302);
        const url = new URL(step.location, s.url);
        // The filters ride along in work mode.
        expect(url.searchParams.get("type")).toBe(type);
        expect(url.searchParams.get("flag")).toBe("policy:pep");
        expect(url.searchParams.get("sort")).toBe(sort === "queue" ? null : sort);
        const taskId = idOf(step.location)!;
        claimed.push(taskId);
        step = await post(cookie, `${url.pathname}${url.search}`, { intent: "submit", payload: JSON.stringify({ action: "approve" }) });
      }
      expect(await externalIds(claimed)).toEqual(listed);
      // Nothing matching is left: back to the same filtered list, which says so.
      const done = new URL(step.location, s.url);
      expect(done.pathname).toBe("/queue");
      expect(Object.fromEntries(done.searchParams)).toMatchObject({ type, flag: "policy:pep", empty: "all" });
      const page = await fetch(`${s.url}${done.pathname}${done.search}`, { headers: { Cookie: cookie } });
      const html = await page.text();
      expect(html).toContain("Nothing left to review that matches these filters.");
      expect(html).toContain("Clear filters");
      // The tasks outside the filter are untouched and still open.
      expect((await openTasks(type)).map(([e]) => e)).toEqual([`${type}-b`, `${type}-d`, `${type}-f`]);
    });
  }

  it("a route filter, skip and stop keep the list; two reviewers never hold the same task", async () => {
    const type = await seed();
    const alice = await signIn();
    const bob = await signIn();
    const filter = { type, route: "review", sort: "oldest" } as QueueFilter;
    const listed = (await listQueue(s.db, alice.user, filter, Date.now())).items.map((i) => i.externalId);
    expect(listed).toHaveLength(6);
    const fields = { intent: "start", type, route: "review", sort: "oldest" };
    const [a, b] = await Promise.all([post(alice.cookie, "/queue", fields), post(bob.cookie, "/queue", fields)]);
    expect(idOf(a.location)).toBeDefined();
    expect(idOf(b.location)).toBeDefined();
    expect(idOf(a.location)).not.toBe(idOf(b.location));
    expect((await externalIds([idOf(a.location)!, idOf(b.location)!])).sort()).toEqual(listed.slice(0, 2).sort());

    // Alice skips: the next one of the same list, the skipped task goes back.
    const skipped = await post(alice.cookie, a.location, { intent: "skip" });
    expect(await externalIds([idOf(skipped.location)!])).toEqual([listed[2]]);
    expect(new URL(skipped.location, s.url).searchParams.get("route")).toBe("review");
    // Stop: back to the filtered list, the task released.
    const stopped = await post(alice.cookie, skipped.location, { intent: "stop" });
    expect(stopped.location).toBe(`/queue?type=${type}&route=review&sort=oldest`);
    expect((await taskRow(s.db, idOf(skipped.location)!)).status).toBe("open");
  });

  it("a row picked from the list: work mode carries on down the list from it, then picks up the rows above", async () => {
    const type = await seed();
    const { user, cookie } = await signIn();
    const filter = { type, flag: "policy:pep", sort: "queue" } as QueueFilter;
    const listed = (await listQueue(s.db, user, filter, Date.now())).items;
    expect(listed).toHaveLength(3);
    let step = await post(cookie, "/queue", { intent: "claim", taskId: listed[1].id, type, flag: "policy:pep" });
    const claimed: string[] = [];
    for (let guard = 0; guard < 10 && idOf(step.location); guard++) {
      claimed.push(idOf(step.location)!);
      step = await post(cookie, step.location, { intent: "submit", payload: JSON.stringify({ action: "approve" }) });
    }
    expect(claimed).toEqual([listed[1].id, listed[2].id, listed[0].id]);
    expect(new URL(step.location, s.url).searchParams.get("empty")).toBe("all");
  });

  it("the review page and the API apply one escalation rule: a note is required, reason codes are not", async () => {
    const type = await seed();
    const { cookie } = await signIn();
    const start = await post(cookie, "/queue", { intent: "start", type });
    const taskId = idOf(start.location)!;
    // The page's action answers with the domain's field message (single-fetch data request).
    const refused = await fetch(`${s.url}/review/${taskId}.data?type=${type}`, {
      method: "POST",
      headers: { Cookie: cookie },
      body: new URLSearchParams({ intent: "submit", payload: JSON.stringify({ action: "escalate", reasonCodes: ["WRONG_TOTAL"], note: " " }) }),
    });
    expect(refused.status).toBe(400);
    const text = await refused.text();
    expect(text).toContain("say why you escalate");
    expect(text).toContain('"note"');
    // A note without a reason code is enough.
    const ok = await post(cookie, `/review/${taskId}?type=${type}`, {
      intent: "submit",
      payload: JSON.stringify({ action: "escalate", note: "vendor unknown" }),
    });
    expect(ok.status).toBe(302);
    expect((await taskRow(s.db, taskId)).status).toBe("done");
  });

  it("the escalations page claims only escalations: another task id is refused and left open", async () => {
    const type = await seed();
    const { cookie } = await signIn("manager");
    const task = { id: (await openTasks(type))[0][1] };
    const res = await fetch(`${s.url}/escalations.data`, { method: "POST", headers: { Cookie: cookie }, body: new URLSearchParams({ taskId: task.id }) });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("That task is not an escalation");
    expect(await taskRow(s.db, task.id)).toMatchObject({ status: "open", claimedBy: null });
  });

  it("leaves the HTTP claim API as it was: queue order, optional type, no list filters", async () => {
    const type = await seed();
    const bot = await person(s.db, "reviewer");
    const r = await claim(s, bot.key, { type });
    expect(r.status).toBe(200);
    expect(r.body.decision.externalId).toBe(`${type}-c`); // priority 9 first
    expect((await claim(s, bot.key, { type, flag: "policy:pep" })).status).toBe(400);
  });
});
