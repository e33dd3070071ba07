/**
 * What the review screen needs for one task: the decision (first verdicts of
 * a four-eyes pair stay sealed), its type's form schema and reason codes, and
 * whether the reviewer still holds the lease; if not, a message that says why.
 */
import type { Db, DbOrTx } from "@db/client.server";
import { getDecision, type DecisionJson } from "../decisions/decisions.server";
import { requireDecisionType } from "../decision-types/decision-types.server";
import type { ObjectSchema } from "../decision-types/output-schema";
import { claimRefusal, getTask, type Reviewer } from "../queue/queue.server";
import { queueRefusal } from "../teams/membership.server";

export type ReviewScreen =
  | {
      state: "held";
      task: { id: string; kind: string; priority: number; dueAt: number; leaseExpiresAt: number };
      decision: DecisionJson;
      type: {
        key: string;
        name: string;
        owner: string;
        outputSchema: ObjectSchema;
        reasonCodes: { code: string; label: string }[];
        minConfidence: number | null;
        fieldMinConfidence: Record<string, number>;
      };
    }
  | { state: "conflict"; message: string }
  /** A task of a queue the reviewer is not a member of (the page answers 403). */
  | { state: "forbidden"; message: string };

export async function loadReviewScreen(db: DbOrTx, reviewer: Reviewer, taskId: string, now: number): Promise<ReviewScreen> {
  const task = await getTask(db, taskId);
  if (!task) return { state: "conflict", message: "This task does not exist." };
  if (task.status === "done") return { state: "conflict", message: "This task was already completed." };
  if (task.status === "cancelled") return { state: "conflict", message: "This task was cancelled." };
  if (task.status === "claimed" && task.claimedBy !== reviewer.id) return { state: "conflict", message: "Another reviewer is working on this task." };
  if (task.status === "open" || (task.leaseExpiresAt ?? 0) <= now) {
    return { state: "conflict", message: "Your lease on this task expired, so it went back to the queue. Nothing was saved." };
  }
  const type = await requireDecisionType(db, task.typeKey);
  return {
    state: "held",
    task: { id: task.id, kind: task.kind, priority: task.priority, dueAt: task.dueAt, leaseExpiresAt: task.leaseExpiresAt! },
    decision: await getDecision(db, task.decisionId),
    type: {
      key: type.key,
      name: type.name,
      owner: type.owner,
      outputSchema: type.outputSchema,
      reasonCodes: type.reasonCodes,
      minConfidence: type.routing.minConfidence ?? null,
      fieldMinConfidence: type.routing.fieldMinConfidence ?? {},
    },
  };
}

/**
 * Opening a task's page never claims it (a GET changes nothing, issue 9):
 * the lease holder sees the task; a task this reviewer may take is offered
 * with a button that claims it by POST; anything else explains why not.
 */
export async function openReviewScreen(db: Db, reviewer: Reviewer, taskId: string, now: number): Promise<ReviewScreen | ClaimOffer> {
  const task = await getTask(db, taskId);
  const notMember = task && (await queueRefusal(db, reviewer, task));
  if (notMember) return { state: "forbidden", message: `${notMember.message}.` };
  const leaseLive = (task?.leaseExpiresAt ?? 0) > now;
  const free = task?.status === "open" || (task?.status === "claimed" && !leaseLive);
  if (task && free) {
    const refused = claimRefusal(task, reviewer, now);
    if (refused) return { state: "conflict", message: `${refused.message}.` };
    const lapsedMine = task.status === "claimed" && task.claimedBy === reviewer.id;
    return {
      state: "claimable",
      task: { id: task.id, kind: task.kind },
      externalId: (await getDecision(db, task.decisionId)).externalId,
      message: lapsedMine ? "Your lease on this task expired, so it went back to the queue. Nothing was saved." : null,
    };
  }
  return loadReviewScreen(db, reviewer, taskId, now);
}

/** A task the reviewer does not hold but may claim (by POST, from the page's button). */
export type ClaimOffer = { state: "claimable"; task: { id: string; kind: string }; externalId: string; message: string | null };
