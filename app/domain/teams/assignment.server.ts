/**
 * Assigning work to people: one task (assignTask, POST /api/v1/tasks/:id/assign),
 * and the changes a manager makes to many tasks at once (changeTasks, used by the
 * queue's bulk actions in bulk.server.ts and by returnAssignedTasks when a person
 * is disabled or loses their reviewing role).
 *
 * Rules:
 * - Only review, QA and second (four-eyes) tasks that are open or claimed can be
 *   assigned; escalations stay with their type's owner (409).
 * - A four-eyes second review is never assigned to the reviewer it excludes (409).
 * - The assignee is an active person whose role reviews (admin, manager, reviewer); else 400 naming `assignee`.
 * - Leases: assigning a task someone else holds ends that lease in the same
 *   transaction, so the task goes to its assignee at once (their next claim serves it
 *   first; the former holder's verdict is refused with "You do not hold the lease").
 *   A lease the new assignee holds is kept. Unassigning leaves a lease alone: the task
 *   is shared again and its holder may finish it (a stuck lease is released on its own).
 *   When a person is disabled, their assigned tasks return to the shared queue and
 *   the leases they hold on them end (nobody else could end them before they lapse).
 */
import { and, asc, eq, inArray, type SQL } from "drizzle-orm";
import { z } from "zod";
import { forUpdate } from "@db/sql";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { excludedTypes } from "./membership.server";
import { tasks, users } from "@db/schema/index";
import { newId } from "~/lib/crypto.server";
import { conflict, invalid, notFound, zodIssues, type Issue } from "~/lib/errors";
import { appendAudit, TASK_BATCH, TASK_BATCH_FIELDS, type TaskBatchAction } from "../audit/audit.server";
import { ROLE_PERMISSIONS } from "../auth/permissions";
import { returnToQueue, taskToJson, type TaskJson, type TaskRow } from "../queue/queue.server";

/** The kinds of task a manager assigns; escalations belong to their type's owner. */
export const ASSIGNABLE_KINDS = ["review", "qa", "second"] as const;

export const assignBodySchema = z
  .object({
    assignee: z
      .email()
      .nullable()
      .describe("The email of an active person whose role reviews (admin, manager or reviewer); null takes the task back to the shared queue"),
  })
  .strict();

export type Person = { id: string; email: string };

/** One change applied to every task of a selection. */
/** An assignee, with the queues (types) they may not work: a task of one of those is not assigned to them. */
export type Assignee = Person & { closedTypes: readonly string[] };
export type TaskChange = { action: "assign"; assignee: Assignee } | { action: "unassign" } | { action: "priority"; priority: number } | { action: "release" };

const AUDIT_ACTION: Record<TaskChange["action"], TaskBatchAction> = {
  assign: "tasks.assigned",
  unassign: "tasks.unassigned",
  priority: "tasks.reprioritized",
  release: "tasks.leases_released",
};

/** What each change is called in a refusal ("… cannot be assigned"). */
export const CHANGE_VERB: Record<TaskChange["action"], string> = {
  assign: "assigned",
  unassign: "unassigned",
  priority: "given a new priority",
  release: "released",
};

/** The person a task may be assigned to, by email; otherwise a 400 naming `path`. */
export async function assigneeByEmail(db: DbOrTx, email: string, path = "assignee"): Promise<Assignee> {
  const u = (await db.select().from(users).where(eq(users.email, email.toLowerCase())).limit(1))[0];
  const refuse = (why: string) => invalid(`Cannot assign to ${email}: ${why}`, [{ path, message: why }]);
  if (!u) throw refuse("no user has this email");
  if (u.disabledAt) throw refuse("this user is disabled");
  if (!u.role || !ROLE_PERMISSIONS[u.role].has("tasks:review")) throw refuse(`a ${u.role ?? "pending"} does not review tasks`);
  return { id: u.id, email: u.email, closedTypes: await excludedTypes(db, u.id) };
}

/** Why this task cannot take the change (completing "Task X …"), or null when it can. */
export function changeRefusal(t: TaskRow, change: TaskChange): string | null {
  if (t.kind === "escalation") return "is an escalation: escalations stay with their type's owner";
  if (t.status === "done") return "is already completed";
  if (t.status === "cancelled") return "is cancelled";
  if (change.action === "assign" && change.assignee.closedTypes.includes(t.typeKey))
    return `is in the ${t.typeKey} queue, which ${change.assignee.email} is not a member of`;
  if (change.action === "assign" && t.excludedUserId === change.assignee.id)
    return `is the four-eyes second review of a verdict by ${change.assignee.email}, who may not review it again`;
  if (change.action === "release" && t.status !== "claimed") return "is not claimed: it holds no lease";
  return null;
}

/** Emails of these user ids (assignees and lease holders, for the audit entry). */
async function emailsOf(tx: DbOrTx, ids: (string | null)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await tx.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, wanted));
  return new Map(rows.map((r) => [r.id, r.email]));
}

const CHUNK = 500;
function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/** The tasks, locked until the transaction ends, in arrival order (one lock order for every writer). */
export async function lockTasks(tx: DbOrTx, ids: string[]): Promise<TaskRow[]> {
  const rows: TaskRow[] = [];
  for (const part of chunks(ids)) {
    rows.push(
      ...(await forUpdate(
        tx,
        tx
          .select()
          .from(tasks)
          .where(inArray(tasks.id, part) as SQL)
          .orderBy(asc(tasks.seq)),
      )),
    );
  }
  return rows;
}

/** The tasks as they are now, the audit entry's id (the batch) and the tasks whose lease the change ended. */
export type ChangeResult = { rows: TaskRow[]; batchId: string; leasesEnded: string[] };

/**
 * Applies one change to locked tasks, all or nothing: when any task cannot take it,
 * a 409 names every such task and why, and nothing is written. Then one audit entry
 * (entity type task_batch) lists every task with what it had before. Runs inside
 * the caller's transaction, on rows it locked (lockTasks).
 */
export async function changeTasks(
  tx: DbOrTx,
  locked: TaskRow[],
  change: TaskChange,
  ctx: { actor: string; now: number; data?: Record<string, unknown> },
): Promise<ChangeResult> {
  const refusals: Issue[] = [];
  locked.forEach((t) => {
    const why = changeRefusal(t, change);
    if (why) refusals.push({ path: `taskIds.${t.id}`, message: `Task ${t.id} ${why}` });
  });
  if (refusals.length) {
    const n = refusals.length;
    throw conflict(
      `${n} of the ${locked.length} selected task${locked.length === 1 ? "" : "s"} cannot be ${CHANGE_VERB[change.action]}; nothing was changed. ${refusals
        .slice(0, 3)
        .map((r) => r.message)
        .join("; ")}${n > 3 ? `; and ${n - 3} more` : ""}`,
      refusals,
    );
  }
  const now = ctx.now;
  // Leases end first (a guarded update per task, which also puts its decision back to pending review).
  const ending =
    change.action === "release" ? locked : change.action === "assign" ? locked.filter((t) => t.status === "claimed" && t.claimedBy !== change.assignee.id) : [];
  for (const t of ending)
    if (!(await returnToQueue(tx, t, now))) throw conflict(`Task ${t.id} changed while it was being ${CHANGE_VERB[change.action]}; try again`);
  const ended = new Set(ending.map((t) => t.id));
  const ids = locked.map((t) => t.id);
  const set =
    change.action === "assign"
      ? { assigneeId: change.assignee.id }
      : change.action === "unassign"
        ? { assigneeId: null }
        : change.action === "priority"
          ? { priority: change.priority }
          : null;
  if (set) for (const part of chunks(ids)) await tx.update(tasks).set(set).where(inArray(tasks.id, part));

  const emails = await emailsOf(tx, [...locked.map((t) => t.assigneeId), ...ending.map((t) => t.claimedBy)]);
  const before = (t: TaskRow) =>
    change.action === "priority"
      ? t.priority
      : change.action === "release"
        ? (emails.get(t.claimedBy ?? "") ?? t.claimedBy)
        : t.assigneeId
          ? (emails.get(t.assigneeId) ?? t.assigneeId)
          : null;
  const batchId = newId("tb", now);
  await appendAudit(tx, {
    actor: ctx.actor,
    action: AUDIT_ACTION[change.action],
    entityType: TASK_BATCH,
    entityId: batchId,
    data: {
      ...ctx.data,
      ...(change.action === "assign" ? { assignee: change.assignee.email } : {}),
      ...(change.action === "priority" ? { priority: change.priority } : {}),
      fields: TASK_BATCH_FIELDS,
      tasks: locked.map((t) => [t.id, t.decisionId, before(t)]),
      ...(change.action === "assign" && ending.length ? { leasesEnded: ending.map((t) => t.id) } : {}),
    },
    at: now,
  });
  const rows = locked.map((t): TaskRow => {
    const released = ended.has(t.id) ? { status: "open" as const, claimedBy: null, leaseExpiresAt: null, claimedAt: null } : {};
    return { ...t, ...released, ...(set ?? {}) };
  });
  return { rows, batchId, leasesEnded: ending.map((t) => t.id) };
}

/**
 * Assigns one task to a person, or (assignee null) takes it back to the shared
 * queue: one transaction, one audit entry on the task (task.assigned /
 * task.unassigned). Assigning a task to the person it is assigned to changes nothing.
 */
export async function assignTask(db: Db, actor: string, taskId: string, input: unknown, now = Date.now()): Promise<TaskJson> {
  const parsed = assignBodySchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid assignment", zodIssues(parsed.error));
  const email = parsed.data.assignee;
  return transaction(db, async (tx) => {
    const t = (await lockTasks(tx, [taskId]))[0];
    if (!t) throw notFound(`Task ${taskId} not found`);
    const assignee = email === null ? null : await assigneeByEmail(tx, email);
    const change: TaskChange = assignee ? { action: "assign", assignee } : { action: "unassign" };
    const why = changeRefusal(t, change);
    if (why) throw conflict(`Task ${t.id} ${why}`);
    const keepsLease = !assignee || t.status !== "claimed" || t.claimedBy === assignee.id;
    if (t.assigneeId === (assignee?.id ?? null) && keepsLease) return taskToJson(t, assignee?.email ?? null);
    const emails = await emailsOf(tx, [t.assigneeId, t.claimedBy]);
    if (!keepsLease && !(await returnToQueue(tx, t, now))) throw conflict(`Task ${t.id} changed while it was being assigned; try again`);
    await tx
      .update(tasks)
      .set({ assigneeId: assignee?.id ?? null })
      .where(eq(tasks.id, t.id));
    await appendAudit(tx, {
      actor,
      action: assignee ? "task.assigned" : "task.unassigned",
      entityType: "task",
      entityId: t.id,
      data: {
        decisionId: t.decisionId,
        assignee: assignee?.email ?? null,
        previous: t.assigneeId ? (emails.get(t.assigneeId) ?? t.assigneeId) : null,
        ...(keepsLease ? {} : { leaseEnded: emails.get(t.claimedBy ?? "") ?? t.claimedBy }),
      },
      at: now,
    });
    const released = keepsLease ? {} : { status: "open" as const, claimedBy: null, leaseExpiresAt: null, claimedAt: null };
    return taskToJson({ ...t, ...released, assigneeId: assignee?.id ?? null }, assignee?.email ?? null);
  });
}

/**
 * Hands a person's assigned tasks (review, QA, second; open or claimed) back to
 * the shared queue and ends the leases they hold on them: inside the transaction
 * that disables them or takes their reviewing role away. One task_batch entry
 * (tasks.unassigned, with the reason) when there was any. Escalations stay with
 * their type's owner: the type page names a new owner.
 */
export async function returnAssignedTasks(tx: DbOrTx, user: Person, ctx: { actor: string; now: number; reason: string }): Promise<string[]> {
  const ids = (
    await tx
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(eq(tasks.assigneeId, user.id), inArray(tasks.status, ["open", "claimed"]), inArray(tasks.kind, [...ASSIGNABLE_KINDS])))
  ).map((r) => r.id);
  if (ids.length === 0) return [];
  const locked = await lockTasks(tx, ids);
  const holding = locked.filter((t) => t.status === "claimed" && t.claimedBy === user.id);
  for (const t of holding) await returnToQueue(tx, t, ctx.now);
  const stillMine = locked.filter((t) => t.assigneeId === user.id);
  await changeTasks(
    tx,
    stillMine,
    { action: "unassign" },
    {
      actor: ctx.actor,
      now: ctx.now,
      data: { reason: ctx.reason, user: user.email, ...(holding.length ? { leasesEnded: holding.map((t) => t.id) } : {}) },
    },
  );
  return stillMine.map((t) => t.id);
}
