/**
 * Verdicts: approve, correct, reject, escalate. One transaction writes the
 * review, the task's completion, the decision's final outcome, the roll-ups,
 * the audit entry and the outbox event. A submit without the current lease is
 * a 409 that changes nothing.
 */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { preparedQuery, transaction, writeBehind, type Db, type DbOrTx } from "@db/client.server";
import { decisions, reviews, tasks } from "@db/schema/index";
import { newId } from "~/lib/crypto.server";
import { invalid, type Issue, zodIssues } from "~/lib/errors";
import { jsonObjectSchema } from "~/lib/json";
import { MINUTE } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { requireDecisionType, type LoadedType } from "../decision-types/decision-types.server";
import { factsOf, reviewHistories } from "../decisions/facts.server";
import { decisionJsonSchema, getDecision, getDecisionRow, type DecisionJson, type DecisionRow } from "../decisions/decisions.server";
import { recordReviewAction } from "../metrics/metrics.server";
import { requireLease, type Reviewer, type TaskRow } from "../queue/queue.server";
import { applyRollupChanges, type ReviewHistoryChange } from "../reports/rollups.server";
import { countVerdict } from "../monitors/counters";
import { announceDecision, type DecisionAnnouncement } from "../webhooks/outbox.server";
import { changedPaths } from "./diff";
import { fourEyesReason, verdictsAgree } from "./four-eyes";
import { missingVerdictFields, REVIEW_ACTIONS } from "./verdict-rules";

export const reviewBodySchema = z
  .object({
    action: z.enum(REVIEW_ACTIONS),
    output: jsonObjectSchema.optional(),
    reasonCodes: z.array(z.string().min(1).max(64)).max(20).default([]),
    note: z.string().max(5000).optional(),
  })
  .strict();

export type ReviewBody = z.infer<typeof reviewBodySchema>;

/** POST /api/v1/tasks/:id/review answers the decision after the verdict. */
export const reviewAnswerSchema = z.object({ decision: decisionJsonSchema });

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
  issues.push(...missingVerdictFields(body, type.reasonCodes.length));
  if (body.action === "escalate") {
    if (task.kind === "escalation") issues.push({ path: "action", message: "an escalation is resolved by approve, correct or reject" });
    if (task.kind === "qa") issues.push({ path: "action", message: "a QA check cannot be escalated; correct or reject it to record the miss" });
  }
  return issues;
}

/** A task's verdict given (prepared once: every review writes it). */
const taskDone = preparedQuery("task_done", (db) =>
  db
    .update(tasks)
    .set({ status: "done", completedAt: sql`${sql.placeholder("now")}`, leaseExpiresAt: null })
    .where(eq(tasks.id, sql.placeholder("id")))
    .returning({ id: tasks.id }),
);

export async function submitReview(db: Db, reviewer: Reviewer, taskId: string, rawBody: unknown, opts: { now?: number } = {}) {
  const now = opts.now ?? Date.now();
  const parsedBody = reviewBodySchema.safeParse(rawBody);
  if (!parsedBody.success) throw invalid("Invalid review", zodIssues(parsedBody.error));
  const body = parsedBody.data;
  const done = await transaction(db, async (tx) => {
    const task = await requireLease(tx, taskId, reviewer, now);
    const decision = (await getDecisionRow(tx, task.decisionId))!;
    const type = await requireDecisionType(tx, decision.typeKey);
    const issues = validateVerdict(body, type, task, decision.output);
    if (issues.length > 0) throw invalid("Invalid review", issues);
    const shown = await applyVerdict(tx, { task, decision, type, reviewer, body, now });
    return { decision, shown, claimedAt: task.claimedAt };
  });
  recordReviewAction(done.decision.typeKey, body.action, { claimedAt: done.claimedAt, now });
  // The answer is the decision as its event carries it, read in the transaction after its writes: the same reading
  // GET would give now. A sealed first verdict announces nothing, so its answer is read here.
  return done.shown ?? getDecision(db, done.decision.id);
}

type VerdictContext = {
  task: TaskRow;
  decision: DecisionRow;
  type: LoadedType;
  reviewer: Reviewer;
  body: ReviewBody;
  now: number;
  /** The decision's review history before and after this review: the reviewer roll-up's change (rollups.server.ts). */
  reviews?: ReviewHistoryChange;
};

/** Writes a verdict; gives the decision as its outbox event carries it (undefined when the verdict announces nothing). */
async function applyVerdict(tx: DbOrTx, ctx: VerdictContext): Promise<DecisionJson | undefined> {
  const { task, decision, type, reviewer, body, now } = ctx;
  const changed = body.action === "correct" ? changedPaths(decision.output, body.output) : [];
  // The decision's reviews so far (read before this one is written): every roll-up write below hands the reviewer
  // roll-up this history and the history with this review at its end (reviews of a decision are given one at a time).
  const history = (await reviewHistories(tx, [decision.id])).get(decision.id)?.history ?? [];
  const handlingMs = task.claimedAt === null ? null : Math.max(0, now - task.claimedAt);
  const added = {
    seq: (history.at(-1)?.seq ?? 0) + 1,
    reviewerId: reviewer.id,
    taskKind: task.kind,
    action: body.action,
    output: body.action === "correct" ? body.output! : null,
    createdAt: now,
    handlingMs,
    dueAt: task.dueAt,
  };
  const c: VerdictContext = { ...ctx, reviews: { typeKey: decision.typeKey, before: history, after: [...history, added] } };
  await writeBehind(tx, (db) =>
    db.insert(reviews).values({
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
      // Time per item is measured from the claim (taken by this reviewer: requireLease checked it), not from arrival.
      handlingMs,
    }),
  );
  await countVerdict(tx, {
    typeKey: decision.typeKey,
    reviewerId: reviewer.id,
    action: body.action,
    handlingMs,
    at: now,
  });
  await writeBehind(tx, (db) => taskDone(db, { id: task.id, now }));

  let outcome: string = body.action;
  let extra: Record<string, unknown> = {};
  let statusAfter: DecisionRow["status"];
  let shown: DecisionJson | undefined;
  if (task.kind === "qa") {
    statusAfter = decision.status;
    // The auto decision was already released; the QA verdict measures the automated lane.
    const after = { ...decision, updatedAt: now };
    await writeBehind(tx, (db) => db.update(decisions).set({ updatedAt: now }).where(eq(decisions.id, decision.id)));
    await applyRollupChanges(tx, [
      {
        before: factsOf(decision, null),
        after: factsOf(after, { changedFields: changed, reasonCodes: body.reasonCodes, qaVerdict: body.action === "approve" ? "approved" : "changed" }),
        reviews: c.reviews,
      },
    ]);
    const events: DecisionAnnouncement[] = [{ type: "decision.qa_reviewed" }];
    if (body.action === "correct" || body.action === "reject") {
      // The released output was wrong: the QA reviewer's output (null for a rejection) goes out beside it.
      const correction = {
        action: body.action,
        output: body.action === "correct" ? body.output! : null,
        changedFields: changed,
        reasonCodes: body.reasonCodes,
        reviewer: reviewer.email,
        note: body.note ?? null,
        at: new Date(now).toISOString(),
      };
      events.push({ type: "decision.corrected_after_release", extra: { correction } });
    }
    shown = await announceDecision(tx, decision.id, now, events);
  } else if (body.action === "escalate") {
    ({ status: statusAfter, shown } = await escalate(tx, c, { reason: "reviewer", note: body.note ?? null }));
  } else {
    const fourEyes = task.kind === "review" ? fourEyesReason(type.fourEyes, decision.flags, [decision.output, body.output]) : null;
    // The sealed first verdict of a four-eyes pair: the last first-review verdict of the history read above.
    const first = task.kind === "second" ? history.filter((r) => r.taskKind === "review").at(-1) : undefined;
    if (fourEyes) {
      // First of two: the verdict is sealed until an independent second reviewer has given theirs.
      statusAfter = "pending_review";
      const after = { ...decision, status: statusAfter, updatedAt: now };
      await writeBehind(tx, (db) => db.update(decisions).set({ status: statusAfter, updatedAt: now }).where(eq(decisions.id, decision.id)));
      const second = newId("tsk", now);
      await writeBehind(tx, (db) =>
        db.insert(tasks).values({
          id: second,
          decisionId: decision.id,
          typeKey: decision.typeKey,
          kind: "second",
          status: "open",
          priority: task.priority,
          dueAt: task.dueAt,
          createdAt: now,
          excludedUserId: reviewer.id,
        }),
      );
      await applyRollupChanges(tx, [{ before: factsOf(decision, null), after: factsOf(after, null), reviews: c.reviews }]);
      outcome = "first_of_two";
      extra = { fourEyes: fourEyes, secondTaskId: second };
    } else if (first && !verdictsAgree(first, body)) {
      outcome = "four_eyes_disagreement";
      extra = { first: { action: first.action, reviewer: first.reviewerId }, second: { action: body.action } };
      ({ status: statusAfter, shown } = await escalate(tx, c, { reason: "four_eyes_disagreement", note: null }));
    } else {
      ({ status: statusAfter, shown } = await finalize(tx, c, changed));
      if (first) extra = { fourEyes: "agreed", firstReviewId: first.id };
    }
  }
  await appendAudit(tx, {
    actor: reviewer.email,
    action: `review.${body.action}`,
    entityType: "decision",
    entityId: decision.id,
    data: {
      taskId: task.id,
      taskKind: task.kind,
      outcome,
      statusBefore: decision.status,
      statusAfter,
      changedFields: changed,
      reasonCodes: body.reasonCodes,
      note: body.note ?? null,
      ...extra,
    },
    at: now,
  });
  return shown;
}

/** The final outcome: only this verdict's changed fields and reason codes count in the roll-ups. */
async function finalize(tx: DbOrTx, c: VerdictContext, changed: string[]): Promise<Announced> {
  const { decision, reviewer, body, now } = c;
  const status = body.action === "approve" ? "approved" : body.action === "correct" ? "corrected" : "rejected";
  const finalOutput = body.action === "approve" ? decision.output : body.action === "correct" ? body.output! : null;
  const after = { ...decision, status, finalOutput, finalizedAt: now, finalizedBy: reviewer.id, updatedAt: now } as DecisionRow;
  await writeBehind(tx, (db) =>
    db.update(decisions).set({ status, finalOutput, finalizedAt: now, finalizedBy: reviewer.id, updatedAt: now }).where(eq(decisions.id, decision.id)),
  );
  await applyRollupChanges(tx, [
    {
      before: factsOf(decision, null),
      after: factsOf(after, { changedFields: changed, reasonCodes: body.reasonCodes, qaVerdict: null, escalated: c.task.kind === "escalation" }),
      reviews: c.reviews,
    },
  ]);
  return { status, shown: await announceDecision(tx, decision.id, now, [{ type: "decision.finalized" }]) };
}

/** A verdict's new status, and the decision as its event carries it. */
type Announced = { status: DecisionRow["status"]; shown: DecisionJson };

/** Sends the decision to its type's owner as an escalation task. */
async function escalate(tx: DbOrTx, c: VerdictContext, why: { reason: "reviewer" | "four_eyes_disagreement"; note: string | null }): Promise<Announced> {
  const { task, decision, type, now } = c;
  const after = { ...decision, status: "escalated" as const, updatedAt: now };
  await writeBehind(tx, (db) => db.update(decisions).set({ status: "escalated", updatedAt: now }).where(eq(decisions.id, decision.id)));
  await writeBehind(tx, (db) =>
    db.insert(tasks).values({
      id: newId("tsk", now),
      decisionId: decision.id,
      typeKey: decision.typeKey,
      kind: "escalation",
      status: "open",
      priority: task.priority,
      dueAt: now + type.slaMinutes * MINUTE,
      createdAt: now,
      assigneeId: type.ownerId,
    }),
  );
  await applyRollupChanges(tx, [{ before: factsOf(decision, null), after: factsOf(after, null), reviews: c.reviews }]);
  const escalation = { reason: why.reason, owner: type.owner };
  return { status: "escalated", shown: await announceDecision(tx, decision.id, now, [{ type: "decision.escalated", extra: { escalation } }]) };
}
