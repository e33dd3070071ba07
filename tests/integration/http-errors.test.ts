import http from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disableUser, listApiKeys, revokeApiKey } from "~/domain/auth/users.server";
import { makeKey } from "../support/db";
import {
  claim,
  client,
  answer,
  counts,
  freshType,
  getDecision,
  getDecisionType,
  ingest,
  listDecisions,
  person,
  putDecisionType,
  review,
  reviewDecision,
  type Person,
} from "../support/api";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

const MB = 1_048_576;

describe("HTTP API error statuses and hostile input", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  let alice: Person;
  let type: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer());
    alice = await person(s.db, "reviewer");
    type = await freshType(s.db, admin.email);
  });
  afterAll(async () => s?.close());

  // Raw on purpose: these bodies are malformed, oversized or of another content type, which the typed client never sends.
  const post = async (path: string, rawBody: string | undefined, headers: Record<string, string> = {}, key = ingestKey) =>
    s.request(path, { method: "POST", key, rawBody, headers: { "Content-Type": "application/json", ...headers } });

  function expectError(r: { status: number; body: unknown }, status: number, code: string) {
    expect(r.status).toBe(status);
    expect(r.body).toEqual({ error: { code, message: expect.any(String), issues: expect.any(Array) } });
  }

  it("401 without a key, with a bad key, or with a malformed Authorization header", async () => {
    expectError(await answer(client(s).POST("/api/v1/decisions", { body: reviewDecision(type, "x") as never })), 401, "unauthenticated");
    expectError(await ingest(s, "lm_wrong", reviewDecision(type, "x")), 401, "unauthenticated");
    expectError(await listDecisions(s, "x".repeat(5000)), 401, "unauthenticated");
    // Raw on purpose: Authorization headers that are not `Bearer <key>`, which the typed client never sends.
    expectError(await s.request("/api/v1/decisions", { headers: { Authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } }), 401, "unauthenticated");
    expectError(await s.request("/api/v1/decision-types/anything", { headers: { Authorization: "Bearer" } }), 401, "unauthenticated");
  });

  it("401 for a revoked key and for a key of a disabled user", async () => {
    const p = await person(s.db, "reviewer");
    for (const k of (await listApiKeys(s.db)).filter((k) => k.user === p.email)) await revokeApiKey(s.db, k.id, "test");
    expectError(await claim(s, p.key), 401, "unauthenticated");
    const q = await person(s.db, "reviewer");
    await disableUser(s.db, q.id, { id: admin.id, email: admin.email });
    expectError(await claim(s, q.key), 401, "unauthenticated");
  });

  it("403 for a scope that does not allow the action", async () => {
    const readOnly = await makeKey(s.db, ["read"]);
    expectError(await ingest(s, readOnly, reviewDecision(type, "x")), 403, "forbidden");
    expectError(await claim(s, ingestKey), 403, "forbidden");
    expectError(await putDecisionType(s, ingestKey, type, {}), 403, "forbidden");
  });

  it("404 for unknown routes and ids", async () => {
    // Raw on purpose: routes the contract does not have.
    expectError(await s.request("/api/v1/nope", { key: ingestKey }), 404, "not_found");
    expectError(await s.request("/api/v2/decisions", { key: ingestKey }), 404, "not_found");
    expectError(await s.request("/api/v1/decisions/dec_x/extra", { key: ingestKey }), 404, "not_found");
    expectError(await s.request("/api/v1/nope", { key: ingestKey, body: {} }), 404, "not_found");
    expectError(await getDecision(s, ingestKey, "dec_missing"), 404, "not_found");
    expectError(await getDecisionType(s, ingestKey, "missing"), 404, "not_found");
  });

  it("405 for the wrong method, with an Allow header", async () => {
    for (const [path, method, allow] of [
      ["/api/v1/decisions", "DELETE", "GET, POST"],
      ["/api/v1/decisions", "PUT", "GET, POST"],
      ["/api/v1/decisions/dec_x", "POST", "GET"],
      ["/api/v1/tasks/claim", "GET", "POST"],
      ["/api/v1/tasks/tsk_x/review", "GET", "POST"],
      ["/api/v1/tasks/tsk_x/release", "PATCH", "POST"],
      ["/api/v1/decision-types/x", "POST", "GET, PUT"],
    ]) {
      // Raw on purpose: methods the contract does not have.
      const r = await s.request(path, { method, key: alice.key });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.body.error.code).toBe("method_not_allowed");
      expect(r.headers.get("allow")).toBe(allow);
    }
  });

  it("413 for a body over 1 MB, declared or streamed, and nothing written", async () => {
    const before = await counts(s.db);
    const big = JSON.stringify(reviewDecision(type, "big", { input: { blob: "x".repeat(MB) } }));
    expectError(await post("/api/v1/decisions", big), 413, "payload_too_large");
    // chunked upload without a Content-Length, on its own connection
    const streamed = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = http.request(
        `${s.url}/api/v1/decisions`,
        { method: "POST", agent: false, headers: { Authorization: `Bearer ${ingestKey}`, "Content-Type": "application/json", "Transfer-Encoding": "chunked" } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on("error", reject);
      for (let i = 0; i < big.length; i += 64 * 1024) req.write(big.slice(i, i + 64 * 1024));
      req.end();
    });
    expectError(streamed, 413, "payload_too_large");
    expect(await counts(s.db)).toEqual(before);
  });

  it("an answer given before the body was read (401, 413, a page's sign-in redirect) leaves its keep-alive connection usable", async () => {
    // One socket: the second request of each pair goes on the connection the refused body came on.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, method: string, headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const stalled = setTimeout(() => reject(new Error(`${method} ${path}: no answer in 20 s, the connection stalled`)), 20_000);
        const req = http.request(`${s.url}${path}`, { method, agent, headers }, (res) => {
          res.resume();
          res.on("end", () => {
            clearTimeout(stalled);
            resolve({ status: res.statusCode!, reused: req.reusedSocket });
          });
        });
        req.on("error", reject);
        req.end(body);
      });
    const json = { "Content-Type": "application/json" };
    const before = await counts(s.db);
    const big = JSON.stringify(reviewDecision(type, "refused", { input: { blob: "x".repeat(300_000) } }));
    const refusals: [string, string, Record<string, string>, string][] = [
      ["/api/v1/decisions", "POST", { ...json, Authorization: "Bearer lm_not_a_key" }, big],
      ["/api/v1/decisions", "POST", { ...json, Authorization: `Bearer ${ingestKey}` }, "x".repeat(2 * MB)],
      ["/admin/users", "POST", { "Content-Type": "application/x-www-form-urlencoded", Origin: s.url }, "intent=create&note=" + "x".repeat(300_000)],
    ];
    const statuses = [];
    for (const [path, method, headers, body] of refusals) {
      const refused = await send(path, method, headers, body);
      const next = await send("/api/v1/decision-types", "GET", { Authorization: `Bearer ${ingestKey}` });
      statuses.push([refused.status, next.status, next.reused]);
    }
    agent.destroy();
    expect(statuses).toEqual([
      [401, 200, true],
      [413, 200, true],
      [302, 200, true],
    ]);
    expect(await counts(s.db)).toEqual(before);
  });

  it("accepts a body just under the limit with a huge string", async () => {
    const body = reviewDecision(type, "huge-string", { input: { blob: "é".repeat(400_000) } });
    const r = await ingest(s, ingestKey, body);
    expect(r.status).toBe(201);
    const got = await getDecision(s, ingestKey, r.body.id);
    expect(got.body.input.blob).toHaveLength(400_000);
  });

  it("415 for a body that is not JSON", async () => {
    expectError(await post("/api/v1/decisions", "type=invoice", { "Content-Type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type");
    expectError(await post("/api/v1/decisions", JSON.stringify(reviewDecision(type, "t")), { "Content-Type": "text/plain" }), 415, "unsupported_media_type");
    expectError(await post("/api/v1/tasks/claim", "{}", { "Content-Type": "text/plain" }, alice.key), 415, "unsupported_media_type");
    // JSON with parameters or a +json suffix is fine
    expect((await post("/api/v1/decisions", JSON.stringify(reviewDecision(type, "ct-1")), { "Content-Type": "application/json; charset=utf-8" })).status).toBe(
      201,
    );
    expect((await post("/api/v1/decisions", JSON.stringify(reviewDecision(type, "ct-2")), { "Content-Type": "application/vnd.lastmile+json" })).status).toBe(
      201,
    );
  });

  it("400 for malformed or empty JSON and for bodies of the wrong shape", async () => {
    for (const raw of ["{", '{"type": }', "{'a': 1}", "undefined", "NaN", '{"a":1}}', "\u0000", ""]) {
      expectError(await post("/api/v1/decisions", raw), 400, "invalid");
    }
    for (const raw of ["null", "[]", "42", '"text"', "true", '{"decisions": {}}', '{"decisions": [1], "extra": 1}', '{"decisions": null}']) {
      expectError(await post("/api/v1/decisions", raw), 400, "invalid");
    }
    expectError(await post("/api/v1/decisions", '{"decisions": [1, "a", null, []]}'), 400, "invalid");
    const r = await post("/api/v1/decisions", '{"decisions": [1, "a", null, []]}');
    expect(r.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["decisions.0", "decisions.1", "decisions.2", "decisions.3"]);
    // Raw on purpose (as `post` above): bodies that are not a JSON object.
    expectError(
      await s.request(`/api/v1/decision-types/${type}`, { method: "PUT", key: admin.key, rawBody: "[1,2]", headers: { "Content-Type": "application/json" } }),
      400,
      "invalid",
    );
    expectError(
      await s.request(`/api/v1/decision-types/${type}`, { method: "PUT", key: admin.key, rawBody: "null", headers: { "Content-Type": "application/json" } }),
      400,
      "invalid",
    );
  });

  it("400 (not 500) for deeply nested JSON anywhere", async () => {
    const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
    const deepObj = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    for (const nested of [deep(100_000), deepObj(50_000), deep(65)]) {
      const raw = JSON.stringify(reviewDecision(type, "deep")).replace('"input":{', `"input":{"n":${nested},`);
      expectError(await post("/api/v1/decisions", raw), 400, "invalid");
      expectError(await post("/api/v1/tasks/tsk_x/review", `{"action":"approve","note":${nested}}`, {}, alice.key), 400, "invalid");
      // Raw on purpose: a nesting depth JSON.stringify would not even produce here.
      expectError(
        await s.request(`/api/v1/decision-types/${type}`, { method: "PUT", key: admin.key, rawBody: nested, headers: { "Content-Type": "application/json" } }),
        400,
        "invalid",
      );
    }
    // brackets inside strings do not count, and moderate nesting is fine
    const ok = JSON.stringify(reviewDecision(type, "deep-ok", { input: { s: "[[[[[{{{{".repeat(1000), n: JSON.parse(deep(30)) } }));
    expect((await post("/api/v1/decisions", ok)).status).toBe(201);
  });

  it("never answers 500 to random JSON bodies on any endpoint", async () => {
    const c = await claim(s, alice.key, {});
    const taskId = c.status === 200 ? c.body.task.id : "tsk_none";
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const decisionish = fc.record(
      {
        type: fc.oneof(fc.constant(type), fc.string(), fc.integer()),
        externalId: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        model: fc.oneof(fc.record({ name: fc.string(), version: fc.string() }), anyJson),
        input: anyJson,
        output: fc.oneof(fc.record({ total: fc.oneof(fc.double(), fc.string()), currency: fc.constantFrom("EUR", "USD", "x") }), anyJson),
        confidence: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
        fieldConfidence: anyJson,
        flags: anyJson,
        priority: anyJson,
        occurredAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
        __proto__: anyJson,
        constructor: anyJson,
      },
      { requiredKeys: [] },
    );
    const bodies = fc.oneof(anyJson, decisionish, fc.record({ decisions: fc.array(fc.oneof(decisionish, anyJson), { maxLength: 5 }) }));
    const endpoints: [string, string, string][] = [
      ["POST", "/api/v1/decisions", ingestKey],
      ["PUT", `/api/v1/decision-types/${type}-fuzz`, admin.key],
      ["POST", "/api/v1/tasks/claim", alice.key],
      ["POST", `/api/v1/tasks/${taskId}/review`, alice.key],
    ];
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom(...endpoints), async (body, [method, path, key]) => {
        const raw = JSON.stringify(body) ?? "null";
        // Raw on purpose: arbitrary JSON (prototype keys included) sent byte for byte to every write endpoint.
        const r = await s.request(path, { method, key, rawBody: raw, headers: { "Content-Type": "application/json" } });
        expect(r.status, `${method} ${path} ${raw.slice(0, 300)}`).toBeLessThan(500);
        if (r.status >= 400) expect(r.body.error.issues).toBeInstanceOf(Array);
      }),
      { numRuns: 300 },
    );
    // nothing anywhere picked up a polluted prototype
    const list = await listDecisions(s, ingestKey, { limit: 1 });
    expect(list.status).toBe(200);
  });

  it("answers wrong types in query strings and ids with 4xx", async () => {
    for (const q of ["limit=-1", "limit=abc", "cursor=-5", "cursor=1e5", "type=" + "x".repeat(100), "updatedSince=2024-13-45T00:00:00Z", "status[]=a"]) {
      // Raw on purpose: hand-written query strings (`status[]=a` has no typed form).
      const r = await s.request(`/api/v1/decisions?${q}`, { key: ingestKey });
      expect(r.status, q).toBe(400);
    }
    // The client encodes path parameters (encodeURIComponent), so these are the same URLs as before.
    expect((await getDecision(s, ingestKey, "' OR 1=1 --")).status).toBe(404);
    expect((await getDecision(s, ingestKey, "x".repeat(5000))).status).toBe(404);
    expect((await review(s, alice.key, encodeURIComponent("../../etc/passwd"), { action: "approve" })).status).toBe(404);
  });

  it("declares the exact byte length of JSON answers, non-ASCII included; large answers are still gzipped for clients that accept it", async () => {
    // Raw fetch on purpose: the test reads the wire (Content-Length, Content-Encoding) with its own Accept-Encoding.
    const small = await fetch(`${s.url}/api/v1/decisions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ingestKey}`, "Content-Type": "application/json", "Accept-Encoding": "gzip" },
      body: JSON.stringify(reviewDecision("prüfung-überall-€", "len-1")),
    });
    const text = await small.text();
    expect(small.status).toBe(400);
    expect(JSON.parse(text).error.issues[0].message).toContain("prüfung-überall-€");
    // short answers go out as they are: a declared length below the compression threshold
    expect(small.headers.get("content-encoding")).toBeNull();
    expect(Number(small.headers.get("content-length"))).toBe(Buffer.byteLength(text));

    const created = await ingest(s, ingestKey, { decisions: Array.from({ length: 30 }, (_, i) => reviewDecision(type, `len-big-${i}`)) });
    expect(created.status).toBe(201);
    const big = await fetch(`${s.url}/api/v1/decisions?type=${type}`, { headers: { Authorization: `Bearer ${ingestKey}`, "Accept-Encoding": "gzip" } });
    expect(big.headers.get("content-encoding")).toBe("gzip");
    expect((await big.json()).decisions.length).toBeGreaterThanOrEqual(30);
  });
});
