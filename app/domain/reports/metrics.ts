/**
 * The metric formulas, pure: rates, the Wilson score interval, the estimated
 * accuracy of everything released, and quantiles from the latency histogram.
 * Undefined figures are null, never NaN.
 */
import { ttdBucketLower, ttdBucketUpper } from "./contributions";

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

export function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

export type Interval = { estimate: number | null; low: number | null; high: number | null };

/** Wilson score interval for `successes` out of `n` (95% unless z is given). */
export function wilson(successes: number, n: number, z = Z95): Interval & { n: number } {
  if (n <= 0) return { estimate: null, low: null, high: null, n: 0 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, low: Math.max(0, center - half), high: Math.min(1, center + half), n };
}

/**
 * Estimated accuracy of everything released: automation rate × auto-lane accuracy
 * + (1 − automation rate) × 1, as humans decide the rest. The automation rate is a
 * count, not a sample, so the interval is the auto-lane interval mapped through
 * the same linear formula.
 */
export function releasedAccuracy(automationRate: number | null, autoLane: Interval): Interval {
  if (automationRate == null) return { estimate: null, low: null, high: null };
  if (automationRate === 0) return { estimate: 1, low: 1, high: 1 };
  const through = (x: number | null) => (x == null ? null : automationRate * x + (1 - automationRate));
  return { estimate: through(autoLane.estimate), low: through(autoLane.low), high: through(autoLane.high) };
}

export type Counters = Record<string, number>;
const c = (m: Counters, k: string) => m[k] ?? 0;

export type AutomationFigures = {
  volume: number;
  auto: number;
  reviewed: number;
  pending: number;
  corrected: number;
  rejected: number;
  automationRate: number | null;
  overrideRate: number | null;
};

/** The automation figures of one bucket (or the totals) from its summed counters. */
export function automationFigures(m: Counters): AutomationFigures {
  const auto = c(m, "final:auto");
  const reviewed = c(m, "final:reviewed");
  const corrected = c(m, "outcome:corrected");
  const rejected = c(m, "outcome:rejected");
  return {
    volume: c(m, "volume"),
    auto,
    reviewed,
    pending: c(m, "pending"),
    corrected,
    rejected,
    automationRate: rate(auto, auto + reviewed),
    overrideRate: rate(corrected + rejected, reviewed),
  };
}

/** Histogram counts keyed by bucket index → the q-quantile in ms (linear within a bucket; bucket 0 is 0 ms). */
export function histogramQuantile(hist: Map<number, number> | Record<number, number>, q: number): number | null {
  const entries = (hist instanceof Map ? [...hist.entries()] : Object.entries(hist).map(([k, v]) => [Number(k), v] as [number, number]))
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const target = q * total;
  let before = 0;
  for (const [k, n] of entries) {
    if (before + n >= target) {
      if (k === 0) return 0;
      const lo = ttdBucketLower(k);
      const hi = ttdBucketUpper(k);
      return lo + ((hi - lo) * Math.max(0, target - before)) / n;
    }
    before += n;
  }
  return ttdBucketUpper(entries[entries.length - 1][0]);
}

/** Histogram buckets from counters named `ttd:<route>:<k>`, optionally for one route. */
export function ttdHistogram(m: Counters, route?: "auto" | "review"): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of Object.entries(m)) {
    if (!k.startsWith("ttd:")) continue;
    const [, r, b] = k.split(":");
    if (route && r !== route) continue;
    out.set(Number(b), (out.get(Number(b)) ?? 0) + v);
  }
  return out;
}

export function timeToDecision(m: Counters, route?: "auto" | "review"): { p50Ms: number | null; p95Ms: number | null } {
  const h = ttdHistogram(m, route);
  const round = (x: number | null) => (x == null ? null : Math.round(x));
  return { p50Ms: round(histogramQuantile(h, 0.5)), p95Ms: round(histogramQuantile(h, 0.95)) };
}

export type QualityFigures = {
  autoLaneAccuracy: Interval & { n: number };
  estimatedReleasedAccuracy: Interval;
  timeToDecision: { p50Ms: number | null; p95Ms: number | null };
};

export function qualityFigures(m: Counters): QualityFigures {
  const autoLaneAccuracy = wilson(c(m, "qa:approved"), c(m, "qa:reviewed"));
  const automationRate = automationFigures(m).automationRate;
  return { autoLaneAccuracy, estimatedReleasedAccuracy: releasedAccuracy(automationRate, autoLaneAccuracy), timeToDecision: timeToDecision(m) };
}
