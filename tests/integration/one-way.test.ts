/**
 * One way to do each thing (issue 11), through the real server: pages answer
 * failures in the one form-failure shape, refuse with invariantResponse, read
 * query strings by one set of rules, read JSON one way, and decide by can().
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeUser } from "../support/db";
import { answer, client, person, type Person } from "../support/api";
import { signIn } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

describe("one way to do each thing", () => {
  let s: TestServer;
  let admin: string;
  let manager: string;
  let reviewer: string;
  let alice: Person;
  beforeAll(async () => {
    s = await startServer();
    admin = await signIn(s.url, (await makeUser(s.db, "admin")).email);
    manager = await signIn(s.url, (await makeUser(s.db, "manager")).email);
    reviewer = await signIn(s.url, (await makeUser(s.db, "reviewer")).email);
    alice = await person(s.db, "reviewer");
  });
  afterAll(async () => s?.close());

  /** A page as the browser gets it (document request), its text without React's text-node markers. */
  async function page(path: string, init: { cookie?: string; form?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { Origin: s.url, "Sec-Fetch-Site": "same-origin" };
    if (init.cookie) headers.Cookie = init.cookie;
    const res = await fetch(`${s.url}${path}`, {
      method: init.form ? "POST" : "GET",
      headers,
      body: init.form ? new URLSearchParams(init.form) : undefined,
      redirect: "manual",
    });
    return { status: res.status, html: (await res.text()).replace(/<!-- -->/g, "") };
  }

  it("login answers in the form-failure shape: field issues beside the fields, or a message for the form", async () => {
    const bad = await page("/login", { form: { email: "not an email", password: "" } });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="email-error"[^>]*><p>enter your email address<\/p>/);
    expect(bad.html).toMatch(/id="password-error"[^>]*><p>enter your password<\/p>/);
    expect(bad.html).not.toContain('role="alert"');
    const wrong = await page("/login", { form: { email: "nobody@example.com", password: "nope" } });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toMatch(/role="alert"[^>]*>Wrong email or password\.</);
  });

  it("the review page reads its JSON form field like an API body: a clear 400, nothing saved", async () => {
    const r = await page("/review/tsk_none", { cookie: reviewer, form: { intent: "submit", payload: "{" } });
    expect(r.status).toBe(400);
  });

  it("the all-owners escalations view is a permission: admins get it, managers do not", async () => {
    const asAdmin = await page("/escalations?all=1", { cookie: admin });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.html).toContain("open in total");
    expect(asAdmin.html).toContain("Show only mine");
    const asManager = await page("/escalations?all=1", { cookie: manager });
    expect(asManager.status).toBe(200);
    expect(asManager.html).toContain("assigned to you");
    expect(asManager.html).not.toContain("Show all owners");
  });

  it("the navigation shows what can() allows", async () => {
    const nav = async (cookie: string) => {
      const main = /<nav aria-label="Main"[^>]*>(.*?)<\/nav>/s.exec((await page("/decisions", { cookie })).html)?.[1] ?? "";
      return [...main.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    };
    expect(await nav(reviewer)).toEqual(["/queue", "/decisions"]);
    expect(await nav(admin)).toEqual(["/queue", "/escalations", "/decisions", "/reports", "/team", "/alerts", "/datasets", "/admin", "/admin/audit"]);
  });

  it("pages refuse missing things with 404 and their message", async () => {
    const type = await page("/admin/types/nope", { cookie: admin });
    expect(type.status).toBe(404);
    expect(type.html).toContain("There is no decision type &quot;nope&quot;.");
    const decision = await fetch(`${s.url}/decisions/dec_nope`, { headers: { Cookie: admin } });
    expect(decision.status).toBe(404);
    expect(await decision.text()).toContain("Decision dec_nope not found");
    const dataset = await fetch(`${s.url}/datasets/ds_nope`, { headers: { Cookie: admin } });
    expect(dataset.status).toBe(404);
  });

  it("page filters and API queries follow the same rules: trimmed, unknown and repeated parameters named", async () => {
    const audit = await page("/admin/audit?limit=0&colour=red&actor=%20", { cookie: admin });
    expect(audit.status).toBe(200);
    expect(audit.html).toMatch(/role="alert"[^>]*>Invalid filter: colour: unknown parameter; limit: [^<]+</);
    const csv = await fetch(`${s.url}/admin/audit/csv?limit=5&colour=red`, { headers: { Cookie: admin } });
    expect(csv.status).toBe(400);
    expect(await csv.text()).toBe("Invalid audit filter: colour: unknown parameter");

    const key = alice.key;
    // Raw on purpose: the query-string rules themselves (a repeated parameter, padded and empty values, an unknown one), byte for byte.
    const twice = await s.request("/api/v1/decisions?status=approved&status=rejected", { key });
    expect(twice.status).toBe(400);
    expect(twice.body).toEqual({ error: { code: "invalid", message: "Invalid query", issues: [{ path: "status", message: "give this parameter once" }] } });
    expect((await s.request("/api/v1/decisions?limit=%205%20&type=", { key })).status).toBe(200);
    const unknown = await s.request("/api/v1/decisions/dec_x/evidence?format=html&colour=red", { key });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues).toEqual([{ path: "colour", message: "unknown parameter" }]);
  });

  it("an optional JSON body: none reads as {}, a broken one is a 400", async () => {
    const none = await answer(client(s, alice.key).POST("/api/v1/tasks/claim"));
    expect(none.status).toBe(204);
    // Raw on purpose: malformed JSON.
    const broken = await s.request("/api/v1/tasks/claim", { method: "POST", key: alice.key, rawBody: "{", headers: { "Content-Type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: "invalid", message: "The request body is not valid JSON" });
  });
});
