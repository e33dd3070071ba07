/**
 * Each reviewer's progress, per queue (decision type): what the team page, GET /api/v1/reports/reviewers
 * and the queue page's summary card show. The figures are defined in figures.ts; the report computes them
 * from counters (teams/reviewer-metrics.ts), read with SQL written once for both stores:
 * - each window (the period, today, this week) is cut into whole UTC days, whole hours and the sub-hour
 *   pieces at its edges. The days and hours are summed from the reviewer roll-up (reviewer_rollups, written
 *   with every review: reports/rollups.server.ts) in one grouped statement; the edges are read from the
 *   reviews themselves: the review histories of the decisions reviewed there, judged by the rule the roll-up
 *   counts with (outcomesOf in reviewer-metrics.ts: the last later review by someone else). So a report
 *   reads at most (days + 48 hours) × reviewers × queues × metrics counters and the reviews of at most six
 *   sub-hour pieces, however many reviews its period holds. Until the roll-up's backfill is done (a store
 *   upgraded with reviews: backfillReviewerRollups), the windows are read from the reviews alone;
 * - open assigned tasks per (assignee, queue), through the assignee index.
 * "Today" and "this week" are calendar days and ISO weeks in the organisation's time zone (a setting).
 */
import { inArray, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { sqlAll, type DbOrTx } from "@db/client.server";
import { users } from "@db/schema/index";
import { countIf } from "@db/sql";
import { getDecisionType, listDecisionTypes } from "../decision-types/decision-types.server";
import { isoInstant, isPeriod, periodRange, type Period } from "../reports/query";
import { reviewerRollupReady } from "../reports/rollups.server";
import { ORG_TIME_ZONE_KEY, orgTimeZone, timeZoneOf } from "../settings/org-settings.server";
import {
  figuresByReviewerAndQueueOfCounters,
  figuresOf,
  RUBBER_STAMP_MAX_MEDIAN_MS,
  RUBBER_STAMP_MIN_APPROVAL_RATE,
  RUBBER_STAMP_MIN_VERDICTS,
  RUBBER_STAMP_PEER_SHARE,
  type Agreement,
  type AssignedFact,
  type CounterGroup,
  type Figures,
  type PeerFigures,
  type ReviewerQueueFigures,
  type ReviewFact,
} from "./figures";
import { reviewHistories } from "../decisions/facts.server";
import { addCounters, MEDIAN_RELATIVE_ERROR, METRICS, outcomesOf, reviewMetrics } from "./reviewer-metrics";
import { AppError, invalid } from "~/lib/errors";
import { requireQuery } from "~/lib/query";
import { DAY, HOUR } from "~/lib/time";
import { localDay, localWeek } from "~/lib/zone";

/** The longest period one report covers. */
export const MAX_PERIOD_DAYS = 92;
export const DEFAULT_PERIOD = "7d" as const;

export const reviewerReportQuerySchema = z
  .object({
    type: z.string().min(1).max(64).optional().describe("Only this decision type (queue); default: every type"),
    from: isoInstant.optional().describe("Start of the period (inclusive); default: 7 days before `to`"),
    to: isoInstant.optional().describe("End of the period (exclusive); default: the next full hour"),
  })
  .strict();

export type ReviewerReportQuery = { type: string | null; from: number; to: number };

/** What the medians' descriptions say of their resolution (reviewer-metrics.ts). */
const RESOLUTION = `read from a histogram of handling times: exact below 500 ms, else within ${(MEDIAN_RELATIVE_ERROR * 100).toFixed(1)}% of the exact median`;

const windowSchema = z.object({ from: z.iso.datetime(), to: z.iso.datetime() });

const agreementSchema = z.object({
  checked: z.number().int().describe("The period's verdicts such a later review looked at (the last one counts)"),
  agreed: z.number().int().describe("Of those, the ones it agrees with (same action; for corrections, the same output)"),
  rate: z.number().nullable().describe("agreed / checked (null: none checked)"),
}) satisfies z.ZodType<Agreement>;

const peersSchema = z.object({
  reviewers: z.number().int().describe("Other reviewers with reviews on the same queue in the period"),
  verdicts: z.number().int(),
  approvals: z.number().int(),
  approvalRate: z.number().nullable().describe("Their approvals / verdicts, pooled"),
  medianHandlingMs: z.number().nullable().describe(`The median over all their timed reviews, in ms (${RESOLUTION})`),
  timedReviews: z.number().int(),
  fourEyes: agreementSchema,
  qa: agreementSchema,
}) satisfies z.ZodType<PeerFigures>;

const figuresSchema = z.object({
  reviews: z.number().int().describe("Reviews given in the period (every action, escalations included)"),
  reviewsToday: z.number().int().describe("Reviews given today, in the organisation's time zone"),
  reviewsThisWeek: z.number().int().describe("Reviews given this ISO week (from Monday), in the organisation's time zone"),
  medianHandlingMs: z.number().nullable().describe(`Median time from claim to verdict over the period's reviews, in ms (null: none measured; ${RESOLUTION})`),
  timedReviews: z.number().int().describe("How many of the period's reviews have a handling time"),
  verdicts: z.number().int().describe("The period's reviews that state an outcome (approve, correct, reject)"),
  overturned: z.number().int().describe("Verdicts a later review of the same decision by someone else contradicts"),
  overturnedShare: z.number().nullable().describe("overturned / verdicts (null: no verdicts)"),
  approvals: z.number().int().describe("The period's verdicts that approve"),
  approvalRate: z.number().nullable().describe("approvals / verdicts (null: no verdicts)"),
  fourEyes: agreementSchema.describe("Verdicts a later four-eyes second review by someone else looked at, and agreed with"),
  qa: agreementSchema.describe(
    "Verdicts a later QA check by someone else looked at, and agreed with (QA tasks sample only the automated lane today: 0 until they sample reviewed decisions)",
  ),
  lateReviews: z.number().int().describe("SLA breaches: the period's reviews given after their task was due"),
  openAssigned: z.number().int().describe("Tasks assigned to the reviewer, open or claimed now (escalations excluded)"),
  overdueAssigned: z.number().int().describe("SLA breaches: of those, past their due time now"),
  oldestAssignedAgeMs: z.number().nullable().describe("Age of the oldest of those, since the task was created, in ms"),
}) satisfies z.ZodType<Figures>;

const reviewerQueueFiguresSchema = figuresSchema.extend({
  peers: peersSchema.nullable().describe("The other reviewers on the same queue in the period, pooled (null: nobody else reviewed there)"),
  rubberStamping: z
    .boolean()
    .describe(
      `The pattern looks like rubber-stamping: approvalRate >= ${RUBBER_STAMP_MIN_APPROVAL_RATE} over at least ${RUBBER_STAMP_MIN_VERDICTS} verdicts, ` +
        `and a median time per item under ${RUBBER_STAMP_PEER_SHARE} of the peers' and under ${RUBBER_STAMP_MAX_MEDIAN_MS} ms`,
    ),
}) satisfies z.ZodType<ReviewerQueueFigures>;

/** GET /api/v1/reports/reviewers. */
export const reviewerReportSchema = z
  .object({
    timeZone: z.string().describe("The organisation's time zone (IANA name), in which today and this week are counted"),
    type: z.string().nullable(),
    period: windowSchema,
    today: windowSchema,
    week: windowSchema,
    generatedAt: z.iso.datetime(),
    rows: z.array(reviewerQueueFiguresSchema.extend({ reviewer: z.object({ email: z.string(), name: z.string() }), type: z.string() })),
  })
  .meta({ id: "ReviewerReport" });

export type ReviewerReport = z.output<typeof reviewerReportSchema>;
export type ReviewerRow = ReviewerReport["rows"][number];

/** Query parameters → a report query (defaults filled in), or a 400 naming the field. */
export async function readReviewerReportQuery(db: DbOrTx, params: URLSearchParams, now = Date.now()): Promise<ReviewerReportQuery> {
  const q = requireQuery(reviewerReportQuerySchema, params);
  const to = q.to ?? periodRange(DEFAULT_PERIOD, now).to;
  const from = q.from ?? to - 7 * DAY;
  if (from >= to) throw invalid("Invalid query", [{ path: "from", message: "from must be before to" }]);
  if (to - from > MAX_PERIOD_DAYS * DAY) throw invalid("Invalid query", [{ path: "from", message: `the period is longer than ${MAX_PERIOD_DAYS} days` }]);
  if (q.type && !(await getDecisionType(db, q.type))) throw invalid("Invalid query", [{ path: "type", message: `unknown decision type "${q.type}"` }]);
  return { type: q.type ?? null, from, to };
}

const iso = (ms: number) => new Date(ms).toISOString();
/**
 * The facts behind the figures of the reviews given in [lower, upper): each with what the later reviews of its
 * decision by others made of it, judged by the same rule the roll-up counts with (outcomesOf over the decision's
 * review history), so the edges read here and the hours summed from the roll-up never disagree.
 */
async function readReviewFacts(db: DbOrTx, f: { type: string | null; lower: number; upper: number }): Promise<ReviewFact[]> {
  const where: SQL[] = [sql`r.created_at >= ${f.lower}`, sql`r.created_at < ${f.upper}`];
  if (f.type) where.push(sql`t.type_key = ${f.type}`);
  const ids = await sqlAll<{ id: string }>(
    db,
    sql`SELECT DISTINCT r.decision_id AS id FROM reviews r JOIN tasks t ON t.id = r.task_id WHERE ${sql.join(where, sql` AND `)}`,
  );
  const out: ReviewFact[] = [];
  for (const { typeKey, history } of (
    await reviewHistories(
      db,
      ids.map((r) => r.id),
    )
  ).values())
    for (const r of outcomesOf(history))
      if (r.createdAt >= f.lower && r.createdAt < f.upper)
        out.push({
          reviewerId: r.reviewerId,
          typeKey,
          at: r.createdAt,
          action: r.action,
          handlingMs: r.handlingMs,
          dueAt: r.dueAt,
          overturned: r.overturned,
          fourEyesAgreed: r.fourEyesAgreed,
          qaAgreed: r.qaAgreed,
        });
  return out;
}

/** Open assigned tasks per (assignee, queue) now. */
async function readAssigned(db: DbOrTx, f: { type: string | null; now: number }): Promise<AssignedFact[]> {
  const assignedWhere: SQL[] = [sql`assignee_id IS NOT NULL`, sql`status IN ('open', 'claimed')`, sql`kind <> 'escalation'`];
  if (f.type) assignedWhere.push(sql`type_key = ${f.type}`);
  const assigned = await sqlAll<{ assigneeId: string; typeKey: string; open: number; overdue: number; oldest: number | null }>(
    db,
    sql`
    SELECT assignee_id AS "assigneeId", type_key AS "typeKey", COUNT(*) AS open, ${countIf(sql`due_at < ${f.now}`)} AS overdue, MIN(created_at) AS oldest
    FROM tasks WHERE ${sql.join(assignedWhere, sql` AND `)}
    GROUP BY assignee_id, type_key`,
  );

  return assigned.map((a) => ({
    assigneeId: a.assigneeId,
    typeKey: a.typeKey,
    open: Number(a.open),
    overdue: Number(a.overdue),
    oldestCreatedAt: a.oldest == null ? null : Number(a.oldest),
  }));
}

type Interval = { from: number; to: number };
/** A window cut into what is read from where: the sub-hour edges from the reviews, whole hours and whole UTC days from the roll-up. */
type Pieces = { raw: Interval[]; hours: Interval[]; days: Interval[] };

const nonEmpty = (list: Interval[]) => list.filter((i) => i.from < i.to);

/** Cuts [from, to) into sub-hour edges, whole hours (within a UTC day's edges) and whole UTC days. */
export function piecesOf(w: Interval): Pieces {
  const h0 = Math.ceil(w.from / HOUR) * HOUR;
  const h1 = Math.floor(w.to / HOUR) * HOUR;
  if (h0 >= h1) return { raw: nonEmpty([w]), hours: [], days: [] };
  const raw = nonEmpty([
    { from: w.from, to: h0 },
    { from: h1, to: w.to },
  ]);
  const d0 = Math.ceil(h0 / DAY) * DAY;
  const d1 = Math.floor(h1 / DAY) * DAY;
  if (d0 >= d1) return { raw, hours: [{ from: h0, to: h1 }], days: [] };
  return {
    raw,
    hours: nonEmpty([
      { from: h0, to: d0 },
      { from: d1, to: h1 },
    ]),
    days: [{ from: d0, to: d1 }],
  };
}

type WindowName = "period" | "today" | "week";

/**
 * The counters of every (reviewer, queue) in each window: whole days and hours summed from the roll-up (the
 * period's every metric, today's and this week's reviews), the edges from the reviews. `rollup` false: the
 * roll-up is not complete yet (its backfill runs), every window is read from the reviews.
 */
async function readCounters(db: DbOrTx, type: string | null, windows: Record<WindowName, Interval>, rollup: boolean): Promise<CounterGroup[]> {
  const names = Object.keys(windows) as WindowName[];
  const pieces = Object.fromEntries(names.map((n) => [n, rollup ? piecesOf(windows[n]) : { raw: nonEmpty([windows[n]]), hours: [], days: [] }])) as Record<
    WindowName,
    Pieces
  >;
  const groups = new Map<string, CounterGroup>();
  const group = (reviewerId: string, typeKey: string) => {
    const k = JSON.stringify([reviewerId, typeKey]);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { reviewerId, typeKey, period: new Map(), reviewsToday: 0, reviewsThisWeek: 0 }));
    return g;
  };
  const add = (n: WindowName, g: CounterGroup, metric: string, v: number) => {
    if (n === "period") addCounters(g.period, [[metric, v]]);
    else if (metric === METRICS.reviews) {
      if (n === "today") g.reviewsToday += v;
      else g.reviewsThisWeek += v;
    }
  };

  // Whole days and hours: one grouped sum over ranges of the roll-up's key (span, start, …).
  const parts: SQL[] = [];
  for (const n of names)
    for (const [span, list] of [
      [HOUR, pieces[n].hours],
      [DAY, pieces[n].days],
    ] as const)
      for (const i of list) {
        const where: SQL[] = [sql`span = ${span}`, sql`start >= ${i.from}`, sql`start < ${i.to}`];
        if (type) where.push(sql`type_key = ${type}`);
        if (n !== "period") where.push(sql`metric = ${METRICS.reviews}`);
        parts.push(sql`SELECT ${sql.raw(`'${n}'`)} AS w, type_key, reviewer_id, metric, value FROM reviewer_rollups WHERE ${sql.join(where, sql` AND `)}`);
      }
  if (parts.length) {
    const rows = await sqlAll<{ w: WindowName; type_key: string; reviewer_id: string; metric: string; v: number | string }>(
      db,
      sql`SELECT w, type_key, reviewer_id, metric, SUM(value) AS v FROM (${sql.join(parts, sql` UNION ALL `)}) x GROUP BY w, type_key, reviewer_id, metric`,
    );
    for (const r of rows) add(r.w, group(r.reviewer_id, r.type_key), r.metric, Number(r.v));
  }

  // The edges: the reviews of each stretch the windows' raw pieces cover (overlapping pieces merged), read once.
  const raw = names.flatMap((n) => pieces[n].raw).sort((a, b) => a.from - b.from);
  const stretches: Interval[] = [];
  for (const i of raw) {
    const last = stretches.at(-1);
    if (last && i.from <= last.to) last.to = Math.max(last.to, i.to);
    else stretches.push({ ...i });
  }
  for (const st of stretches)
    for (const f of await readReviewFacts(db, { type, lower: st.from, upper: st.to })) {
      const metrics = reviewMetrics({ ...f, late: f.at > f.dueAt });
      for (const n of names) {
        if (!pieces[n].raw.some((i) => f.at >= i.from && f.at < i.to)) continue;
        const g = group(f.reviewerId, f.typeKey);
        for (const [metric, v] of metrics) add(n, g, metric, v);
      }
    }
  return [...groups.values()];
}

/** The windows a report counts in: the period, and today and this week in the organisation's zone. */
function windowsAt(q: ReviewerReportQuery, timeZone: string, now: number) {
  return { period: { from: q.from, to: q.to }, today: localDay(now, timeZone), week: localWeek(now, timeZone) };
}

/** Figures per reviewer and queue (the team page, GET /api/v1/reports/reviewers). */
export async function reviewerReport(db: DbOrTx, q: ReviewerReportQuery, opts: { now?: number } = {}): Promise<ReviewerReport> {
  const now = opts.now ?? Date.now();
  const timeZone = await orgTimeZone(db);
  const w = windowsAt(q, timeZone, now);
  const counters = await readCounters(db, q.type, w, await reviewerRollupReady(db));
  const groups = figuresByReviewerAndQueueOfCounters(counters, await readAssigned(db, { type: q.type, now }), now);
  const ids = [...new Set(groups.map((g) => g.reviewerId))];
  const people = new Map(
    (ids.length ? await db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(inArray(users.id, ids)) : []).map((u) => [u.id, u]),
  );
  const rows = groups
    .map((g) => {
      const who = people.get(g.reviewerId);
      return { reviewer: { email: who?.email ?? g.reviewerId, name: who?.name ?? g.reviewerId }, type: g.typeKey, ...g.figures };
    })
    .sort((a, b) => a.reviewer.email.localeCompare(b.reviewer.email) || a.type.localeCompare(b.type));
  return {
    timeZone,
    type: q.type,
    period: { from: iso(w.period.from), to: iso(w.period.to) },
    today: { from: iso(w.today.from), to: iso(w.today.to) },
    week: { from: iso(w.week.from), to: iso(w.week.to) },
    generatedAt: iso(now),
    rows,
  };
}

/** The queue page's card: a reviewer's own figures across their queues (the period: the last 7 days). */
export type MyProgress = Pick<
  Figures,
  "reviewsToday" | "reviewsThisWeek" | "medianHandlingMs" | "lateReviews" | "openAssigned" | "overdueAssigned" | "oldestAssignedAgeMs"
> & {
  timeZone: string;
};

/**
 * A reviewer's own figures in one statement over their own rows (reviews through reviews_reviewer_idx,
 * assigned tasks through tasks_assignee_idx, the time zone setting by key): the last 8 days of reviews
 * cover the last 7 days and the current week in any zone.
 */
export async function myProgress(db: DbOrTx, reviewerId: string, now = Date.now()): Promise<MyProgress> {
  const lower = now - 8 * DAY;
  const rows = await sqlAll<{ k: string; at: number | null; v: number | null; due: number | null; tz: string | null }>(
    db,
    sql`
    SELECT 'r' AS k, r.created_at AS at, r.handling_ms AS v, t.due_at AS due, CAST(NULL AS TEXT) AS tz
    FROM reviews r JOIN tasks t ON t.id = r.task_id
    WHERE r.reviewer_id = ${reviewerId} AND r.created_at >= ${lower}
    UNION ALL
    SELECT 'a', created_at, NULL, due_at, NULL FROM tasks
    WHERE assignee_id = ${reviewerId} AND status IN ('open', 'claimed') AND kind <> 'escalation'
    UNION ALL
    SELECT 's', NULL, NULL, NULL, value FROM settings WHERE key = ${ORG_TIME_ZONE_KEY}`,
  );
  const timeZone = timeZoneOf(rows.find((r) => r.k === "s")?.tz);
  const reviews: ReviewFact[] = rows
    .filter((r) => r.k === "r")
    .map((r) => ({
      reviewerId,
      typeKey: "",
      at: Number(r.at),
      action: "",
      handlingMs: r.v == null ? null : Number(r.v),
      dueAt: Number(r.due),
      overturned: false,
      fourEyesAgreed: null,
      qaAgreed: null,
    }));
  const tasks = rows.filter((r) => r.k === "a");
  const assigned: AssignedFact[] = [
    {
      assigneeId: reviewerId,
      typeKey: "",
      open: tasks.length,
      overdue: tasks.filter((t) => Number(t.due) < now).length,
      oldestCreatedAt: tasks.length ? Math.min(...tasks.map((t) => Number(t.at))) : null,
    },
  ];
  const f = figuresOf(reviews, assigned, windowsAt({ type: null, ...periodRange(DEFAULT_PERIOD, now) }, timeZone, now), now);
  return {
    timeZone,
    reviewsToday: f.reviewsToday,
    reviewsThisWeek: f.reviewsThisWeek,
    medianHandlingMs: f.medianHandlingMs,
    lateReviews: f.lateReviews,
    openAssigned: f.openAssigned,
    overdueAssigned: f.overdueAssigned,
    oldestAssignedAgeMs: f.oldestAssignedAgeMs,
  };
}

export type TeamView = {
  types: { key: string; name: string }[];
  /** The period preset chosen, or "custom" for a from/to range. */
  period: Period | "custom";
  error: { message: string; issues: { path: string; message: string }[] } | null;
  report: ReviewerReport;
};

/**
 * The team page: filters from the URL (type, a period preset or from/to), bad filters answered inline
 * with the default report (every type, the last 7 days) instead.
 */
export async function teamView(db: DbOrTx, params: URLSearchParams, now = Date.now()): Promise<TeamView> {
  const types = (await listDecisionTypes(db)).map((t) => ({ key: t.key, name: t.name }));
  const p = new URLSearchParams();
  if (params.get("type")) p.set("type", params.get("type")!);
  let period: TeamView["period"] = DEFAULT_PERIOD;
  if (params.get("from") || params.get("to")) {
    period = "custom";
    for (const k of ["from", "to"]) if (params.get(k)) p.set(k, params.get(k)!);
  } else {
    const preset = params.get("period");
    period = isPeriod(preset) ? preset : DEFAULT_PERIOD;
    const r = periodRange(period, now);
    p.set("from", iso(r.from));
    p.set("to", iso(r.to));
  }
  try {
    return { types, period, error: null, report: await reviewerReport(db, await readReviewerReportQuery(db, p, now), { now }) };
  } catch (e) {
    if (!(e instanceof AppError) || e.status !== 400) throw e;
    const r = periodRange(DEFAULT_PERIOD, now);
    return { types, period: DEFAULT_PERIOD, error: { message: e.message, issues: e.issues }, report: await reviewerReport(db, { type: null, ...r }, { now }) };
  }
}
