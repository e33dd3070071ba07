/**
 * Numbers that do not fit (issue 9, finding 10): JSON.parse turns 1e400 into
 * Infinity, which used to be stored as null. Every JSON body refuses such a
 * number with a 400 naming the field, and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/db";
import { claim, counts, freshType, getDecision, person, reviewDecision, type Person } from "../support/api";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("numbers that are not finite are refused", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  let type: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer({ ingestScopes: ["ingest", "read"] }));
    type = await freshType(s.db, admin.email);
  });
  afterAll(async () => s?.close());

  /** The decision as JSON text with `literal` spliced in at a placeholder (JSON.stringify cannot write 1e400). */
  const withLiteral = (value: unknown, literal: string) => JSON.stringify(value).replace('"@NUM@"', literal);
  // Raw on purpose: number literals (1e400) that JSON.stringify, and so the typed client, cannot write.
  const send = async (path: string, rawBody: string, key = ingestKey) => s.request(path, { key, rawBody, headers: { "Content-Type": "application/json" } });

  it.each([
    ["input.amount", { input: { vendor: "ACME", amount: "@NUM@" } }, "1e400"],
    ["input.lines.1.amount", { input: { lines: [{ amount: 1 }, { amount: "@NUM@" }] } }, "-1E+309"],
    ["output.total", { output: { total: "@NUM@", currency: "EUR" } }, "1e999"],
    ["fieldConfidence.total", { fieldConfidence: { total: "@NUM@" } }, "1e400"],
    ["confidence", { confidence: "@NUM@" }, "1e400"],
  ])("a single decision: %s", async (path, overrides, literal) => {
    const before = await counts(s.db);
    const res = await send("/api/v1/decisions", withLiteral(reviewDecision(type, `nf-${path}`, overrides), literal));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid");
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual([path]);
    expect(await counts(s.db)).toEqual(before);
  });

  it("a batch names the decision's index, and stores none of it", async () => {
    const before = await counts(s.db);
    const decisions = [0, 1, 2, 3].map((i) => reviewDecision(type, `nf-batch-${i}`, i === 3 ? { input: { amount: "@NUM@" } } : {}));
    const res = await send("/api/v1/decisions", withLiteral({ decisions }, "1e400"));
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([{ path: "decisions.3.input.amount", message: expect.stringContaining("not a finite") }]);
    expect(await counts(s.db)).toEqual(before);
  });

  it("large but finite numbers are stored exactly", async () => {
    const res = await send("/api/v1/decisions", withLiteral(reviewDecision(type, "nf-big", { input: { amount: "@NUM@" } }), "1.5e308"));
    expect(res.status).toBe(201);
    const got = await getDecision(s, ingestKey, res.body.id);
    expect(got.body.input.amount).toBe(1.5e308);
  });

  it("a correction through the review API or the review page is refused, and the task stays held", async () => {
    const reviewer = await person(s.db, "reviewer");
    const type = await freshType(s.db, admin.email);
    const ingested = await send("/api/v1/decisions", JSON.stringify(reviewDecision(type, "nf-review")));
    expect(ingested.status).toBe(201);
    const c = await claim(s, reviewer.key, { type });
    expect(c.body.decision.externalId).toBe("nf-review");
    const taskId = c.body.task.id as string;
    const login = await fetch(`${s.url}/login`, {
      method: "POST",
      headers: { Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ email: reviewer.email, password: TEST_PASSWORD, redirectTo: "/queue" }),
      redirect: "manual",
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const before = await counts(s.db);
    const body = withLiteral({ action: "correct", output: { total: "@NUM@", currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] }, "1e400");
    const api = await send(`/api/v1/tasks/${taskId}/review`, body, reviewer.key);
    expect(api.status).toBe(400);
    expect(api.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["output.total"]);

    const page = await fetch(`${s.url}/review/${taskId}?type=${type}`, {
      method: "POST",
      headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ intent: "submit", payload: body }),
      redirect: "manual",
    });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("output.total");
    expect(await counts(s.db)).toEqual(before);
    expect((await getDecision(s, ingestKey, c.body.decision.id)).body.status).toBe("in_review");
  });
});
