/**
 * The reviewer figures as counters (figures.ts defines the figures): what one review contributes, what a
 * decision's review history contributes (the reviewer roll-up, reports/rollups.server.ts), and the
 * handling-time histogram the medians are read from. Pure and isomorphic.
 *
 * Metrics, each counted for the review's reviewer and queue in the span (hour, UTC day) of its created_at:
 * - reviews: every review (escalations included); late: given after its task was due (created_at > due_at);
 * - timed: reviews with a handling time, and `h:<bin>` per handling-time bin (handlingBin);
 * - verdicts (not escalations), approvals, overturned (the last later review of the decision by someone
 *   else, not an escalation, disagrees), fe_checked / fe_agreed (the last such review on a four-eyes second
 *   task), qa_checked / qa_agreed (on a QA task), compared with verdictsAgree.
 *
 * Medians come from the histogram: below HISTOGRAM_EXACT_BELOW ms every whole millisecond is its own bin (exact);
 * above, bins grow by HISTOGRAM_RATIO (2%) and stand for their geometric middle rounded to the millisecond, so a
 * bin's value is within sqrt(1.02) - 1 (0.995%) + 0.5 ms / 500 ms (0.1%) of every value in it: a median read from
 * the histogram (a bin's value, or the mean of two) is within 1.1% of the exact one (MEDIAN_RELATIVE_ERROR).
 */
import { verdictsAgree } from "../review/four-eyes";

export const HISTOGRAM_EXACT_BELOW = 500;
export const HISTOGRAM_RATIO = 1.02;
/** The largest relative error of a median read from the histogram (see the header). */
export const MEDIAN_RELATIVE_ERROR = 0.011;
const LN_RATIO = Math.log(HISTOGRAM_RATIO);

/** The histogram bin of a handling time (ms). */
export function handlingBin(ms: number): number {
  const v = Math.max(0, Math.round(ms));
  if (v < HISTOGRAM_EXACT_BELOW) return v;
  return HISTOGRAM_EXACT_BELOW + Math.floor(Math.log(v / HISTOGRAM_EXACT_BELOW) / LN_RATIO);
}

/** The value a bin stands for: itself below HISTOGRAM_EXACT_BELOW, else its geometric middle rounded to the ms. */
export function binValue(bin: number): number {
  if (bin < HISTOGRAM_EXACT_BELOW) return bin;
  return Math.round(HISTOGRAM_EXACT_BELOW * HISTOGRAM_RATIO ** (bin - HISTOGRAM_EXACT_BELOW + 0.5));
}

export const HISTOGRAM_PREFIX = "h:" as const;
export const histogramMetric = (ms: number) => `${HISTOGRAM_PREFIX}${handlingBin(ms)}`;

export const METRICS = {
  reviews: "reviews",
  late: "late",
  timed: "timed",
  verdicts: "verdicts",
  approvals: "approvals",
  overturned: "overturned",
  fourEyesChecked: "fe_checked",
  fourEyesAgreed: "fe_agreed",
  qaChecked: "qa_checked",
  qaAgreed: "qa_agreed",
} as const;

/** One review as the figures see it: its own fields and how the later reviews of its decision by others judged it. */
export type ReviewOutcome = {
  action: string;
  handlingMs: number | null;
  late: boolean;
  overturned: boolean;
  /** Whether the last later four-eyes second review by someone else agrees; null: none (or an escalation). */
  fourEyesAgreed: boolean | null;
  /** Whether the last later QA check by someone else agrees; null: none (or an escalation). */
  qaAgreed: boolean | null;
};

/** The counters one review adds (metric, value). */
export function reviewMetrics(r: ReviewOutcome): [string, number][] {
  const out: [string, number][] = [[METRICS.reviews, 1]];
  if (r.late) out.push([METRICS.late, 1]);
  if (r.handlingMs != null) out.push([METRICS.timed, 1], [histogramMetric(r.handlingMs), 1]);
  if (r.action === "escalate") return out;
  out.push([METRICS.verdicts, 1]);
  if (r.action === "approve") out.push([METRICS.approvals, 1]);
  if (r.overturned) out.push([METRICS.overturned, 1]);
  if (r.fourEyesAgreed != null) out.push([METRICS.fourEyesChecked, 1], ...(r.fourEyesAgreed ? [[METRICS.fourEyesAgreed, 1] as [string, number]] : []));
  if (r.qaAgreed != null) out.push([METRICS.qaChecked, 1], ...(r.qaAgreed ? [[METRICS.qaAgreed, 1] as [string, number]] : []));
  return out;
}

/** One review of a decision's history, with its task's kind and due time. */
export type ReviewedFact = {
  seq: number;
  reviewerId: string;
  taskKind: string;
  action: string;
  /** The corrected output (corrections only). */
  output: unknown;
  createdAt: number;
  handlingMs: number | null;
  /** Its task's due time. */
  dueAt: number;
};

/** Each review of a decision's history (in seq order) with what the later reviews by others made of it. */
export function outcomesOf(history: readonly ReviewedFact[]): (ReviewedFact & ReviewOutcome)[] {
  const sorted = [...history].sort((a, b) => a.seq - b.seq);
  return sorted.map((r, i) => {
    let any: ReviewedFact | undefined;
    let second: ReviewedFact | undefined;
    let qa: ReviewedFact | undefined;
    for (const l of sorted.slice(i + 1)) {
      if (l.reviewerId === r.reviewerId || l.action === "escalate") continue;
      any = l;
      if (l.taskKind === "second") second = l;
      if (l.taskKind === "qa") qa = l;
    }
    const agrees = (l: ReviewedFact | undefined) =>
      r.action === "escalate" || !l ? null : verdictsAgree({ action: r.action, output: r.output }, { action: l.action, output: l.output });
    return {
      ...r,
      late: r.createdAt > r.dueAt,
      overturned: agrees(any) === false,
      fourEyesAgreed: agrees(second),
      qaAgreed: agrees(qa),
    };
  });
}

/** Counters come in hours and UTC days: a report reads whole days, then whole hours, then the reviews at its edges. */
export const SPANS = [3_600_000, 86_400_000] as const;

/** The counter rows (reviewer, span, start, metric, value) a decision's review history contributes. */
export function historyRows(history: readonly ReviewedFact[]): [string, number, number, string, number][] {
  const out: [string, number, number, string, number][] = [];
  for (const r of outcomesOf(history))
    for (const [metric, v] of reviewMetrics(r)) for (const span of SPANS) out.push([r.reviewerId, span, Math.floor(r.createdAt / span) * span, metric, v]);
  return out;
}

/** Counters by metric (one reviewer and queue, or a pool of them, over some window). */
export type Counters = Map<string, number>;

export function addCounters(into: Counters, from: Iterable<[string, number]>): Counters {
  for (const [m, v] of from) into.set(m, (into.get(m) ?? 0) + v);
  return into;
}

/** The median read from the histogram counters (null: no timed reviews); see the header for its resolution. */
export function medianOfHistogram(c: Counters): number | null {
  const bins: [number, number][] = [];
  for (const [m, v] of c) if (m.startsWith(HISTOGRAM_PREFIX) && v > 0) bins.push([Number(m.slice(HISTOGRAM_PREFIX.length)), v]);
  const n = bins.reduce((s, [, v]) => s + v, 0);
  if (n === 0) return null;
  bins.sort((a, b) => a[0] - b[0]);
  const at = (k: number) => {
    let seen = 0;
    for (const [bin, v] of bins) if ((seen += v) > k) return binValue(bin);
    throw new Error("unreachable");
  };
  return n % 2 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}
