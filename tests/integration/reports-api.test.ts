/**
 * The reports JSON API through the real HTTP server: decisions go in and are
 * reviewed through the public API, then the figures are checked against
 * values worked out by hand.
 */
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { automationReport, claim, ingest, qualityReport, review } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";

const DAY1 = "2026-01-05T10:00:00Z";
const DAY2 = "2026-01-06T09:00:00Z";
const RANGE = { from: "2026-01-05T00:00:00Z", to: "2026-01-07T00:00:00Z" };
/** RANGE as a query string, for the CSV route (a page route, not in the API contract). */
const RANGE_QS = new URLSearchParams(RANGE).toString();

describe("reports API", () => {
  let s: TestServer;
  let readKey: string;
  let ingestKey: string;
  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    const reviewer = await makeUser(s.db, "reviewer");
    await makeType(
      s.db,
      invoiceType(owner.email, { routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 1 } }),
    );
    readKey = await makeKey(s.db, ["read"]);
    ingestKey = await makeKey(s.db, ["ingest"]);
    const workKey = await makeKey(s.db, ["review"], reviewer.email);

    const auto = (id: string, at: string, version = "1.0.0") => invoiceDecision(id, { occurredAt: at, model: { name: "x", version } });
    const toReview = (id: string, at: string, version = "1.0.0") => invoiceDecision(id, { occurredAt: at, confidence: 0.5, model: { name: "x", version } });
    const batch = [
      auto("a1", DAY1),
      auto("a2", DAY1),
      auto("a3", DAY1),
      auto("a4", DAY1),
      toReview("r1", DAY1),
      toReview("r2", DAY1),
      toReview("r3", DAY1),
      auto("a5", DAY2, "2.0.0"),
      auto("a6", DAY2, "2.0.0"),
      toReview("r4", DAY2, "2.0.0"),
    ];
    const ingested = await ingest(s, ingestKey, { decisions: batch });
    expect(ingested.status).toBe(201);

    // QA: a1–a3 and a5 approved, a4 corrected, a6 left open. Review lane: r1 approved, r2 corrected, r3 rejected, r4 pending.
    const verdicts: Record<string, unknown> = {
      a1: { action: "approve" },
      a2: { action: "approve" },
      a3: { action: "approve" },
      a5: { action: "approve" },
      a4: { action: "correct", output: { total: 1, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] },
      r1: { action: "approve" },
      r2: { action: "correct", output: { total: 99, currency: "USD", lines: [] }, reasonCodes: ["WRONG_TOTAL"] },
      r3: { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] },
    };
    for (;;) {
      const claimed = await claim(s, workKey, {});
      if (claimed.status === 204) break;
      expect(claimed.status).toBe(200);
      const verdict = verdicts[claimed.body.decision.externalId];
      if (!verdict) continue; // a6 and r4 stay claimed: never decided
      const res = await review(s, workKey, claimed.body.task.id, verdict);
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => s?.close());

  it("automation per day and in total", async () => {
    const res = await automationReport(s, readKey, { type: "invoice", ...RANGE, bucket: "day" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      timeZone: "UTC",
      buckets: [
        {
          start: "2026-01-05T00:00:00.000Z",
          volume: 7,
          auto: 4,
          reviewed: 3,
          pending: 0,
          corrected: 1,
          rejected: 1,
          automationRate: 4 / 7,
          overrideRate: 2 / 3,
        },
        { start: "2026-01-06T00:00:00.000Z", volume: 3, auto: 2, reviewed: 0, pending: 1, corrected: 0, rejected: 0, automationRate: 1, overrideRate: null },
      ],
      totals: { volume: 10, auto: 6, reviewed: 3, pending: 1, corrected: 1, rejected: 1, automationRate: 6 / 9, overrideRate: 2 / 3 },
    });
  });

  it("hour buckets, week buckets and one model version", async () => {
    const hourly = await automationReport(s, readKey, { type: "invoice", ...RANGE, bucket: "hour" });
    expect(hourly.body.buckets).toHaveLength(48);
    expect(hourly.body.buckets[10]).toMatchObject({ start: "2026-01-05T10:00:00.000Z", volume: 7 });
    expect(hourly.body.buckets[33]).toMatchObject({ start: "2026-01-06T09:00:00.000Z", volume: 3 });
    expect(hourly.body.buckets[0]).toEqual({
      start: "2026-01-05T00:00:00.000Z",
      volume: 0,
      auto: 0,
      reviewed: 0,
      pending: 0,
      corrected: 0,
      rejected: 0,
      automationRate: null,
      overrideRate: null,
    });

    const weekly = await automationReport(s, readKey, { type: "invoice", ...RANGE, bucket: "week" });
    expect(weekly.body.buckets).toEqual([expect.objectContaining({ start: "2026-01-05T00:00:00.000Z", volume: 10 })]);

    const v2 = await automationReport(s, readKey, { type: "invoice", ...RANGE, modelVersion: "2.0.0" });
    expect(v2.body.totals).toEqual({ volume: 3, auto: 2, reviewed: 0, pending: 1, corrected: 0, rejected: 0, automationRate: 1, overrideRate: null });
  });

  it("quality: auto-lane accuracy with its Wilson interval, released accuracy, time to decision", async () => {
    const res = await qualityReport(s, readKey, { type: "invoice", ...RANGE });
    expect(res.status).toBe(200);
    const { autoLaneAccuracy: acc, estimatedReleasedAccuracy: rel, timeToDecision: ttd } = res.body;
    // 4 of 5 QA checks approved unchanged: Wilson 95% = [0.375535, 0.963776]
    expect(acc.n).toBe(5);
    expect(acc.estimate).toBe(0.8);
    expect(acc.low).toBeCloseTo(0.375535, 5);
    expect(acc.high).toBeCloseTo(0.963776, 5);
    // automation rate 6/9: 6/9 × 0.8 + 3/9 = 0.866667; interval [0.583690, 0.975851]
    expect(rel.estimate).toBeCloseTo(0.866667, 5);
    expect(rel.low).toBeCloseTo(0.58369, 5);
    expect(rel.high).toBeCloseTo(0.975851, 5);
    // 6 of 9 final decisions are auto (released at once): the median is 0 ms.
    expect(ttd.p50Ms).toBe(0);
    expect(ttd.p95Ms).toBeGreaterThanOrEqual(0);
    expect(Object.keys(res.body).sort()).toEqual(["autoLaneAccuracy", "estimatedReleasedAccuracy", "timeToDecision"]);
  });

  it("an empty period has null rates, never NaN", async () => {
    const res = await qualityReport(s, readKey, { type: "invoice", from: "2025-01-01", to: "2025-01-02" });
    expect(res.body).toEqual({
      autoLaneAccuracy: { estimate: null, low: null, high: null, n: 0 },
      estimatedReleasedAccuracy: { estimate: null, low: null, high: null },
      timeToDecision: { p50Ms: null, p95Ms: null },
    });
  });

  it("rejects bad parameters with a 400 naming the field", async () => {
    // Invalid on purpose: the query is cast past its type.
    const bad = async (query: Record<string, string>) => {
      const res = await automationReport(s, readKey, query as never);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid");
      return res.body.error.issues.map((i: { path: string }) => i.path);
    };
    expect(await bad(RANGE)).toEqual(["type"]);
    expect(await bad({ type: "invoice", ...RANGE, bucket: "month" })).toEqual(["bucket"]);
    expect(await bad({ type: "invoice", from: "last-tuesday" })).toEqual(["from"]);
    expect(await bad({ type: "invoice", from: "2026-01-05", to: "2026-13-01" })).toEqual(["to"]);
    expect(await bad({ type: "invoice", from: "2026-02-01", to: "2026-01-01" })).toEqual(["from"]);
    expect(await bad({ type: "nope" })).toEqual(["type"]);
    expect(await bad({ type: "invoice", from: "2000-01-01", to: "2026-01-01", bucket: "hour" })).toEqual(["bucket"]);
  });

  it("serves every report table as CSV with the API's numbers", async () => {
    const csv = await s.request<string>(`/reports/csv?table=automation&type=invoice&${RANGE_QS}&bucket=day`, { key: readKey });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="lastmile-invoice-automation.csv"');
    const rows = parse(csv.body as string, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.start, r.volume, r.auto, r.reviewed, r.pending, r.automation_rate, r.override_rate])).toEqual([
      ["2026-01-05T00:00:00.000Z", "7", "4", "3", "0", String(4 / 7), String(2 / 3)],
      ["2026-01-06T00:00:00.000Z", "3", "2", "0", "1", "1", ""],
    ]);

    const versions = parse((await s.request<string>(`/reports/csv?table=versions&type=invoice&${RANGE_QS}`, { key: readKey })).body as string, {
      columns: true,
    }) as Record<string, string>[];
    expect(versions.map((v) => [v.model_version, v.volume, v.qa_n, v.auto_lane_accuracy])).toEqual([
      ["1.0.0", "7", "4", "0.75"],
      ["2.0.0", "3", "1", "1"],
    ]);
    const fields = parse((await s.request<string>(`/reports/csv?table=fields&type=invoice&${RANGE_QS}`, { key: readKey })).body as string, {
      columns: true,
    }) as Record<string, string>[];
    // r2 changed total, currency and removed both line items; a4's QA correction changed total and dropped the lines.
    expect(fields.find((f) => f.field === "total")).toEqual({
      field: "total",
      corrections: "1",
      correction_rate: String(1 / 3),
      qa_misses: "1",
      qa_miss_rate: String(1 / 5),
    });
    const reasons = parse((await s.request<string>(`/reports/csv?table=reasons&type=invoice&${RANGE_QS}`, { key: readKey })).body as string, {
      columns: true,
    }) as Record<string, string>[];
    expect(reasons.map((r) => [r.code, r.count, r.cumulative_share])).toEqual([
      ["WRONG_TOTAL", "2", String(2 / 3)],
      ["NOT_AN_INVOICE", "1", "1"],
    ]);
    const owners = parse((await s.request<string>(`/reports/csv?table=backlog-owners`, { key: readKey })).body as string, { columns: true }) as Record<
      string,
      string
    >[];
    // a6 (QA) and r4 (review) are still held by the reviewer.
    expect(owners).toHaveLength(1);
    expect(owners[0]).toMatchObject({ open: "0", in_progress: "2", past_sla: "0" });

    const bad = await s.request(`/reports/csv?table=nope&type=invoice`, { key: readKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe("table");
    expect((await s.request(`/reports/csv?table=automation&type=invoice&bucket=year`, { key: readKey })).body.error.issues[0].path).toBe("bucket");
    expect((await s.request(`/reports/csv?table=automation&type=invoice`, { key: ingestKey })).status).toBe(403);
  });

  it("needs a key with read scope", async () => {
    expect((await automationReport(s, undefined, { type: "invoice" })).status).toBe(401);
    expect((await automationReport(s, ingestKey, { type: "invoice" })).status).toBe(403);
    expect((await qualityReport(s, ingestKey, { type: "invoice" })).status).toBe(403);
    // Raw on purpose: a POST, which the contract does not have for this route.
    expect((await s.request(`/api/v1/reports/automation?type=invoice`, { key: readKey, body: {} })).status).toBe(405);
  });
});
