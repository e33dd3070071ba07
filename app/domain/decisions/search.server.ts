/**
 * The decision browser's queries: a filtered list, newest first, paged by
 * keyset on the decision sequence (a page never shifts while decisions arrive),
 * and everything known about one decision for its detail page.
 */
import { and, asc, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@db/client.server";
import { decisions, tasks, users } from "@db/schema/index";
import { decisionAuditTrail, type AuditRow } from "../audit/audit-read.server";
import { outboxForEntity, type OutboxEntry } from "../webhooks/outbox-read.server";
import { DECISION_STATUSES, getDecision, type DecisionJson } from "./decisions.server";
import { sealedDecisions, NO_VIEWER, type SealViewer } from "./sealing.server";

export const searchQuerySchema = z
  .object({
    type: z.string().max(64).optional(),
    status: z.enum(DECISION_STATUSES).optional(),
    route: z.enum(["auto", "review"]).optional(),
    modelVersion: z.string().max(200).optional(),
    externalId: z.string().max(500).optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export type SearchQuery = z.infer<typeof searchQuerySchema>;

export type DecisionListItem = {
  seq: number;
  id: string;
  externalId: string;
  type: string;
  status: (typeof DECISION_STATUSES)[number];
  route: "auto" | "review";
  reasons: string[];
  qaSampled: boolean;
  modelName: string;
  modelVersion: string;
  confidence: number;
  receivedAt: number;
  finalizedAt: number | null;
};

export async function searchDecisions(db: DbOrTx, q: SearchQuery): Promise<{ decisions: DecisionListItem[]; nextBefore: number | null }> {
  const where: SQL[] = [];
  if (q.type) where.push(eq(decisions.typeKey, q.type));
  if (q.status) where.push(eq(decisions.status, q.status));
  if (q.route) where.push(eq(decisions.route, q.route));
  if (q.modelVersion) where.push(eq(decisions.modelVersion, q.modelVersion));
  if (q.externalId) where.push(eq(decisions.externalId, q.externalId));
  if (q.before) where.push(lt(decisions.seq, q.before));
  const rows = await db
    .select({
      seq: decisions.seq,
      id: decisions.id,
      externalId: decisions.externalId,
      type: decisions.typeKey,
      status: decisions.status,
      route: decisions.route,
      reasons: decisions.reasons,
      qaSampled: decisions.qaSampled,
      modelName: decisions.modelName,
      modelVersion: decisions.modelVersion,
      confidence: decisions.confidence,
      receivedAt: decisions.receivedAt,
      finalizedAt: decisions.finalizedAt,
    })
    .from(decisions)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(decisions.seq))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  return { decisions: page, nextBefore: rows.length > q.limit ? page[page.length - 1].seq : null };
}

export type TaskSummary = {
  id: string;
  kind: string;
  status: string;
  createdAt: number;
  dueAt: number;
  claimedBy: string | null;
  /** The first task of a sealed four-eyes pair: who held it is hidden. */
  sealed: boolean;
  leaseExpiresAt: number | null;
  assignee: string | null;
  completedAt: number | null;
};

export type DecisionDetail = {
  decision: DecisionJson;
  tasks: TaskSummary[];
  audit: AuditRow[];
  events: OutboxEntry[];
};

/**
 * The decision as the API shows it to `viewer`, plus its tasks, its audit trail (decision and tasks) and its
 * outbox events. While its four-eyes pair is sealed for the viewer, the first review task does not say who held it.
 */
export async function getDecisionDetail(db: DbOrTx, id: string, viewer: SealViewer = NO_VIEWER): Promise<DecisionDetail> {
  const decision = await getDecision(db, id, viewer);
  const sealed = (await sealedDecisions(db, viewer, [id])).has(id);
  const taskRows = await db
    .select({ t: tasks, claimer: users.email })
    .from(tasks)
    .leftJoin(users, eq(users.id, tasks.claimedBy))
    .where(eq(tasks.decisionId, id))
    .orderBy(asc(tasks.seq));
  const assignees = new Map<string, string>();
  for (const { t } of taskRows) {
    if (t.assigneeId && !assignees.has(t.assigneeId)) {
      const u = (await db.select({ email: users.email }).from(users).where(eq(users.id, t.assigneeId)).limit(1))[0];
      if (u) assignees.set(t.assigneeId, u.email);
    }
  }
  return {
    decision,
    tasks: taskRows.map(({ t, claimer }) => ({
      id: t.id,
      kind: t.kind,
      status: t.status,
      createdAt: t.createdAt,
      dueAt: t.dueAt,
      claimedBy: sealed && t.kind === "review" ? null : (claimer ?? t.claimedBy),
      sealed: sealed && t.kind === "review",
      leaseExpiresAt: t.leaseExpiresAt,
      assignee: t.assigneeId ? (assignees.get(t.assigneeId) ?? t.assigneeId) : null,
      completedAt: t.completedAt,
    })),
    audit: await decisionAuditTrail(
      db,
      id,
      taskRows.map((r) => r.t.id),
      viewer,
    ),
    events: await outboxForEntity(db, id),
  };
}
