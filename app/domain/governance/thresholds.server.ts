/**
 * GET /api/v1/reports/thresholds: the confidence threshold what-if over a period's decisions of one type
 * (the estimates are in thresholds.ts). Each decision of the period becomes a case: the confidence being
 * thresholded (overall, or one field's with `field`), whether every other rule of the current policy would
 * release it, its verdict (the final outcome in the review lane, the QA verdict in the auto lane) and the
 * probability it had of getting one (1 in the review lane, the QA rate of the policy version that routed it).
 */
import { and, asc, eq, gte, inArray, lt } from "drizzle-orm";
import { z } from "zod";
import { type DbOrTx } from "@db/client.server";
import { decisions, reviews, routingPolicies } from "@db/schema/index";
import { AppError, invalid } from "~/lib/errors";
import { requireQuery } from "~/lib/query";
import { getDecisionType, listDecisionTypes } from "../decision-types/decision-types.server";
import { isoInstant, reportPeriod } from "../reports/query";
import { globMatch } from "../routing/glob";
import { routeDecision, routingPolicySchema, type RoutingPolicy } from "../routing/policy";
import { analyseThresholds, type ThresholdAnalysis, type ThresholdCase } from "./thresholds";

export const thresholdQuerySchema = z
  .object({
    type: z.string({ error: "type is required" }).min(1, "type is required").max(64),
    targetAccuracy: z.coerce
      .number({ error: "targetAccuracy must be a number between 0 and 1, e.g. 0.98" })
      .gt(0, "targetAccuracy must be above 0")
      .lt(1, "targetAccuracy must be below 1")
      .optional()
      .describe("The accuracy the automatically released decisions must reach, e.g. 0.98; default: the type's targetAccuracy"),
    from: isoInstant.optional().describe("Start of the period (inclusive, by when decisions occurred); default: 30 days before `to`"),
    to: isoInstant.optional().describe("End of the period (exclusive); default: the next full hour"),
    intervalWidth: z.coerce
      .number({ error: "intervalWidth must be a number between 0 and 1, e.g. 0.02" })
      .gt(0, "intervalWidth must be above 0")
      .lt(1, "intervalWidth must be below 1")
      .optional()
      .describe("The width (high − low) the error interval should narrow to; answered with the QA sample rate that would give it (qaSampling); default 0.02"),
    field: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("A field path with its own confidence (fieldConfidence): the curve of that field's threshold, every other rule as it is"),
  })
  .strict();

/** `routing`: the type's current policy, read with the type when the query is checked. */
export type ThresholdQuery = {
  type: string;
  routing: RoutingPolicy;
  targetAccuracy: number;
  intervalWidth: number;
  from: number;
  to: number;
  field: string | null;
};

/** The interval width the QA-rate advice aims at when none is asked for: ±1 point. */
export const DEFAULT_INTERVAL_WIDTH = 0.02;

const pointSchema = z.object({
  threshold: z.number(),
  automationRate: z.number().nullable(),
  errorRate: z.number().nullable(),
  errorLow: z.number().nullable(),
  errorHigh: z.number().nullable(),
});

export const thresholdReportSchema = z.object({
  current: pointSchema.extend({ threshold: z.number().nullable().describe("The policy's threshold; null when it sets none") }),
  curve: z.array(pointSchema.extend({ n: z.number().describe("Effective number of verdicts behind the estimate (Kish)") })),
  recommended: z
    .object({ threshold: z.number(), automationRate: z.number().nullable(), errorRate: z.number().nullable(), errorHigh: z.number().nullable() })
    .nullable(),
  reason: z.string().describe("The recommendation in plain words, or why there is none and what would change that"),
  labelled: z.number().int().describe("Decisions of the period with a human verdict"),
  moreQaReviews: z.number().int().nullable(),
  moreDecisions: z.number().int().nullable(),
  qaSampling: z
    .object({
      width: z.number(),
      threshold: z.number().describe("Where the interval is narrowed: the recommended threshold, else the current one"),
      rate: z
        .number()
        .nullable()
        .describe("The QA sample rate that would give an interval this wide over a period as long as this one; 1 when even reviewing everything would not"),
      currentRate: z.number().describe("The policy's QA sample rate"),
      sentence: z.string(),
    })
    .describe("The QA sample rate that would narrow the interval to intervalWidth"),
  field: z.string().nullable(),
  period: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
}) satisfies z.ZodType<ThresholdAnalysis & { field: string | null; period: { from: string; to: string } }>;

export type ThresholdReport = z.output<typeof thresholdReportSchema>;

/** Query parameters → a threshold query (defaults filled in), or a 400 naming the field. */
export async function readThresholdQuery(db: DbOrTx, params: URLSearchParams, now = Date.now()): Promise<ThresholdQuery> {
  const q = requireQuery(thresholdQuerySchema, params);
  const { from, to } = reportPeriod(q, now);
  const type = await getDecisionType(db, q.type);
  if (!type) throw invalid("Invalid query", [{ path: "type", message: `unknown decision type "${q.type}"` }]);
  const targetAccuracy = q.targetAccuracy ?? type.targetAccuracy;
  if (targetAccuracy == null) {
    throw invalid("Invalid query", [{ path: "targetAccuracy", message: `targetAccuracy is required: the type "${q.type}" sets none (its targetAccuracy)` }]);
  }
  return { type: q.type, routing: type.routing, targetAccuracy, intervalWidth: q.intervalWidth ?? DEFAULT_INTERVAL_WIDTH, from, to, field: q.field ?? null };
}

const VERDICT_RIGHT: Record<string, boolean | undefined> = { approve: true, correct: false, reject: false };
const FINAL_RIGHT: Record<string, boolean | undefined> = { approved: true, corrected: false, rejected: false };

export async function thresholdReport(db: DbOrTx, q: ThresholdQuery): Promise<ThresholdReport> {
  const policy = q.routing;
  // The rule being moved, and the policy's other rules, which stay as they are.
  const fieldPattern = q.field === null ? null : (Object.keys(policy.fieldMinConfidence ?? {}).find((p) => globMatch(p, q.field!, ".")) ?? null);
  const others: RoutingPolicy =
    q.field === null
      ? { ...policy, minConfidence: undefined, qaSampleRate: 0 }
      : {
          ...policy,
          fieldMinConfidence: Object.fromEntries(Object.entries(policy.fieldMinConfidence ?? {}).filter(([p]) => p !== fieldPattern)),
          qaSampleRate: 0,
        };
  const current = q.field === null ? (policy.minConfidence ?? null) : fieldPattern ? policy.fieldMinConfidence[fieldPattern] : null;

  const rows = await labelledDecisions(db, q.type, q.from, q.to);
  const cases: ThresholdCase[] = rows.map((r) => {
    const confidence = q.field === null ? r.confidence : r.fieldConfidence?.[q.field];
    const eligible = confidence !== undefined && routeDecision(r, others).route === "auto";
    return { confidence: confidence ?? 0, eligible, correct: r.correct, samplingProbability: r.samplingProbability };
  });
  const analysis = analyseThresholds(cases, {
    current,
    targetAccuracy: q.targetAccuracy,
    qaRate: policy.qaSampleRate ?? 0,
    intervalWidth: q.intervalWidth,
  });
  return { ...analysis, field: q.field, period: { from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString() } };
}

export type ThresholdsView = {
  types: { key: string; name: string }[];
  type: string | null;
  targetAccuracy: string;
  intervalWidth: string;
  error: { message: string; issues: { path: string; message: string }[] } | null;
  report: ThresholdReport | null;
};

/** The threshold page: the type (default: the first), the target (default: the type's, else 98%), bad input answered inline. */
export async function thresholdsView(db: DbOrTx, params: URLSearchParams, now = Date.now()): Promise<ThresholdsView> {
  const all = await listDecisionTypes(db);
  const types = all.map((t) => ({ key: t.key, name: t.name }));
  const type = params.get("type") || types[0]?.key || null;
  const targetAccuracy = params.get("targetAccuracy") || String(all.find((t) => t.key === type)?.targetAccuracy ?? 0.98);
  const intervalWidth = params.get("intervalWidth") || String(DEFAULT_INTERVAL_WIDTH);
  const view: ThresholdsView = { types, type, targetAccuracy, intervalWidth, error: null, report: null };
  if (!type) return view;
  const p = new URLSearchParams({ type, targetAccuracy, intervalWidth });
  for (const k of ["from", "to", "field"]) if (params.get(k)) p.set(k, params.get(k)!);
  try {
    view.report = await thresholdReport(db, await readThresholdQuery(db, p, now));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    view.error = { message: e.message, issues: e.issues };
  }
  return view;
}

/** A decision of a period as the governance analyses read it: what routing sees, and its human verdict. */
export type LabelledDecision = {
  id: string;
  confidence: number;
  fieldConfidence: Record<string, number> | null;
  flags: string[];
  /** Its verdict: true when the model's output stood; null when it has none (released unsampled, or still pending). */
  correct: boolean | null;
  /** The probability it had of a verdict when it was routed: 1 in the review lane, the version's QA rate in the auto lane. */
  samplingProbability: number | null;
};

/** The type's decisions that occurred in [from, to), with their verdicts: final outcomes in the review lane, QA verdicts in the auto lane. */
export async function labelledDecisions(db: DbOrTx, typeKey: string, from: number, to: number): Promise<LabelledDecision[]> {
  const rows = await db
    .select({
      id: decisions.id,
      confidence: decisions.confidence,
      fieldConfidence: decisions.fieldConfidence,
      flags: decisions.flags,
      route: decisions.route,
      qaSampled: decisions.qaSampled,
      status: decisions.status,
      policyVersion: decisions.policyVersion,
    })
    .from(decisions)
    .where(and(eq(decisions.typeKey, typeKey), gte(decisions.occurredAt, from), lt(decisions.occurredAt, to)));
  // QA verdicts of the sampled auto decisions (the last one given counts).
  const sampledIds = rows.filter((r) => r.route === "auto" && r.qaSampled).map((r) => r.id);
  const qaVerdict = new Map<string, boolean>();
  for (let i = 0; i < sampledIds.length; i += 500) {
    const found = await db
      .select({ decisionId: reviews.decisionId, action: reviews.action })
      .from(reviews)
      .where(and(inArray(reviews.decisionId, sampledIds.slice(i, i + 500)), eq(reviews.taskKind, "qa")))
      .orderBy(asc(reviews.seq));
    for (const r of found) {
      const right = VERDICT_RIGHT[r.action];
      if (right !== undefined) qaVerdict.set(r.decisionId, right);
    }
  }
  const qaRates = new Map<number, number>();
  for (const p of await db
    .select({ version: routingPolicies.version, policy: routingPolicies.policy })
    .from(routingPolicies)
    .where(eq(routingPolicies.typeKey, typeKey))) {
    qaRates.set(p.version, routingPolicySchema.parse(p.policy).qaSampleRate ?? 0);
  }

  return rows.map((r) => {
    const reviewLane = r.route === "review";
    const rate = qaRates.get(r.policyVersion) ?? 0;
    return {
      id: r.id,
      confidence: r.confidence,
      fieldConfidence: r.fieldConfidence ?? null,
      flags: r.flags,
      correct: reviewLane ? (FINAL_RIGHT[r.status] ?? null) : (qaVerdict.get(r.id) ?? null),
      samplingProbability: reviewLane ? 1 : r.qaSampled && rate > 0 ? rate : null,
    };
  });
}
