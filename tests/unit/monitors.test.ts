/**
 * The drift monitors' statistics and verdicts (issue 15), against hand-computed cases.
 */
import { describe, expect, it } from "vitest";
import { errorFunction } from "simple-statistics";
import { bucketStart, inputBucket } from "~/domain/monitors/counters";
import { findings, scanLengths, sumRecent, windowsAt, type Counts, type MonitorData } from "~/domain/monitors/findings";
import { DEFAULT_MONITORS, monitorSettingsSchema, segmentOf } from "~/domain/monitors/settings";
import { chiSquareTail, poissonTest, psi, twoProportionTest } from "~/domain/monitors/stats";

describe("two-proportion test", () => {
  it("matches the pooled z by hand: 10/100 against 25/100", () => {
    const t = twoProportionTest(10, 100, 25, 100);
    // pooled 35/200 = 0.175; se = sqrt(0.175·0.825·(2/100)) = 0.053735…; z = 0.15 / se = 2.7914…
    expect(t.effect).toBeCloseTo(0.15, 12);
    expect(t.z!).toBeCloseTo(0.15 / Math.sqrt(0.175 * 0.825 * 0.02), 10);
    // One-sided: 1 − Φ(2.7914) ≈ 0.002624
    expect(t.p!).toBeCloseTo(0.002624, 5);
  });
  it("a fall is not significant one-sided; empty sides have no verdict; equal rates give p = 0.5", () => {
    expect(twoProportionTest(25, 100, 10, 100).p!).toBeGreaterThan(0.99);
    expect(twoProportionTest(0, 0, 5, 10)).toMatchObject({ effect: null, p: null });
    expect(twoProportionTest(10, 100, 10, 100).p!).toBeCloseTo(0.5, 6);
    // Nothing ever changed on either side: no spread, the direction decides.
    expect(twoProportionTest(0, 50, 0, 50)).toMatchObject({ effect: 0, p: 1 });
  });
});

describe("population stability index", () => {
  it("is 0 for the same shares and matches Σ (r − b)·ln(r/b) by hand", () => {
    expect(psi([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12);
    // shares b = (0.5, 0.5), r = (0.8, 0.2): 0.3·ln 1.6 + (−0.3)·ln 0.4 = 0.14100… + 0.27489… = 0.41589…
    expect(psi([50, 50], [80, 20])!).toBeCloseTo(0.3 * Math.log(1.6) - 0.3 * Math.log(0.4), 12);
  });
  it("floors an empty bin instead of dividing by zero; no verdict on an empty side", () => {
    const v = psi([100, 0], [50, 50])!;
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThan(1);
    expect(psi([0, 0], [1, 1])).toBeNull();
  });
});

describe("settings", () => {
  it("fills every monitor's defaults, merges a partial one, refuses an unknown key by path", () => {
    expect(DEFAULT_MONITORS.overrideRate).toMatchObject({ enabled: true, windowMinutes: 30, minCount: 30 });
    const s = monitorSettingsSchema.parse({ segmentField: "applicant.region", overrideRate: { minCount: 10 } });
    expect(s.overrideRate).toEqual({ ...DEFAULT_MONITORS.overrideRate, minCount: 10 });
    expect(s.confidence).toEqual(DEFAULT_MONITORS.confidence);
    const bad = monitorSettingsSchema.safeParse({ overrideRate: { windowMinutes: 0, nope: 1 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["overrideRate.windowMinutes", "overrideRate"]));
  });
  it("a decision's segment is its field's value as text, null when absent or not a scalar", () => {
    expect(segmentOf({ applicant: { region: "north" } }, "applicant.region")).toBe("north");
    expect(segmentOf({ tier: 2 }, "tier")).toBe("2");
    expect(segmentOf({ applicant: {} }, "applicant.region")).toBeNull();
    expect(segmentOf({ region: ["a"] }, "region")).toBeNull();
    expect(segmentOf({ region: "x" }, null)).toBeNull();
  });
});

describe("findings", () => {
  const at = Date.parse("2026-12-01T12:00:00Z");
  const s = monitorSettingsSchema.parse({ overrideRate: { minCount: 20, minEffect: 0.1, maxP: 0.001 }, confidence: { minCount: 100 } });
  const w = windowsAt(at, s);
  const m = (entries: Record<string, number>): Counts => new Map(Object.entries(entries));
  /** Recent counts all in the last minute: every scanned window sees them. */
  const data = (o: Partial<Omit<MonitorData, "recent">> & { recent?: Counts } = {}): MonitorData => ({
    overrideBaseline: new Map(),
    confidenceBaseline: new Map(),
    inputBaseline: new Map(),
    volume: { perMinute: null, source: null, weeks: 0 },
    flow: { backlog: 0, backlogBefore: null, breaches: 0, newBreaches: 0 },
    models: [],
    ...o,
    recent: new Map([[at - 60_000, o.recent ?? new Map()]]),
  });
  const run = (d: MonitorData, settings = s, target: number | null = null) => findings(settings, target, at, windowsAt(at, settings), d);
  const one = (list: ReturnType<typeof findings>, monitor: string, segment = "") => list.find((f) => f.monitor === monitor && f.segment === segment)!;

  it("the baseline ends where the longest recent window starts; shorter windows are scanned inside it", () => {
    expect(w.overrideBaseline).toEqual({ from: at - (30 + 1440) * 60_000, to: at - 30 * 60_000 });
    expect(scanLengths(30)).toEqual([30, 15, 10, 5]);
    expect(scanLengths(10)).toEqual([10, 5]);
    expect(scanLengths(6)).toEqual([6]);
    // Counts per minute are summed over each window: a minute outside the window is left out.
    const recent = new Map([
      [at - 60_000, m({ n: 2 })],
      [at - 20 * 60_000, m({ n: 5 })],
    ]);
    expect(sumRecent(recent, at, 10).get("n")).toBe(2);
    expect(sumRecent(recent, at, 30).get("n")).toBe(7);
  });

  it("override rate: fires on a significant, large rise in a segment; the p-value bar is split over the segments and windows", () => {
    const f = run(
      data({
        overrideBaseline: m({
          "ovr:n|": 400,
          "ovr:k|": 40,
          "ovr:n|segment=north": 200,
          "ovr:k|segment=north": 20,
          "ovr:n|segment=south": 200,
          "ovr:k|segment=south": 20,
        }),
        recent: m({
          "ovr:n|": 100,
          "ovr:k|": 30,
          "ovr:n|segment=north": 50,
          "ovr:k|segment=north": 25,
          "ovr:n|segment=south": 50,
          "ovr:k|segment=south": 5,
        }),
      }),
    );
    expect(one(f, "override_rate", "segment=north").verdict).toBe("fire");
    expect(one(f, "override_rate", "segment=south").verdict).toBe("clear");
    expect(one(f, "override_rate", "segment=north").figures).toMatchObject({
      baselineRate: 0.1,
      recentRate: 0.5,
      recentN: 50,
      threshold: { maxP: 0.001 / 12 },
    });
    // Overall: 30% against 10% on 100 verdicts: significant and ≥ 10 points.
    expect(one(f, "override_rate").verdict).toBe("fire");
  });

  it("override rate: a rise only in the last five minutes fires on the short window, and its figures are that window's", () => {
    const recent = new Map<number, Counts>();
    // 40 minutes of 10% then five minutes of 60%.
    for (let i = 1; i <= 30; i++) recent.set(at - i * 60_000, i <= 5 ? m({ "ovr:n|": 20, "ovr:k|": 12 }) : m({ "ovr:n|": 20, "ovr:k|": 2 }));
    const f = findings(s, null, at, w, { ...data({ overrideBaseline: m({ "ovr:n|": 4000, "ovr:k|": 400 }) }), recent });
    expect(one(f, "override_rate").verdict).toBe("fire");
    expect(one(f, "override_rate").figures).toMatchObject({ recentN: 100, recentRate: 0.6, recentWindow: { from: new Date(at - 5 * 60_000).toISOString() } });
  });

  it("override rate per model version only when there are two versions to tell apart", () => {
    const single = run(
      data({
        overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40, "ovr:n|model=1": 400, "ovr:k|model=1": 40 }),
        recent: m({ "ovr:n|": 100, "ovr:k|": 30, "ovr:n|model=1": 100, "ovr:k|model=1": 30 }),
      }),
    );
    expect(single.filter((f) => f.monitor === "override_rate").map((f) => f.segment)).toEqual([""]);
    const two = run(
      data({
        overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40, "ovr:n|model=1": 400, "ovr:k|model=1": 40 }),
        recent: m({ "ovr:n|": 100, "ovr:k|": 30, "ovr:n|model=2": 100, "ovr:k|model=2": 30 }),
      }),
    );
    expect(two.filter((f) => f.monitor === "override_rate").map((f) => f.segment)).toEqual(["", "model=2"]);
    // The new version has no baseline of its own: no verdict on it yet, the whole type speaks.
    expect(two.find((f) => f.segment === "model=2")!.verdict).toBe("hold");
  });

  it("override rate: too few verdicts holds (no alert, none resolved); a small rise holds; a tiny one clears", () => {
    expect(one(run(data({ overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40 }), recent: m({ "ovr:n|": 10, "ovr:k|": 9 }) })), "override_rate").verdict).toBe(
      "hold",
    );
    // +7 points: significant at this volume, but under the 10-point minimum effect and above half of it.
    const small = run(data({ overrideBaseline: m({ "ovr:n|": 4000, "ovr:k|": 400 }), recent: m({ "ovr:n|": 4000, "ovr:k|": 680 }) }));
    expect(one(small, "override_rate").verdict).toBe("hold");
    const tiny = run(data({ overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40 }), recent: m({ "ovr:n|": 400, "ovr:k|": 44 }) }));
    expect(one(tiny, "override_rate").verdict).toBe("clear");
  });

  it("QA accuracy: fires when the whole interval is below the target, clears at or above it, needs a target", () => {
    expect(run(data({ recent: m({ "qa:n": 100, "qa:ok": 80 }) })).some((f) => f.monitor === "qa_accuracy")).toBe(false);
    expect(one(run(data({ recent: m({ "qa:n": 100, "qa:ok": 80 }) }), s, 0.95), "qa_accuracy").verdict).toBe("fire");
    expect(one(run(data({ recent: m({ "qa:n": 100, "qa:ok": 96 }) }), s, 0.95), "qa_accuracy").verdict).toBe("clear");
    // 92/100: the interval reaches below 95% but not wholly: hold.
    expect(one(run(data({ recent: m({ "qa:n": 100, "qa:ok": 92 }) }), s, 0.95), "qa_accuracy").verdict).toBe("hold");
  });

  it("confidence: PSI fires on a moved distribution, clears on the same one; the review share fires on a significant rise", () => {
    const same = m({ n: 1000, "conf:18": 500, "conf:19": 500, review: 100 });
    const moved = m({ n: 1000, "conf:16": 500, "conf:18": 250, "conf:19": 250, review: 300 });
    const f = run(data({ confidenceBaseline: same, recent: moved }));
    expect(one(f, "confidence_psi").verdict).toBe("fire");
    expect(one(f, "review_share").verdict).toBe("fire");
    const g = run(data({ confidenceBaseline: same, recent: same }));
    expect(one(g, "confidence_psi").verdict).toBe("clear");
    expect(one(g, "review_share").verdict).toBe("clear");
  });

  it("confidence: a PSI over the bar on too small a sample is noise (the χ² test holds it back)", () => {
    const k = monitorSettingsSchema.parse({ confidence: { minCount: 20 } });
    const base = m({ n: 10_000, "conf:10": 2500, "conf:12": 2500, "conf:14": 2500, "conf:16": 2500 });
    // 25 decisions, unevenly over the four bins: PSI ≈ 0.19, but n·PSI ≈ 4.7 on 3 degrees of freedom (p ≈ 0.2).
    const f = run(data({ confidenceBaseline: base, recent: m({ n: 25, "conf:10": 11, "conf:12": 4, "conf:14": 6, "conf:16": 4 }) }), k);
    expect(one(f, "confidence_psi").figures.psi as number).toBeGreaterThan(0.1);
    expect(one(f, "confidence_psi").verdict).not.toBe("fire");
  });

  it("input drift: numbers in bins of equal baseline share fire on a moved mean; categories count values never seen", () => {
    const k = monitorSettingsSchema.parse({ inputs: ["income", "channel"], inputDrift: { minCount: 100 } });
    const hist = (mean: number, n: number, prefix: string) => {
      const out: Record<string, number> = {};
      // A normal-ish spread: n values at mean + sd·q for evenly spaced quantiles q.
      for (let i = 0; i < n; i++) {
        const q = (i + 0.5) / n;
        const z = Math.sqrt(2) * inverseErf(2 * q - 1);
        const b = `${prefix}${inputBucket(mean + 400 * z)!}`;
        out[b] = (out[b] ?? 0) + 1;
      }
      return out;
    };
    const base = m({ ...hist(2000, 4000, "in:income|"), "in:channel|c:online": 2000, "in:channel|c:branch": 2000 });
    const same = run(
      data({ inputBaseline: base, recent: m({ ...hist(2000, 1000, "in:income|"), "in:channel|c:online": 500, "in:channel|c:branch": 500 }) }),
      k,
    );
    expect(one(same, "input_psi", "field=income").verdict).toBe("clear");
    expect(one(same, "input_psi", "field=channel").verdict).toBe("clear");
    // Half a standard deviation up; a third of the channel values are new.
    const moved = run(
      data({
        inputBaseline: base,
        recent: m({ ...hist(2200, 1000, "in:income|"), "in:channel|c:online": 350, "in:channel|c:branch": 350, "in:channel|c:broker": 300 }),
      }),
      k,
    );
    expect(one(moved, "input_psi", "field=income")).toMatchObject({ verdict: "fire", figures: { kind: "number", field: "income" } });
    expect((one(moved, "input_psi", "field=income").figures.bins as string[]).length).toBe(10);
    expect(one(moved, "input_psi", "field=channel")).toMatchObject({ verdict: "fire", figures: { kind: "category", unseenShare: 0.3 } });
  });

  it("volume: fires far from the usual count (and significant), clears near it, holds without enough expected", () => {
    const usual = (perMinute: number | null) => ({ perMinute, source: "same time in earlier weeks" as const, weeks: 4 });
    // n decisions over the last ten minutes, evenly.
    const even = (perMinute: number | null, total: number): MonitorData => ({
      ...data({ volume: usual(perMinute) }),
      recent: new Map(Array.from({ length: 10 }, (_, i) => [at - (i + 1) * 60_000, m({ n: total / 10 })])),
    });
    expect(one(run(even(100, 500)), "volume")).toMatchObject({ verdict: "fire", figures: { ratio: 0.5 } });
    expect(one(run(even(100, 2000)), "volume").verdict).toBe("fire");
    expect(one(run(even(100, 980)), "volume").verdict).toBe("clear");
    expect(one(run(even(100, 750)), "volume").verdict).toBe("hold");
    expect(one(run(even(5, 5)), "volume").verdict).toBe("hold");
    expect(one(run(even(null, 5)), "volume").verdict).toBe("hold");
  });

  it("volume: a drop in the last five minutes fires on the short window", () => {
    const recent = new Map<number, Counts>();
    for (let i = 1; i <= 10; i++) recent.set(at - i * 60_000, m({ n: i <= 5 ? 40 : 100 }));
    const f = findings(s, null, at, w, { ...data({ volume: { perMinute: 100, source: "the hours before", weeks: 0 } }), recent });
    expect(one(f, "volume")).toMatchObject({ verdict: "fire", figures: { observed: 200, expected: 500, ratio: 0.4 } });
  });

  it("backlog fires when it grew by more than the minimum and a quarter of arrivals; SLA fires on new breaches only", () => {
    const flow = (backlog: number, backlogBefore: number | null, breaches = 0, newBreaches = breaches) => ({ backlog, backlogBefore, breaches, newBreaches });
    expect(one(run(data({ flow: flow(300, 200), recent: m({ review: 300 }) })), "backlog")).toMatchObject({
      verdict: "fire",
      figures: { growth: 100, worked: 200 },
    });
    // Grew by 60, but 400 arrived: worked at 85% of arrivals, not yet a growing backlog.
    expect(one(run(data({ flow: flow(260, 200), recent: m({ review: 400 }) })), "backlog").verdict).toBe("hold");
    expect(one(run(data({ flow: flow(190, 200), recent: m({ review: 400 }) })), "backlog").verdict).toBe("clear");
    expect(one(run(data({ flow: flow(190, null) })), "backlog").verdict).toBe("hold");
    expect(one(run(data({ flow: flow(0, 0, 3) })), "sla_breaches")).toMatchObject({
      verdict: "fire",
      figures: { newBreaches: 3, breaches: 3, recentWindow: { from: new Date(at - 30 * 60_000).toISOString() } },
    });
    expect(one(run(data({ flow: flow(0, 0, 0) })), "sla_breaches").verdict).toBe("clear");
    // Old overdue tasks (past their SLA before the window) are known already: no alarm, and an open one resolves.
    expect(one(run(data({ flow: flow(0, 0, 40, 0) })), "sla_breaches")).toMatchObject({ verdict: "clear", figures: { breaches: 40, newBreaches: 0 } });
    const fewer = monitorSettingsSchema.parse({ flow: { minBreaches: 5 } });
    expect(one(run(data({ flow: flow(0, 0, 40, 2) }), fewer), "sla_breaches").verdict).toBe("hold");
    expect(one(run(data({ flow: flow(0, 0, 40, 5) }), fewer), "sla_breaches").verdict).toBe("fire");
  });

  it("reviewer: fast, near-total approval against peers on the same queue fires; a careful high approver does not", () => {
    const r = (id: string, n: number, ok: number, fast: number) => ({ [`rv:n|${id}`]: n, [`rv:ok|${id}`]: ok, [`rv:fast|${id}`]: fast });
    const f = run(data({ recent: m({ ...r("u1", 80, 80, 78), ...r("u2", 40, 28, 1), ...r("u3", 40, 27, 0), ...r("u4", 40, 39, 2) }) }));
    expect(one(f, "reviewer", "reviewer=u1")).toMatchObject({ verdict: "fire", figures: { approvalRate: 1, peers: { verdicts: 120 } } });
    // u4 approves 97.5% but takes its time: not rubber-stamping.
    expect(one(f, "reviewer", "reviewer=u4").verdict).not.toBe("fire");
    expect(one(f, "reviewer", "reviewer=u2").verdict).toBe("clear");
  });

  it("model version: the new version beside the previous once it has enough decisions; resolved once the previous is gone", () => {
    const v = (version: string, volume: number) => ({ version, volume, automationRate: 0.5, overrideRate: 0.2, qaAccuracy: 0.9, qaN: 10 });
    expect(one(run(data({ models: [v("2", 500), v("1", 900)] })), "model_version", "model=2")).toMatchObject({
      verdict: "fire",
      figures: { latest: { version: "2" }, previous: { version: "1" } },
    });
    expect(one(run(data({ models: [v("2", 50), v("1", 900)] })), "model_version", "model=2").verdict).toBe("hold");
    expect(one(run(data({ models: [v("2", 900), v("1", 0)] })), "model_version", "model=2").verdict).toBe("clear");
    expect(run(data({ models: [v("1", 900)] })).some((f) => f.monitor === "model_version")).toBe(false);
  });
});

describe("input buckets", () => {
  it("eight per power of two, ordered on the number line, categories as text", () => {
    expect(inputBucket(0)).toBe("n:0");
    expect(inputBucket(1)).toBe("n:+0.0");
    expect(inputBucket(1.5)).toBe("n:+0.4");
    expect(inputBucket(1000)).toBe("n:+9.7");
    expect(inputBucket(-3)).toBe("n:-1.4");
    expect(inputBucket("online")).toBe("c:online");
    expect(inputBucket(null)).toBeNull();
    expect(inputBucket(Number.NaN)).toBeNull();
    const values = [-1000, -3, -0.5, 0, 0.001, 1, 1.5, 7, 1000, 123456];
    const starts = values.map((v) => bucketStart(inputBucket(v)!));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    values.forEach((v, i) => expect(starts[i]).toBeLessThanOrEqual(v));
  });
});

describe("χ² and Poisson tails", () => {
  it("match tabulated values closely enough for a bar", () => {
    // χ²(9): P(X ≥ 16.919) = 0.05, P(X ≥ 27.877) = 0.001.
    expect(chiSquareTail(16.919, 9)).toBeCloseTo(0.05, 2);
    expect(chiSquareTail(27.877, 9) / 0.001).toBeGreaterThan(0.8);
    expect(chiSquareTail(27.877, 9) / 0.001).toBeLessThan(1.25);
    expect(chiSquareTail(0, 3)).toBe(1);
    expect(poissonTest(500, 1000).z).toBeCloseTo(-500 / Math.sqrt(1000), 10);
    expect(poissonTest(1000, 1000).p).toBeCloseTo(1, 10);
  });
});

/** erf⁻¹ by Newton's method on simple-statistics' erf (for the test's quantiles only). */
function inverseErf(y: number): number {
  let x = 0;
  for (let i = 0; i < 50; i++) x -= (errorFunction(x) - y) / ((2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  return x;
}
