/**
 * The Express server's edge (issue 9, findings 2, 6 and 9): one same-origin
 * check refuses state-changing requests that a page on another origin makes a
 * signed-in browser send (page actions, `.data` and `?_data=` requests, /logout,
 * the cookie-authenticated API) with a 403 and nothing changed, while API keys
 * and non-browser clients pass; every response carries the security headers,
 * with a per-request script nonce and HSTS only over https.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByEmail } from "~/domain/auth/users.server";
import { getTask, queueCounts } from "~/domain/queue/queue.server";
import { makeUser, TEST_PASSWORD, uniqueEmail } from "../support/db";
import { answer, claim, client, freshType, ingest, person, reviewDecision, type Person } from "../support/api";
import { startServer, type TestServer } from "../support/server";
import { setupServer } from "../support/setup";

/** What a page at http://127.0.0.1:<another port> makes a browser send: same site, another origin. */
const FOREIGN = { Origin: "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site" };

async function signIn(s: TestServer, role: "admin" | "reviewer", email?: string) {
  const user = await makeUser(s.db, role, email);
  const res = await fetch(`${s.url}/login`, {
    method: "POST",
    body: new URLSearchParams({ email: user.email, password: TEST_PASSWORD, redirectTo: "/" }),
    redirect: "manual",
  });
  expect(res.status).toBe(302);
  return { user, cookie: res.headers.get("set-cookie")!.split(";")[0] };
}

async function send(s: TestServer, path: string, init: { method?: string; headers?: Record<string, string>; body?: BodyInit }) {
  const res = await fetch(`${s.url}${path}`, { method: init.method ?? "POST", headers: init.headers, body: init.body, redirect: "manual" });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* a page or plain text */
  }
  return { status: res.status, headers: res.headers, body, text };
}

const userExists = async (s: TestServer, email: string) => !!(await findUserByEmail(s.db, email));
const taskRow = async (s: TestServer, id: string) => (await getTask(s.db, id))!;

function expectForbiddenJson(r: { status: number; body: unknown }) {
  expect(r.status).toBe(403);
  expect(r.body).toEqual({ error: { code: "forbidden", message: expect.any(String), issues: expect.any(Array) } });
}

describe("same-origin check on state-changing requests", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer());
  });
  afterAll(async () => s?.close());

  const createUserForm = (email: string) => new URLSearchParams({ intent: "create", email, role: "admin" });

  it("refuses a foreign page's form post to a page action with a plain 403 page, and creates no one", async () => {
    const { cookie } = await signIn(s, "admin");
    const email = uniqueEmail("victim-made");
    const r = await send(s, "/admin/users", { headers: { Cookie: cookie, ...FOREIGN }, body: createUserForm(email) });
    expect(r.status).toBe(403);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/did not come from a Lastmile page/);
    expect(await userExists(s, email)).toBe(false);
  });

  it("an Authorization header does not exempt a page action (pages take no API keys): 403, not a 500", async () => {
    const { cookie } = await signIn(s, "admin");
    const email = uniqueEmail("victim-bearer");
    const r = await send(s, "/admin/users", { headers: { Cookie: cookie, Authorization: "Bearer lm_anything", ...FOREIGN }, body: createUserForm(email) });
    expect(r.status).toBe(403);
    expect(await userExists(s, email)).toBe(false);
  });

  it("refuses a foreign `.data` and `?_data=` action with the JSON error shape, and creates no one", async () => {
    const { cookie } = await signIn(s, "admin");
    const email = uniqueEmail("victim-made");
    expectForbiddenJson(await send(s, "/admin/users.data", { headers: { Cookie: cookie, ...FOREIGN }, body: createUserForm(email) }));
    expectForbiddenJson(await send(s, "/admin/users?_data=routes%2Fadmin.users", { headers: { Cookie: cookie, ...FOREIGN }, body: createUserForm(email) }));
    // Sec-Fetch-Site alone (a browser hiding Origin) and Origin alone (a browser without Fetch Metadata) are each enough.
    expectForbiddenJson(await send(s, "/admin/users.data", { headers: { Cookie: cookie, "Sec-Fetch-Site": "cross-site" }, body: createUserForm(email) }));
    expectForbiddenJson(await send(s, "/admin/users.data", { headers: { Cookie: cookie, Origin: "http://127.0.0.1:1" }, body: createUserForm(email) }));
    expectForbiddenJson(await send(s, "/admin/users.data", { headers: { Cookie: cookie, Origin: "null" }, body: createUserForm(email) }));
    expect(await userExists(s, email)).toBe(false);
  });

  it("serves no classic `?_data=` request (the app uses `.data` URLs): 400 naming _data, anonymous or signed in, and writes nothing", async () => {
    const { cookie } = await signIn(s, "admin");
    const own = { Origin: s.url, "Sec-Fetch-Site": "same-origin" };
    const email = uniqueEmail("via-legacy-data");
    for (const [path, method, headers, body] of [
      ["/?_data", "GET", {}, undefined],
      ["/queue?_data=root", "GET", {}, undefined],
      ["/admin/users?_data=routes%2Fadmin.users", "GET", { Cookie: cookie }, undefined],
      ["/admin/users?_data=routes%2Fadmin.users", "POST", { Cookie: cookie, ...own }, createUserForm(email)],
    ] as const) {
      const r = await send(s, path, { method, headers, body });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body).toEqual({ error: { code: "invalid", message: expect.any(String), issues: [{ path: "_data", message: expect.any(String) }] } });
    }
    expect(await userExists(s, email)).toBe(false);
    // The single-fetch form of the same page answers as usual.
    expect((await send(s, "/admin/users.data", { method: "GET", headers: { Cookie: cookie } })).status).toBe(200);
  });

  it("accepts the same action from the app's own pages", async () => {
    const { cookie } = await signIn(s, "admin");
    const own = { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" };
    const viaData = uniqueEmail("made");
    expect((await send(s, "/admin/users.data", { headers: own, body: createUserForm(viaData) })).status).toBe(200);
    expect(await userExists(s, viaData)).toBe(true);
    const viaPage = uniqueEmail("made");
    expect((await send(s, "/admin/users", { headers: own, body: createUserForm(viaPage) })).status).toBe(200);
    expect(await userExists(s, viaPage)).toBe(true);
  });

  it("refuses a forced /logout: the session keeps working; the app's own sign-out still ends it", async () => {
    const { cookie } = await signIn(s, "admin");
    const forced = await send(s, "/logout", { headers: { Cookie: cookie, ...FOREIGN } });
    expect(forced.status).toBe(403);
    expect(forced.headers.get("set-cookie")).toBeNull();
    expect((await send(s, "/admin/users", { method: "GET", headers: { Cookie: cookie } })).status).toBe(200);

    const own = await send(s, "/logout", { headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" } });
    expect(own.status).toBe(302);
    expect((await send(s, "/admin/users", { method: "GET", headers: { Cookie: cookie } })).headers.get("location")).toMatch(/^\/login/);
  });

  it("refuses a foreign sign-in post (finding 9: a 403, not a 500)", async () => {
    const user = await makeUser(s.db, "reviewer");
    const r = await send(s, "/login", { headers: FOREIGN, body: new URLSearchParams({ email: user.email, password: TEST_PASSWORD, redirectTo: "/" }) });
    expect(r.status).toBe(403);
    expect(r.headers.get("set-cookie")).toBeNull();
  });

  it("guards the API called with the session cookie (the lease release beacon), not with an API key", async () => {
    const type = await freshType(s.db, admin.email);
    const reviewer = await person(s.db, "reviewer");
    const { cookie } = await signIn(s, "reviewer");
    // The signed-in reviewer's own task, claimed through the API with their own cookie from the app.
    expect((await ingest(s, ingestKey, reviewDecision(type, `${type}-1`))).status).toBe(201);
    expect((await ingest(s, ingestKey, reviewDecision(type, `${type}-2`))).status).toBe(201);
    const claimed = await send(s, "/api/v1/tasks/claim", {
      headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json" },
      body: JSON.stringify({ type }),
    });
    expect(claimed.status).toBe(200);
    const taskId = (claimed.body as { task: { id: string } }).task.id;

    // navigator.sendBeacon: no body, no custom header, the cookie, Origin and Sec-Fetch-Site.
    const forced = await send(s, `/api/v1/tasks/${taskId}/release`, { headers: { Cookie: cookie, ...FOREIGN } });
    expectForbiddenJson(forced);
    expect((await taskRow(s, taskId)).status).toBe("claimed");
    const forcedClaim = await send(s, "/api/v1/tasks/claim", { headers: { Cookie: cookie, ...FOREIGN } });
    expectForbiddenJson(forcedClaim);
    expect((await queueCounts(s.db)).filter((c) => c.typeKey === type).reduce((n, c) => n + c.claimed, 0)).toBe(1);

    const beacon = await send(s, `/api/v1/tasks/${taskId}/release`, { headers: { Cookie: cookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" } });
    expect(beacon.status).toBe(200);
    expect((await taskRow(s, taskId)).status).toBe("open");

    // An API key is not something a foreign page can make a browser send: its Origin does not matter.
    const byKey = await claim(s, reviewer.key, { type });
    expect(byKey.status).toBe(200);
    const keyRelease = await answer(
      client(s, reviewer.key).POST("/api/v1/tasks/{id}/release", { params: { path: { id: byKey.body.task.id } }, headers: FOREIGN }),
    );
    expect(keyRelease.status).toBe(200);
    expect((await taskRow(s, byKey.body.task.id)).status).toBe("open");
  });

  it("lets clients that name no origin at all through (curl, server-to-server)", async () => {
    const { cookie } = await signIn(s, "admin");
    const email = uniqueEmail("made");
    expect((await send(s, "/admin/users.data", { headers: { Cookie: cookie }, body: createUserForm(email) })).status).toBe(200);
    expect(await userExists(s, email)).toBe(true);
  });
});

describe("security headers", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  function expectHeaders(h: Headers) {
    const csp = h.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/(^|;)\s*default-src 'self'/);
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("referrer-policy")).toBe("same-origin");
    expect(h.get("x-powered-by")).toBeNull();
    return csp;
  }

  it("an HTML page: the CSP's script nonce is fresh per request and on every script tag; no 'unsafe-inline' scripts", async () => {
    const page = await send(s, "/login", { method: "GET" });
    expect(page.status).toBe(200);
    const csp = expectHeaders(page.headers);
    const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src "))!;
    expect(scriptSrc).not.toContain("'unsafe-inline'");
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(scriptSrc)?.[1];
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const tags = page.text.match(/<script\b[^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
    expect(page.headers.get("strict-transport-security")).toBeNull();

    const again = await send(s, "/login", { method: "GET" });
    expect(again.headers.get("content-security-policy")).not.toContain(nonce);
  });

  it("a JSON answer and a fingerprinted static file carry them too", async () => {
    const apiAnswer = await send(s, "/api/v1/decisions", { method: "GET" });
    expect(apiAnswer.status).toBe(401);
    expectHeaders(apiAnswer.headers);
    // Short JSON declares its length and goes out uncompressed.
    expect(apiAnswer.headers.get("content-encoding")).toBeNull();

    const page = await send(s, "/login", { method: "GET" });
    const css = /href="(\/build\/[^"]+\.css)"/.exec(page.text)?.[1];
    expect(css).toBeDefined();
    const file = await send(s, css!, { method: "GET" });
    expect(file.status).toBe(200);
    expectHeaders(file.headers);
    expect(file.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("a malformed URL is a 400 in the route's shape, with the headers, not a 500", async () => {
    const apiPath = await send(s, "/api/v1/%", { method: "GET" });
    expect(apiPath.status).toBe(400);
    expect(apiPath.body).toEqual({ error: { code: "invalid", message: expect.any(String), issues: [] } });
    expectHeaders(apiPath.headers);
    const pagePath = await send(s, "/%E0%A4%A", { method: "GET" });
    expect(pagePath.status).toBe(400);
    expectHeaders(pagePath.headers);
  });

  it("ignores X-Forwarded-Proto from a proxy it was not told to trust", async () => {
    const r = await send(s, "/login", { method: "GET", headers: { "X-Forwarded-Proto": "https" } });
    expect(r.headers.get("strict-transport-security")).toBeNull();
  });
});

describe("PUBLIC_URL and TRUST_PROXY", () => {
  it("with an https PUBLIC_URL: HSTS on every answer, and only that origin may post", async () => {
    const s = await startServer({ PUBLIC_URL: "https://lastmile.example.com" });
    try {
      const page = await send(s, "/login", { method: "GET" });
      expect(page.headers.get("strict-transport-security")).toMatch(/max-age=\d{7,}/);
      expect(page.headers.get("content-security-policy")).toContain("upgrade-insecure-requests");
      // The address the server happens to be reached at is not the public origin.
      expect((await send(s, "/logout", { headers: { Origin: s.url, "Sec-Fetch-Site": "same-origin" } })).status).toBe(403);
      expect((await send(s, "/logout", { headers: { Origin: "https://lastmile.example.com", "Sec-Fetch-Site": "same-origin" } })).status).toBe(302);
    } finally {
      await s.close();
    }
  });

  it("with TRUST_PROXY: a load balancer's X-Forwarded-Proto https turns on HSTS, and its forwarded host is the origin", async () => {
    const s = await startServer({ TRUST_PROXY: "true" });
    try {
      const viaLb = await send(s, "/login", { method: "GET", headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "lb.example.com" } });
      expect(viaLb.headers.get("strict-transport-security")).toMatch(/max-age=/);
      const direct = await send(s, "/login", { method: "GET" });
      expect(direct.headers.get("strict-transport-security")).toBeNull();
      const lb = { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "lb.example.com", "Sec-Fetch-Site": "same-origin" };
      expect((await send(s, "/logout", { headers: { ...lb, Origin: "https://lb.example.com" } })).status).toBe(302);
      expect((await send(s, "/logout", { headers: { ...lb, Origin: "http://lb.example.com" } })).status).toBe(403);
    } finally {
      await s.close();
    }
  });
});
