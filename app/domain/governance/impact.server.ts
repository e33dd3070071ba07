/**
 * Impact replay (issue 14): what a routing policy change would have done over the last days. Every decision of
 * the period is routed again under the current policy and under the proposed one (the same pure routeDecision
 * ingest uses, QA sampling included, so both sides are exact counts, not samples). From that: the automation
 * rate before and after, the review and QA load and the reviewer hours it costs (at the mean handling time the
 * type's reviews recorded in the period), the decisions whose route would change (a sample of each way), and
 * the errors that would be released, or no longer released, per day: the changed decisions' weighted error rate
 * from their verdicts (thresholds.ts: inverse-probability weights, Wilson on the effective sample size), times
 * how many change per day.
 */
import { and, gte, isNotNull, lt, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { type DbOrTx } from "@db/client.server";
import { reviews, tasks } from "@db/schema/index";
import { invalid, zodIssues } from "~/lib/errors";
import { DAY } from "~/lib/time";
import { requireDecisionType } from "../decision-types/decision-types.server";
import { routeDecision, routingPolicySchema, type RoutingPolicy } from "../routing/policy";
import { weightedError } from "./thresholds";
import { labelledDecisions } from "./thresholds.server";

export const impactBodySchema = z
  .object({
    routing: routingPolicySchema.describe("The proposed routing policy"),
    days: z.number().int().min(1).max(90).default(30).describe("How many days back to replay (default 30)"),
  })
  .strict();

const laneSchema = z.object({
  automationRate: z.number().nullable(),
  reviewsPerDay: z.number().describe("Decisions a day routed to review"),
  qaReviewsPerDay: z.number().describe("Automatic decisions a day sampled for QA"),
  reviewerHoursPerDay: z.number().nullable().describe("(reviews + QA reviews) a day × the mean handling time; null when no review recorded one"),
});
const errorsSchema = z.object({
  estimate: z.number().nullable(),
  low: z.number().nullable(),
  high: z.number().nullable(),
  verdicts: z.number().describe("Effective number of verdicts behind the estimate"),
});

export const impactSchema = z.object({
  period: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
  replayed: z.number().int().describe("Decisions of the period, each routed again under both policies"),
  before: laneSchema,
  after: laneSchema,
  meanHandlingMs: z.number().nullable(),
  routeChanges: z.object({
    toAuto: z.number().int(),
    toReview: z.number().int(),
    sampleToAuto: z.array(z.string()).describe("Up to 20 decisions that would be released automatically instead of reviewed"),
    sampleToReview: z.array(z.string()).describe("Up to 20 decisions that would go to review instead of being released"),
  }),
  releasedErrorsPerDay: z.object({
    extra: errorsSchema.describe("Errors a day newly released: decisions moving to auto × their error rate"),
    avoided: errorsSchema.describe("Errors a day no longer released: decisions moving to review × their error rate"),
  }),
});

export type Impact = z.output<typeof impactSchema>;

const SAMPLE = 20;

/** Replays the type's last `days` days under its current policy and under `proposed`. */
export async function replayImpact(db: DbOrTx, typeKey: string, proposed: RoutingPolicy, opts: { days?: number; now?: number } = {}): Promise<Impact> {
  const type = await requireDecisionType(db, typeKey);
  const days = opts.days ?? 30;
  const to = opts.now ?? Date.now();
  const from = to - days * DAY;
  const rows = await labelledDecisions(db, typeKey, from, to);
  const handling = await db
    .select({ ms: reviews.handlingMs })
    .from(reviews)
    .innerJoin(tasks, eq(tasks.id, reviews.taskId))
    .where(
      and(
        eq(tasks.typeKey, typeKey),
        gte(reviews.createdAt, from),
        lt(reviews.createdAt, to),
        isNotNull(reviews.handlingMs),
        ne(reviews.taskKind, "escalation"),
      ),
    );
  const meanHandlingMs = handling.length ? handling.reduce((s, r) => s + Number(r.ms), 0) / handling.length : null;

  const lane = (policy: RoutingPolicy) => {
    let auto = 0;
    let qa = 0;
    const routes = rows.map((d) => {
      const r = routeDecision(d, policy);
      if (r.route === "auto") auto++;
      if (r.qaSampled) qa++;
      return r.route;
    });
    const reviewsPerDay = (rows.length - auto) / days;
    const qaReviewsPerDay = qa / days;
    return {
      routes,
      figures: {
        automationRate: rows.length ? auto / rows.length : null,
        reviewsPerDay,
        qaReviewsPerDay,
        reviewerHoursPerDay: meanHandlingMs === null ? null : ((reviewsPerDay + qaReviewsPerDay) * meanHandlingMs) / 3_600_000,
      },
    };
  };
  const before = lane(type.routing);
  const after = lane(proposed);
  const toAuto = rows.filter((_, i) => before.routes[i] === "review" && after.routes[i] === "auto");
  const toReview = rows.filter((_, i) => before.routes[i] === "auto" && after.routes[i] === "review");
  const perDay = (set: typeof rows) => {
    const e = weightedError(
      set.flatMap((d) => (d.correct !== null && d.samplingProbability ? [{ correct: d.correct, weight: 1 / d.samplingProbability }] : [])),
    );
    const scale = (x: number | null) => (x === null ? null : (x * set.length) / days);
    return { estimate: scale(e.errorRate), low: scale(e.errorLow), high: scale(e.errorHigh), verdicts: Math.round(e.n * 10) / 10 };
  };
  return {
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    replayed: rows.length,
    before: before.figures,
    after: after.figures,
    meanHandlingMs,
    routeChanges: {
      toAuto: toAuto.length,
      toReview: toReview.length,
      sampleToAuto: toAuto.slice(0, SAMPLE).map((d) => d.id),
      sampleToReview: toReview.slice(0, SAMPLE).map((d) => d.id),
    },
    releasedErrorsPerDay: { extra: perDay(toAuto), avoided: perDay(toReview) },
  };
}

/** POST /api/v1/decision-types/:key/policy-impact: the body validated (400 naming the field), then the replay. */
export async function policyImpact(db: DbOrTx, typeKey: string, body: unknown): Promise<Impact> {
  const parsed = impactBodySchema.safeParse(body);
  if (!parsed.success) throw invalid("Invalid policy", zodIssues(parsed.error));
  return replayImpact(db, typeKey, parsed.data.routing, { days: parsed.data.days });
}
