/**
 * The drift monitors' statistics and verdicts (issue 15), against hand-computed cases.
 */
import { describe, expect, it } from "vitest";
import { findings, windowsAt, type Counts, type WindowCounts } from "~/domain/monitors/findings";
import { DEFAULT_MONITORS, monitorSettingsSchema, segmentOf } from "~/domain/monitors/settings";
import { psi, twoProportionTest } from "~/domain/monitors/stats";

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
  const counts = (o: Partial<WindowCounts>): WindowCounts => ({
    overrideRecent: new Map(),
    overrideBaseline: new Map(),
    qa: new Map(),
    confidenceRecent: new Map(),
    confidenceBaseline: new Map(),
    ...o,
  });
  const m = (entries: Record<string, number>): Counts => new Map(Object.entries(entries));
  const one = (list: ReturnType<typeof findings>, monitor: string, segment = "") => list.find((f) => f.monitor === monitor && f.segment === segment)!;

  it("windows end at the minute given: the recent one, the baseline right before it", () => {
    expect(w.overrideRecent).toEqual({ from: at - 30 * 60_000, to: at });
    expect(w.overrideBaseline).toEqual({ from: at - (30 + 1440) * 60_000, to: at - 30 * 60_000 });
  });

  it("override rate: fires on a significant, large rise in a segment; the p-value bar is split over the segments", () => {
    const c = counts({
      overrideBaseline: m({
        "ovr:n|": 400,
        "ovr:k|": 40,
        "ovr:n|segment=north": 200,
        "ovr:k|segment=north": 20,
        "ovr:n|segment=south": 200,
        "ovr:k|segment=south": 20,
      }),
      overrideRecent: m({
        "ovr:n|": 100,
        "ovr:k|": 30,
        "ovr:n|segment=north": 50,
        "ovr:k|segment=north": 25,
        "ovr:n|segment=south": 50,
        "ovr:k|segment=south": 5,
      }),
    });
    const f = findings(s, null, w, c);
    expect(one(f, "override_rate", "segment=north").verdict).toBe("fire");
    expect(one(f, "override_rate", "segment=south").verdict).toBe("clear");
    expect(one(f, "override_rate", "segment=north").figures).toMatchObject({ baselineRate: 0.1, recentRate: 0.5, recentN: 50, threshold: { maxP: 0.001 / 3 } });
    // Overall: 30% against 10% on 100 verdicts: significant and ≥ 10 points.
    expect(one(f, "override_rate").verdict).toBe("fire");
  });

  it("override rate per model version only when there are two versions to tell apart", () => {
    const one = findings(
      s,
      null,
      w,
      counts({
        overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40, "ovr:n|model=1": 400, "ovr:k|model=1": 40 }),
        overrideRecent: m({ "ovr:n|": 100, "ovr:k|": 30, "ovr:n|model=1": 100, "ovr:k|model=1": 30 }),
      }),
    );
    expect(one.filter((f) => f.monitor === "override_rate").map((f) => f.segment)).toEqual([""]);
    const two = findings(
      s,
      null,
      w,
      counts({
        overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40, "ovr:n|model=1": 400, "ovr:k|model=1": 40 }),
        overrideRecent: m({ "ovr:n|": 100, "ovr:k|": 30, "ovr:n|model=2": 100, "ovr:k|model=2": 30 }),
      }),
    );
    expect(two.filter((f) => f.monitor === "override_rate").map((f) => f.segment)).toEqual(["", "model=2"]);
    // The new version has no baseline of its own: no verdict on it yet, the whole type speaks.
    expect(one.length && two.find((f) => f.segment === "model=2")!.verdict).toBe("hold");
  });

  it("override rate: too few verdicts holds (no alert, none resolved); a small rise holds; a tiny one clears", () => {
    const few = findings(s, null, w, counts({ overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40 }), overrideRecent: m({ "ovr:n|": 10, "ovr:k|": 9 }) }));
    expect(one(few, "override_rate").verdict).toBe("hold");
    const small = findings(
      s,
      null,
      w,
      counts({ overrideBaseline: m({ "ovr:n|": 4000, "ovr:k|": 400 }), overrideRecent: m({ "ovr:n|": 4000, "ovr:k|": 680 }) }),
    );
    // +7 points: significant at this volume, but under the 10-point minimum effect and above half of it.
    expect(one(small, "override_rate").verdict).toBe("hold");
    const tiny = findings(s, null, w, counts({ overrideBaseline: m({ "ovr:n|": 400, "ovr:k|": 40 }), overrideRecent: m({ "ovr:n|": 400, "ovr:k|": 44 }) }));
    expect(one(tiny, "override_rate").verdict).toBe("clear");
  });

  it("QA accuracy: fires when the whole interval is below the target, clears at or above it, needs a target", () => {
    expect(findings(s, null, w, counts({ qa: m({ "qa:n": 100, "qa:ok": 80 }) })).some((f) => f.monitor === "qa_accuracy")).toBe(false);
    expect(one(findings(s, 0.95, w, counts({ qa: m({ "qa:n": 100, "qa:ok": 80 }) })), "qa_accuracy").verdict).toBe("fire");
    expect(one(findings(s, 0.95, w, counts({ qa: m({ "qa:n": 100, "qa:ok": 96 }) })), "qa_accuracy").verdict).toBe("clear");
    // 90/100: the interval (82.6%–94.5%) reaches below 95% but not wholly: hold.
    expect(one(findings(s, 0.95, w, counts({ qa: m({ "qa:n": 100, "qa:ok": 92 }) })), "qa_accuracy").verdict).toBe("hold");
  });

  it("confidence: PSI fires on a moved distribution, clears on the same one; the review share fires on a significant rise", () => {
    const same = m({ n: 1000, "conf:18": 500, "conf:19": 500, review: 100 });
    const moved = m({ n: 1000, "conf:16": 500, "conf:18": 250, "conf:19": 250, review: 300 });
    const f = findings(s, null, w, counts({ confidenceBaseline: same, confidenceRecent: moved }));
    expect(one(f, "confidence_psi").verdict).toBe("fire");
    expect(one(f, "review_share").verdict).toBe("fire");
    const g = findings(s, null, w, counts({ confidenceBaseline: same, confidenceRecent: same }));
    expect(one(g, "confidence_psi").verdict).toBe("clear");
    expect(one(g, "review_share").verdict).toBe("clear");
  });
});
