/**
 * Reading decisions in their public shape (GET /api/v1/decisions[/:id]).
 * Lists page by the decision's sequence number, so a cursor is stable while
 * new decisions arrive.
 */
import { and, asc, eq, gt, gte, inArray, lte, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { preparedQuery, type DbOrTx } from "@db/client.server";
import { feedHorizon } from "@db/sql";
import { decisions, reviews, users } from "@db/schema/index";
import { DECISION_ROUTES, REVIEW_ACTIONS, TASK_KINDS } from "@db/schema/tables";
import { JsonText } from "@db/json-text";
import { notFound } from "~/lib/errors";
import { iso } from "~/lib/time";

import { sealedDecisions, NO_VIEWER, type SealViewer } from "./sealing.server";
import { DECISION_STATUSES } from "./statuses";

export { DECISION_STATUSES };

export type DecisionRow = typeof decisions.$inferSelect;

/** One review of a decision as the API shows it (sealed first verdicts left out). */
export const reviewSummarySchema = z.object({
  action: z.enum(REVIEW_ACTIONS),
  reviewer: z.string().describe("The reviewer's email"),
  kind: z.enum(TASK_KINDS).describe("The kind of task the review answered"),
  reasonCodes: z.array(z.string()),
  changedFields: z.array(z.string()),
  note: z.string().nullable(),
  at: z.iso.datetime(),
});

export type ReviewSummary = z.infer<typeof reviewSummarySchema>;

/** The public JSON shape of a decision (GET /api/v1/decisions[/:id], the review answer, the claim answer). */
export const decisionJsonSchema = z
  .object({
    id: z.string(),
    externalId: z.string(),
    type: z.string(),
    status: z.enum(DECISION_STATUSES),
    route: z.enum(DECISION_ROUTES),
    reasons: z.array(z.string()),
    qaSampled: z.boolean(),
    policyVersion: z.number().int(),
    model: z.object({ name: z.string(), version: z.string() }),
    input: z.record(z.string(), z.unknown()),
    output: z.record(z.string(), z.unknown()),
    confidence: z.number(),
    fieldConfidence: z.record(z.string(), z.number()),
    flags: z.array(z.string()),
    priority: z.number().int(),
    finalOutput: z.record(z.string(), z.unknown()).nullable(),
    occurredAt: z.iso.datetime(),
    receivedAt: z.iso.datetime(),
    finalizedAt: z.iso.datetime().nullable(),
    updatedAt: z.iso.datetime(),
    reviews: z.array(reviewSummarySchema),
  })
  .meta({ id: "Decision" });

export type DecisionJson = z.output<typeof decisionJsonSchema>;

/** A page of decisions (GET /api/v1/decisions). */
export const decisionPageSchema = z.object({ decisions: z.array(decisionJsonSchema), nextCursor: z.string().nullable() });

/**
 * Four-eyes: while the second review of a pair is still to be given, the first
 * verdict is sealed (sealing.server.ts decides for whom).
 */
function visibleReviews(sealed: boolean, reviewList: ReviewSummary[]): ReviewSummary[] {
  return sealed ? reviewList.filter((r) => r.kind !== "review") : reviewList;
}

export function decisionToJson(row: DecisionRow, reviewList: ReviewSummary[], sealed: boolean): DecisionJson {
  return {
    id: row.id,
    externalId: row.externalId,
    type: row.typeKey,
    status: row.status,
    route: row.route,
    reasons: row.reasons,
    qaSampled: row.qaSampled,
    policyVersion: row.policyVersion,
    model: { name: row.modelName, version: row.modelVersion },
    input: row.input as Record<string, unknown>,
    output: row.output as Record<string, unknown>,
    confidence: row.confidence,
    fieldConfidence: row.fieldConfidence ?? {},
    flags: row.flags,
    priority: row.priority,
    finalOutput: (row.finalOutput as Record<string, unknown> | null) ?? null,
    occurredAt: iso(row.occurredAt)!,
    receivedAt: iso(row.receivedAt)!,
    finalizedAt: iso(row.finalizedAt),
    updatedAt: iso(row.updatedAt)!,
    reviews: visibleReviews(sealed, reviewList),
  };
}

/**
 * A freshly written decision (no reviews yet) in its public shape, as JSON text: its JSON columns may hold
 * text already written (JsonText, as ingest has them), which is spliced in rather than parsed and written again.
 */
export function newDecisionJsonText(row: typeof decisions.$inferInsert): string {
  const shape: Record<string, unknown> = decisionToJson(row as DecisionRow, [], false);
  // Member by member (the order decisionToJson gives): no second pass over the text.
  let out = "";
  for (const k in shape) {
    const v = shape[k];
    if (v === undefined) continue;
    out += `${out ? "," : "{"}${JSON.stringify(k)}:${v instanceof JsonText ? v.text : JSON.stringify(v)}`;
  }
  return `${out}}`;
}

/** One decision's reviews with their reviewers' emails (getDecision: every verdict's answer and event reads it). */
const reviewsOfDecision = preparedQuery("reviews_of_decision", (db) =>
  db
    .select({ r: reviews, email: users.email })
    .from(reviews)
    .innerJoin(users, eq(users.id, reviews.reviewerId))
    .where(eq(reviews.decisionId, sql.placeholder("id")))
    .orderBy(asc(reviews.seq)),
);

async function reviewsFor(db: DbOrTx, ids: string[]): Promise<Map<string, ReviewSummary[]>> {
  const out = new Map<string, ReviewSummary[]>();
  if (ids.length === 0) return out;
  const rows =
    ids.length === 1
      ? await reviewsOfDecision(db, { id: ids[0] })
      : await db
          .select({ r: reviews, email: users.email })
          .from(reviews)
          .innerJoin(users, eq(users.id, reviews.reviewerId))
          .where(inArray(reviews.decisionId, ids))
          .orderBy(asc(reviews.seq));
  for (const { r, email } of rows) {
    const list = out.get(r.decisionId) ?? [];
    list.push({
      action: r.action,
      reviewer: email,
      kind: r.taskKind,
      reasonCodes: r.reasonCodes,
      changedFields: r.changedFields,
      note: r.note,
      at: new Date(r.createdAt).toISOString(),
    });
    out.set(r.decisionId, list);
  }
  return out;
}

/** A decision by id, prepared once (verdicts, claims and webhook events read one on every call). */
const decisionById = preparedQuery("decision_by_id", (db) =>
  db
    .select()
    .from(decisions)
    .where(eq(decisions.id, sql.placeholder("id")))
    .limit(1),
);

export async function getDecisionRow(db: DbOrTx, id: string): Promise<DecisionRow | undefined> {
  return (await decisionById(db, { id }))[0];
}

/** The decision as `viewer` may read it; without a viewer, as anybody may (no sealed verdict). */
export async function getDecision(db: DbOrTx, id: string, viewer: SealViewer = NO_VIEWER): Promise<DecisionJson> {
  const row = await getDecisionRow(db, id);
  if (!row) throw notFound(`Decision ${id} not found`);
  return decisionToJson(row, (await reviewsFor(db, [id])).get(id) ?? [], (await sealedDecisions(db, viewer, [id])).has(id));
}

export const listQuerySchema = z.object({
  type: z.string().min(1).max(64).optional(),
  status: z.enum(DECISION_STATUSES).optional(),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().regex(/^\d+$/, "cursor must be a value returned as nextCursor").optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export type ListQuery = z.infer<typeof listQuerySchema>;

export async function listDecisions(db: DbOrTx, q: ListQuery, viewer: SealViewer = NO_VIEWER): Promise<z.output<typeof decisionPageSchema>> {
  const where: SQL[] = [];
  if (q.type) where.push(eq(decisions.typeKey, q.type));
  if (q.status) where.push(eq(decisions.status, q.status));
  if (q.updatedSince) where.push(gte(decisions.updatedAt, Date.parse(q.updatedSince)));
  if (q.cursor) where.push(gt(decisions.seq, Number(q.cursor)));
  // Only decisions no open transaction can still precede (Postgres): a cursor never steps over a late commit.
  const horizon = await feedHorizon(db);
  if (horizon !== undefined) where.push(lte(decisions.seq, horizon));
  const rows = await db
    .select()
    .from(decisions)
    .where(where.length ? and(...where) : undefined)
    .orderBy(asc(decisions.seq))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const revs = await reviewsFor(
    db,
    page.map((r) => r.id),
  );
  const sealed = await sealedDecisions(
    db,
    viewer,
    page.map((r) => r.id),
  );
  return {
    decisions: page.map((r) => decisionToJson(r, revs.get(r.id) ?? [], sealed.has(r.id))),
    nextCursor: rows.length > q.limit ? String(page[page.length - 1].seq) : null,
  };
}
