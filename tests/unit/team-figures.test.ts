/** The reviewer figures (app/domain/teams/figures.ts) over hand-made facts. */
import { describe, expect, it } from "vitest";
import {
  figuresByReviewerAndQueue,
  looksLikeRubberStamping,
  median,
  peerFiguresOf,
  RUBBER_STAMP_MAX_MEDIAN_MS,
  RUBBER_STAMP_MIN_VERDICTS,
  type AssignedFact,
  type ReviewFact,
} from "~/domain/teams/figures";

const H = 3_600_000;
const NOW = Date.parse("2026-03-11T12:00:00Z");
const w = {
  period: { from: NOW - 7 * 24 * H, to: NOW + H },
  today: { from: Date.parse("2026-03-11T00:00:00Z"), to: Date.parse("2026-03-12T00:00:00Z") },
  week: { from: Date.parse("2026-03-09T00:00:00Z"), to: Date.parse("2026-03-16T00:00:00Z") },
};

function review(over: Partial<ReviewFact>): ReviewFact {
  return {
    reviewerId: "a",
    typeKey: "inv",
    at: NOW - H,
    action: "approve",
    handlingMs: 1000,
    dueAt: NOW,
    overturned: false,
    fourEyesAgreed: null,
    qaAgreed: null,
    ...over,
  };
}

describe("median", () => {
  it("is the middle value, or the mean of the middle two", () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("figures per reviewer and queue", () => {
  it("counts each window, the median, overturned verdicts, SLA breaches and assigned tasks", () => {
    const reviews: ReviewFact[] = [
      review({ at: NOW - H, handlingMs: 3000 }),
      review({ at: NOW - 2 * H, handlingMs: 1000, overturned: true, action: "correct" }),
      review({ at: NOW - 20 * H, handlingMs: null, action: "escalate" }), // yesterday; an escalation is no verdict
      review({ at: NOW - 3 * 24 * H, handlingMs: 2000, dueAt: NOW - 4 * 24 * H, action: "reject" }), // last week, late
      review({ at: NOW - 10 * 24 * H, handlingMs: 99 }), // outside every window
      review({ reviewerId: "b", at: NOW - H, handlingMs: 500 }),
    ];
    const assigned: AssignedFact[] = [
      { assigneeId: "a", typeKey: "inv", open: 2, overdue: 1, oldestCreatedAt: NOW - 5 * H },
      { assigneeId: "c", typeKey: "po", open: 1, overdue: 0, oldestCreatedAt: NOW - H },
    ];
    const rows = figuresByReviewerAndQueue(reviews, assigned, w, NOW);
    expect(rows.map((r) => [r.reviewerId, r.typeKey])).toEqual([
      ["a", "inv"],
      ["b", "inv"],
      ["c", "po"],
    ]);
    expect(rows[0].figures).toEqual({
      reviews: 4,
      reviewsToday: 2,
      reviewsThisWeek: 3,
      medianHandlingMs: 2000,
      timedReviews: 3,
      verdicts: 3,
      overturned: 1,
      overturnedShare: 1 / 3,
      approvals: 1,
      approvalRate: 1 / 3,
      fourEyes: { checked: 0, agreed: 0, rate: null },
      qa: { checked: 0, agreed: 0, rate: null },
      lateReviews: 1,
      openAssigned: 2,
      overdueAssigned: 1,
      oldestAssignedAgeMs: 5 * H,
      // b's one approval in the period, 500 ms.
      peers: {
        reviewers: 1,
        verdicts: 1,
        approvals: 1,
        approvalRate: 1,
        medianHandlingMs: 500,
        timedReviews: 1,
        fourEyes: { checked: 0, agreed: 0, rate: null },
        qa: { checked: 0, agreed: 0, rate: null },
      },
      rubberStamping: false,
    });
    expect(rows[2].figures).toMatchObject({
      reviews: 0,
      verdicts: 0,
      overturnedShare: null,
      approvalRate: null,
      medianHandlingMs: null,
      openAssigned: 1,
      oldestAssignedAgeMs: H,
      peers: null,
      rubberStamping: false,
    });
  });

  it("leaves out pairs with nothing to show", () => {
    expect(figuresByReviewerAndQueue([review({ at: NOW - 30 * 24 * H })], [], w, NOW)).toEqual([]);
  });
});

describe("approvals, agreement by who checked, peers and the rubber-stamping flag", () => {
  /** n reviews by one reviewer on "inv", `approve` of them approvals, each taking `ms`. */
  const many = (reviewerId: string, n: number, approve: number, ms: number, over: Partial<ReviewFact> = {}) =>
    Array.from({ length: n }, (_, i) => review({ reviewerId, action: i < approve ? "approve" : "correct", handlingMs: ms, ...over }));

  it("counts approvals and splits agreement between four-eyes partners and QA checks; escalations are no verdicts", () => {
    const reviews = [
      review({ fourEyesAgreed: true }),
      review({ fourEyesAgreed: false, action: "correct" }),
      review({ qaAgreed: true, action: "reject" }),
      review({ fourEyesAgreed: true, qaAgreed: false }),
      review({ action: "escalate", fourEyesAgreed: true }), // not a verdict: not counted even if a fact says so
    ];
    const [row] = figuresByReviewerAndQueue(reviews, [], w, NOW);
    expect(row.figures).toMatchObject({
      verdicts: 4,
      approvals: 2,
      approvalRate: 0.5,
      fourEyes: { checked: 3, agreed: 2, rate: 2 / 3 },
      qa: { checked: 2, agreed: 1, rate: 0.5 },
      peers: null,
    });
  });

  it("sets each reviewer against the others on the same queue, pooled, and only there", () => {
    const reviews = [
      ...many("fast", 30, 30, 1500),
      ...many("b", 10, 7, 20_000, { fourEyesAgreed: true }),
      ...many("c", 10, 7, 30_000, { fourEyesAgreed: false }),
      review({ reviewerId: "c", at: NOW - 10 * 24 * H, handlingMs: 1 }), // outside the period: no part of the peers
      review({ reviewerId: "d", typeKey: "po", handlingMs: 100 }), // another queue: nobody's peer here
    ];
    const rows = figuresByReviewerAndQueue(reviews, [], w, NOW);
    const of = (id: string) => rows.find((r) => r.reviewerId === id)!.figures;
    expect(of("fast").approvalRate).toBe(1);
    expect(of("fast").peers).toEqual({
      reviewers: 2,
      verdicts: 20,
      approvals: 14,
      approvalRate: 0.7,
      medianHandlingMs: 25_000, // pooled: ten at 20 s and ten at 30 s
      timedReviews: 20,
      fourEyes: { checked: 20, agreed: 10, rate: 0.5 },
      qa: { checked: 0, agreed: 0, rate: null },
    });
    expect(of("fast").rubberStamping).toBe(true);
    // b's peers are "fast" and c.
    expect(of("b").peers).toMatchObject({ reviewers: 2, verdicts: 40, approvals: 37, medianHandlingMs: 1500 });
    expect(of("b").rubberStamping).toBe(false);
    expect(of("d").peers).toBeNull();
    expect(rows.filter((r) => r.figures.rubberStamping).map((r) => r.reviewerId)).toEqual(["fast"]);
  });

  it("flags only near-total approval over enough verdicts, much faster than peers and fast outright", () => {
    const mine = { verdicts: 30, approvalRate: 0.98, medianHandlingMs: 2000 };
    const peers = { medianHandlingMs: 20_000 };
    expect(looksLikeRubberStamping(mine, peers)).toBe(true);
    expect(looksLikeRubberStamping({ ...mine, approvalRate: 0.97 }, peers)).toBe(true);
    expect(looksLikeRubberStamping({ ...mine, approvalRate: 0.96 }, peers)).toBe(false);
    expect(looksLikeRubberStamping({ ...mine, verdicts: RUBBER_STAMP_MIN_VERDICTS }, peers)).toBe(true);
    expect(looksLikeRubberStamping({ ...mine, verdicts: RUBBER_STAMP_MIN_VERDICTS - 1 }, peers)).toBe(false);
    // Not under half the peers' median.
    expect(looksLikeRubberStamping(mine, { medianHandlingMs: 4000 })).toBe(false);
    expect(looksLikeRubberStamping(mine, { medianHandlingMs: 4001 })).toBe(true);
    // Half the peers' time on a slow queue is not a glance.
    expect(looksLikeRubberStamping({ ...mine, medianHandlingMs: RUBBER_STAMP_MAX_MEDIAN_MS }, { medianHandlingMs: 60_000 })).toBe(false);
    // Nothing to compare with.
    expect(looksLikeRubberStamping(mine, null)).toBe(false);
    expect(looksLikeRubberStamping(mine, { medianHandlingMs: null })).toBe(false);
    expect(looksLikeRubberStamping({ ...mine, medianHandlingMs: null }, peers)).toBe(false);
    expect(looksLikeRubberStamping({ ...mine, approvalRate: null, verdicts: 0 }, peers)).toBe(false);
  });

  it("peers: null when nobody else reviewed on the queue in the period; escalations count as reviews, not verdicts", () => {
    expect(peerFiguresOf([review({})], "a", w.period)).toBeNull();
    expect(peerFiguresOf([review({ reviewerId: "b", action: "escalate", handlingMs: 7000 })], "a", w.period)).toEqual({
      reviewers: 1,
      verdicts: 0,
      approvals: 0,
      approvalRate: null,
      medianHandlingMs: 7000,
      timedReviews: 1,
      fourEyes: { checked: 0, agreed: 0, rate: null },
      qa: { checked: 0, agreed: 0, rate: null },
    });
  });
});
