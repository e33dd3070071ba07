/**
 * The resolution the reviewer report documents for its medians (teams/reviewer-metrics.ts): a median read from the
 * handling-time histogram is exact below 500 ms and within MEDIAN_RELATIVE_ERROR (1.1%) of the exact median above.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { median } from "~/domain/teams/figures";
import {
  addCounters,
  binValue,
  handlingBin,
  histogramMetric,
  HISTOGRAM_EXACT_BELOW,
  medianOfHistogram,
  MEDIAN_RELATIVE_ERROR,
  type Counters,
} from "~/domain/teams/reviewer-metrics";

const histogram = (values: number[]): Counters =>
  addCounters(
    new Map(),
    values.map((v) => [histogramMetric(v), 1] as [string, number]),
  );
const ms = fc.integer({ min: 0, max: 30 * 86_400_000 });

describe("the handling-time histogram", () => {
  it("stands every value below 500 ms for itself, and every other within MEDIAN_RELATIVE_ERROR", () => {
    for (let v = 0; v < HISTOGRAM_EXACT_BELOW; v++) expect(binValue(handlingBin(v))).toBe(v);
    fc.assert(
      fc.property(ms, (v) => {
        expect(Math.abs(binValue(handlingBin(v)) - v)).toBeLessThanOrEqual(MEDIAN_RELATIVE_ERROR * v);
      }),
      { numRuns: 20_000 },
    );
    // Bins only grow: a larger time never lands in a smaller bin.
    for (let v = 1; v < 200_000; v += 7) expect(handlingBin(v)).toBeGreaterThanOrEqual(handlingBin(v - 1));
  });

  it("gives the median to that resolution (exact when every value is below 500 ms), the mean of the middle two for an even count", () => {
    fc.assert(
      fc.property(fc.array(ms, { minLength: 1, maxLength: 60 }), (values) => {
        const exact = median(values)!;
        expect(Math.abs(medianOfHistogram(histogram(values))! - exact)).toBeLessThanOrEqual(MEDIAN_RELATIVE_ERROR * exact);
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: HISTOGRAM_EXACT_BELOW - 1 }), { minLength: 1, maxLength: 60 }), (values) => {
        expect(medianOfHistogram(histogram(values))).toBe(median(values));
      }),
    );
    expect(medianOfHistogram(new Map())).toBeNull();
  });
});
