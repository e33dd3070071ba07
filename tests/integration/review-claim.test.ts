/**
 * A GET never changes state (issue 9, finding 8): opening /review/:taskId (the
 * page or its data request) shows the task or offers to claim it, and takes
 * no lease; the page's "Claim and review" (a POST) claims it. The four-eyes
 * rule and leases are the same as through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/db";
import { claim, freshType, getDecision, ingest, person, review, reviewDecision, tasksOf, type Person } from "../support/api";
import { ageLease, taskRow } from "../support/reads";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("the review page claims only on POST", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer({ ingestScopes: ["ingest", "read"] }));
  });
  afterAll(async () => s?.close());

  async function signIn() {
    const user = await person(s.db, "reviewer");
    const res = await fetch(`${s.url}/login`, {
      method: "POST",
      headers: { Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ email: user.email, password: TEST_PASSWORD, redirectTo: "/queue" }),
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    return { user, cookie: res.headers.get("set-cookie")!.split(";")[0] };
  }
  const get = async (cookie: string, path: string) => {
    const res = await fetch(`${s.url}${path}`, { headers: { Cookie: cookie }, redirect: "manual" });
    return { status: res.status, text: await res.text() };
  };
  const post = async (cookie: string, path: string, fields: Record<string, string>) => {
    const res = await fetch(`${s.url}${path}`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams(fields),
      redirect: "manual",
    });
    return { status: res.status, location: res.headers.get("location") ?? "", text: await res.text() };
  };
  const status = async (decisionId: string) => (await getDecision(s, ingestKey, decisionId)).body.status as string;

  /** One decision routed to review in a type of its own; returns its id and its open task's id. */
  async function seed(overrides: Record<string, unknown> = {}) {
    const type = await freshType(s.db, admin.email, overrides);
    const res = await ingest(s, ingestKey, reviewDecision(type, `${type}-1`));
    expect(res.status).toBe(201);
    const task = (await tasksOf(s.db, res.body.id)).find((t) => t.status === "open")!;
    return { type, decisionId: res.body.id as string, taskId: task.id };
  }

  it("GET (page and data request) offers the task and leaves it unclaimed; another reviewer can still take it", async () => {
    const { type, decisionId, taskId } = await seed();
    const { cookie } = await signIn();
    const page = await get(cookie, `/review/${taskId}?type=${type}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Claim and review");
    const data = await get(cookie, `/review/${taskId}.data?type=${type}`);
    expect(data.status).toBe(200);
    expect(data.text).toContain("claimable");
    expect(await status(decisionId)).toBe("pending_review");

    const other = await person(s.db, "reviewer");
    const taken = await claim(s, other.key, { type });
    expect(taken.status).toBe(200);
    expect(taken.body.task.id).toBe(taskId);
    // Held by someone else now: the page explains, and still claims nothing.
    const held = await get(cookie, `/review/${taskId}`);
    expect(held.text).toContain("Another reviewer is working on this task.");
    expect(held.text).not.toContain("Claim and review");
  });

  it("POST claims the task and redirects to it, work-mode filters kept; then the page shows the task", async () => {
    const { type, decisionId, taskId } = await seed();
    const { cookie } = await signIn();
    const res = await post(cookie, `/review/${taskId}?type=${type}`, { intent: "claim" });
    expect(res.status).toBe(302);
    expect(res.location).toBe(`/review/${taskId}?type=${type}`);
    expect(await status(decisionId)).toBe("in_review");
    expect((await claim(s, (await person(s.db, "reviewer")).key, { type })).status).toBe(204);
    const page = await get(cookie, res.location);
    expect(page.text).not.toContain("Claim and review");
    expect(page.text).toContain("Lease");
  });

  it("a lapsed lease is not renewed by opening the page; it says so and offers the claim", async () => {
    const { type, decisionId, taskId } = await seed();
    const { user, cookie } = await signIn();
    const taken = await claim(s, user.key, { type, leaseSeconds: 1 });
    expect(taken.body.task.id).toBe(taskId);
    await ageLease(s.db, taskId, 1100); // the one-second lease lapses, without sleeping through it
    const page = await get(cookie, `/review/${taskId}`);
    expect(page.text).toContain("Your lease on this task expired");
    expect(page.text).toContain("Claim and review");
    const row = await taskRow(s.db, taskId);
    expect(row.leaseExpiresAt).toBeLessThanOrEqual(Date.now());
    expect(await status(decisionId)).toBe("in_review");
  });

  it("four-eyes: the first reviewer is told they cannot take the second review, on GET and on POST", async () => {
    const { type, decisionId, taskId } = await seed({ fourEyes: { flags: [], fieldAbove: { total: 100 } } });
    const { user, cookie } = await signIn();
    expect((await post(cookie, `/review/${taskId}`, { intent: "claim" })).status).toBe(302);
    const first = await review(s, user.key, taskId, { action: "approve" });
    expect(first.status).toBe(200);
    const second = (await tasksOf(s.db, decisionId)).find((t) => t.kind === "second")!;
    const page = await get(cookie, `/review/${second.id}`);
    expect(page.text).toContain("needs a different reviewer (four-eyes)");
    expect(page.text).not.toContain("Claim and review");
    const refused = await post(cookie, `/review/${second.id}`, { intent: "claim" });
    expect(refused.status).toBe(409);
    expect(await status(decisionId)).toBe("pending_review");
    expect((await claim(s, (await person(s.db, "reviewer")).key, { type })).body.task.id).toBe(second.id);
  });
});
