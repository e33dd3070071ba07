/**
 * The confidence threshold what-if (issue 14): for every candidate threshold, the automation rate and the
 * estimated error rate of what would be released automatically, from the labelled decisions of a period; and
 * the threshold to recommend for a target accuracy. Pure: the caller reads the period's decisions.
 *
 * Weighting. Below the current threshold every decision went to review, so every one has a verdict (sampling
 * probability 1); above it only a QA sample did (probability = the QA rate of the policy version that routed
 * it). Each verdict stands for 1/p decisions (the weights the dataset exports carry), so the released lane's
 * error rate is the weighted share of verdicts that changed the model's output.
 *
 * Interval. Wilson's 95% interval on Kish's effective sample size n_eff = (Σw)² / Σw²: with equal weights it is
 * the plain Wilson interval on n verdicts; the more unequal the weights (a few QA samples standing for many
 * decisions beside many reviewed ones), the fewer verdicts the interval counts, so it widens honestly. Wilson,
 * not the normal approximation, because error rates near 0 are the interesting ones and Wilson stays inside
 * [0, 1] with sensible width there; not a bootstrap, because a curve of 100 thresholds must be cheap to
 * recompute on every page view. Decisions still waiting for review are assumed to be like the reviewed ones
 * of the same lane (missing at random).
 *
 * Recommendation. The lowest candidate threshold whose upper error bound meets the target (1 − target
 * accuracy), with at least MIN_EFFECTIVE verdicts behind it. The lanes of the candidates are nested (a lower
 * threshold releases all a higher one does, and more), so their estimates move together and picking the
 * lowest is not a hundred independent chances of a lucky estimate; the property test checks on synthetic data
 * with a known truth that the recommended threshold meets the target in at least 95% of seeds.
 */
import { wilson } from "../reports/metrics";

/** One decision of the period, as the analysis sees it. */
export type ThresholdCase = {
  confidence: number;
  /** Would be released by every rule of the policy other than the overall confidence threshold (fields, flags). */
  eligible: boolean;
  /** The human verdict, when there is one: true when the model's output stood (approved), false when changed. */
  correct: boolean | null;
  /** The probability that it got a verdict when it was routed (1 in the review lane, the QA rate in the auto lane); null: none. */
  samplingProbability: number | null;
};

export type CurvePoint = {
  threshold: number;
  automationRate: number | null;
  errorRate: number | null;
  errorLow: number | null;
  errorHigh: number | null;
  /** Effective number of verdicts behind the error estimate (Kish), rounded to 0.1. */
  n: number;
};

export type Recommendation = { threshold: number; automationRate: number | null; errorRate: number | null; errorHigh: number | null };

export type ThresholdAnalysis = {
  current: Omit<CurvePoint, "n" | "threshold"> & { threshold: number | null };
  curve: CurvePoint[];
  recommended: Recommendation | null;
  reason: string;
  /** Decisions of the period with a verdict. */
  labelled: number;
  /** When nothing can be recommended yet: how many more QA verdicts (and decisions at the current QA rate) it would take at the lowest threshold whose estimate meets the target; null when none does. */
  moreQaReviews: number | null;
  moreDecisions: number | null;
  /** The QA sample rate that would narrow the interval to `width` over a period as long as this one, at `threshold` (the recommended one, else the current); null rate: no decision would be released there. */
  qaSampling: { width: number; threshold: number; rate: number | null; currentRate: number; sentence: string };
};

/** Fewer effective verdicts than this behind a threshold and it is never recommended. */
export const MIN_EFFECTIVE = 30;

/** Candidate thresholds: 0.00 to 1.00 in steps of 0.01, and the current one. */
export function candidates(current: number | null): number[] {
  const grid = Array.from({ length: 101 }, (_, i) => i / 100);
  if (current !== null && !grid.includes(current)) grid.push(current);
  return grid.sort((a, b) => a - b);
}

/** The weighted error rate and its interval over the verdicts given. */
export function weightedError(verdicts: { correct: boolean; weight: number }[]) {
  let sw = 0;
  let sw2 = 0;
  let wrong = 0;
  for (const v of verdicts) {
    sw += v.weight;
    sw2 += v.weight * v.weight;
    if (!v.correct) wrong += v.weight;
  }
  if (sw <= 0) return { errorRate: null, errorLow: null, errorHigh: null, n: 0 };
  const p = wrong / sw;
  const nEff = (sw * sw) / sw2;
  const w = wilson(p * nEff, nEff);
  return { errorRate: p, errorLow: w.low, errorHigh: w.high, n: nEff };
}

/** One point of the curve: what releasing every eligible decision at or above `t` would have done. */
export function pointAt(cases: readonly ThresholdCase[], t: number): CurvePoint {
  let released = 0;
  const verdicts: { correct: boolean; weight: number }[] = [];
  for (const c of cases) {
    if (!c.eligible || c.confidence < t) continue;
    released++;
    if (c.correct !== null && c.samplingProbability && c.samplingProbability > 0) verdicts.push({ correct: c.correct, weight: 1 / c.samplingProbability });
  }
  const e = weightedError(verdicts);
  return { threshold: t, automationRate: cases.length ? released / cases.length : null, ...e, n: Math.round(e.n * 10) / 10 };
}

/** The upper bound of Wilson's interval for an error rate `p` on `n` verdicts. */
function upperBound(p: number, n: number): number {
  return wilson(p * n, n).high ?? 1;
}

/**
 * The verdicts needed for the upper error bound at error rate `p` to reach `maxError`; null when no number will
 * (the estimate itself is at or above it). Binary search on n.
 */
export function verdictsNeeded(p: number, maxError: number): number | null {
  if (p >= maxError) return null;
  let lo = 1;
  let hi = 1;
  while (upperBound(p, hi) > maxError) {
    hi *= 2;
    if (hi > 1e9) return null;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (upperBound(p, mid) > maxError) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The QA sample rate that would give an interval of `width` (high − low) at error rate `p` over `autoVolume` auto decisions. */
export function qaRateForWidth(p: number, width: number, autoVolume: number): number | null {
  if (autoVolume <= 0 || width <= 0) return null;
  let n = 1;
  const widthAt = (k: number) => {
    const w = wilson(p * k, k);
    return (w.high ?? 1) - (w.low ?? 0);
  };
  while (widthAt(n) > width && n < 1e9) n *= 2;
  let lo = Math.max(1, Math.floor(n / 2));
  let hi = n;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (widthAt(mid) > width) lo = mid;
    else hi = mid;
  }
  return Math.min(1, hi / autoVolume);
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** The whole analysis: the curve, the current threshold's point, the recommendation for `targetAccuracy`. */
export function analyseThresholds(
  cases: readonly ThresholdCase[],
  opts: { current: number | null; targetAccuracy: number; qaRate: number; intervalWidth: number },
): ThresholdAnalysis {
  const curve = candidates(opts.current).map((t) => pointAt(cases, t));
  const labelled = cases.filter((c) => c.correct !== null).length;
  const now = pointAt(cases, opts.current ?? 0);
  const { n: _n, ...currentFigures } = now;
  const current = { ...currentFigures, threshold: opts.current };
  const maxError = 1 - opts.targetAccuracy;
  // The lowest threshold whose upper error bound meets the target, on enough verdicts.
  const chosen = curve.find((p) => p.n >= MIN_EFFECTIVE && p.errorHigh !== null && p.errorHigh <= maxError) ?? null;
  const target = pct(opts.targetAccuracy);
  const qaSampling = samplingFor(cases, chosen ?? { ...now, threshold: opts.current ?? 0 }, maxError, opts);
  if (chosen) {
    return {
      current,
      curve,
      recommended: { threshold: chosen.threshold, automationRate: chosen.automationRate, errorRate: chosen.errorRate, errorHigh: chosen.errorHigh },
      reason: `To be at least ${target} accurate on what is released automatically (95% confidence), set the threshold to ${chosen.threshold}: that automates ${pct(chosen.automationRate ?? 0)} of decisions, with an estimated error rate of ${pct(chosen.errorRate ?? 0)} (at most ${pct(chosen.errorHigh ?? 0)}).`,
      labelled,
      moreQaReviews: null,
      moreDecisions: null,
      qaSampling,
    };
  }
  // Nothing meets it yet. The lowest threshold whose estimate meets the target on enough verdicts is the one more
  // verdicts could confirm: how many it would take. When there is none, more QA will not help.
  const candidate = curve.find((p) => p.n >= MIN_EFFECTIVE && p.errorRate !== null && p.errorRate < maxError) ?? null;
  const needed = candidate ? verdictsNeeded(candidate.errorRate!, maxError) : null;
  const more = candidate && needed !== null ? Math.max(1, Math.ceil(needed - candidate.n)) : null;
  const atRate = (n: number) =>
    opts.qaRate > 0
      ? ` (about ${Math.ceil(n / opts.qaRate)} more automated decisions at the current QA rate of ${pct(opts.qaRate)})`
      : " (the QA sample rate is 0: raise it)";
  const reason =
    now.errorRate === null && !candidate
      ? `No threshold can be recommended for ${target}: too few decisions have a human verdict in this period.`
      : !candidate
        ? `No threshold can be recommended for ${target}: the estimated error rate is above ${pct(maxError)} at every threshold with enough verdicts${now.errorRate === null ? "" : ` (${pct(now.errorRate)} at the current one)`}, and more QA reviews will not change that.`
        : `No threshold can be recommended for ${target} yet: at ${candidate.threshold} the estimated error rate is ${pct(candidate.errorRate!)}, but the labelled data cannot rule out more than ${pct(maxError)}. About ${more} more QA reviews there would be needed${atRate(more!)}.`;
  return {
    current,
    curve,
    recommended: null,
    reason,
    labelled,
    moreQaReviews: more,
    moreDecisions: more !== null && opts.qaRate > 0 ? Math.ceil(more / opts.qaRate) : null,
    qaSampling,
  };
}

/**
 * The QA rate for an interval of `intervalWidth` at one point of the curve, over as many released decisions as
 * that point released in the period. The width is worked out at the point's estimated error rate, or at the
 * target's error rate when there is no estimate yet (the rate it must be told apart from).
 */
function samplingFor(
  cases: readonly ThresholdCase[],
  point: Pick<CurvePoint, "threshold" | "automationRate" | "errorRate">,
  maxError: number,
  opts: { qaRate: number; intervalWidth: number },
): ThresholdAnalysis["qaSampling"] {
  const released = Math.round((point.automationRate ?? 0) * cases.length);
  const p = point.errorRate ?? maxError;
  const rate = qaRateForWidth(p, opts.intervalWidth, released);
  const points = `${Math.round(opts.intervalWidth * 1000) / 10} points`;
  const sentence =
    rate === null
      ? `Nothing would be released at ${point.threshold} in a period like this one, so no QA rate can narrow its interval.`
      : rate >= 1
        ? `Even reviewing every decision released at ${point.threshold} would not narrow the interval to ${points} over a period like this one: a longer period would.`
        : `To narrow the error interval at ${point.threshold} to ${points} over a period like this one, QA-sample ${pct(rate)} of the automated decisions (the policy samples ${pct(opts.qaRate)}).`;
  return { width: opts.intervalWidth, threshold: point.threshold, rate, currentRate: opts.qaRate, sentence };
}
