/**
 * Text holding U+0000 (NUL). PostgreSQL's text cannot store it, so a NUL that reached a
 * query failed there with a 500 (the fuzzer found GET /reports?type=%00), while SQLite
 * stored it. It is refused on both stores alike, wherever it comes in: a 400 naming the
 * field or parameter, and nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claim, counts, freshType, getDecision, person, reviewDecision, type Person } from "../support/api";
import { signIn } from "../support/principals";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("text holding a NUL is refused, on either store", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  let type: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer({ ingestScopes: ["ingest", "read"] }));
    type = await freshType(s.db, admin.email);
  });
  afterAll(async () => s?.close());

  const ingest = (body: unknown) => s.request("/api/v1/decisions", { key: ingestKey, body });
  const pathsOf = (body: unknown) => (body as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path);

  it.each([
    ["externalId", { externalId: "inv\u00001" }, "externalId"],
    ["a flag", { flags: ["policy:aml", "x\u0000"] }, "flags.1"],
    ["a value in the input", { input: { vendor: "ACME\u0000", amount: 10 } }, "input.vendor"],
    ["a key of the input", { input: { "ven\u0000dor": "ACME" } }, "input.ven\\u0000dor"],
  ])("ingest: %s", async (_what, overrides, path) => {
    const before = await counts(s.db);
    const res = await ingest(reviewDecision(type, `nul-${path}`, overrides));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid");
    expect(res.body.error.issues).toEqual([{ path, message: expect.stringContaining("NUL") }]);
    expect(await counts(s.db)).toEqual(before);
  });

  it("a batch names the decision's index and stores none of it", async () => {
    const before = await counts(s.db);
    const decisions = [0, 1, 2].map((i) => reviewDecision(type, i === 2 ? "nul-batch-\u0000" : `nul-batch-${i}`));
    const res = await ingest({ decisions });
    expect(res.status).toBe(400);
    expect(pathsOf(res.body)).toEqual(["decisions.2.externalId"]);
    expect(await counts(s.db)).toEqual(before);
  });

  it("an API URL: a query parameter or a path segment with %00 is a 400 naming it", async () => {
    const q = await s.request(`/api/v1/decisions?type=${type}&externalId=a%00b`, { key: ingestKey });
    expect(q.status).toBe(400);
    expect(q.body.error).toMatchObject({ code: "invalid", issues: [{ path: "externalId", message: expect.stringContaining("NUL") }] });
    for (const url of [`/api/v1/reports/automation?type=%00`, `/api/v1/decision-types/${type}%00`, "/api/v1/decisions/dec_%00"]) {
      const res = await s.request(url, { key: admin.key });
      expect(res.status, url).toBe(400);
      expect(pathsOf(res.body), url).toEqual([url.includes("?") ? "type" : "path"]);
    }
  });

  it("a review through the API, and the review page's form, leave the task held and write nothing", async () => {
    const reviewer = await person(s.db, "reviewer");
    const ingested = await ingest(reviewDecision(type, "nul-review"));
    expect(ingested.status).toBe(201);
    const c = await claim(s, reviewer.key, { type });
    const taskId = c.body.task.id as string;
    const cookie = await signIn(s.url, reviewer.email);
    const before = await counts(s.db);

    const api = await s.request(`/api/v1/tasks/${taskId}/review`, { key: reviewer.key, body: { action: "approve", note: "looks\u0000fine" } });
    expect(api.status).toBe(400);
    expect(pathsOf(api.body)).toEqual(["note"]);

    const page = await fetch(`${s.url}/review/${taskId}?type=${type}`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ intent: "submit", payload: JSON.stringify({ action: "approve" }), note: "a\u0000" }),
      redirect: "manual",
    });
    expect(page.status).toBe(400);
    expect(await page.text()).toMatch(/The form field (&quot;|")note(&quot;|") holds the NUL character/);
    expect(await counts(s.db)).toEqual(before);
    expect((await getDecision(s, ingestKey, c.body.decision.id)).body.status).toBe("in_review");

    // the same task, reviewed without the NUL, goes through
    const ok = await s.request(`/api/v1/tasks/${taskId}/review`, { key: reviewer.key, body: { action: "approve", note: "looks fine" } });
    expect(ok.status).toBe(200);
  });

  it("a page's URL: the reports page and a decision's page answer 400 naming the parameter or the path", async () => {
    const manager = await person(s.db, "manager");
    const cookie = await signIn(s.url, manager.email);
    const reports = await fetch(`${s.url}/reports?type=%00`, { headers: { Cookie: cookie } });
    expect(reports.status).toBe(400);
    expect(await reports.text()).toContain('parameter "type" holds the NUL character');
    const decision = await fetch(`${s.url}/decisions/dec_%00`, { headers: { Cookie: cookie } });
    expect(decision.status).toBe(400);
    expect(await decision.text()).toContain("path holds the NUL character");
    const data = await fetch(`${s.url}/reports.data?type=%00`, { headers: { Cookie: cookie } });
    expect(data.status).toBe(400);
    expect((await data.json()).error.issues).toEqual([{ path: "type", message: expect.stringContaining("NUL") }]);
  });
});
