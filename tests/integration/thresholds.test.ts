/**
 * GET /api/v1/reports/thresholds over HTTP (issue 14): decisions go in over the API, reviewers give verdicts in
 * both lanes (review outcomes, QA verdicts), some stay pending, some carry a flag that sends them to review at
 * any threshold; the curve, the current point and the recommendation must equal what this test works out from
 * scratch from what it sent and decided (its own Wilson formula, not the product's).
 */
import { decode } from "turbo-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claim, ingest, review, thresholdReport } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { signIn } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

const Z = 1.959963984540054;
function wilsonBounds(wrong: number, n: number) {
  const p = wrong / n;
  const denom = 1 + (Z * Z) / n;
  const center = (p + (Z * Z) / (2 * n)) / denom;
  const half = (Z / denom) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

type Sent = { externalId: string; confidence: number; flagged: boolean; wrong: boolean; leftPending: boolean };

describe("the threshold what-if over HTTP", () => {
  let s: TestServer;
  let readKey: string;
  let managerCookie: string;
  const sent: Sent[] = [];

  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    managerCookie = await signIn(s.url, owner.email, owner.password);
    const reviewer = await makeUser(s.db, "reviewer");
    // Below 0.8 to review; above it every auto decision is QA-sampled (rate 1: each verdict weighs 1).
    await makeType(s.db, invoiceType(owner.email, { routing: { minConfidence: 0.8, reviewFlags: ["policy:*"], qaSampleRate: 1 } }));
    readKey = await makeKey(s.db, ["read"]);
    const ingestKey = await makeKey(s.db, ["ingest"]);
    const workKey = await makeKey(s.db, ["review"], reviewer.email);
    const batch = [];
    for (let i = 0; i < 40; i++) {
      const one: Sent = { externalId: `t-${i}`, confidence: 0.5 + i * 0.0125, flagged: i % 10 === 3, wrong: i % 4 === 0, leftPending: i === 5 || i === 17 };
      sent.push(one);
      batch.push(
        invoiceDecision(one.externalId, { confidence: one.confidence, flags: one.flagged ? ["policy:manual"] : [], occurredAt: "2026-11-20T10:00:00Z" }),
      );
    }
    expect((await ingest(s, ingestKey, { decisions: batch })).status).toBe(201);
    // Work the queue: every task gets its planned verdict; the two left pending are claimed and held, never reviewed.
    for (;;) {
      const c = await claim(s, workKey, { type: "invoice" });
      if (c.status === 204) break;
      expect(c.status).toBe(200);
      const one = sent.find((x) => x.externalId === c.body.decision.externalId)!;
      if (one.leftPending) continue;
      const verdict = one.wrong ? { action: "correct", output: { total: 1, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] } : { action: "approve" };
      expect((await review(s, workKey, c.body.task.id, verdict)).status).toBe(200);
    }
  });
  afterAll(async () => s?.close());

  const period = { from: "2026-11-20T00:00:00Z", to: "2026-11-21T00:00:00Z" };

  it("the curve, the current threshold and the recommendation equal a from-scratch computation", async () => {
    const res = await thresholdReport(s, readKey, { type: "invoice", targetAccuracy: 0.5, ...period });
    expect(res.status).toBe(200);
    const labelled = sent.filter((d) => !d.leftPending);
    expect(res.body.labelled).toBe(labelled.length);
    const expectAt = (t: number) => {
      const lane = sent.filter((d) => !d.flagged && d.confidence >= t);
      const verdicts = lane.filter((d) => !d.leftPending);
      const wrong = verdicts.filter((d) => d.wrong).length;
      const n = verdicts.length;
      const b = n ? wilsonBounds(wrong, n) : { low: null, high: null };
      return { threshold: t, automationRate: lane.length / sent.length, errorRate: n ? wrong / n : null, errorLow: b.low, errorHigh: b.high, n };
    };
    for (const t of [0, 0.5, 0.7, 0.8, 0.9, 0.95, 1]) {
      const got = res.body.curve.find((p) => p.threshold === t)!;
      const want = expectAt(t);
      expect(got.n, `n at ${t}`).toBe(want.n);
      expect(got.automationRate, `automation at ${t}`).toBeCloseTo(want.automationRate, 10);
      if (want.errorRate === null) expect(got.errorRate).toBeNull();
      else {
        expect(got.errorRate!, `error at ${t}`).toBeCloseTo(want.errorRate, 10);
        expect(got.errorLow!).toBeCloseTo(want.errorLow!, 10);
        expect(got.errorHigh!).toBeCloseTo(want.errorHigh!, 10);
      }
    }
    const cur = expectAt(0.8);
    expect(res.body.current).toMatchObject({ threshold: 0.8, automationRate: cur.automationRate });
    expect(res.body.current.errorRate!).toBeCloseTo(cur.errorRate!, 10);
    // The lowest candidate with at least 30 verdicts whose upper bound is within 50% error.
    const grid = Array.from({ length: 101 }, (_, i) => i / 100);
    const best = grid.map(expectAt).find((p) => p.n >= 30 && p.errorHigh !== null && p.errorHigh <= 0.5);
    expect(best).toBeDefined();
    expect(res.body.recommended).toMatchObject({ threshold: best!.threshold });
    expect(res.body.recommended!.automationRate).toBeCloseTo(best!.automationRate, 10);
    expect(res.body.reason).toContain(`set the threshold to ${best!.threshold}`);
  });

  it("answers the QA rate that narrows the interval to the width asked: the fewest verdicts over the released lane that make it that narrow", async () => {
    const res = await thresholdReport(s, readKey, { type: "invoice", targetAccuracy: 0.5, intervalWidth: 0.3, ...period });
    expect(res.status).toBe(200);
    const at = res.body.recommended!.threshold;
    const lane = sent.filter((d) => !d.flagged && d.confidence >= at);
    const verdicts = lane.filter((d) => !d.leftPending);
    const p = verdicts.filter((d) => d.wrong).length / verdicts.length;
    const width = (n: number) => {
      const b = wilsonBounds(p * n, n);
      return b.high - b.low;
    };
    let n = 1;
    while (width(n) > 0.3) n++;
    expect(res.body.qaSampling).toMatchObject({ width: 0.3, threshold: at, currentRate: 1 });
    expect(res.body.qaSampling.rate).toBeCloseTo(Math.min(1, n / lane.length), 10);
    const bad = await s.request<{ error: { issues: { path: string }[] } }>(
      `/api/v1/reports/thresholds?${new URLSearchParams({ type: "invoice", targetAccuracy: "0.5", intervalWidth: "wide", ...period })}`,
      { key: readKey },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(["intervalWidth"]);
  });

  it("a target the verdicts cannot support: no recommendation, the reason, and the QA reviews it would take", async () => {
    const res = await thresholdReport(s, readKey, { type: "invoice", targetAccuracy: 0.999, ...period });
    expect(res.status).toBe(200);
    expect(res.body.recommended).toBeNull();
    expect(res.body.reason).toMatch(/No threshold can be recommended/);
  });

  it("the page shows the same analysis, and a bad target inline", async () => {
    const pageData = async (query: Record<string, string>) => {
      const res = await fetch(`${s.url}/reports/thresholds.data?${new URLSearchParams(query)}`, { headers: { Cookie: managerCookie } });
      expect(res.status).toBe(200);
      const decoded = await decode(res.body!);
      await decoded.done;
      return (decoded.value as Record<string, { data: { report: unknown; error: { issues: { path: string }[] } | null } }>)["routes/reports_.thresholds"].data;
    };
    const api = await thresholdReport(s, readKey, { type: "invoice", targetAccuracy: 0.5, ...period });
    expect((await pageData({ type: "invoice", targetAccuracy: "0.5", ...period })).report).toEqual(api.body);
    const bad = await pageData({ type: "invoice", targetAccuracy: "lots", ...period });
    expect(bad.report).toBeNull();
    expect(bad.error!.issues.map((i) => i.path)).toEqual(["targetAccuracy"]);
  });

  it("the type's targetAccuracy is the default target; the type JSON carries it and refuses one outside (0, 1)", async () => {
    const admin = await makeUser(s.db, "admin");
    const adminKey = await makeKey(s.db, ["admin"], admin.email);
    const def = { ...invoiceType(admin.email), key: "invoice-target", targetAccuracy: 0.6 };
    const put = await s.request<{ targetAccuracy: number | null }>("/api/v1/decision-types/invoice-target", { method: "PUT", key: adminKey, body: def });
    expect(put.status).toBe(201);
    expect(put.body.targetAccuracy).toBe(0.6);
    const res = await thresholdReport(s, readKey, { type: "invoice-target" });
    expect(res.status).toBe(200);
    expect(res.body.reason).toMatch(/60%/);
    const bad = await s.request<{ error: { issues: { path: string }[] } }>("/api/v1/decision-types/invoice-target", {
      method: "PUT",
      key: adminKey,
      body: { ...def, targetAccuracy: 1.5 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toContain("targetAccuracy");
    expect((await s.request<{ targetAccuracy: number | null }>("/api/v1/decision-types/invoice-target", { key: adminKey })).body.targetAccuracy).toBe(0.6);
  });

  it("bad input is a 400 naming the field", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ type: "invoice" }, "targetAccuracy"],
      [{ type: "invoice", targetAccuracy: "2" }, "targetAccuracy"],
      [{ type: "invoice", targetAccuracy: "high" }, "targetAccuracy"],
      [{ type: "nope", targetAccuracy: "0.9" }, "type"],
      [{ type: "invoice", targetAccuracy: "0.9", from: "2026-11-21T00:00:00Z", to: "2026-11-20T00:00:00Z" }, "from"],
      [{ type: "invoice", targetAccuracy: "0.9", color: "red" }, "color"],
    ];
    for (const [query, field] of cases) {
      const res = await s.request<{ error: { issues: { path: string }[] } }>(`/api/v1/reports/thresholds?${new URLSearchParams(query)}`, { key: readKey });
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body.error.issues.map((i) => i.path)).toContain(field);
    }
  });
});
