/** The reviewer figures (app/domain/teams/figures.ts) over hand-made facts. */
import { describe, expect, it } from "vitest";
import { figuresByReviewerAndQueue, median, type AssignedFact, type ReviewFact } from "~/domain/teams/figures";

const H = 3_600_000;
const NOW = Date.parse("2026-03-11T12:00:00Z");
const w = {
  period: { from: NOW - 7 * 24 * H, to: NOW + H },
  today: { from: Date.parse("2026-03-11T00:00:00Z"), to: Date.parse("2026-03-12T00:00:00Z") },
  week: { from: Date.parse("2026-03-09T00:00:00Z"), to: Date.parse("2026-03-16T00:00:00Z") },
};

function review(over: Partial<ReviewFact>): ReviewFact {
  return { reviewerId: "a", typeKey: "inv", at: NOW - H, action: "approve", handlingMs: 1000, dueAt: NOW, overturned: false, ...over };
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
      lateReviews: 1,
      openAssigned: 2,
      overdueAssigned: 1,
      oldestAssignedAgeMs: 5 * H,
    });
    expect(rows[2].figures).toMatchObject({ reviews: 0, verdicts: 0, overturnedShare: null, medianHandlingMs: null, openAssigned: 1, oldestAssignedAgeMs: H });
  });

  it("leaves out pairs with nothing to show", () => {
    expect(figuresByReviewerAndQueue([review({ at: NOW - 30 * 24 * H })], [], w, NOW)).toEqual([]);
  });
});
