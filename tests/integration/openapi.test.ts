/**
 * The API contract (OpenAPI 3.1, generated from the routes' zod schemas):
 * served as generated, lint-clean with Redocly's recommended rules, complete
 * (every method of every app/routes/api.v1.* file), in step with the committed
 * client, and true: real answers of a running server, success and error for
 * every operation, validate against the document's schemas (Ajv, draft 2020-12)
 * and against the zod schemas they were generated from.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Ajv2020 from "@redocly/ajv/dist/2020";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alerts } from "@db/schema/index";
import { operations } from "~/domain/api/contract.server";
import { openApiDocument } from "~/domain/api/openapi.server";
import { createLastmileClient, type LastmileClient } from "../../scripts/client/index";
import { generateClientFiles } from "../../scripts/client/generate";
import { autoDecision, freshType, person, reviewDecision, type Person } from "../support/api";
import { invoiceType, tempDir } from "../support/db";
import { startServer, type TestServer } from "../support/server";

const root = path.resolve(import.meta.dirname, "../..");

/** What each api.v1 route file handles, read from the file: its path, and the methods its 405 answer allows. */
function routesFromFiles(): { file: string; path: string; methods: string[] }[] {
  const dir = path.join(root, "app/routes");
  return fs
    .readdirSync(dir)
    .filter((f) => /^api\.v1\..+\.tsx?$/.test(f))
    .map((file) => {
      const segments = file
        .replace(/\.tsx?$/, "")
        .split(".")
        .map((s) => s.replace(/_$/, "").replace(/^\$(.+)$/, "{$1}"));
      const source = fs.readFileSync(path.join(dir, file), "utf8");
      const methods = new Set<string>();
      for (const m of source.matchAll(/methodNotAllowed\(\[([^\]]*)\]\)/g)) for (const q of m[1].matchAll(/"([A-Z]+)"/g)) methods.add(q[1]);
      return { file, path: `/${segments.join("/")}`, methods: [...methods].sort() };
    });
}

type Doc = ReturnType<typeof openApiDocument>;
type Recorded = { method: string; schemaPath: string; status: number; contentType: string; body: string };

describe("the OpenAPI document", () => {
  let s: TestServer;
  let served: Doc;
  beforeAll(async () => {
    s = await startServer();
    const res = await fetch(`${s.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    served = await res.json();
  });
  afterAll(async () => s?.close());

  it("is served without credentials, exactly as generated from the zod contract", () => {
    expect(served.openapi).toBe("3.1.0");
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it("passes redocly lint (recommended rules, redocly.yaml) without errors or warnings", () => {
    const file = path.join(tempDir(), "openapi.json");
    fs.writeFileSync(file, JSON.stringify(served));
    const run = spawnSync(path.join(root, "node_modules/.bin/redocly"), ["lint", file, "--config", path.join(root, "redocly.yaml"), "--format=json"], {
      encoding: "utf8",
      cwd: root,
    });
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{")));
    expect(report.problems.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(run.status).toBe(0);
  }, 60_000);

  it("describes every method of every api.v1 route file, and nothing else", () => {
    const routes = routesFromFiles();
    expect(routes.length).toBeGreaterThan(15);
    const expected = routes.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).sort();
    const documented = Object.entries(served.paths)
      .flatMap(([p, item]) => Object.keys(item as object).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(expected);
    for (const r of routes) expect(r.methods, r.file).not.toEqual([]);
  });

  it("every operation states the error shape and the Bearer scheme", () => {
    expect(served.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(served.components.schemas.Error).toBeDefined();
    for (const [p, item] of Object.entries(served.paths)) {
      for (const [m, op] of Object.entries(item as Record<string, { responses: Record<string, unknown>; security: unknown[] }>)) {
        const errors = Object.keys(op.responses).filter((c) => Number(c) >= 400);
        expect(errors.length, `${m} ${p}`).toBeGreaterThan(1);
        const contract = operations.find((o) => o.path === p && o.method === m.toUpperCase())!;
        expect(op.security, `${m} ${p}`).toEqual(contract.permission ? [{ apiKey: [] }] : []);
      }
    }
  });

  it("the committed client (scripts/client/openapi.json, schema.d.ts) is up to date: run npm run client:generate", async () => {
    const dir = tempDir();
    await generateClientFiles(dir);
    for (const f of ["openapi.json", "schema.d.ts"]) {
      expect(fs.readFileSync(path.join(root, "scripts/client", f), "utf8"), f).toBe(fs.readFileSync(path.join(dir, f), "utf8"));
    }
  });

  it("is readable at /docs/api: every operation, its parameters and answers, server-rendered, no scripts from elsewhere", async () => {
    const res = await fetch(`${s.url}/docs/api`);
    expect(res.status).toBe(200);
    const html = await res.text();
    for (const op of operations) {
      expect(html).toContain(`id="op-${op.operationId}"`);
      expect(html).toContain(op.path);
    }
    expect(html).toContain('id="schema-Error"');
    expect(html).toContain("leaseSeconds");
    expect([...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]).filter((src) => !src.startsWith("/"))).toEqual([]);
    expect(res.headers.get("Content-Security-Policy")).toMatch(/script-src[^;]*'nonce-/);
  });

  describe("real answers match it", () => {
    const recorded: Recorded[] = [];
    let admin: Person;
    let lm: LastmileClient;
    let anonymous: LastmileClient;
    let type: string;
    let record: Parameters<LastmileClient["use"]>[0];

    beforeAll(async () => {
      admin = await person(s.db, "admin", ["admin"]);
      record = {
        async onResponse({ request, response, schemaPath }: { request: Request; response: Response; schemaPath: string }) {
          recorded.push({
            method: request.method,
            schemaPath,
            status: response.status,
            contentType: response.headers.get("Content-Type") ?? "",
            body: await response.clone().text(),
          });
        },
      };
      lm = createLastmileClient({ baseUrl: s.url, apiKey: admin.key });
      anonymous = createLastmileClient({ baseUrl: s.url });
      lm.use(record);
      anonymous.use(record);
      // No QA sampling (the invoice type samples 5% of automatic decisions, by their random ids): the automatic
      // decision below must not add a task, so the queue ends empty (204).
      type = await freshType(s.db, admin.email, {
        routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0 },
      });
    });

    it("for a representative success and error of every operation", async () => {
      // Decision types
      const key = `oa-${process.pid}`;
      const def = invoiceType(admin.email, {
        key,
        routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0 },
      }) as never;
      expect((await lm.PUT("/api/v1/decision-types/{key}", { params: { path: { key } }, body: def })).response.status).toBe(201);
      expect((await lm.PUT("/api/v1/decision-types/{key}", { params: { path: { key } }, body: def })).response.status).toBe(200);
      const wrongKey = { ...(def as object), key: "other" } as never;
      expect((await lm.PUT("/api/v1/decision-types/{key}", { params: { path: { key } }, body: wrongKey })).response.status).toBe(400);
      expect((await lm.GET("/api/v1/decision-types")).data?.decisionTypes.some((t) => t.key === key)).toBe(true);
      expect((await lm.GET("/api/v1/decision-types/{key}", { params: { path: { key } } })).data?.key).toBe(key);
      expect((await lm.GET("/api/v1/decision-types/{key}", { params: { path: { key: "no-such-type" } } })).response.status).toBe(404);
      expect((await anonymous.GET("/api/v1/decision-types")).response.status).toBe(401);

      // Queue members: closed to one member, then open again (an empty set)
      const typePath = { params: { path: { key } } };
      expect((await lm.GET("/api/v1/decision-types/{key}/members", typePath)).data).toEqual({ members: [] });
      const closed = await lm.PUT("/api/v1/decision-types/{key}/members", { ...typePath, body: { members: [admin.email] } });
      expect(closed.data?.members.map((m) => m.email)).toEqual([admin.email]);
      const unknown = await lm.PUT("/api/v1/decision-types/{key}/members", { ...typePath, body: { members: ["nobody@example.com"] } });
      expect(unknown.response.status).toBe(400);
      expect((await lm.GET("/api/v1/decision-types/{key}/members", { params: { path: { key: "no-such-type" } } })).response.status).toBe(404);
      expect((await lm.PUT("/api/v1/decision-types/{key}/members", { ...typePath, body: { members: [] } })).data).toEqual({ members: [] });

      // Webhooks: a subscription made before the decisions arrive, so that they give it deliveries (to a closed port: they stay pending).
      const hook = await lm.POST("/api/v1/webhooks", { body: { url: "http://127.0.0.1:9/oa-hook", events: ["decision.finalized"], types: [type] } });
      expect(hook.response.status).toBe(201);
      expect(hook.data?.secret).toMatch(/^whsec_/);
      const hookId = hook.data!.id;
      expect((await lm.POST("/api/v1/webhooks", { body: { url: "ftp://example.com/", events: ["decision.finalized"] } })).response.status).toBe(400);

      // Decisions
      const one = await lm.POST("/api/v1/decisions", { body: reviewDecision(type, "oa-1") as never });
      expect(one.response.status).toBe(201);
      const batch = { decisions: [autoDecision(type, "oa-2"), reviewDecision(type, "oa-3")] } as never;
      expect((await lm.POST("/api/v1/decisions", { body: batch })).response.status).toBe(201);
      expect((await lm.POST("/api/v1/decisions", { body: batch })).response.status).toBe(200);
      expect((await lm.POST("/api/v1/decisions", { body: { type } as never })).response.status).toBe(400);
      const conflicting = reviewDecision(type, "oa-1", { confidence: 0.3 }) as never;
      expect((await lm.POST("/api/v1/decisions", { body: conflicting })).response.status).toBe(409);
      const page = await lm.GET("/api/v1/decisions", { params: { query: { type, limit: 2 } } });
      expect(page.data?.decisions).toHaveLength(2);
      expect(page.data?.nextCursor).not.toBeNull();
      expect((await lm.GET("/api/v1/decisions", { params: { query: { limit: 0 } } })).response.status).toBe(400);
      const decisionId = (one.data as { id: string }).id;
      expect((await lm.GET("/api/v1/decisions/{id}", { params: { path: { id: decisionId } } })).data?.id).toBe(decisionId);
      expect((await lm.GET("/api/v1/decisions/{id}", { params: { path: { id: "dec_nope" } } })).response.status).toBe(404);

      // Tasks
      const claimed = await lm.POST("/api/v1/tasks/claim", { body: { type, leaseSeconds: 120 } });
      expect(claimed.response.status).toBe(200);
      const taskId = claimed.data!.task.id;
      const task = { params: { path: { id: taskId } } };
      expect((await lm.POST("/api/v1/tasks/{id}/renew", task)).data?.task.status).toBe("claimed");
      expect((await lm.POST("/api/v1/tasks/{id}/release", task)).data?.task.status).toBe("open");
      expect((await lm.POST("/api/v1/tasks/{id}/release", task)).response.status).toBe(409);
      expect((await lm.POST("/api/v1/tasks/{id}/renew", { params: { path: { id: "tsk_nope" } } })).response.status).toBe(404);
      // Assignment (the admin reviews too): one task, then in bulk.
      expect((await lm.POST("/api/v1/tasks/{id}/assign", { ...task, body: { assignee: admin.email } })).data?.task.assignee).toBe(admin.email);
      expect((await lm.POST("/api/v1/tasks/{id}/assign", { ...task, body: { assignee: "nobody@example.com" } })).response.status).toBe(400);
      expect((await lm.POST("/api/v1/tasks/bulk", { body: { action: "unassign", taskIds: [taskId] } })).data?.taskIds).toEqual([taskId]);
      expect((await lm.POST("/api/v1/tasks/bulk", { body: { action: "release", taskIds: [taskId] } })).response.status).toBe(409);
      expect((await lm.POST("/api/v1/tasks/claim", { body: { leaseSeconds: 0 } })).response.status).toBe(400);
      const again = await lm.POST("/api/v1/tasks/claim", { body: { type } });
      const reviewed = await lm.POST("/api/v1/tasks/{id}/review", { params: { path: { id: again.data!.task.id } }, body: { action: "approve" } });
      expect(reviewed.response.status).toBe(200);
      expect((await lm.POST("/api/v1/tasks/{id}/review", { params: { path: { id: taskId } }, body: { action: "nope" as never } })).response.status).toBe(400);
      const second = await lm.POST("/api/v1/tasks/claim", { body: { type } });
      const correctedAnswer = await lm.POST("/api/v1/tasks/{id}/review", {
        params: { path: { id: second.data!.task.id } },
        body: { action: "correct", output: { total: 1, currency: "USD" }, reasonCodes: ["WRONG_TOTAL"] },
      });
      expect(correctedAnswer.response.status).toBe(200);
      expect((await lm.POST("/api/v1/tasks/claim", { body: { type } })).response.status).toBe(204);

      // Evidence
      const reviewedId = reviewed.data!.decision.id;
      expect(
        ((await lm.GET("/api/v1/decisions/{id}/evidence", { params: { path: { id: reviewedId } } })).data as { decision: { id: string } }).decision.id,
      ).toBe(reviewedId);
      const html = await lm.GET("/api/v1/decisions/{id}/evidence", { params: { path: { id: reviewedId }, query: { format: "html" } }, parseAs: "text" });
      expect(html.response.status).toBe(200);
      expect((await lm.GET("/api/v1/decisions/{id}/evidence", { params: { path: { id: "dec_nope" } } })).response.status).toBe(404);

      // Reports
      expect((await lm.GET("/api/v1/reports/automation", { params: { query: { type, bucket: "hour" } } })).data?.totals.volume).toBe(3);
      expect((await lm.GET("/api/v1/reports/automation", { params: { query: { type: "no-such-type" } } })).response.status).toBe(400);
      expect((await lm.GET("/api/v1/reports/quality", { params: { query: { type } } })).response.status).toBe(200);
      expect((await lm.GET("/api/v1/reports/quality", { params: { query: { type, bucket: "year" as never } } })).response.status).toBe(400);
      const reviewers = await lm.GET("/api/v1/reports/reviewers", { params: { query: { type } } });
      expect(reviewers.data?.timeZone).toBe("UTC");
      expect((await lm.GET("/api/v1/reports/reviewers", { params: { query: { from: "yesterday" } } })).response.status).toBe(400);
      const impact = await lm.POST("/api/v1/decision-types/{key}/policy-impact", {
        params: { path: { key: type } },
        body: { routing: { minConfidence: 0.5 } },
      });
      expect(impact.data?.replayed).toBeGreaterThan(0);
      expect(
        (await lm.POST("/api/v1/decision-types/{key}/policy-impact", { params: { path: { key: type } }, body: { routing: { minConfidence: 5 } } })).response
          .status,
      ).toBe(400);
      // Policy approval: a type under it, proposals by this admin, decided by another one.
      const governed = await freshType(s.db, admin.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 }, policyApproval: true });
      const other = await person(s.db, "admin", ["admin"]);
      const lm2 = createLastmileClient({ baseUrl: s.url, apiKey: other.key });
      lm2.use(record);
      const at = { params: { path: { key: governed } } };
      const proposal = (targetAccuracy: number, reason: string) =>
        lm.POST("/api/v1/decision-types/{key}/policy-proposals", { ...at, body: { targetAccuracy, reason } });
      expect((await lm.POST("/api/v1/decision-types/{key}/policy-proposals", { ...at, body: { reason: "" } })).response.status).toBe(400);
      for (const [i, action] of (["approve", "reject", "withdraw"] as const).entries()) {
        const created = await proposal(0.9 + i / 100, `try ${action}`);
        expect(created.response.status, JSON.stringify(created.error)).toBe(201);
        const path = { params: { path: { key: governed, id: created.data!.id } } };
        const by = action === "withdraw" ? lm : lm2;
        expect((await by.POST(`/api/v1/decision-types/{key}/policy-proposals/{id}/${action}`, path)).response.status).toBe(200);
        expect((await by.POST(`/api/v1/decision-types/{key}/policy-proposals/{id}/${action}`, path)).response.status).toBe(409);
        if (action === "approve") {
          // Now the target is 0.9: a direct PUT that changes it is refused until a proposal is approved.
          const t = (await lm.GET("/api/v1/decision-types/{key}", at)).data!;
          const { policyVersion: _v, createdAt: _c, updatedAt: _u, ...def } = t;
          expect((await lm.PUT("/api/v1/decision-types/{key}", { ...at, body: { ...def, targetAccuracy: 0.95 } })).response.status).toBe(409);
        }
      }
      expect((await lm.GET("/api/v1/decision-types/{key}/policy-proposals", at)).data?.proposals.length).toBe(3);
      expect((await lm.GET("/api/v1/decision-types/{key}/policy-proposals", { params: { path: { key: "no-such-type" } } })).response.status).toBe(404);
      const thresholds = await lm.GET("/api/v1/reports/thresholds", { params: { query: { type, targetAccuracy: 0.98 } } });
      expect(thresholds.data?.curve.length).toBeGreaterThanOrEqual(101);
      expect((await lm.GET("/api/v1/reports/thresholds", { params: { query: { type, targetAccuracy: 1.5 } } })).response.status).toBe(400);

      // Alerts: one as the monitors raise it (tests/integration/monitors.test.ts raises them from traffic).
      const now = Date.now();
      await s.db.insert(alerts).values({
        id: "alr_openapi",
        typeKey: type,
        monitor: "override_rate",
        segment: "",
        state: "firing",
        firedAt: now,
        figures: { recentRate: 0.4, baselineRate: 0.1 },
        createdAt: now,
        updatedAt: now,
      });
      expect((await lm.GET("/api/v1/alerts", { params: { query: { type, state: "firing" } } })).data?.alerts.map((a) => a.id)).toEqual(["alr_openapi"]);
      expect((await lm.GET("/api/v1/alerts", { params: { query: { state: "loud" as never } } })).response.status).toBe(400);
      const ackPath = { params: { path: { id: "alr_openapi" } } };
      expect((await lm.POST("/api/v1/alerts/{id}/acknowledge", ackPath)).data?.state).toBe("acknowledged");
      expect((await lm.POST("/api/v1/alerts/{id}/acknowledge", ackPath)).response.status).toBe(409);

      // Datasets
      expect((await lm.GET("/api/v1/datasets/preview", { params: { query: { type, action: ["approved", "corrected"] } } })).data).toMatchObject({
        count: 2,
        exact: true,
      });
      expect((await lm.GET("/api/v1/datasets/preview", { params: { query: { type: "Not A Key" } } })).response.status).toBe(400);
      const name = `OpenAPI ${type}`;
      const created = await lm.POST("/api/v1/datasets", { body: { name, filter: { type } } });
      expect(created.response.status).toBe(201);
      expect((await lm.POST("/api/v1/datasets", { body: { name, filter: { type } } })).response.status).toBe(409);
      const id = created.data!.id;
      expect((await lm.GET("/api/v1/datasets")).data?.datasets.some((d) => d.id === id)).toBe(true);
      expect((await lm.GET("/api/v1/datasets/{id}", { params: { path: { id } } })).data?.id).toBe(id);
      expect((await lm.GET("/api/v1/datasets/{id}", { params: { path: { id: "dst_nope" } } })).response.status).toBe(404);
      const snap = await lm.POST("/api/v1/datasets/{id}/snapshots", { params: { path: { id } } });
      expect(snap.response.status).toBe(202);
      expect(snap.response.headers.get("Location")).toBe(`/api/v1/datasets/${id}/snapshots/1`);
      const badSplit = { split: { train: 1, validation: 1, test: 1 } };
      expect((await lm.POST("/api/v1/datasets/{id}/snapshots", { params: { path: { id } }, body: badSplit })).response.status).toBe(400);
      const n = { params: { path: { id, n: "1" } } };
      for (let i = 0; i < 200 && (await lm.GET("/api/v1/datasets/{id}/snapshots/{n}", n)).data?.status === "building"; i++) await sleep(50);
      expect((await lm.GET("/api/v1/datasets/{id}/snapshots", { params: { path: { id } } })).data?.snapshots[0].status).toBe("ready");
      expect((await lm.GET("/api/v1/datasets/{id}/snapshots", { params: { path: { id: "dst_nope" } } })).response.status).toBe(404);
      expect((await lm.GET("/api/v1/datasets/{id}/snapshots/{n}", { params: { path: { id, n: "9" } } })).response.status).toBe(404);
      expect(((await lm.GET("/api/v1/datasets/{id}/snapshots/{n}/card", n)).data as { rows: number }).rows).toBe(2);
      const md = await lm.GET("/api/v1/datasets/{id}/snapshots/{n}/card", { params: { ...n.params, query: { format: "md" } }, parseAs: "text" });
      expect(md.response.status).toBe(200);
      expect((await lm.GET("/api/v1/datasets/{id}/snapshots/{n}/card", { params: { ...n.params, query: { format: "pdf" as never } } })).response.status).toBe(
        400,
      );
      const file = await lm.GET("/api/v1/datasets/{id}/snapshots/{n}/download", { params: { ...n.params, query: { format: "jsonl" } }, parseAs: "text" });
      expect(file.response.status).toBe(200);
      expect(String(file.data).trim().split("\n")).toHaveLength(2);
      expect((await lm.GET("/api/v1/datasets/{id}/snapshots/{n}/download", { params: { ...n.params, query: {} as never } })).response.status).toBe(400);

      // Audit
      expect((await lm.GET("/api/v1/audit", { params: { query: { entityId: decisionId } } })).data?.entries.length).toBeGreaterThan(0);
      expect((await lm.GET("/api/v1/audit", { params: { query: { limit: 501 } } })).response.status).toBe(400);
      expect(((await anonymous.GET("/api/v1/audit/public-key")).data as { algorithm: string }).algorithm).toBe("Ed25519");
      const pem = await anonymous.GET("/api/v1/audit/public-key", { params: { query: { format: "pem" } }, parseAs: "text" });
      expect(String(pem.data)).toContain("BEGIN PUBLIC KEY");
      expect((await anonymous.GET("/api/v1/audit/public-key", { params: { query: { format: "der" as never } } })).response.status).toBe(400);

      // Webhooks
      const hookPath = { params: { path: { id: hookId } } };
      const noHook = { params: { path: { id: "whk_nope" } } };
      expect((await lm.GET("/api/v1/webhooks")).data?.webhooks.some((w) => w.id === hookId)).toBe(true);
      expect((await lm.GET("/api/v1/webhooks/{id}", hookPath)).data).toMatchObject({ id: hookId, enabled: true, types: [type] });
      expect((await lm.GET("/api/v1/webhooks/{id}", noHook)).response.status).toBe(404);
      expect((await lm.PATCH("/api/v1/webhooks/{id}", { ...hookPath, body: { description: "OpenAPI", types: null } })).data).toMatchObject({
        description: "OpenAPI",
        types: null,
      });
      expect((await lm.PATCH("/api/v1/webhooks/{id}", { ...hookPath, body: {} })).response.status).toBe(400);
      expect((await lm.PATCH("/api/v1/webhooks/{id}", { ...noHook, body: { enabled: false } })).response.status).toBe(404);
      const rotated = await lm.POST("/api/v1/webhooks/{id}/rotate-secret", hookPath);
      expect(rotated.data?.secret).not.toBe(hook.data?.secret);
      expect(rotated.data?.previousSecretExpiresAt).not.toBeNull();
      expect((await lm.POST("/api/v1/webhooks/{id}/rotate-secret", noHook)).response.status).toBe(404);
      const sent = await lm.GET("/api/v1/webhooks/{id}/deliveries", { params: { path: { id: hookId }, query: { limit: 1 } } });
      expect(sent.data?.deliveries).toHaveLength(1);
      expect(sent.data?.deliveries[0]).toMatchObject({ eventType: "decision.finalized" });
      expect(sent.data?.nextCursor).not.toBeNull();
      const lost = { params: { path: { id: hookId }, query: { status: "lost" as never } } };
      expect((await lm.GET("/api/v1/webhooks/{id}/deliveries", lost)).response.status).toBe(400);
      expect((await lm.GET("/api/v1/webhooks/{id}/deliveries", noHook)).response.status).toBe(404);
      const deliveryId = sent.data!.deliveries[0].id;
      const retried = await lm.POST("/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry", { params: { path: { id: hookId, deliveryId } } });
      expect(retried.data).toMatchObject({ id: deliveryId, status: "pending", attempts: 0 });
      const noDelivery = { params: { path: { id: hookId, deliveryId: "999999999" } } };
      expect((await lm.POST("/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry", noDelivery)).response.status).toBe(404);
      expect((await lm.DELETE("/api/v1/webhooks/{id}", hookPath)).data).toEqual({ id: hookId, deleted: true });
      expect((await lm.DELETE("/api/v1/webhooks/{id}", hookPath)).response.status).toBe(404);

      // Without a key, every operation that needs one answers 401.
      const anyPath = { id: decisionId, key, n: "1", deliveryId: "1" };
      for (const op of operations.filter((o) => o.permission)) {
        const pathParams = Object.fromEntries([...op.path.matchAll(/\{(\w+)\}/g)].map(([, p]) => [p, anyPath[p as keyof typeof anyPath]]));
        const res = await anonymous.request(op.method as never, op.path as never, { params: { path: pathParams } } as never);
        expect(res.response.status, `${op.method} ${op.path} without a key`).toBe(401);
      }

      // Every operation answered at least one success and one error.
      for (const op of operations) {
        const mine = recorded.filter((r) => r.method === op.method && r.schemaPath === op.path);
        expect(
          mine.some((r) => r.status < 300),
          `a success of ${op.method} ${op.path}`,
        ).toBe(true);
        expect(
          mine.some((r) => r.status >= 400),
          `an error of ${op.method} ${op.path}`,
        ).toBe(true);
      }

      // ...and each answer is what the document says: a listed status, a listed media type, a body its schema accepts.
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      ajv.addFormat("date-time", (v: string) => !Number.isNaN(Date.parse(v)));
      ajv.addFormat("email", /^[^@\s]+@[^@\s]+$/);
      ajv.addSchema({ $id: "doc", components: served.components });
      let validated = 0;
      for (const r of recorded) {
        const where = `${r.method} ${r.schemaPath} → ${r.status}`;
        const op = (served.paths as Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>>)[r.schemaPath][
          r.method.toLowerCase()
        ];
        let answer = op.responses[String(r.status)];
        expect(answer, `${where} is documented`).toBeDefined();
        if (typeof answer.$ref === "string") answer = (served.components.responses as Record<string, Record<string, unknown>>)[answer.$ref.split("/").pop()!];
        const content = answer.content as Record<string, { schema: object }> | undefined;
        if (!content) {
          expect(r.body, where).toBe("");
          continue;
        }
        const mediaType = r.contentType.split(";")[0].trim();
        expect(Object.keys(content), where).toContain(mediaType);
        if (mediaType !== "application/json") continue;
        const schema = JSON.parse(JSON.stringify(content[mediaType].schema).replaceAll('"#/components/', '"doc#/components/'));
        const validate = ajv.compile(schema);
        const body = JSON.parse(r.body);
        expect(validate(body) ? [] : validate.errors, `${where}: ${r.body.slice(0, 300)}`).toEqual([]);
        // The same body through the zod schema the document was generated from.
        const contract = operations.find((o) => o.path === r.schemaPath && o.method === r.method)!;
        const zodSchema = r.status < 400 ? contract.responses[r.status].json : undefined;
        if (zodSchema) expect(zodSchema.safeParse(body).error?.issues ?? [], where).toEqual([]);
        validated++;
      }
      expect(validated).toBeGreaterThan(60);
    }, 120_000);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
