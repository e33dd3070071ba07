import { describe, expect, it } from "vitest";
import { contributions, ruleKey, ttdBucket, ttdBucketLower, ttdBucketUpper, type DecisionFacts } from "~/domain/reports/contributions";
import { automationFigures, histogramQuantile, qualityFigures, rate, releasedAccuracy, timeToDecision, wilson } from "~/domain/reports/metrics";
import { bucketStart, bucketStarts, parseReportQuery } from "~/domain/reports/query";

describe("Wilson score interval (95%)", () => {
  // Reference values worked by hand from (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.959964.
  it("8 of 10", () => {
    const w = wilson(8, 10);
    expect(w.estimate).toBe(0.8);
    expect(w.n).toBe(10);
    expect(w.low).toBeCloseTo(0.490162, 5);
    expect(w.high).toBeCloseTo(0.943318, 5);
  });
  it("0 of 10 keeps a non-zero upper bound", () => {
    const w = wilson(0, 10);
    expect(w.estimate).toBe(0);
    expect(w.low).toBeCloseTo(0, 10);
    expect(w.high).toBeCloseTo(0.277533, 5);
  });
  it("10 of 10 keeps a lower bound below 1", () => {
    const w = wilson(10, 10);
    expect(w.low).toBeCloseTo(0.722467, 5);
    expect(w.high).toBeCloseTo(1, 10);
  });
  it("50 of 100 is symmetric", () => {
    const w = wilson(50, 100);
    expect(w.low).toBeCloseTo(0.403832, 5);
    expect(w.high).toBeCloseTo(0.596168, 5);
  });
  it("n = 0 is undefined, not NaN", () => {
    expect(wilson(0, 0)).toEqual({ estimate: null, low: null, high: null, n: 0 });
  });
});

describe("rates", () => {
  it("are null where the denominator is zero", () => {
    expect(rate(0, 0)).toBeNull();
    expect(rate(1, 4)).toBe(0.25);
  });
  it("automation and override rate from counters", () => {
    const f = automationFigures({
      volume: 10,
      "final:auto": 6,
      "final:reviewed": 3,
      pending: 1,
      "outcome:corrected": 1,
      "outcome:rejected": 1,
      "outcome:approved": 1,
    });
    expect(f).toEqual({ volume: 10, auto: 6, reviewed: 3, pending: 1, corrected: 1, rejected: 1, automationRate: 6 / 9, overrideRate: 2 / 3 });
  });
  it("an empty period has null rates", () => {
    const f = automationFigures({});
    expect(f.automationRate).toBeNull();
    expect(f.overrideRate).toBeNull();
    expect(JSON.stringify(f)).not.toContain("NaN");
  });
  it("only pending decisions: automation rate undefined", () => {
    expect(automationFigures({ volume: 3, pending: 3 }).automationRate).toBeNull();
  });
});

describe("estimated accuracy of everything released", () => {
  it("carries the auto-lane interval through a × acc + (1 − a)", () => {
    const r = releasedAccuracy(0.8, { estimate: 0.9, low: 0.85, high: 0.95 });
    expect(r.estimate).toBeCloseTo(0.92, 12);
    expect(r.low).toBeCloseTo(0.88, 12);
    expect(r.high).toBeCloseTo(0.96, 12);
  });
  it("no automation: humans decide everything", () => {
    expect(releasedAccuracy(0, { estimate: null, low: null, high: null })).toEqual({ estimate: 1, low: 1, high: 1 });
  });
  it("automation without QA evidence is unknown", () => {
    expect(releasedAccuracy(0.5, { estimate: null, low: null, high: null })).toEqual({ estimate: null, low: null, high: null });
    expect(releasedAccuracy(null, { estimate: 1, low: 1, high: 1 }).estimate).toBeNull();
  });
  it("quality figures from counters", () => {
    const q = qualityFigures({ "final:auto": 8, "final:reviewed": 2, "qa:reviewed": 10, "qa:approved": 8, "ttd:auto:0": 8, "ttd:review:31": 2 });
    expect(q.autoLaneAccuracy.n).toBe(10);
    expect(q.autoLaneAccuracy.estimate).toBe(0.8);
    // 0.8 × 0.8 + 0.2 = 0.84; low 0.8 × 0.490162 + 0.2 = 0.592130
    expect(q.estimatedReleasedAccuracy.estimate).toBeCloseTo(0.84, 12);
    expect(q.estimatedReleasedAccuracy.low).toBeCloseTo(0.59213, 5);
    expect(q.estimatedReleasedAccuracy.high).toBeCloseTo(0.954654, 5);
    expect(q.timeToDecision.p50Ms).toBe(0);
  });
});

describe("time-to-decision histogram", () => {
  it("buckets are 25% wide; below 1 ms is bucket 0", () => {
    expect(ttdBucket(0)).toBe(0);
    expect(ttdBucket(0.5)).toBe(0);
    expect(ttdBucket(1)).toBe(1);
    expect(ttdBucket(1.24)).toBe(1);
    expect(ttdBucket(1.25)).toBe(2);
    expect(ttdBucket(1000)).toBe(31); // 1.25^30 = 807.79 ≤ 1000 < 1.25^31 = 1009.74
    for (const ms of [3, 77, 1234, 60_000, 3_600_000, 86_400_000 * 30]) {
      const k = ttdBucket(ms);
      expect(ms).toBeGreaterThanOrEqual(ttdBucketLower(k));
      expect(ms).toBeLessThan(ttdBucketUpper(k));
    }
  });
  it("quantiles interpolate linearly inside a bucket", () => {
    // 5 instant decisions and 5 in bucket 10 = [1.25^9, 1.25^10) = [7.450581, 9.313226) ms.
    const h = new Map([
      [0, 5],
      [10, 5],
    ]);
    expect(histogramQuantile(h, 0.5)).toBe(0);
    // p95: target rank 9.5 → 4.5 of 5 into bucket 10 → 7.450581 + 0.9 × 1.862645 = 9.126961
    expect(histogramQuantile(h, 0.95)).toBeCloseTo(9.126961, 5);
    expect(histogramQuantile(new Map(), 0.5)).toBeNull();
  });
  it("p50/p95 per route from counters", () => {
    // review: 4 in bucket 31 [807.79, 1009.74); p50 target 2 → 807.79 + 0.5 × 201.95 = 908.77 → 909;
    // p95 target 3.8 → 807.79 + 0.95 × 201.95 = 999.65 → 1000
    const m = { "ttd:review:31": 4, "ttd:auto:0": 100 };
    expect(timeToDecision(m, "review")).toEqual({ p50Ms: 909, p95Ms: 1000 });
    expect(timeToDecision(m)).toEqual({ p50Ms: 0, p95Ms: 0 });
  });
});

describe("contributions of one decision", () => {
  const base: DecisionFacts = {
    typeKey: "invoice",
    modelVersion: "1",
    policyVersion: 1,
    confidence: 0.5,
    segment: null,
    occurredAt: 0,
    receivedAt: 1_000,
    route: "review",
    status: "corrected",
    qaSampled: false,
    finalizedAt: 61_000,
    reasons: [
      "confidence 0.5 < 0.9",
      "field lines.0.amount confidence 0.2 < 0.9",
      "field lines.1.amount confidence 0.2 < 0.9",
      "flag policy:kyc matches policy:*",
    ],
    changedFields: ["total", "lines.0.amount", "lines.1.amount"],
    reasonCodes: ["WRONG_TOTAL"],
    qaVerdict: null,
    escalated: true,
  };
  it("a corrected review-lane decision", () => {
    expect(Object.fromEntries(contributions(base))).toEqual({
      volume: 1,
      "route:review": 1,
      "rule:confidence": 1,
      "rule:field:lines.*.amount": 1,
      "rule:flag:policy:*": 1,
      escalated: 1,
      "final:reviewed": 1,
      "outcome:corrected": 1,
      [`ttd:review:${ttdBucket(60_000)}`]: 1,
      ttd_sum_ms: 60_000,
      "field:total": 1,
      "field:lines.*.amount": 1,
      "reason:WRONG_TOTAL": 1,
    });
  });
  it("a pending one only counts volume, route, rules and pending", () => {
    const m = Object.fromEntries(contributions({ ...base, status: "pending_review", finalizedAt: null, escalated: false, reasons: ["confidence 0.5 < 0.9"] }));
    expect(m).toEqual({ volume: 1, "route:review": 1, "rule:confidence": 1, pending: 1 });
  });
  it("a QA-checked auto decision the reviewer changed", () => {
    const m = Object.fromEntries(
      contributions({
        ...base,
        route: "auto",
        status: "auto_approved",
        finalizedAt: 1_000,
        reasons: [],
        qaSampled: true,
        qaVerdict: "changed",
        changedFields: ["total"],
        escalated: false,
      }),
    );
    expect(m).toEqual({
      volume: 1,
      "route:auto": 1,
      "final:auto": 1,
      "outcome:auto_approved": 1,
      "ttd:auto:0": 1,
      ttd_sum_ms: 0,
      "qa:sampled": 1,
      "qa:reviewed": 1,
      "qa_field:total": 1,
      "qa_reason:WRONG_TOTAL": 1,
    });
  });
  it("rule keys", () => {
    expect(ruleKey("confidence 0.62 < 0.9")).toBe("confidence");
    expect(ruleKey("field total confidence missing (needs 0.95)")).toBe("field:total");
    expect(ruleKey("flag policy:aml matches policy:*")).toBe("flag:policy:*");
  });
});

describe("report query", () => {
  const p = (s: string) => parseReportQuery(new URLSearchParams(s), { now: Date.parse("2026-03-10T12:30:00Z") });
  it("defaults to the last 30 days by day", () => {
    const q = p("type=invoice");
    expect(q.bucket).toBe("day");
    expect(new Date(q.to).toISOString()).toBe("2026-03-10T13:00:00.000Z");
    expect(q.to - q.from).toBe(30 * 86_400_000);
  });
  it("names the bad field", () => {
    const issue = (s: string) => {
      try {
        p(s);
      } catch (e) {
        return (e as { issues: { path: string }[] }).issues.map((i) => i.path);
      }
      return [];
    };
    expect(issue("from=2026-01-01")).toEqual(["type"]);
    expect(issue("type=x&bucket=month")).toEqual(["bucket"]);
    expect(issue("type=x&from=yesterday")).toEqual(["from"]);
    expect(issue("type=x&from=2026-02-01&to=2026-01-01")).toEqual(["from"]);
    expect(issue("type=x&from=2020-01-01&to=2026-01-01&bucket=hour")).toEqual(["bucket"]);
    expect(issue("type=x&color=red")).toEqual(["color"]);
  });
  it("weeks start on Monday (UTC)", () => {
    expect(new Date(bucketStart(Date.parse("2026-03-12T10:00:00Z"), "week")).toISOString()).toBe("2026-03-09T00:00:00.000Z");
    expect(new Date(bucketStart(Date.parse("2026-03-09T00:00:00Z"), "week")).toISOString()).toBe("2026-03-09T00:00:00.000Z");
    expect(bucketStarts(Date.parse("2026-03-01T00:00:00Z"), Date.parse("2026-03-03T00:00:00Z"), "day").length).toBe(2);
  });
});
