/**
 * The reviewer report read from the reviewer roll-up (whole days and hours) and the reviews at its windows'
 * edges: for a store of reviews spread over days (four-eyes pairs that agree and disagree, the owner resolving
 * escalations, QA checks of reviewed decisions, late verdicts, escalations), given through the domain's verdict
 * path at chosen instants, its figures equal the figures figures.ts computes from every review of the windows
 * (figuresByReviewerAndQueue, the report's computation before the roll-up), with facts this test derives from
 * the review and task rows itself. Windows with edges inside hours: a custom period from/to mid-hour and an
 * organisation zone half an hour off UTC (Asia/Kolkata, +5:30) for today and this week. Medians to the
 * histogram's resolution (MEDIAN_RELATIVE_ERROR). Then the backfill of a store that had reviews before the
 * roll-up: the migration's own statement leaves the backfill row, the report reads the reviews meanwhile,
 * reviews keep coming (one completes a four-eyes pair begun before), and the backfill, a few decisions a
 * transaction, ends with the roll-up equal to a from-scratch aggregate and the same figures.
 */
import fs from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { asc, eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { sqlRun, type Db } from "@db/client.server";
import { reviewerRollups, reviews, tasks, users } from "@db/schema/index";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { aggregateFromScratch, backfillReviewerRollups, rebuildReviewerRollups, reviewerRollupReady, rollupSnapshot } from "~/domain/reports/rollups.server";
import { submitReview } from "~/domain/review/review.server";
import { setOrgTimeZone } from "~/domain/settings/org-settings.server";
import { figuresByReviewerAndQueue, type AssignedFact, type ReviewFact } from "~/domain/teams/figures";
import { reviewerReport, type ReviewerReport } from "~/domain/teams/progress.server";
import { MEDIAN_RELATIVE_ERROR } from "~/domain/teams/reviewer-metrics";
import { invoiceDecision, invoiceType, makeType, makeUser, onPostgres, testDb } from "../support/db";

const MIN = 60_000;
const HOUR = 60 * MIN;
/** A Thursday: the scenario's four days reach into the next ISO week (from Monday the 9th) at their end. */
const T0 = Date.parse("2026-03-05T00:00:00Z");

type User = Awaited<ReturnType<typeof makeUser>>;

/** A small deterministic generator (mulberry32), so the scenario is the same on every run and store. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The reviewer roll-up's counters of a snapshot, sorted. (The decisions' roll-up is not compared here: a QA check of
 * a review-lane decision, which the scenario arranges, is something the product never creates and that roll-up
 * does not derive from scratch.)
 */
const sorted = (m: Map<string, number>) => [...m.entries()].filter(([k]) => k.startsWith("reviewer|")).sort(([a], [b]) => a.localeCompare(b));

/** The figures from every review of the windows: facts derived here from the rows, figures by figures.ts's figuresByReviewerAndQueue. */
async function expectedRows(db: Db, r: ReviewerReport) {
  const rows = await db
    .select({
      seq: reviews.seq,
      decisionId: reviews.decisionId,
      reviewerId: reviews.reviewerId,
      taskKind: reviews.taskKind,
      action: reviews.action,
      output: reviews.output,
      at: reviews.createdAt,
      handlingMs: reviews.handlingMs,
      dueAt: tasks.dueAt,
      typeKey: tasks.typeKey,
    })
    .from(reviews)
    .innerJoin(tasks, eq(tasks.id, reviews.taskId))
    .orderBy(asc(reviews.seq));
  const agree = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
    a.action === b.action && (a.action !== "correct" || isDeepStrictEqual(a.output, b.output));
  const facts: ReviewFact[] = rows.map((x, i) => {
    const later = rows.slice(i + 1).filter((l) => l.decisionId === x.decisionId && l.reviewerId !== x.reviewerId && l.action !== "escalate");
    const judged = (kind: string | null) => {
      const l = later.filter((y) => kind === null || y.taskKind === kind).at(-1);
      return x.action === "escalate" || !l ? null : agree(x, l);
    };
    return {
      reviewerId: x.reviewerId,
      typeKey: x.typeKey,
      at: Number(x.at),
      action: x.action,
      handlingMs: x.handlingMs == null ? null : Number(x.handlingMs),
      dueAt: Number(x.dueAt),
      overturned: judged(null) === false,
      fourEyesAgreed: judged("second"),
      qaAgreed: judged("qa"),
    };
  });
  const assigned: AssignedFact[] = [];
  const now = Date.parse(r.generatedAt);
  for (const t of await db.select().from(tasks))
    if (t.assigneeId && (t.status === "open" || t.status === "claimed") && t.kind !== "escalation")
      assigned.push({ assigneeId: t.assigneeId, typeKey: t.typeKey, open: 1, overdue: t.dueAt < now ? 1 : 0, oldestCreatedAt: t.createdAt });
  const window = (w: { from: string; to: string }) => ({ from: Date.parse(w.from), to: Date.parse(w.to) });
  const people = new Map((await db.select().from(users)).map((u) => [u.id, u]));
  return figuresByReviewerAndQueue(facts, assigned, { period: window(r.period), today: window(r.today), week: window(r.week) }, now)
    .filter((g) => r.type === null || g.typeKey === r.type)
    .map((g) => ({ reviewer: { email: people.get(g.reviewerId)!.email, name: people.get(g.reviewerId)!.name }, type: g.typeKey, ...g.figures }))
    .sort((a, b) => a.reviewer.email.localeCompare(b.reviewer.email) || a.type.localeCompare(b.type));
}

/** A median read from the histogram: exact below 500 ms, else within MEDIAN_RELATIVE_ERROR. */
function closeMedian(actual: number | null | undefined, exact: number | null | undefined): boolean {
  if (actual == null || exact == null) return actual === exact;
  // Each of the (one or two) middle values is exact below 500 ms and within MEDIAN_RELATIVE_ERROR of itself above.
  return Math.abs(actual - exact) <= MEDIAN_RELATIVE_ERROR * exact;
}

/** The report's rows equal the figures from every review; the medians to the histogram's resolution. */
async function expectFromScratch(db: Db, r: ReviewerReport) {
  const wanted = await expectedRows(db, r);
  type Row = (typeof wanted)[number];
  const strip = (rows: Row[]) =>
    rows.map((x) => ({
      ...x,
      medianHandlingMs: typeof x.medianHandlingMs,
      peers: x.peers && { ...x.peers, medianHandlingMs: typeof x.peers.medianHandlingMs },
    }));
  expect(strip(r.rows)).toEqual(strip(wanted));
  r.rows.forEach((x, i) => {
    expect(closeMedian(x.medianHandlingMs, wanted[i].medianHandlingMs), `${x.reviewer.email}: ${x.medianHandlingMs} ~ ${wanted[i].medianHandlingMs}`).toBe(
      true,
    );
    expect(closeMedian(x.peers?.medianHandlingMs, wanted[i].peers?.medianHandlingMs), `peers of ${x.reviewer.email}`).toBe(true);
  });
  return wanted;
}

describe("the reviewer report from the reviewer roll-up", () => {
  let db: Db;
  let owner: User;
  let team: User[];
  let at = T0 + 7 * MIN;
  let n = 0;
  const rand = random(13);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];

  const correction = (total: number) => ({ action: "correct", output: { total, currency: "EUR", lines: [] }, reasonCodes: ["WRONG_TOTAL"] });
  async function newDecision(flagged: boolean): Promise<string> {
    const [res] = await ingestDecisions(db, [invoiceDecision(`rr-${++n}`, { confidence: 0.5, flags: flagged ? ["policy:aml"] : [] })], {
      batch: false,
      actor: "test",
      now: at,
    });
    return (res as { id: string }).id;
  }
  /** Claims the decision's open task as `who` and gives the verdict `handlingMs` later (the clock moves on). */
  async function verdict(who: User, decisionId: string, body: Record<string, unknown>, handlingMs = Math.round(200 + rand() * 120_000)) {
    const task = (await db.select().from(tasks).where(eq(tasks.decisionId, decisionId))).find((t) => t.status === "open")!;
    expect(await claim(db, who, { task: task.id }, { now: at })).toBeTruthy();
    at += handlingMs;
    await submitReview(db, who, task.id, body, { now: at });
    return task;
  }
  /** A QA check of a finalized decision (QA samples only the automated lane today: the task is arranged in the store). */
  async function qaTask(decisionId: string) {
    await db.insert(tasks).values({ id: `tsk_qa_${++n}`, decisionId, typeKey: "invoice", kind: "qa", status: "open", dueAt: at + HOUR, createdAt: at });
  }
  const anyVerdict = () =>
    pick([{ action: "approve" }, { action: "approve" }, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] }, correction(130), correction(140)]);

  /** Decisions over the next hours: plain reviews, four-eyes pairs, owner resolutions, QA checks, escalations and late verdicts. */
  async function scenario(decisions: number) {
    for (let i = 0; i < decisions; i++) {
      at += Math.round(rand() * 120 * MIN);
      const [first, second, qa] = [...team].sort(() => rand() - 0.5);
      const flagged = rand() < 0.4;
      const d = await newDecision(flagged);
      if (rand() < 0.1)
        await db
          .update(tasks)
          .set({ dueAt: at - MIN })
          .where(eq(tasks.decisionId, d));
      const v1 = rand() < 0.1 ? { action: "escalate", note: "unsure" } : anyVerdict();
      await verdict(first, d, v1, i % 7 === 0 ? Math.round(rand() * 400) : undefined);
      if (v1.action === "escalate") {
        if (rand() < 0.7) await verdict(owner, d, anyVerdict());
        continue;
      }
      if (flagged) {
        // The second reviewer agrees about half the time; a disagreement goes to the owner, who may side with either.
        const v2 = rand() < 0.5 ? v1 : anyVerdict();
        await verdict(second, d, v2);
        const escalated = (await db.select().from(tasks).where(eq(tasks.decisionId, d))).some((t) => t.kind === "escalation" && t.status === "open");
        if (escalated && rand() < 0.8) await verdict(owner, d, pick([v1, v2, anyVerdict()]));
      }
      if (rand() < 0.2) {
        await qaTask(d);
        await verdict(qa, d, pick([{ action: "approve" }, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] }, v1]));
      }
    }
  }

  beforeAll(async () => {
    db = await testDb();
    owner = await makeUser(db, "manager");
    team = [await makeUser(db, "reviewer"), await makeUser(db, "reviewer"), await makeUser(db, "reviewer")];
    await makeType(
      db,
      invoiceType(owner.email, {
        routing: { minConfidence: 0.9, fieldMinConfidence: {}, reviewFlags: [], qaSampleRate: 0 },
        fourEyes: { flags: ["policy:*"] },
      }),
    );
    // The last later review counts: b overturns a's correction, then the owner agrees with a (a is not overturned,
    // b is); c's approval is checked by a four-eyes second review that agrees, then by a QA check that does not.
    const [a, b, c] = team;
    const d1 = await newDecision(true);
    await verdict(a, d1, correction(130));
    await verdict(b, d1, { action: "approve" });
    await verdict(owner, d1, correction(130));
    const d2 = await newDecision(true);
    await verdict(c, d2, { action: "approve" });
    await verdict(a, d2, { action: "approve" });
    await qaTask(d2);
    await verdict(b, d2, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    await scenario(90);
  }, 120_000);

  it("keeps the roll-up equal to a from-scratch aggregate of the reviews", async () => {
    expect(await reviewerRollupReady(db)).toBe(true);
    const snapshot = await rollupSnapshot(db);
    expect(sorted(snapshot).length).toBeGreaterThan(100);
    expect(sorted(snapshot)).toEqual(sorted(await aggregateFromScratch(db)));
  });

  it("answers the figures of every review of the windows, for periods and zones whose edges fall inside hours", async () => {
    const end = at;
    expect(end - T0).toBeGreaterThan(3 * 24 * HOUR);
    const windows = [
      // Mid-hour at both ends, across whole days.
      { from: T0 + 5 * HOUR + 13 * MIN + 7_000, to: end - 9 * HOUR - 41 * MIN },
      // Inside one hour; inside one day; from the start to the end.
      { from: T0 + 30 * HOUR + 10 * MIN, to: T0 + 30 * HOUR + 50 * MIN },
      { from: T0 + 26 * HOUR + 1, to: T0 + 45 * HOUR - 1 },
      { from: T0, to: end + 1 },
    ];
    const checked = new Set<string>();
    for (const zone of ["UTC", "Asia/Kolkata"]) {
      await setOrgTimeZone(db, { timeZone: zone }, "test");
      for (const w of windows) {
        // "Now" inside the scenario, so today and this week (from 18:30 UTC in Kolkata) cut through its reviews.
        const report = await reviewerReport(db, { type: null, ...w }, { now: T0 + 50 * HOUR + 20 * MIN });
        expect(report.timeZone).toBe(zone);
        const rows = await expectFromScratch(db, report);
        for (const r of rows) {
          if (r.fourEyes.checked) checked.add("fourEyes");
          if (r.qa.checked) checked.add("qa");
          if (r.overturned) checked.add("overturned");
          if (r.lateReviews) checked.add("late");
          if (r.reviewsToday) checked.add("today");
          if (r.medianHandlingMs != null && r.medianHandlingMs >= 500) checked.add("binned median");
        }
      }
    }
    // The scenario shows every figure (so the comparison did not agree on zeros).
    expect([...checked].sort()).toEqual(["binned median", "fourEyes", "late", "overturned", "qa", "today"]);
    await setOrgTimeZone(db, { timeZone: "UTC" }, "test");
  });

  it("backfills a store that had reviews before the roll-up: the report reads the reviews meanwhile, and the roll-up ends complete", async () => {
    // The store as an upgrade finds it: reviews, no roll-up, and the migration's own statement for the backfill row.
    await db.delete(reviewerRollups);
    const dir = onPostgres() ? "postgres" : "sqlite";
    const file = fs.readdirSync(`db/migrations/${dir}`).find((f) => f.endsWith("_reviewer_rollups.sql"))!;
    const insert = fs.readFileSync(`db/migrations/${dir}/${file}`, "utf8").split("--> statement-breakpoint").at(-1)!;
    expect(insert).toContain("INSERT INTO reviewer_rollup_backfill");
    await sqlRun(db, sql.raw(insert));
    expect(await reviewerRollupReady(db)).toBe(false);
    const period = { type: null, from: T0 + 2 * HOUR + 30 * MIN, to: at + HOUR };
    await expectFromScratch(db, await reviewerReport(db, period, { now: at }));

    // Reviews keep coming meanwhile; one is the second of a four-eyes pair whose first verdict predates the roll-up.
    const [a, b] = team;
    at += 17 * MIN;
    const d = await newDecision(true);
    await verdict(a, d, correction(150));
    await db.delete(reviewerRollups);
    await sqlRun(db, sql`UPDATE reviewer_rollup_backfill SET below_seq = (SELECT max(seq) FROM reviews)`);
    await verdict(b, d, { action: "approve" });
    await scenario(4);

    // A few decisions per transaction, with reviews between the pages.
    let pages = 0;
    for (let r = { decisions: 0, done: false }; !r.done; pages++) {
      r = await backfillReviewerRollups(db, { budgetMs: 0, pageDecisions: 7 });
      if (pages === 3) await scenario(2);
      expect(await reviewerRollupReady(db)).toBe(r.done);
      await expectFromScratch(db, await reviewerReport(db, { ...period, to: at + HOUR }, { now: at }));
    }
    expect(pages).toBeGreaterThan(5);
    expect(sorted(await rollupSnapshot(db))).toEqual(sorted(await aggregateFromScratch(db)));
    expect(await backfillReviewerRollups(db)).toEqual({ decisions: 0, done: true });

    // rebuildReviewerRollups (for rows rewritten behind the app's back) gives the same counters again.
    const before = await rollupSnapshot(db);
    await rebuildReviewerRollups(db);
    expect(sorted(await rollupSnapshot(db))).toEqual(sorted(before));
  });
});
