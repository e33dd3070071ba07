/**
 * The reviewer figures of the team page, the reviewer report API and the queue page's summary card,
 * as pure functions over the facts the database hands back (one fact per review, one per group of
 * open assigned tasks). What each figure means:
 *
 * - reviews: verdicts given in the period [from, to) (approve, correct, reject and escalate alike);
 *   reviewsToday / reviewsThisWeek: given in the organisation's calendar day / ISO week (Monday) holding now.
 * - medianHandlingMs: the median, over the period's reviews, of the time from the claim to the verdict
 *   (reviews.handling_ms; reviews recorded before it was measured are left out); with an even number of
 *   values, the mean of the middle two. timedReviews: how many values it has.
 * - verdicts: the period's reviews that state an outcome (not escalations); overturned: those that the
 *   last later review of the same decision by someone else contradicts (a four-eyes partner, a QA check
 *   or the owner's escalation verdict), compared as four-eyes compares a pair (verdictsAgree). The last
 *   word counts: a first reviewer whom the second contradicted but the owner then agreed with is not
 *   overturned (the second reviewer is); while the owner has not decided, the second reviewer's
 *   disagreement stands. A later escalation is not an outcome and overturns nothing.
 *   overturnedShare = overturned / verdicts.
 * - SLA breaches, two figures: lateReviews, the period's reviews given after their task was due
 *   (review time > task due_at); overdueAssigned, open assigned tasks already past due now.
 * - openAssigned / oldestAssignedAgeMs: tasks assigned to the reviewer and still open or claimed
 *   (escalations left out: they always belong to the type's owner), and the age (since the task was
 *   created) of the oldest.
 */
export type Window = { from: number; to: number };

export type ReviewFact = {
  reviewerId: string;
  typeKey: string;
  at: number;
  action: string;
  handlingMs: number | null;
  dueAt: number;
  overturned: boolean;
};

export type AssignedFact = { assigneeId: string; typeKey: string; open: number; overdue: number; oldestCreatedAt: number | null };

export type Figures = {
  reviews: number;
  reviewsToday: number;
  reviewsThisWeek: number;
  medianHandlingMs: number | null;
  timedReviews: number;
  verdicts: number;
  overturned: number;
  overturnedShare: number | null;
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

/** Figures per (reviewer, queue), for every pair with anything to show. */
export function figuresByReviewerAndQueue(
  reviews: readonly ReviewFact[],
  assigned: readonly AssignedFact[],
  w: { period: Window; today: Window; week: Window },
  now: number,
): { reviewerId: string; typeKey: string; figures: Figures }[] {
  const groups = new Map<string, { reviewerId: string; typeKey: string; reviews: ReviewFact[]; assigned: AssignedFact[] }>();
  const group = (reviewerId: string, typeKey: string) => {
    const k = JSON.stringify([reviewerId, typeKey]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { reviewerId, typeKey, reviews: [], assigned: [] }));
    return g;
  };
  for (const r of reviews) group(r.reviewerId, r.typeKey).reviews.push(r);
  for (const a of assigned) group(a.assigneeId, a.typeKey).assigned.push(a);
  return [...groups.values()]
    .map((g) => ({ reviewerId: g.reviewerId, typeKey: g.typeKey, figures: figuresOf(g.reviews, g.assigned, w, now) }))
    .filter((g) => hasAny(g.figures));
}
