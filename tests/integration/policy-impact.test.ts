/**
 * POST /api/v1/decision-types/:key/policy-impact over HTTP (issue 14): decisions of the last days go in over the
 * API and are reviewed (review outcomes and QA verdicts, with the handling time each review records); a proposed
 * threshold is replayed, and every figure must equal what this test works out from what it sent and decided,
 * and the review rows' handling times. Replaying changes nothing.
 */
import { inArray } from "drizzle-orm";
import { decode } from "turbo-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviews as reviewsTable } from "@db/schema/index";
import { claim, ingest, review } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { auditEntries } from "../support/reads";
import { signIn } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

type Sent = { externalId: string; confidence: number; flagged: boolean; wrong: boolean };
type Impact = {
  replayed: number;
  before: { automationRate: number | null; reviewsPerDay: number; qaReviewsPerDay: number; reviewerHoursPerDay: number | null };
  after: { automationRate: number | null; reviewsPerDay: number; qaReviewsPerDay: number; reviewerHoursPerDay: number | null };
  meanHandlingMs: number | null;
  routeChanges: { toAuto: number; toReview: number; sampleToAuto: string[]; sampleToReview: string[] };
  releasedErrorsPerDay: { extra: { estimate: number | null; verdicts: number }; avoided: { estimate: number | null; verdicts: number } };
  error?: { issues: { path: string }[] };
};

describe("policy impact replay over HTTP", () => {
  let s: TestServer;
  let readKey: string;
  let adminCookie: string;
  const sent: Sent[] = [];
  const ids = new Map<string, string>();

  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    const admin = await makeUser(s.db, "admin");
    adminCookie = await signIn(s.url, admin.email, admin.password);
    const reviewer = await makeUser(s.db, "reviewer");
    await makeType(s.db, invoiceType(owner.email, { routing: { minConfidence: 0.8, reviewFlags: ["policy:*"], qaSampleRate: 1 } }));
    readKey = await makeKey(s.db, ["read"]);
    const ingestKey = await makeKey(s.db, ["ingest"]);
    const workKey = await makeKey(s.db, ["review"], reviewer.email);
    const at = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const batch = [];
    for (let i = 0; i < 40; i++) {
      const one: Sent = { externalId: `imp-${i}`, confidence: 0.5 + i * 0.0125, flagged: i % 10 === 3, wrong: i % 3 === 0 };
      sent.push(one);
      batch.push(invoiceDecision(one.externalId, { confidence: one.confidence, flags: one.flagged ? ["policy:manual"] : [], occurredAt: at }));
    }
    const res = await ingest(s, ingestKey, { decisions: batch });
    expect(res.status).toBe(201);
    for (const [i, d] of (res.body.decisions as { id: string }[]).entries()) ids.set(sent[i].externalId, d.id);
    for (;;) {
      const c = await claim(s, workKey, { type: "invoice" });
      if (c.status === 204) break;
      const one = sent.find((x) => x.externalId === c.body.decision.externalId)!;
      const verdict = one.wrong ? { action: "correct", output: { total: 1, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] } : { action: "approve" };
      expect((await review(s, workKey, c.body.task.id, verdict)).status).toBe(200);
    }
  });
  afterAll(async () => s?.close());

  const replay = (body: unknown, key: string | undefined = readKey) =>
    s.request<Impact>("/api/v1/decision-types/invoice/policy-impact", { method: "POST", key, body });

  it("a lower threshold: automation, load, reviewer hours and released errors before and after, as worked out from scratch", async () => {
    const auditBefore = (await auditEntries(s.db, {})).length;
    const res = await replay({ routing: { minConfidence: 0.7, reviewFlags: ["policy:*"], qaSampleRate: 1 } });
    expect(res.status).toBe(200);
    const days = 30;
    const autoAt = (t: number) => sent.filter((d) => !d.flagged && d.confidence >= t);
    const rows = await s.db
      .select()
      .from(reviewsTable)
      .where(inArray(reviewsTable.decisionId, [...ids.values()]));
    const timed = rows.filter((r) => r.handlingMs !== null);
    const mean = timed.reduce((a, r) => a + Number(r.handlingMs), 0) / timed.length;
    expect(res.body.replayed).toBe(40);
    expect(res.body.meanHandlingMs).toBeCloseTo(mean, 6);
    for (const [side, t] of [
      ["before", 0.8],
      ["after", 0.7],
    ] as const) {
      const auto = autoAt(t).length;
      const figures = res.body[side];
      expect(figures.automationRate, side).toBeCloseTo(auto / 40, 10);
      expect(figures.reviewsPerDay, side).toBeCloseTo((40 - auto) / days, 10);
      expect(figures.qaReviewsPerDay, side).toBeCloseTo(auto / days, 10); // QA rate 1: every automatic decision
      expect(figures.reviewerHoursPerDay!, side).toBeCloseTo(((40 - auto + auto) / days) * (mean / 3_600_000), 10);
    }
    const moving = sent.filter((d) => !d.flagged && d.confidence >= 0.7 && d.confidence < 0.8);
    expect(res.body.routeChanges.toAuto).toBe(moving.length);
    expect(res.body.routeChanges.toReview).toBe(0);
    expect(new Set(res.body.routeChanges.sampleToAuto)).toEqual(new Set(moving.map((d) => ids.get(d.externalId))));
    // Each moving decision was reviewed (weight 1): extra errors a day = moving a day × their error rate.
    const wrong = moving.filter((d) => d.wrong).length;
    expect(res.body.releasedErrorsPerDay.extra.verdicts).toBe(moving.length);
    expect(res.body.releasedErrorsPerDay.extra.estimate!).toBeCloseTo((moving.length / days) * (wrong / moving.length), 10);
    expect(res.body.releasedErrorsPerDay.avoided.estimate).toBeNull();
    // Nothing written: no audit entry, the type's policy is what it was.
    expect((await auditEntries(s.db, {})).length).toBe(auditBefore);
    const type = await s.request<{ policyVersion: number; routing: { minConfidence: number } }>("/api/v1/decision-types/invoice", { key: readKey });
    expect(type.body).toMatchObject({ policyVersion: 1, routing: { minConfidence: 0.8 } });
  });

  it("a stricter QA rate and a flag rule: decisions move to review, and the errors no longer released", async () => {
    const res = await replay({ routing: { minConfidence: 0.8, reviewFlags: ["policy:*"], qaSampleRate: 1, fieldMinConfidence: {} }, days: 7 });
    expect(res.status).toBe(200);
    expect(res.body.routeChanges).toMatchObject({ toAuto: 0, toReview: 0 });
    const stricter = await replay({ routing: { minConfidence: 0.9, reviewFlags: ["policy:*"], qaSampleRate: 1 } });
    const moving = sent.filter((d) => !d.flagged && d.confidence >= 0.8 && d.confidence < 0.9);
    expect(stricter.body.routeChanges.toReview).toBe(moving.length);
    const wrong = moving.filter((d) => d.wrong).length;
    // They were released and QA-sampled at rate 1: each verdict weighs 1.
    expect(stricter.body.releasedErrorsPerDay.avoided.estimate!).toBeCloseTo((moving.length / 30) * (wrong / moving.length), 10);
  });

  it("the type editor's Preview impact shows the same replay for the rules as typed, and saves nothing", async () => {
    const fields = (minConfidence: string) =>
      new URLSearchParams({
        intent: "preview",
        name: "Invoice extraction",
        owner: "x@example.com",
        slaMinutes: "60",
        outputSchema: JSON.stringify(invoiceType("x").outputSchema),
        "routing.minConfidence": minConfidence,
        "routing.qaSamplePercent": "100",
        "routing.reviewFlags": "policy:*",
      });
    const post = async (body: URLSearchParams) => {
      const res = await fetch(`${s.url}/admin/types/invoice.data`, { method: "POST", headers: { Cookie: adminCookie }, body });
      const decoded = await decode(res.body!);
      await decoded.done;
      // The action's answer, wherever single fetch nests it.
      const find = (v: unknown): Record<string, unknown> | undefined => {
        if (!v || typeof v !== "object") return undefined;
        if ("intent" in v) return v as Record<string, unknown>;
        for (const x of Object.values(v)) {
          const hit = find(x);
          if (hit) return hit;
        }
        return undefined;
      };
      return { status: res.status, answer: find(decoded.value)! };
    };
    const preview = await post(fields("0.7"));
    expect(preview.status).toBe(200);
    const api = await replay({ routing: { minConfidence: 0.7, reviewFlags: ["policy:*"], qaSampleRate: 1 } });
    const { period: _p1, ...fromPage } = preview.answer.impact as Record<string, unknown>;
    const { period: _p2, ...fromApi } = api.body as unknown as Record<string, unknown>;
    expect(fromPage).toEqual(fromApi);
    // Rules that do not parse are answered by field; nothing is saved either way.
    const bad = await post(fields("7"));
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.answer.issues as object)).toContain("routing.minConfidence");
    const type = await s.request<{ policyVersion: number; routing: { minConfidence: number } }>("/api/v1/decision-types/invoice", { key: readKey });
    expect(type.body).toMatchObject({ policyVersion: 1, routing: { minConfidence: 0.8 } });
  });

  it("bad input is a 400 naming the field and changes nothing; an unknown type is a 404", async () => {
    const cases: [unknown, string][] = [
      [{}, "routing"],
      [{ routing: { minConfidence: 2 } }, "routing.minConfidence"],
      [{ routing: {}, days: 365 }, "days"],
      [{ routing: {}, extra: 1 }, ""], // an unknown member: the body itself (the message names it)
    ];
    for (const [body, field] of cases) {
      const res = await replay(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error!.issues.map((i) => i.path)).toContain(field);
    }
    const missing = await s.request("/api/v1/decision-types/nope/policy-impact", { method: "POST", key: readKey, body: { routing: {} } });
    expect(missing.status).toBe(404);
  });
});
