/**
 * The statistics the monitors decide with (issue 15). Pure, and deliberately conservative: a monitor fires
 * on a change that is significant, large enough to matter and backed by enough counts, so that stationary
 * traffic stays quiet.
 *
 * - Two-proportion z-test (pooled), one-sided: is the recent rate above the baseline's? With a minimum count
 *   on each side and a minimum effect (absolute rise), because at volume any rise is "significant".
 * - Population stability index over fixed bins: Σ (r − b)·ln(r / b) over the bins' shares, each share
 *   floored at PSI_FLOOR so an empty bin counts as rare, not infinite. The usual reading: < 0.1 stable,
 *   0.1–0.25 a moderate shift, > 0.25 a major one.
 */
import { errorFunction } from "simple-statistics";

/** The standard normal's upper tail, P(Z > z), from the error function (accurate to about 1e-7, enough for p-values down to 1e-5). */
export function upperTail(z: number): number {
  return Math.max(0, 0.5 * (1 - errorFunction(z / Math.SQRT2)));
}

export type ProportionTest = {
  baseline: { k: number; n: number; rate: number | null };
  recent: { k: number; n: number; rate: number | null };
  /** recent − baseline. */
  effect: number | null;
  z: number | null;
  /** One-sided p-value of "recent is above baseline". */
  p: number | null;
};

/** One-sided two-proportion z-test of recent (k1 of n1) against baseline (k0 of n0). */
export function twoProportionTest(k0: number, n0: number, k1: number, n1: number): ProportionTest {
  const r0 = n0 > 0 ? k0 / n0 : null;
  const r1 = n1 > 0 ? k1 / n1 : null;
  const out: ProportionTest = { baseline: { k: k0, n: n0, rate: r0 }, recent: { k: k1, n: n1, rate: r1 }, effect: null, z: null, p: null };
  if (r0 === null || r1 === null) return out;
  out.effect = r1 - r0;
  const pooled = (k0 + k1) / (n0 + n1);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1));
  if (se === 0) {
    out.z = out.effect > 0 ? Infinity : out.effect < 0 ? -Infinity : 0;
    out.p = out.effect > 0 ? 0 : 1;
    return out;
  }
  out.z = out.effect / se;
  out.p = upperTail(out.z);
  return out;
}

export const PSI_FLOOR = 1e-4;

/** PSI of `recent` against `baseline`, both counts over the same bins; null when either side is empty. */
export function psi(baseline: readonly number[], recent: readonly number[]): number | null {
  const b = baseline.reduce((s, v) => s + v, 0);
  const r = recent.reduce((s, v) => s + v, 0);
  if (b === 0 || r === 0) return null;
  let sum = 0;
  for (let i = 0; i < Math.max(baseline.length, recent.length); i++) {
    const pb = Math.max((baseline[i] ?? 0) / b, PSI_FLOOR);
    const pr = Math.max((recent[i] ?? 0) / r, PSI_FLOOR);
    sum += (pr - pb) * Math.log(pr / pb);
  }
  return sum;
}

/**
 * P(X ≥ x) for X ~ χ² with `df` degrees of freedom, by the Wilson–Hilferty cube-root normal approximation
 * (within a few percent of the exact tail down to p ≈ 1e-6 for df ≥ 3, which is all a bar needs).
 */
export function chiSquareTail(x: number, df: number): number {
  if (!(x > 0)) return 1;
  const h = 2 / (9 * df);
  return upperTail((Math.cbrt(x / df) - (1 - h)) / Math.sqrt(h));
}

/** Two-sided test of a count against its expected value (Poisson, normal approximation): z and p. */
export function poissonTest(observed: number, expected: number): { z: number; p: number } {
  if (!(expected > 0)) return { z: observed > 0 ? Infinity : 0, p: observed > 0 ? 0 : 1 };
  const z = (observed - expected) / Math.sqrt(expected);
  return { z, p: Math.min(1, 2 * upperTail(Math.abs(z))) };
}
