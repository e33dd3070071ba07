/**
 * Verdicts: approve, correct, reject, escalate. One transaction writes the
 * review, the task's completion, the decision's final outcome, the roll-ups,
 * the audit entry and the outbox event. A submit without the current lease is
 * a 409 that changes nothing.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { decisions, reviews, tasks } from "@db/schema/index";
import { newId } from "~/lib/crypto.server";
import { invalid, type Issue, zodIssues } from "~/lib/errors";
import { MINUTE } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { requireDecisionType, type LoadedType } from "../decision-types/decision-types.server";
import { factsOf } from "../decisions/facts.server";
import { getDecision, type DecisionRow } from "../decisions/decisions.server";
import { requireLease, type Reviewer, type TaskRow } from "../queue/queue.server";
import { applyRollupChanges } from "../reports/rollups.server";
import { enqueueEvents } from "../webhooks/outbox.server";
import { changedPaths } from "./diff";

export const REVIEW_ACTIONS = ["approve", "correct", "reject", "escalate"] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

export const reviewBodySchema = z
  .object({
    action: z.enum(REVIEW_ACTIONS),
    output: z.record(z.string(), z.unknown()).optional(),
    reasonCodes: z.array(z.string().min(1).max(64)).max(20).default([]),
    note: z.string().max(5000).optional(),
  })
  .strict();

export type ReviewBody = z.infer<typeof reviewBodySchema>;

/** Checks a verdict against its type and task; every problem is reported by field. */
export function validateVerdict(body: ReviewBody, type: LoadedType, task: Pick<TaskRow, "kind">, modelOutput: unknown): Issue[] {
  const issues: Issue[] = [];
  const known = new Set(type.reasonCodes.map((r) => r.code));
  body.reasonCodes.forEach((c, i) => {
    if (!known.has(c)) issues.push({ path: `reasonCodes.${i}`, message: `unknown reason code "${c}" for ${type.key}` });
  });
  if (body.action === "correct") {
    if (!body.output) issues.push({ path: "output", message: "a correction needs the corrected output" });
    else {
      const parsed = type.validator.safeParse(body.output);
      if (!parsed.success) issues.push(...zodIssues(parsed.error, ["output"]));
      else if (changedPaths(modelOutput, body.output).length === 0) issues.push({ path: "output", message: "the output is unchanged; approve instead" });
    }
  } else if (body.output !== undefined) {
    issues.push({ path: "output", message: `output is only sent with action "correct"` });
  }
  if ((body.action === "correct" || body.action === "reject") && type.reasonCodes.length > 0 && body.reasonCodes.length === 0) {
    issues.push({ path: "reasonCodes", message: `choose at least one reason code to ${body.action}` });
  }
  if (body.action === "escalate") {
    if (!body.note?.trim()) issues.push({ path: "note", message: "say why you escalate" });
    if (task.kind === "escalation") issues.push({ path: "action", message: "an escalation is resolved by approve, correct or reject" });
    if (task.kind === "qa") issues.push({ path: "action", message: "a QA check cannot be escalated; correct or reject it to record the miss" });
  }
  return issues;
}

export function submitReview(db: Db, reviewer: Reviewer, taskId: string, rawBody: unknown, opts: { now?: number } = {}) {
  const now = opts.now ?? Date.now();
  const parsedBody = reviewBodySchema.safeParse(rawBody);
  if (!parsedBody.success) throw invalid("Invalid review", zodIssues(parsedBody.error));
  const body = parsedBody.data;
  const decisionId = transaction(db, (tx) => {
    const task = requireLease(tx, taskId, reviewer, now);
    const decision = tx.select().from(decisions).where(eq(decisions.id, task.decisionId)).get()!;
    const type = requireDecisionType(tx, decision.typeKey);
    const issues = validateVerdict(body, type, task, decision.output);
    if (issues.length > 0) throw invalid("Invalid review", issues);
    applyVerdict(tx, { task, decision, type, reviewer, body, now });
    return decision.id;
  });
  return getDecision(db, decisionId);
}

type VerdictContext = { task: TaskRow; decision: DecisionRow; type: LoadedType; reviewer: Reviewer; body: ReviewBody; now: number };

function applyVerdict(tx: DbOrTx, c: VerdictContext): void {
  const { task, decision, type, reviewer, body, now } = c;
  const changed = body.action === "correct" ? changedPaths(decision.output, body.output) : [];
  tx.insert(reviews)
    .values({
      id: newId("rev", now),
      decisionId: decision.id,
      taskId: task.id,
      taskKind: task.kind,
      reviewerId: reviewer.id,
      action: body.action,
      output: body.action === "correct" ? body.output! : null,
      changedFields: changed,
      reasonCodes: body.reasonCodes,
      note: body.note ?? null,
      createdAt: now,
    })
    .run();
  tx.update(tasks).set({ status: "done", completedAt: now, leaseExpiresAt: null }).where(eq(tasks.id, task.id)).run();

  const before = factsOf(decision, null);
  let after: DecisionRow;
  if (task.kind === "qa") {
    // The auto decision was already released; the QA verdict measures the automated lane.
    after = { ...decision, updatedAt: now };
    tx.update(decisions).set({ updatedAt: now }).where(eq(decisions.id, decision.id)).run();
    applyRollupChanges(tx, [
      { before, after: factsOf(after, { changedFields: changed, reasonCodes: body.reasonCodes, qaVerdict: body.action === "approve" ? "approved" : "changed" }) },
    ]);
    enqueueEvents(tx, [
      { eventType: "decision.qa_reviewed", typeKey: decision.typeKey, entityId: decision.id, at: now, payload: { id: decision.id, externalId: decision.externalId, type: decision.typeKey, qaAction: body.action, reasonCodes: body.reasonCodes } },
    ]);
  } else if (body.action === "escalate") {
    after = { ...decision, status: "escalated", updatedAt: now };
    tx.update(decisions).set({ status: "escalated", updatedAt: now }).where(eq(decisions.id, decision.id)).run();
    tx.insert(tasks)
      .values({
        id: newId("tsk", now),
        decisionId: decision.id,
        typeKey: decision.typeKey,
        kind: "escalation",
        status: "open",
        priority: decision.priority,
        dueAt: now + type.slaMinutes * MINUTE,
        createdAt: now,
        assigneeId: type.ownerId,
      })
      .run();
    applyRollupChanges(tx, [{ before, after: factsOf(after, null) }]);
    enqueueEvents(tx, [
      { eventType: "decision.escalated", typeKey: decision.typeKey, entityId: decision.id, at: now, payload: { id: decision.id, externalId: decision.externalId, type: decision.typeKey, status: "escalated", owner: type.owner } },
    ]);
  } else {
    const status = body.action === "approve" ? "approved" : body.action === "correct" ? "corrected" : "rejected";
    const finalOutput = body.action === "approve" ? decision.output : body.action === "correct" ? body.output! : null;
    after = { ...decision, status, finalOutput, finalizedAt: now, finalizedBy: reviewer.email, updatedAt: now };
    tx.update(decisions)
      .set({ status, finalOutput, finalizedAt: now, finalizedBy: reviewer.email, updatedAt: now })
      .where(eq(decisions.id, decision.id))
      .run();
    applyRollupChanges(tx, [{ before, after: factsOf(after, { changedFields: changed, reasonCodes: body.reasonCodes, qaVerdict: null, escalated: task.kind === "escalation" }) }]);
    enqueueEvents(tx, [
      {
        eventType: "decision.finalized",
        typeKey: decision.typeKey,
        entityId: decision.id,
        at: now,
        payload: { id: decision.id, externalId: decision.externalId, type: decision.typeKey, status, route: decision.route, finalOutput, reasonCodes: body.reasonCodes, finalizedAt: new Date(now).toISOString() },
      },
    ]);
  }
  appendAudit(tx, {
    actor: reviewer.email,
    action: `review.${body.action}`,
    entityType: "decision",
    entityId: decision.id,
    data: { taskId: task.id, taskKind: task.kind, statusBefore: decision.status, statusAfter: after.status, changedFields: changed, reasonCodes: body.reasonCodes, note: body.note ?? null },
    at: now,
  });
}
