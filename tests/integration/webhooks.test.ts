/**
 * Webhooks through the real server: subscriptions over the API, deliveries to a real HTTP receiver on loopback
 * that fails, goes down and comes back, and checks every signature with `standardwebhooks`. In order per
 * decision, at least once, dead letters and their retry, secret rotation, no redirects, refused addresses,
 * no backlog for a new subscription, and a kill -9 between commit and delivery that loses nothing.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "~/domain/audit/audit.server";
import { postOnce, refusedAddress } from "~/domain/webhooks/delivery.server";
import { webhookEventSchema } from "~/domain/webhooks/outbox.server";
import {
  answer,
  autoDecision,
  claim,
  client,
  createWebhook,
  freshType,
  getDecision,
  ingest,
  person,
  retryDelivery,
  review,
  reviewDecision,
  sleep,
  webhookDeliveries,
  type Person,
} from "../support/api";
import { startServer, type TestServer } from "../support/server";

/** Quick retries; enough attempts that no delivery dies in these tests (the dead-letter test has its own server). */
const WEBHOOK_ENV = {
  WEBHOOK_POLL_MS: "50",
  WEBHOOK_BACKOFF_MS: "20",
  WEBHOOK_MAX_ATTEMPTS: "20",
  WEBHOOK_TIMEOUT_MS: "3000",
  WEBHOOK_LOCK_TTL_MS: "1500",
};

type EventBody = { type: string; timestamp: string; data: { id: string; finalOutput: unknown; correction?: { output: unknown } } };
type Received = { path: string; id: string; timestamp: string; signature: string; raw: string; body: EventBody; status: number; at: number };
type Delivery = {
  id: string;
  webhookId: string;
  eventType: string;
  decisionId: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
};

/**
 * A webhook receiver on a fixed loopback port. Each subscription gets its own path; `respond` decides each
 * answer (200 unless told otherwise). Every request's signature is checked with the path's secrets.
 */
class Receiver {
  server: http.Server | null = null;
  port = 0;
  received: Received[] = [];
  secrets = new Map<string, string[]>();
  failures: string[] = [];
  respond: (path: string, body: EventBody, attempt: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 });

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async start(port = 0) {
    const server = http.createServer((req, res) => {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (raw += c));
      req.on("end", () => {
        const path = req.url ?? "";
        const headers = {
          "webhook-id": String(req.headers["webhook-id"] ?? ""),
          "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
          "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
        };
        const secrets = this.secrets.get(path) ?? [];
        if (secrets.length === 0) this.failures.push(`${path}: no secret registered`);
        for (const secret of secrets) {
          try {
            new Webhook(secret).verify(raw, headers);
          } catch (e) {
            this.failures.push(`${path} ${headers["webhook-id"]}: ${(e as Error).message}`);
          }
        }
        const body = (raw ? JSON.parse(raw) : null) as EventBody;
        const attempt = this.received.filter((r) => r.path === path && r.id === headers["webhook-id"]).length + 1;
        const answer = this.respond(path, body, attempt);
        this.received.push({
          path,
          id: headers["webhook-id"],
          timestamp: headers["webhook-timestamp"],
          signature: headers["webhook-signature"],
          raw,
          body,
          status: answer.status,
          at: Date.now(),
        });
        res.writeHead(answer.status, { "Content-Type": "text/plain", ...answer.headers });
        res.end(answer.status < 300 ? "ok" : "no");
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop() {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }

  /** Successful deliveries to `path`, in arrival order. */
  delivered(path: string) {
    return this.received.filter((r) => r.path === path && r.status >= 200 && r.status < 300);
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

let pathCounter = 0;
const newPath = (name: string) => `/hook/${name}-${++pathCounter}`;

/** Subscribes a fresh path of the receiver; returns the subscription and its path. */
async function subscribe(s: TestServer, admin: string, rx: Receiver, name: string, body: Record<string, unknown>) {
  const path = newPath(name);
  const r = await createWebhook(s, admin, { url: rx.url(path), ...body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  rx.secrets.set(path, [r.body.secret]);
  return { id: r.body.id as string, secret: r.body.secret as string, path };
}

async function deliveries(s: TestServer, admin: string, id: string, query: Parameters<typeof webhookDeliveries>[3] = {}) {
  return (await webhookDeliveries(s, admin, id, query)).body.deliveries as Delivery[];
}

describe("webhooks", () => {
  let s: TestServer;
  let admin: string;
  let ingestKey: string;
  let owner: Person;
  let alice: Person;
  const rx = new Receiver();

  beforeAll(async () => {
    await rx.start();
    s = await startServer(WEBHOOK_ENV);
    admin = (await person(s.db, "admin", ["admin"])).key;
    ingestKey = (await person(s.db, "admin", ["ingest"])).key;
    owner = await person(s.db, "manager", ["review", "read"]);
    alice = await person(s.db, "reviewer");
  });
  afterAll(async () => {
    await s?.close();
    await rx.stop();
    expect(rx.failures, "signatures that did not verify").toEqual([]);
  });

  const subscribeTo = (name: string, body: Record<string, unknown>) => subscribe(s, admin, rx, name, body);
  const deliveriesOf = (id: string, query: Parameters<typeof webhookDeliveries>[3] = {}) => deliveries(s, admin, id, query);
  // A receiver answers before the worker records its answer: read the records once none is still pending.
  const recorded = (id: string) =>
    until("every delivery recorded", async () => {
      const list = await deliveriesOf(id);
      return list.every((d) => d.status !== "pending") && list;
    });

  it("manages subscriptions: the secret is shown once, inputs are validated by field, changes are audited", async () => {
    const type = await freshType(s.db, owner.email);
    const created = await createWebhook(s, admin, {
      url: "https://hooks.example.com/lastmile",
      events: ["decision.finalized"],
      types: [type],
      description: "ERP",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: "https://hooks.example.com/lastmile",
      events: ["decision.finalized"],
      types: [type],
      description: "ERP",
      enabled: true,
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.body.secret.slice(6), "base64").length).toBeGreaterThanOrEqual(24);
    const id = created.body.id;

    const lm = client(s, admin);
    const list = await answer(lm.GET("/api/v1/webhooks"));
    expect(list.status).toBe(200);
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toContain(id);
    const hook = { params: { path: { id } } };
    const one = await answer(lm.GET("/api/v1/webhooks/{id}", hook));
    expect(one.status).toBe(200);
    for (const r of [list, one]) expect(JSON.stringify(r.body)).not.toContain(created.body.secret.slice(6));
    expect(one.body).not.toHaveProperty("secret");

    const patched = await answer(lm.PATCH("/api/v1/webhooks/{id}", { ...hook, body: { enabled: false, types: null, description: null } }));
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, types: null, description: null });

    // Invalid bodies on purpose (cast past their types).
    const bad: ["POST" | "PATCH", unknown, string][] = [
      ["POST", { url: "ftp://x.example.com/", events: ["decision.finalized"] }, "url"],
      ["POST", { url: "not a url", events: ["decision.finalized"] }, "url"],
      ["POST", { url: "http://169.254.169.254/latest/meta-data", events: ["decision.finalized"] }, "url"],
      ["POST", { url: "http://metadata.google.internal/", events: ["decision.finalized"] }, "url"],
      ["POST", { url: "http://[fe80::1]:8080/", events: ["decision.finalized"] }, "url"],
      ["POST", { url: "http://[fd00:ec2::254]/", events: ["decision.finalized"] }, "url"],
      ["POST", { url: "https://ok.example.com/", events: [] }, "events"],
      ["POST", { url: "https://ok.example.com/", events: ["decision.deleted"] }, "events.0"],
      ["POST", { url: "https://ok.example.com/", events: ["decision.finalized"], types: ["no-such-type"] }, "types.0"],
      ["POST", { url: "https://ok.example.com/", events: ["decision.finalized"], secret: "mine" }, ""],
      ["PATCH", {}, ""],
      ["PATCH", { enabled: "yes" }, "enabled"],
    ];
    for (const [method, body, field] of bad) {
      const r = method === "POST" ? await createWebhook(s, admin, body) : await answer(lm.PATCH("/api/v1/webhooks/{id}", { ...hook, body: body as never }));
      expect(r.status, `${method} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.error.code).toBe("invalid");
      expect(
        r.body.error.issues.map((i: { path: string }) => i.path),
        JSON.stringify(body),
      ).toContain(field);
    }
    const missing = { params: { path: { id: "whk_missing" } } };
    expect((await answer(lm.GET("/api/v1/webhooks/{id}", missing))).status).toBe(404);
    expect((await answer(lm.POST("/api/v1/webhooks/{id}/rotate-secret", missing))).status).toBe(404);
    expect((await retryDelivery(s, admin, id, "abc")).status).toBe(404);
    expect((await webhookDeliveries(s, admin, id, { status: "lost" as never })).status).toBe(400);
    // Only admins: a manager's read key and an ingest key are refused.
    expect((await answer(client(s, ingestKey).GET("/api/v1/webhooks"))).status).toBe(403);
    expect((await answer(client(s, owner.key).GET("/api/v1/webhooks"))).status).toBe(403);

    const deleted = await answer(lm.DELETE("/api/v1/webhooks/{id}", hook));
    expect(deleted.status).toBe(200);
    expect((await answer(lm.GET("/api/v1/webhooks/{id}", hook))).status).toBe(404);
    const trail = await auditTrail(s.db, "webhook", id);
    expect(trail.map((e) => e.action)).toEqual(["webhook.created", "webhook.updated", "webhook.deleted"]);
    expect(JSON.stringify(trail)).not.toContain(created.body.secret.slice(6));
  });

  it("delivers every event signed, with the decision as it was, retrying failures under the same webhook id", async () => {
    const type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
    const sub = await subscribeTo("all", {
      events: ["decision.finalized", "decision.escalated", "decision.qa_reviewed", "decision.corrected_after_release"],
      types: [type],
    });
    // The first two attempts of every event fail.
    rx.respond = (path, _body, attempt) => ({ status: path === sub.path && attempt <= 2 ? 500 : 200 });

    const auto = await ingest(s, ingestKey, autoDecision(type, "wh-auto"));
    expect(auto.status).toBe(201);
    const reviewed = await ingest(s, ingestKey, reviewDecision(type, "wh-review"));
    const c = await claim(s, alice.key, { type });
    const corrected = { ...c.body.decision.output, total: 99 };
    const verdict = await review(s, alice.key, c.body.task.id, { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"] });
    expect(verdict.status).toBe(200);

    const got = await until("both events delivered", () => rx.delivered(sub.path).length >= 2 && rx.delivered(sub.path));
    const byDecision = new Map(got.map((r) => [r.body.data.id, r]));
    const autoEvent = byDecision.get(auto.body.id)!;
    expect(autoEvent.body).toEqual({
      type: "decision.finalized",
      timestamp: expect.any(String),
      data: (await getDecision(s, ingestKey, auto.body.id)).body,
    });
    const reviewEvent = byDecision.get(reviewed.body.id)!;
    // The verdict's answer, its event and GET /api/v1/decisions/:id afterwards show the same decision.
    expect(verdict.body.decision).toEqual((await getDecision(s, ingestKey, reviewed.body.id)).body);
    expect(reviewEvent.body).toEqual({ type: "decision.finalized", timestamp: expect.any(String), data: verdict.body.decision });
    expect(reviewEvent.body.data.finalOutput).toEqual(corrected);
    // Three attempts each (500, 500, 200), always the same webhook id.
    for (const ev of [autoEvent, reviewEvent]) {
      const attempts = rx.received.filter((r) => r.path === sub.path && r.id === ev.id);
      expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    }
    expect(new Set(got.map((r) => r.id)).size).toBe(2);
    const list = await recorded(sub.id);
    expect(list).toHaveLength(2);
    for (const d of list) expect(d).toMatchObject({ status: "delivered", attempts: 3, lastStatus: 200, lastError: null });
    expect(list.map((d) => d.webhookId).sort()).toEqual(got.map((r) => r.id).sort());
  });

  it("delivers in order per decision while the receiver fails and goes down, at least once, and gives no backlog to a new subscription", async () => {
    const type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 1 } });
    // Events from before the subscription are never sent to it.
    const before = await ingest(
      s,
      ingestKey,
      autoDecision(await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } }), "wh-before"),
    );
    expect(before.status).toBe(201);
    const sub = await subscribeTo("order", {
      events: ["decision.finalized", "decision.qa_reviewed", "decision.corrected_after_release", "decision.escalated"],
    });
    const late = await subscribeTo("late", { events: ["decision.finalized"], types: [type] });

    // The receiver goes down; the first event of each decision will then fail three times before it is taken.
    const port = rx.port;
    await rx.stop();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await ingest(s, ingestKey, autoDecision(type, `wh-order-${i}`));
      ids.push(d.body.id);
      // every auto decision is QA-sampled: the QA reviewer corrects it → qa_reviewed + corrected_after_release
      const c = await claim(s, alice.key, { type });
      expect(c.body.decision.id).toBe(d.body.id);
      const r = await review(s, alice.key, c.body.task.id, {
        action: "correct",
        output: { ...c.body.decision.output, total: 1 + i },
        reasonCodes: ["WRONG_TOTAL"],
      });
      expect(r.status).toBe(200);
    }
    // While it is down, attempts fail (connection refused) and nothing after a decision's first event is tried.
    await until("failed attempts while the receiver is down", async () => (await deliveriesOf(sub.id)).some((d) => d.attempts > 0 && d.lastError));
    const pending = await deliveriesOf(sub.id);
    expect(pending).toHaveLength(9);
    for (const d of pending) {
      expect(d.status).toBe("pending");
      if (d.eventType !== "decision.finalized") expect(d.attempts, "a later event was tried before the first").toBe(0);
    }

    const firstTries = new Map<string, number>();
    rx.respond = (path, body) => {
      if (path !== sub.path || body.type !== "decision.finalized") return { status: 200 };
      const n = (firstTries.get(body.data.id) ?? 0) + 1;
      firstTries.set(body.data.id, n);
      return { status: n <= 2 ? 503 : 200 };
    };
    await rx.start(port);
    await until("every event delivered", () => new Set(rx.delivered(sub.path).map((r) => r.id)).size === 9);

    for (const id of ids) {
      const attempts = rx.received.filter((r) => r.path === sub.path && r.body.data.id === id);
      const types = attempts.map((r) => `${r.body.type}:${r.status}`);
      expect(types.slice(0, 3)).toEqual(["decision.finalized:503", "decision.finalized:503", "decision.finalized:200"]);
      const delivered = attempts.filter((r) => r.status === 200).map((r) => r.body.type);
      expect([...new Set(delivered)]).toEqual(["decision.finalized", "decision.qa_reviewed", "decision.corrected_after_release"]);
      const correction = attempts.find((r) => r.body.type === "decision.corrected_after_release")!.body.data;
      expect(correction.correction).toMatchObject({ action: "correct", reviewer: alice.email, reasonCodes: ["WRONG_TOTAL"] });
      expect(correction.correction!.output).not.toEqual(correction.finalOutput);
    }
    // No backlog: "wh-before" went to neither subscription.
    expect(rx.received.filter((r) => r.body?.data?.id === before.body.id)).toEqual([]);
    expect((await deliveriesOf(late.id)).map((d) => d.decisionId).sort()).toEqual([...ids].sort());
  });

  it("rotates the secret: for 24 hours every delivery carries two signatures, each verifying with its own secret", async () => {
    const type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
    const sub = await subscribeTo("rotate", { events: ["decision.finalized"], types: [type] });
    rx.respond = () => ({ status: 200 });
    const rotated = await answer(client(s, admin).POST("/api/v1/webhooks/{id}/rotate-secret", { params: { path: { id: sub.id } } }));
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(sub.secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt!);
    expect(expires - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    rx.secrets.set(sub.path, [sub.secret, rotated.body.secret]); // the receiver verifies with each alone

    await ingest(s, ingestKey, autoDecision(type, "wh-rotate"));
    const [got] = await until("the delivery", () => rx.delivered(sub.path).length === 1 && rx.delivered(sub.path));
    const parts = got.signature.split(" ");
    expect(parts).toHaveLength(2);
    for (const p of parts) expect(p).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const headers = (signature: string) => ({ "webhook-id": got.id, "webhook-timestamp": got.timestamp, "webhook-signature": signature });
    const raw = got.raw;
    const [newSig, oldSig] = parts;
    expect(() => new Webhook(rotated.body.secret).verify(raw, headers(newSig))).not.toThrow();
    expect(() => new Webhook(sub.secret).verify(raw, headers(oldSig))).not.toThrow();
    expect(() => new Webhook(sub.secret).verify(raw, headers(newSig))).toThrow();
    expect((await auditTrail(s.db, "webhook", sub.id)).map((e) => e.action)).toEqual(["webhook.created", "webhook.secret_rotated"]);
  });

  it("follows no redirect: a 3xx is a failed attempt and the target is never called", async () => {
    const type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
    const sub = await subscribeTo("redirect", { events: ["decision.finalized"], types: [type] });
    const target = newPath("redirect-target");
    rx.respond = (path) => (path === sub.path ? { status: 307, headers: { Location: rx.url(target) } } : { status: 200 });
    await ingest(s, ingestKey, autoDecision(type, "wh-redirect"));
    const [d] = await until("a failed attempt", async () => {
      const list = await deliveriesOf(sub.id);
      return list[0]?.attempts >= 1 && list;
    });
    expect(d).toMatchObject({ lastStatus: 307 });
    expect(d.lastError).toMatch(/^HTTP 307 \(redirect to .* not followed\)/);
    expect(rx.received.filter((r) => r.path === target)).toEqual([]);
  });

  it("refuses link-local and cloud metadata addresses, after DNS resolution too", async () => {
    for (const a of ["169.254.169.254", "169.254.1.2", "fe80::1", "FE80::abcd%eth0", "febf::1", "fd00:ec2::254", "::ffff:169.254.169.254"]) {
      expect(refusedAddress(a), a).not.toBeNull();
    }
    for (const a of ["127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.0.1", "::1", "fd00::1", "2001:db8::1", "169.255.0.1"]) {
      expect(refusedAddress(a), a).toBeNull();
    }
    const opts = { timeoutMs: 2000, allowedHosts: null };
    // A name that resolves to a link-local or metadata address is refused before any connection.
    const resolvesTo = (address: string, family: number) =>
      ((_h: string, o: { all?: boolean }, cb: (e: null, a: unknown, f?: number) => void) =>
        o.all ? cb(null, [{ address, family }]) : cb(null, address, family)) as never;
    const path = newPath("dns");
    rx.respond = () => ({ status: 200 });
    const target = `http://hooks.lastmile.test:${rx.port}${path}`;
    for (const [address, family] of [
      ["169.254.169.254", 4],
      ["169.254.7.7", 4],
      ["fe80::1", 6],
      ["fd00:ec2::254", 6],
    ] as const) {
      const r = await postOnce(target, {}, "{}", { ...opts, lookup: resolvesTo(address, family) });
      expect(r, address).toMatchObject({ ok: false, status: null });
      expect(r.error).toMatch(/refused/);
    }
    expect(rx.received.filter((r) => r.path === path)).toEqual([]);
    // The same name resolving to loopback (a private address) is allowed.
    rx.secrets.set(path, []);
    const ok = await postOnce(target, {}, "{}", { ...opts, lookup: resolvesTo("127.0.0.1", 4) });
    expect(ok).toMatchObject({ ok: true, status: 200 });
    rx.failures = rx.failures.filter((f) => !f.startsWith(path));
    expect(await postOnce("http://metadata.google.internal/computeMetadata/v1/", {}, "{}", opts)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/refused/),
    });
    expect(await postOnce("http://169.254.169.254/latest/meta-data/", {}, "{}", opts)).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
    expect(await postOnce(`http://127.0.0.1:${rx.port}${path}`, {}, "{}", { ...opts, allowedHosts: ["hooks.example.com"] })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/WEBHOOK_ALLOWED_HOSTS/),
    });
  });

  it("announces an escalation: decision.escalated carries the reason and the type's owner, and the owner's finalized event waits behind it", async () => {
    const type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
    const sub = await subscribeTo("escalated", { events: ["decision.escalated", "decision.finalized"], types: [type] });
    // The escalation's deliveries fail until the owner has decided, so the finalized event is queued behind an undelivered one.
    let holdEscalation = true;
    rx.respond = (path, body) => ({ status: path === sub.path && body.type === "decision.escalated" && holdEscalation ? 503 : 200 });

    const d = await ingest(s, ingestKey, reviewDecision(type, "wh-escalate"));
    expect(d.status).toBe(201);
    const c = await claim(s, alice.key, { type });
    expect(c.body.decision.id).toBe(d.body.id);
    const escalated = await review(s, alice.key, c.body.task.id, { action: "escalate", note: "Vendor not in the master data" });
    expect(escalated.status).toBe(200);
    expect(escalated.body.decision.status).toBe("escalated");
    const atEscalation = await getDecision(s, ingestKey, d.body.id);
    expect(atEscalation.body.status).toBe("escalated");
    expect(escalated.body.decision).toEqual(atEscalation.body);

    // The type's owner takes the escalation and approves it, while the escalated event is still failing.
    const o = await claim(s, owner.key, { type });
    expect(o.status).toBe(200);
    expect(o.body).toMatchObject({ task: { route: "escalation" }, decision: { id: d.body.id } });
    expect((await review(s, owner.key, o.body.task.id, { action: "approve" })).status).toBe(200);
    const queued = await until("a failed escalated attempt with the finalized event queued behind it", async () => {
      const list = await deliveriesOf(sub.id);
      const byType = new Map(list.map((x) => [x.eventType, x]));
      return byType.get("decision.escalated")!.attempts > 0 && byType.has("decision.finalized") && byType;
    });
    expect(queued.get("decision.escalated")).toMatchObject({ status: "pending", lastStatus: 503 });
    expect(queued.get("decision.finalized")).toMatchObject({ status: "pending", attempts: 0 });
    holdEscalation = false;
    // Sent again now rather than after its backoff, which doubles with every failed attempt. A 409 means the worker
    // holds it at that moment: an attempt in flight, which may still have met the failing receiver, so ask again
    // until the retry is taken or the worker's attempt got through (on a busy machine the backoff is long by now).
    const escalationId = queued.get("decision.escalated")!.id;
    await until("the escalated delivery sent again", async () => {
      if (rx.delivered(sub.path).some((r) => r.body.type === "decision.escalated")) return true;
      const retried = await retryDelivery(s, admin, sub.id, escalationId);
      expect([200, 409]).toContain(retried.status);
      return retried.status === 200;
    });
    // Delivery is at least once: the retry and an attempt the worker had in flight may both get through, so the
    // escalation can arrive twice, under one webhook-id (a receiver keeps the first).
    const deliveredOnce = () => [...new Map(rx.delivered(sub.path).map((r) => [r.id, r])).values()];
    await until("both events delivered", () => deliveredOnce().length === 2);

    const got = rx.received.filter((r) => r.path === sub.path);
    // In order: every escalated attempt (failed, then delivered) before the first finalized attempt.
    const firstFinalized = got.findIndex((r) => r.body.type === "decision.finalized");
    expect(firstFinalized).toBeGreaterThan(0);
    expect(got.slice(0, firstFinalized).map((r) => r.body.type)).toEqual(Array(firstFinalized).fill("decision.escalated"));
    expect(got[firstFinalized - 1].status).toBe(200);
    expect(deliveredOnce().map((r) => r.body.type)).toEqual(["decision.escalated", "decision.finalized"]);

    const [escalation, finalized] = deliveredOnce();
    // The decision as GET /api/v1/decisions/:id showed it at the escalation, with why and to whom.
    expect(escalation.body).toEqual({
      type: "decision.escalated",
      timestamp: expect.any(String),
      data: { ...atEscalation.body, escalation: { reason: "reviewer", owner: owner.email } },
    });
    expect(finalized.body).toEqual({ type: "decision.finalized", timestamp: expect.any(String), data: (await getDecision(s, ingestKey, d.body.id)).body });
    expect(finalized.body.data).toMatchObject({ status: "approved", finalOutput: reviewDecision(type, "wh-escalate").output });
    expect((await recorded(sub.id)).map((x) => x.status)).toEqual(["delivered", "delivered"]);
  });

  it("every event body received is what the API contract documents (WebhookEvent)", () => {
    const events = rx.received.filter((r) => r.raw !== "{}");
    expect(new Set(events.map((r) => r.body.type))).toEqual(
      new Set(["decision.finalized", "decision.qa_reviewed", "decision.corrected_after_release", "decision.escalated"]),
    );
    for (const r of events) expect(webhookEventSchema.safeParse(r.body).error?.issues ?? [], `${r.body.type} to ${r.path}`).toEqual([]);
  });
});

describe("webhook dead letters", () => {
  let s: TestServer;
  let admin: string;
  let ingestKey: string;
  let owner: Person;
  let alice: Person;
  const rx = new Receiver();
  beforeAll(async () => {
    await rx.start();
    s = await startServer({ ...WEBHOOK_ENV, WEBHOOK_MAX_ATTEMPTS: "4" });
    admin = (await person(s.db, "admin", ["admin"])).key;
    ingestKey = (await person(s.db, "admin", ["ingest"])).key;
    owner = await person(s.db, "manager", ["review", "read"]);
    alice = await person(s.db, "reviewer");
  });
  afterAll(async () => {
    await s?.close();
    await rx.stop();
    expect(rx.failures, "signatures that did not verify").toEqual([]);
  });

  it("dead-letters a delivery after WEBHOOK_MAX_ATTEMPTS; later events for the decision wait; an admin's retry sends them", async () => {
    const type = await freshType(s.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 1 } });
    const sub = await subscribe(s, admin, rx, "dead", { events: ["decision.finalized", "decision.qa_reviewed"], types: [type] });
    let down = true;
    rx.respond = (path) => ({ status: path === sub.path && down ? 500 : 200 });
    const d = await ingest(s, ingestKey, autoDecision(type, "wh-dead"));
    const c = await claim(s, alice.key, { type });
    expect((await review(s, alice.key, c.body.task.id, { action: "approve" })).status).toBe(200);

    const dead = await until("a dead letter", async () => {
      const list = await deliveries(s, admin, sub.id, { status: "dead" });
      return list.length === 1 && list;
    });
    expect(dead[0]).toMatchObject({ eventType: "decision.finalized", decisionId: d.body.id, attempts: 4, lastStatus: 500, nextAttemptAt: null });
    expect(rx.received.filter((r) => r.path === sub.path).map((r) => r.body.type)).toEqual(Array(4).fill("decision.finalized"));
    const waiting = (await deliveries(s, admin, sub.id, { status: "pending" }))[0];
    expect(waiting).toMatchObject({ eventType: "decision.qa_reviewed", attempts: 0 });

    down = false;
    const retried = await retryDelivery(s, admin, sub.id, dead[0].id);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: "pending", attempts: 0 });
    await until("both delivered after the retry", () => rx.delivered(sub.path).length === 2);
    expect(rx.delivered(sub.path).map((r) => r.body.type)).toEqual(["decision.finalized", "decision.qa_reviewed"]);
    expect((await retryDelivery(s, admin, sub.id, dead[0].id)).status).toBe(409);
    expect((await auditTrail(s.db, "webhook", sub.id)).map((e) => e.action)).toEqual(["webhook.created", "webhook.delivery_retried"]);
  });
});

describe("webhooks across a crash", () => {
  const servers: TestServer[] = [];
  const rx = new Receiver();
  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
    await rx.stop();
  });

  it("loses nothing when the server is killed -9 between commit and delivery", { timeout: 120_000 }, async () => {
    await rx.start();
    const port = rx.port;
    const first = await startServer(WEBHOOK_ENV);
    servers.push(first);
    const admin = (await person(first.db, "admin", ["admin", "ingest"])).key;
    const owner = await person(first.db, "manager");
    const type = await freshType(first.db, owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
    const path = newPath("crash");
    const sub = await createWebhook(first, admin, { url: rx.url(path), events: ["decision.finalized"], types: [type] });
    expect(sub.status).toBe(201);
    rx.secrets.set(path, [sub.body.secret]);

    await rx.stop();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await ingest(first, admin, autoDecision(type, `crash-${i}`))).body.id);
    // The worker is at it (attempts fail: connection refused), then the process dies mid-flight.
    await until("failing attempts", async () => {
      const r = await webhookDeliveries(first, admin, sub.body.id);
      return r.body.deliveries.some((d: { attempts: number }) => d.attempts > 0);
    });
    process.kill(first.pid, "SIGKILL");
    await until("the first server to die", async () => {
      try {
        await fetch(`${first.url}/login`);
        return false;
      } catch {
        return true;
      }
    });

    await rx.start(port);
    const second = await startServer({ ...first.env, ...WEBHOOK_ENV });
    servers.push(second);
    await until("every event delivered by the second server", () => new Set(rx.delivered(path).map((r) => r.body.data.id)).size === 5, 60_000);
    expect(new Set(rx.delivered(path).map((r) => r.body.data.id))).toEqual(new Set(ids));
    // The receiver answers before the worker records the answer: wait for the last record, then read them all.
    await until("every delivery recorded", async () => {
      const r = await webhookDeliveries(second, admin, sub.body.id);
      return r.body.deliveries.every((d: { status: string }) => d.status === "delivered");
    });
    const list = (await webhookDeliveries(second, admin, sub.body.id)).body.deliveries;
    expect(list.map((d: { status: string }) => d.status)).toEqual(Array(5).fill("delivered"));
    expect(rx.failures).toEqual([]);
  });
});
