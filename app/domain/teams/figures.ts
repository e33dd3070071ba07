/**
 * The reviewer figures of the team page, the reviewer report API and the queue page's summary card,
 * as pure functions over the facts the database hands back (one fact per review, one per group of
 * open assigned tasks). What each figure means:
 *
 * - reviews: verdicts given in the period [from, to) (approve, correct, reject and escalate alike);
 *   reviewsToday / reviewsThisWeek: given in the organisation's calendar day / ISO week (Monday) holding now.
 * - medianHandlingMs: the median, over the period's reviews, of the time from the claim to the verdict
 *   (reviews.handling_ms; reviews recorded before it was measured are left out); with an even number of
 *   values, the mean of the middle two. timedReviews: how many values it has. The report reads it from a
 *   histogram of handling times (reviewer-metrics.ts): exact below 500 ms, else within 1.1% of the exact median.
 * - verdicts: the period's reviews that state an outcome (not escalations); overturned: those that the
 *   last later review of the same decision by someone else contradicts (a four-eyes partner, a QA check
 *   or the owner's escalation verdict), compared as four-eyes compares a pair (verdictsAgree). The last
 *   word counts: a first reviewer whom the second contradicted but the owner then agreed with is not
 *   overturned (the second reviewer is); while the owner has not decided, the second reviewer's
 *   disagreement stands. A later escalation is not an outcome and overturns nothing.
 *   overturnedShare = overturned / verdicts.
 * - approvals / approvalRate: the period's verdicts that approve, and approvals / verdicts.
 * - fourEyes / qa: agreement split by who checked. checked: the period's verdicts that a later review of
 *   the same decision by someone else on a four-eyes second-review task (fourEyes) or on a QA task (qa)
 *   looked at, the last such review counting; agreed: those it agrees with (verdictsAgree); rate =
 *   agreed / checked. The owner's escalation verdicts count towards overturned only. (QA tasks sample
 *   only the automated lane today, where no reviewer's verdict comes first: qa stays at 0 checked until
 *   QA checks sample reviewed decisions too.)
 * - SLA breaches, two figures: lateReviews, the period's reviews given after their task was due
 *   (review time > task due_at); overdueAssigned, open assigned tasks already past due now.
 * - openAssigned / oldestAssignedAgeMs: tasks assigned to the reviewer and still open or claimed
 *   (escalations left out: they always belong to the type's owner), and the age (since the task was
 *   created) of the oldest.
 *
 * Per (reviewer, queue), the report also sets each reviewer against their peers: the other reviewers with
 * reviews in the period on the same queue, pooled (their verdicts, approvals, handling times and checks
 * taken together, not averaged per person), and flags a pattern that looks like rubber-stamping (see
 * looksLikeRubberStamping).
 */
import { addCounters, medianOfHistogram, METRICS, type Counters } from "./reviewer-metrics";

export type Window = { from: number; to: number };

export type ReviewFact = {
  reviewerId: string;
  typeKey: string;
  at: number;
  action: string;
  handlingMs: number | null;
  dueAt: number;
  overturned: boolean;
  /** Whether the last later four-eyes second review by someone else agrees; null: none (or an escalation). */
  fourEyesAgreed: boolean | null;
  /** Whether the last later QA check by someone else agrees; null: none (or an escalation). */
  qaAgreed: boolean | null;
};

export type AssignedFact = { assigneeId: string; typeKey: string; open: number; overdue: number; oldestCreatedAt: number | null };

/** Verdicts a later review by someone else looked at, and how many of them it agreed with. */
export type Agreement = { checked: number; agreed: number; rate: number | null };

export type Figures = {
  reviews: number;
  reviewsToday: number;
  reviewsThisWeek: number;
  medianHandlingMs: number | null;
  timedReviews: number;
  verdicts: number;
  overturned: number;
  overturnedShare: number | null;
  approvals: number;
  approvalRate: number | null;
  fourEyes: Agreement;
  qa: Agreement;
  lateReviews: number;
  openAssigned: number;
  overdueAssigned: number;
  oldestAssignedAgeMs: number | null;
};

/** The median of a list of numbers (the mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const inWindow = (at: number, w: Window) => at >= w.from && at < w.to;

function agreementOf(checks: readonly (boolean | null)[]): Agreement {
  const checked = checks.filter((c) => c != null).length;
  const agreed = checks.filter((c) => c === true).length;
  return { checked, agreed, rate: checked ? agreed / checked : null };
}

/** Figures for one group of facts (one reviewer and queue, or one reviewer across queues). */
export function figuresOf(
  reviews: readonly ReviewFact[],
  assigned: readonly AssignedFact[],
  w: { period: Window; today: Window; week: Window },
  now: number,
): Figures {
  const period = reviews.filter((r) => inWindow(r.at, w.period));
  const timed = period.flatMap((r) => (r.handlingMs == null ? [] : [Number(r.handlingMs)]));
  const verdicts = period.filter((r) => r.action !== "escalate");
  const overturned = verdicts.filter((r) => r.overturned).length;
  const approvals = verdicts.filter((r) => r.action === "approve").length;
  const oldest = assigned.reduce<number | null>(
    (m, a) => (a.oldestCreatedAt == null ? m : m == null ? a.oldestCreatedAt : Math.min(m, a.oldestCreatedAt)),
    null,
  );
  return {
    reviews: period.length,
    reviewsToday: reviews.filter((r) => inWindow(r.at, w.today)).length,
    reviewsThisWeek: reviews.filter((r) => inWindow(r.at, w.week)).length,
    medianHandlingMs: median(timed),
    timedReviews: timed.length,
    verdicts: verdicts.length,
    overturned,
    overturnedShare: verdicts.length ? overturned / verdicts.length : null,
    approvals,
    approvalRate: verdicts.length ? approvals / verdicts.length : null,
    fourEyes: agreementOf(verdicts.map((r) => r.fourEyesAgreed)),
    qa: agreementOf(verdicts.map((r) => r.qaAgreed)),
    lateReviews: period.filter((r) => r.at > r.dueAt).length,
    openAssigned: assigned.reduce((s, a) => s + a.open, 0),
    overdueAssigned: assigned.reduce((s, a) => s + a.overdue, 0),
    oldestAssignedAgeMs: oldest == null ? null : Math.max(0, now - oldest),
  };
}

/** Whether a group's figures show anything at all (rows of nothing are left off the table). */
export function hasAny(f: Figures): boolean {
  return f.reviews > 0 || f.reviewsToday > 0 || f.reviewsThisWeek > 0 || f.openAssigned > 0;
}

/** The other reviewers on a queue, pooled: their verdicts, approvals, handling times and checks together. */
export type PeerFigures = {
  /** How many other reviewers gave reviews on the queue in the period. */
  reviewers: number;
  verdicts: number;
  approvals: number;
  approvalRate: number | null;
  /** The median over all their timed reviews in the period (not a median of their medians). */
  medianHandlingMs: number | null;
  timedReviews: number;
  fourEyes: Agreement;
  qa: Agreement;
};

export type ReviewerQueueFigures = Figures & {
  /** The other reviewers on the same queue in the period; null when nobody else reviewed there. */
  peers: PeerFigures | null;
  /** The pattern looks like rubber-stamping (looksLikeRubberStamping): something for a manager to look into, not a verdict. */
  rubberStamping: boolean;
};

/**
 * When a reviewer's pattern looks like rubber-stamping: nearly everything approved, and much faster than
 * the peers on the same queue. A high approval rate alone is normal on a queue the model gets right, and
 * speed alone is normal for an experienced reviewer; together, against peers who see the same items, they
 * suggest items are waved through unread. The thresholds:
 * - RUBBER_STAMP_MIN_APPROVAL_RATE: approvals / verdicts at least this (near-total approval);
 * - RUBBER_STAMP_MIN_VERDICTS: at least this many verdicts in the period, so a handful of easy items
 *   does not raise it;
 * - RUBBER_STAMP_PEER_SHARE: the median time per item under this share of the peers' pooled median
 *   (no peers with timed reviews, no flag: there is nothing to compare with);
 * - RUBBER_STAMP_MAX_MEDIAN_MS: and under this absolute time, about what reading an item's fields takes;
 *   on a queue where everyone needs minutes, being twice as fast as peers is not yet a glance.
 */
export const RUBBER_STAMP_MIN_APPROVAL_RATE = 0.97;
export const RUBBER_STAMP_MIN_VERDICTS = 20;
export const RUBBER_STAMP_PEER_SHARE = 0.5;
export const RUBBER_STAMP_MAX_MEDIAN_MS = 5000;

export function looksLikeRubberStamping(
  mine: Pick<Figures, "verdicts" | "approvalRate" | "medianHandlingMs">,
  peers: Pick<PeerFigures, "medianHandlingMs"> | null,
): boolean {
  if (mine.verdicts < RUBBER_STAMP_MIN_VERDICTS || mine.approvalRate == null || mine.approvalRate < RUBBER_STAMP_MIN_APPROVAL_RATE) return false;
  if (mine.medianHandlingMs == null || peers?.medianHandlingMs == null) return false;
  return mine.medianHandlingMs < RUBBER_STAMP_PEER_SHARE * peers.medianHandlingMs && mine.medianHandlingMs < RUBBER_STAMP_MAX_MEDIAN_MS;
}

/** The peers of `reviewerId` on a queue, from the queue's reviews in the period (anyone's). */
export function peerFiguresOf(queueReviews: readonly ReviewFact[], reviewerId: string, period: Window): PeerFigures | null {
  const theirs = queueReviews.filter((r) => r.reviewerId !== reviewerId && inWindow(r.at, period));
  if (theirs.length === 0) return null;
  const verdicts = theirs.filter((r) => r.action !== "escalate");
  const approvals = verdicts.filter((r) => r.action === "approve").length;
  const timed = theirs.flatMap((r) => (r.handlingMs == null ? [] : [Number(r.handlingMs)]));
  return {
    reviewers: new Set(theirs.map((r) => r.reviewerId)).size,
    verdicts: verdicts.length,
    approvals,
    approvalRate: verdicts.length ? approvals / verdicts.length : null,
    medianHandlingMs: median(timed),
    timedReviews: timed.length,
    fourEyes: agreementOf(verdicts.map((r) => r.fourEyesAgreed)),
    qa: agreementOf(verdicts.map((r) => r.qaAgreed)),
  };
}

/** Figures per (reviewer, queue), each against the peers on the same queue, for every pair with anything to show. */
export function figuresByReviewerAndQueue(
  reviews: readonly ReviewFact[],
  assigned: readonly AssignedFact[],
  w: { period: Window; today: Window; week: Window },
  now: number,
): { reviewerId: string; typeKey: string; figures: ReviewerQueueFigures }[] {
  const groups = new Map<string, { reviewerId: string; typeKey: string; reviews: ReviewFact[]; assigned: AssignedFact[] }>();
  const group = (reviewerId: string, typeKey: string) => {
    const k = JSON.stringify([reviewerId, typeKey]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { reviewerId, typeKey, reviews: [], assigned: [] }));
    return g;
  };
  const byQueue = new Map<string, ReviewFact[]>();
  for (const r of reviews) {
    group(r.reviewerId, r.typeKey).reviews.push(r);
    const queue = byQueue.get(r.typeKey);
    if (queue) queue.push(r);
    else byQueue.set(r.typeKey, [r]);
  }
  for (const a of assigned) group(a.assigneeId, a.typeKey).assigned.push(a);
  return [...groups.values()]
    .map((g) => {
      const figures = figuresOf(g.reviews, g.assigned, w, now);
      const peers = peerFiguresOf(byQueue.get(g.typeKey) ?? [], g.reviewerId, w.period);
      return { reviewerId: g.reviewerId, typeKey: g.typeKey, figures: { ...figures, peers, rubberStamping: looksLikeRubberStamping(figures, peers) } };
    })
    .filter((g) => hasAny(g.figures));
}

/** What the report reads per (reviewer, queue): the period's counters (reviewer-metrics.ts) and the reviews today and this week. */
export type CounterGroup = { reviewerId: string; typeKey: string; period: Counters; reviewsToday: number; reviewsThisWeek: number };

const count = (c: Counters, metric: string) => c.get(metric) ?? 0;

function agreementOfCounters(c: Counters, checked: string, agreed: string): Agreement {
  const n = count(c, checked);
  const a = count(c, agreed);
  return { checked: n, agreed: a, rate: n ? a / n : null };
}

/** figuresOf, from counters: the same figures, the median read from the handling-time histogram (to MEDIAN_RELATIVE_ERROR). */
export function figuresOfCounters(g: Omit<CounterGroup, "reviewerId" | "typeKey">, assigned: readonly AssignedFact[], now: number): Figures {
  const c = g.period;
  const verdicts = count(c, METRICS.verdicts);
  const overturned = count(c, METRICS.overturned);
  const approvals = count(c, METRICS.approvals);
  const oldest = assigned.reduce<number | null>(
    (m, a) => (a.oldestCreatedAt == null ? m : m == null ? a.oldestCreatedAt : Math.min(m, a.oldestCreatedAt)),
    null,
  );
  return {
    reviews: count(c, METRICS.reviews),
    reviewsToday: g.reviewsToday,
    reviewsThisWeek: g.reviewsThisWeek,
    medianHandlingMs: medianOfHistogram(c),
    timedReviews: count(c, METRICS.timed),
    verdicts,
    overturned,
    overturnedShare: verdicts ? overturned / verdicts : null,
    approvals,
    approvalRate: verdicts ? approvals / verdicts : null,
    fourEyes: agreementOfCounters(c, METRICS.fourEyesChecked, METRICS.fourEyesAgreed),
    qa: agreementOfCounters(c, METRICS.qaChecked, METRICS.qaAgreed),
    lateReviews: count(c, METRICS.late),
    openAssigned: assigned.reduce((s, a) => s + a.open, 0),
    overdueAssigned: assigned.reduce((s, a) => s + a.overdue, 0),
    oldestAssignedAgeMs: oldest == null ? null : Math.max(0, now - oldest),
  };
}

/** peerFiguresOf, from counters: the other reviewers' period counters pooled (summed, histograms included). */
export function peerFiguresOfCounters(others: readonly Counters[]): PeerFigures | null {
  const theirs = others.filter((c) => count(c, METRICS.reviews) > 0);
  if (theirs.length === 0) return null;
  const pooled: Counters = new Map();
  for (const c of theirs) addCounters(pooled, c);
  const verdicts = count(pooled, METRICS.verdicts);
  const approvals = count(pooled, METRICS.approvals);
  return {
    reviewers: theirs.length,
    verdicts,
    approvals,
    approvalRate: verdicts ? approvals / verdicts : null,
    medianHandlingMs: medianOfHistogram(pooled),
    timedReviews: count(pooled, METRICS.timed),
    fourEyes: agreementOfCounters(pooled, METRICS.fourEyesChecked, METRICS.fourEyesAgreed),
    qa: agreementOfCounters(pooled, METRICS.qaChecked, METRICS.qaAgreed),
  };
}

/** figuresByReviewerAndQueue, from counters: figures per (reviewer, queue) against the queue's other reviewers. */
export function figuresByReviewerAndQueueOfCounters(
  counters: readonly CounterGroup[],
  assigned: readonly AssignedFact[],
  now: number,
): { reviewerId: string; typeKey: string; figures: ReviewerQueueFigures }[] {
  const empty = (reviewerId: string, typeKey: string): CounterGroup => ({ reviewerId, typeKey, period: new Map(), reviewsToday: 0, reviewsThisWeek: 0 });
  const groups = new Map<string, { c: CounterGroup; assigned: AssignedFact[] }>();
  const group = (reviewerId: string, typeKey: string) => {
    const k = JSON.stringify([reviewerId, typeKey]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { c: empty(reviewerId, typeKey), assigned: [] }));
    return g;
  };
  for (const c of counters) group(c.reviewerId, c.typeKey).c = c;
  for (const a of assigned) group(a.assigneeId, a.typeKey).assigned.push(a);
  const byQueue = new Map<string, CounterGroup[]>();
  for (const { c } of groups.values()) byQueue.set(c.typeKey, [...(byQueue.get(c.typeKey) ?? []), c]);
  return [...groups.values()]
    .map(({ c, assigned }) => {
      const figures = figuresOfCounters(c, assigned, now);
      const peers = peerFiguresOfCounters((byQueue.get(c.typeKey) ?? []).filter((o) => o.reviewerId !== c.reviewerId).map((o) => o.period));
      return { reviewerId: c.reviewerId, typeKey: c.typeKey, figures: { ...figures, peers, rubberStamping: looksLikeRubberStamping(figures, peers) } };
    })
    .filter((g) => hasAny(g.figures));
}
