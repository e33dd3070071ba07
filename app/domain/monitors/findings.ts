/**
 * What the monitors conclude from a type's counters over their windows (pure; evaluate.server.ts reads the
 * windows and keeps the alerts). Each finding says `fire` (a change worth an alert), `clear` (back to
 * normal: an open alert resolves) or `hold` (too little data, or in between: an open alert stays as it is,
 * none is raised). The gap between fire and clear is hysteresis, so a figure hovering at the line does not
 * raise and resolve alerts minute after minute.
 */
import { wilson } from "../reports/metrics";
import { CONFIDENCE_BINS } from "./counters";
import type { MonitorSettings } from "./settings";
import { psi, twoProportionTest } from "./stats";

export const MONITORS = ["override_rate", "qa_accuracy", "confidence_psi", "review_share"] as const;
export type MonitorName = (typeof MONITORS)[number];

export type Window = { from: number; to: number };
export type Counts = ReadonlyMap<string, number>;
export type Verdict = "fire" | "clear" | "hold";
export type Finding = { monitor: MonitorName; segment: string; verdict: Verdict; figures: Record<string, unknown> };

const get = (m: Counts, k: string) => m.get(k) ?? 0;
const iso = (w: Window) => ({ from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() });

/** The windows each monitor reads, ending at `at` (a minute boundary). */
export function windowsAt(at: number, s: MonitorSettings) {
  const min = 60_000;
  const recent = (m: number): Window => ({ from: at - m * min, to: at });
  const before = (w: Window, m: number): Window => ({ from: w.from - m * min, to: w.from });
  const overrideRecent = recent(s.overrideRate.windowMinutes);
  const confidenceRecent = recent(s.confidence.windowMinutes);
  return {
    overrideRecent,
    overrideBaseline: before(overrideRecent, s.overrideRate.baselineMinutes),
    qa: recent(s.qaAccuracy.windowMinutes),
    confidenceRecent,
    confidenceBaseline: before(confidenceRecent, s.confidence.baselineMinutes),
  };
}

export type WindowCounts = { [K in keyof ReturnType<typeof windowsAt>]: Counts };

export function findings(s: MonitorSettings, targetAccuracy: number | null, w: ReturnType<typeof windowsAt>, c: WindowCounts): Finding[] {
  const out: Finding[] = [];

  if (s.overrideRate.enabled) {
    const o = s.overrideRate;
    let segments = [...c.overrideRecent.keys()].filter((k) => k.startsWith("ovr:n|")).map((k) => k.slice("ovr:n|".length));
    if (!segments.includes("")) segments.unshift("");
    // Per model version only when there is more than one to tell apart: with one, it is the whole type again.
    const models = new Set([...c.overrideRecent.keys(), ...c.overrideBaseline.keys()].filter((k) => k.startsWith("ovr:n|model=")));
    if (models.size < 2) segments = segments.filter((seg) => !seg.startsWith("model="));
    // The p-value bar is split over the segments tested (Bonferroni): more segments, no more false alarms.
    const bar = o.maxP / Math.max(1, segments.length);
    for (const seg of segments) {
      const t = twoProportionTest(
        get(c.overrideBaseline, `ovr:k|${seg}`),
        get(c.overrideBaseline, `ovr:n|${seg}`),
        get(c.overrideRecent, `ovr:k|${seg}`),
        get(c.overrideRecent, `ovr:n|${seg}`),
      );
      const enough = t.baseline.n >= o.minCount && t.recent.n >= o.minCount;
      const verdict: Verdict =
        !enough || t.effect === null ? "hold" : t.effect >= o.minEffect && t.p! <= bar ? "fire" : t.effect < o.minEffect / 2 ? "clear" : "hold";
      out.push({
        monitor: "override_rate",
        segment: seg,
        verdict,
        figures: {
          baselineRate: t.baseline.rate,
          recentRate: t.recent.rate,
          baselineN: t.baseline.n,
          recentN: t.recent.n,
          effect: t.effect,
          p: t.p,
          threshold: { minEffect: o.minEffect, maxP: bar, minCount: o.minCount },
          recentWindow: iso(w.overrideRecent),
          baselineWindow: iso(w.overrideBaseline),
        },
      });
    }
  }

  if (s.qaAccuracy.enabled && targetAccuracy !== null) {
    const n = get(c.qa, "qa:n");
    const acc = wilson(get(c.qa, "qa:ok"), n);
    const enough = n >= s.qaAccuracy.minCount && acc.high !== null;
    const verdict: Verdict = !enough ? "hold" : acc.high! < targetAccuracy ? "fire" : acc.estimate! >= targetAccuracy ? "clear" : "hold";
    out.push({
      monitor: "qa_accuracy",
      segment: "",
      verdict,
      figures: { accuracy: acc.estimate, low: acc.low, high: acc.high, n, targetAccuracy, recentWindow: iso(w.qa) },
    });
  }

  if (s.confidence.enabled) {
    const k = s.confidence;
    const bins = (m: Counts) => Array.from({ length: CONFIDENCE_BINS }, (_, i) => get(m, `conf:${i}`));
    const nBase = get(c.confidenceBaseline, "n");
    const nRecent = get(c.confidenceRecent, "n");
    const enough = nBase >= k.minCount && nRecent >= k.minCount;
    const index = enough ? psi(bins(c.confidenceBaseline), bins(c.confidenceRecent)) : null;
    out.push({
      monitor: "confidence_psi",
      segment: "",
      verdict: index === null ? "hold" : index >= k.maxPsi ? "fire" : index < k.maxPsi / 2 ? "clear" : "hold",
      figures: {
        psi: index,
        baselineN: nBase,
        recentN: nRecent,
        threshold: { maxPsi: k.maxPsi, minCount: k.minCount },
        recentWindow: iso(w.confidenceRecent),
        baselineWindow: iso(w.confidenceBaseline),
      },
    });
    const t = twoProportionTest(get(c.confidenceBaseline, "review"), nBase, get(c.confidenceRecent, "review"), nRecent);
    out.push({
      monitor: "review_share",
      segment: "",
      verdict:
        !enough || t.effect === null
          ? "hold"
          : t.effect >= k.reviewShareMinEffect && t.p! <= k.maxP
            ? "fire"
            : t.effect < k.reviewShareMinEffect / 2
              ? "clear"
              : "hold",
      figures: {
        baselineRate: t.baseline.rate,
        recentRate: t.recent.rate,
        baselineN: nBase,
        recentN: nRecent,
        effect: t.effect,
        p: t.p,
        threshold: { minEffect: k.reviewShareMinEffect, maxP: k.maxP, minCount: k.minCount },
        recentWindow: iso(w.confidenceRecent),
        baselineWindow: iso(w.confidenceBaseline),
      },
    });
  }
  return out;
}
