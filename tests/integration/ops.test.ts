/**
 * Operations through real servers: /metrics (parsed with a real exposition-format parser) and its three
 * access modes, /healthz and /readyz (and readiness lost when the store falls behind this build's
 * migrations), and the JSON request logs: request ids, and no keys or payloads in them.
 */
import os from "node:os";
import { sql } from "drizzle-orm";
import { type PromFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialectOf, sqlAll, sqlRun } from "@db/client.server";
import { answer, autoDecision, claim, client, freshType, ingest, person, review, reviewDecision, type Person } from "../support/api";
import { parseScrape, type Scrape } from "../support/prometheus";
import { freePort, startServer, type TestServer } from "../support/server";

const TOKEN = "metrics-token-for-tests-0123456789";

async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  expect(res.status).toBe(200);
  // prom-client's exposition format, exactly as it names it.
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseScrape(await res.text());
}

/** The value of the sample named `name` (a histogram's: name_count, name_sum, name_bucket) whose labels include `labels`, or undefined. */
function value(m: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const s = m.samples.get(name)?.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return s?.value === undefined ? undefined : Number(s.value);
}

/** The server's log as parsed JSON lines; every complete line must be JSON (the last may still be arriving). */
function logLines(s: TestServer): Record<string, unknown>[] {
  const out = s.output();
  return out
    .slice(0, out.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
}

/** The first log line matching `pred`, waiting a little: a request's line is written when its response has finished. */
async function logLine(s: TestServer, pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> {
  for (let i = 0; i < 100; i++) {
    const found = logLines(s).find(pred);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

describe("/metrics with METRICS_TOKEN", () => {
  let s: TestServer;
  let ingester: Person;
  let reviewer: Person;
  let type: string;
  beforeAll(async () => {
    s = await startServer({ METRICS_TOKEN: TOKEN });
    const owner = await person(s.db, "manager");
    ingester = await person(s.db, "admin", ["ingest"]);
    reviewer = await person(s.db, "reviewer");
    type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
  });
  afterAll(async () => s?.close());

  it("refuses a scrape without the token or with a wrong one (401)", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong" }, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: TOKEN }] as Record<
      string,
      string
    >[]) {
      const res = await fetch(`${s.url}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain("lastmile_");
    }
  });

  it("exposes every family with its type", async () => {
    const m = await scrape(s.url, TOKEN);
    const expected: Record<string, PromFamily["type"]> = {
      lastmile_decisions_ingested_total: "COUNTER",
      lastmile_review_actions_total: "COUNTER",
      lastmile_review_duration_seconds: "HISTOGRAM",
      lastmile_webhook_deliveries_total: "COUNTER",
      lastmile_http_request_duration_seconds: "HISTOGRAM",
      lastmile_queue_depth: "GAUGE",
      lastmile_queue_oldest_task_age_seconds: "GAUGE",
      lastmile_automation_rate: "GAUGE",
      lastmile_override_rate: "GAUGE",
      process_cpu_user_seconds_total: "COUNTER",
      process_resident_memory_bytes: "GAUGE",
      nodejs_heap_size_used_bytes: "GAUGE",
    };
    for (const [name, t] of Object.entries(expected)) {
      expect(m.families.get(name), name).toBeDefined();
      expect(m.families.get(name)!.type, name).toBe(t);
    }
    for (const outcome of ["delivered", "failed", "dead"]) expect(value(m, "lastmile_webhook_deliveries_total", { outcome })).toBe(0);
    expect(m.families.get("lastmile_automation_rate")!.help).toMatch(/last 24 hours/);
    expect(m.families.get("lastmile_queue_depth")!.help).toMatch(/[Cc]luster-wide/);
    expect(m.families.get("lastmile_decisions_ingested_total")!.help).toMatch(/[Pp]er process/);
  });

  it("moves as decisions are ingested, claimed and reviewed through the API", async () => {
    const before = await scrape(s.url, TOKEN);
    expect(value(before, "lastmile_decisions_ingested_total", { type, route: "auto" })).toBeUndefined();

    for (const id of ["a-1", "a-2"]) expect((await ingest(s, ingester.key, autoDecision(type, id))).status).toBe(201);
    const batch = await ingest(s, ingester.key, { decisions: [reviewDecision(type, "r-1"), reviewDecision(type, "r-2")] });
    expect(batch.status).toBe(201);
    // A replay stores nothing new and counts nothing.
    expect((await ingest(s, ingester.key, autoDecision(type, "a-1"))).status).toBe(200);

    let m = await scrape(s.url, TOKEN);
    expect(value(m, "lastmile_decisions_ingested_total", { type, route: "auto" })).toBe(2);
    expect(value(m, "lastmile_decisions_ingested_total", { type, route: "review" })).toBe(2);
    expect(value(m, "lastmile_queue_depth", { type, kind: "review", status: "open" })).toBe(2);
    expect(value(m, "lastmile_queue_depth", { type, kind: "review", status: "claimed" })).toBe(0);
    const age = value(m, "lastmile_queue_oldest_task_age_seconds", { type, kind: "review" })!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(120);
    // Two auto decisions are final, none reviewed yet.
    expect(value(m, "lastmile_automation_rate", { type })).toBe(1);
    expect(value(m, "lastmile_override_rate", { type })).toBeUndefined();

    const first = await claim(s, reviewer.key, { type });
    expect(first.status).toBe(200);
    m = await scrape(s.url, TOKEN);
    expect(value(m, "lastmile_queue_depth", { type, kind: "review", status: "open" })).toBe(1);
    expect(value(m, "lastmile_queue_depth", { type, kind: "review", status: "claimed" })).toBe(1);

    expect((await review(s, reviewer.key, first.body.task.id, { action: "approve" })).status).toBe(200);
    const second = await claim(s, reviewer.key, { type });
    const corrected = { ...second.body.decision.output, total: 99 };
    expect((await review(s, reviewer.key, second.body.task.id, { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"] })).status).toBe(200);

    m = await scrape(s.url, TOKEN);
    expect(value(m, "lastmile_review_actions_total", { type, action: "approve" })).toBe(1);
    expect(value(m, "lastmile_review_actions_total", { type, action: "correct" })).toBe(1);
    expect(value(m, "lastmile_review_duration_seconds_count", { type })).toBe(2);
    expect(value(m, "lastmile_review_duration_seconds_sum", { type })).toBeGreaterThanOrEqual(0);
    expect(value(m, "lastmile_review_duration_seconds_bucket", { type, le: "+Inf" })).toBe(2);
    // Both verdicts came within seconds of their claims.
    expect(value(m, "lastmile_review_duration_seconds_bucket", { type, le: "60" })).toBe(2);
    expect(value(m, "lastmile_queue_depth", { type, kind: "review", status: "open" })).toBe(0);
    expect(value(m, "lastmile_queue_depth", { type, kind: "review", status: "claimed" })).toBe(0);
    expect(value(m, "lastmile_queue_oldest_task_age_seconds", { type, kind: "review" })).toBe(0);
    // 2 auto + 2 reviewed final decisions; of the reviewed, one corrected.
    expect(value(m, "lastmile_automation_rate", { type })).toBe(0.5);
    expect(value(m, "lastmile_override_rate", { type })).toBe(0.5);

    // Requests are labelled by route id, never by the path with its ids.
    expect(value(m, "lastmile_http_request_duration_seconds_count", { method: "POST", route: "routes/api.v1.tasks.$id.review", status: "200" })).toBe(2);
    expect(value(m, "lastmile_http_request_duration_seconds_count", { method: "POST", route: "routes/api.v1.decisions", status: "201" })).toBe(3);
    const routes = new Set(m.samples.get("lastmile_http_request_duration_seconds_count")!.map((x) => x.labels!.route));
    expect(routes.size).toBeGreaterThan(3);
    for (const r of routes) expect(r).toMatch(/^(root|routes\/[^/]+|static|unmatched|\/healthz|\/readyz|\/metrics)$/);
    for (const r of routes) expect(r).not.toMatch(/tsk_|dec_/);
  });

  it("labels an unknown path and a data request by route, not by path", async () => {
    // Bodies read to the end: a response is counted once it has finished.
    expect((await s.request("/no/such/page/12345")).status).toBe(404);
    await s.request("/decisions/dec_does_not_exist.data");
    const m = await scrape(s.url, TOKEN);
    expect(value(m, "lastmile_http_request_duration_seconds_count", { method: "GET", route: "unmatched", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(value(m, "lastmile_http_request_duration_seconds_count", { method: "GET", route: "routes/decisions.$id" })).toBeGreaterThanOrEqual(1);
  });

  it("writes JSON lines with the request id, echoed from X-Request-Id, and no keys or payloads", async () => {
    const marker = `PAYLOAD-MARKER-${Date.now()}`;
    const rid = `test-req-${Date.now()}`;
    const res = await ingest(s, ingester.key, { ...autoDecision(type, "logged"), input: { vendor: marker } });
    expect(res.status).toBe(201);
    const tagged = await answer(
      client(s, ingester.key).POST("/api/v1/decisions", {
        body: { ...reviewDecision(type, "logged-2"), input: { note: marker } } as never,
        headers: { "X-Request-Id": rid },
      }),
    );
    expect(tagged.status).toBe(201);
    expect(tagged.headers.get("x-request-id")).toBe(rid);
    // An invalid one (refused with the marker in it) is not logged with its body either.
    expect((await ingest(s, ingester.key, { ...autoDecision(type, "bad"), output: { total: marker } })).status).toBe(400);
    // A header that is not a sane token is replaced, not echoed.
    const odd = await s.request("/healthz", { headers: { "X-Request-Id": "a b c" } });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await s.request("/login");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    // Lines are written asynchronously: once the last request's line is in, the earlier ones are too.
    expect(await logLine(s, (l) => l.reqId === generated.headers.get("x-request-id"))).toMatchObject({ route: "routes/login", status: 200 });

    const out = s.output();
    expect(out).not.toContain(ingester.key);
    expect(out).not.toContain(marker);
    expect(out).not.toMatch(/lastmile_session=|authorization/i);
    const lines = logLines(s);
    const line = await logLine(s, (l) => l.reqId === rid);
    expect(line).toMatchObject({
      level: "info",
      reqId: rid,
      method: "POST",
      path: "/api/v1/decisions",
      route: "routes/api.v1.decisions",
      status: 201,
      userId: ingester.id,
    });
    expect(typeof line!.durationMs).toBe("number");
    expect(await logLine(s, (l) => l.reqId === generated.headers.get("x-request-id"))).toMatchObject({ route: "routes/login", status: 200 });
    // Every request line carries a request id.
    for (const l of lines.filter((x) => x.msg === "request completed" || x.msg === "request failed")) expect(l.reqId).toEqual(expect.any(String));
  });
});

describe("/metrics access without METRICS_TOKEN", () => {
  it("is off (404) with neither METRICS_TOKEN nor METRICS_PORT", async () => {
    const s = await startServer();
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${s.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("with METRICS_PORT: served on loopback without a token, and the main port answers 404", async () => {
    const port = await freePort();
    const s = await startServer({ METRICS_PORT: String(port) });
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
      const m = await scrape(`http://127.0.0.1:${port}`);
      expect(m.families.get("lastmile_decisions_ingested_total")?.type).toBe("COUNTER");
      expect(m.families.get("process_cpu_user_seconds_total")?.type).toBe("COUNTER");
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(404);
      // Bound to loopback only: another address of this machine does not answer.
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === "IPv4" && !i.internal);
      if (external) await expect(fetch(`http://${external.address}:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    } finally {
      await s.close();
    }
  });
});

describe("/healthz and /readyz", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it("answer 200 without authentication or caching", async () => {
    const h = await s.request("/healthz");
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: "ok" });
    expect(h.headers.get("cache-control")).toBe("no-store");
    const r = await s.request<{ status: string; migrations: { applied: number; bundled: number } }>("/readyz");
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("ready");
    expect(r.body.migrations.applied).toBeGreaterThanOrEqual(r.body.migrations.bundled);
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("/readyz answers 503 with the reason while the store is behind this build's migrations", async () => {
    const table = dialectOf(s.db) === "postgres" ? sql.raw(`"drizzle"."__drizzle_migrations"`) : sql.raw(`"__drizzle_migrations"`);
    // Rows are told apart by created_at (the migration's timestamp): drizzle's SQLite table leaves id empty.
    const newest = (await sqlAll<{ hash: string; created_at: number }>(s.db, sql`SELECT hash, created_at FROM ${table} ORDER BY created_at DESC LIMIT 1`))[0];
    await sqlRun(s.db, sql`DELETE FROM ${table} WHERE created_at = ${newest.created_at}`);
    try {
      const r = await s.request("/readyz");
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ status: "not_ready", reason: expect.stringMatching(/not migrated: 1 of the \d+ migrations/) });
      expect(r.headers.get("cache-control")).toBe("no-store");
      // Liveness does not depend on the database.
      expect((await s.request("/healthz")).status).toBe(200);
    } finally {
      await sqlRun(s.db, sql`INSERT INTO ${table} (hash, created_at) VALUES (${newest.hash}, ${newest.created_at})`);
    }
    expect((await s.request("/readyz")).status).toBe(200);
  });

  it("/readyz answers 503 when the store has no migrations at all", async () => {
    const table = dialectOf(s.db) === "postgres" ? sql.raw(`"drizzle"."__drizzle_migrations"`) : sql.raw(`"__drizzle_migrations"`);
    await sqlRun(s.db, sql`ALTER TABLE ${table} RENAME TO "__drizzle_migrations_away"`);
    try {
      const r = await s.request<{ reason: string }>("/readyz");
      expect(r.status).toBe(503);
      expect(r.body.reason).toMatch(/not migrated/);
    } finally {
      const away = dialectOf(s.db) === "postgres" ? sql.raw(`"drizzle"."__drizzle_migrations_away"`) : sql.raw(`"__drizzle_migrations_away"`);
      await sqlRun(s.db, sql`ALTER TABLE ${away} RENAME TO "__drizzle_migrations"`);
    }
    expect((await s.request("/readyz")).status).toBe(200);
  });

  it("/readyz answers 503 when the database cannot be read, and logs why under the probe's request id", async () => {
    const pg = dialectOf(s.db) === "postgres";
    const table = pg ? sql.raw(`"drizzle"."__drizzle_migrations"`) : sql.raw(`"__drizzle_migrations"`);
    const away = pg ? sql.raw(`"drizzle"."__drizzle_migrations_away"`) : sql.raw(`"__drizzle_migrations_away"`);
    // A migrations table the check cannot read (no created_at): the query fails as on a broken store.
    await sqlRun(s.db, sql`ALTER TABLE ${table} RENAME TO "__drizzle_migrations_away"`);
    await sqlRun(s.db, sql`CREATE TABLE ${table} (x integer)`);
    const rid = `readyz-${Date.now()}`;
    try {
      const r = await s.request("/readyz", { headers: { "X-Request-Id": rid } });
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ status: "not_ready", reason: "database unavailable" });
    } finally {
      await sqlRun(s.db, sql`DROP TABLE ${table}`);
      await sqlRun(s.db, sql`ALTER TABLE ${away} RENAME TO "__drizzle_migrations"`);
    }
    expect((await s.request("/readyz")).status).toBe(200);
    expect(await logLine(s, (l) => l.reqId === rid && l.msg === "readiness: database check failed")).toMatchObject({
      level: "warn",
      err: { message: expect.any(String) },
    });
    // A 5xx answer is logged at error level.
    expect(await logLine(s, (l) => l.reqId === rid && l.msg === "request failed")).toMatchObject({ level: "error", route: "/readyz", status: 503 });
  });
});
