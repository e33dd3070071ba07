/**
 * The review queue: claim the next task under a lease, renew, release.
 * Order: priority (high first), then SLA due time, then arrival.
 * A claim runs in one IMMEDIATE transaction, so two reviewers can never take
 * the same task; an expired lease returns the task to the queue.
 */
import { forUpdate, forUpdateSkipLocked } from "@db/sql";
import { and, asc, desc, eq, inArray, isNull, lt, ne, notInArray, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { decisions, taskCounters, tasks } from "@db/schema/index";
import { conflict, invalid, notFound, type AppError } from "~/lib/errors";
import { MINUTE } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";

export const DEFAULT_LEASE_MS = 15 * MINUTE;

export type TaskRow = typeof tasks.$inferSelect;
export type TaskKind = TaskRow["kind"];

export const claimBodySchema = z
  .object({
    type: z.string().min(1).max(64).optional(),
    /** Lease length; defaults to 15 minutes. */
    leaseSeconds: z.number().int().min(1).max(3600).optional(),
  })
  .strict();

export type Reviewer = { id: string; email: string };

export function taskToJson(t: TaskRow) {
  return {
    id: t.id,
    decisionId: t.decisionId,
    type: t.typeKey,
    // Public name of the task's kind (review, qa, second, escalation), kept for integrators. Not a
    // decision's `route` (auto or review, the routing outcome), though the names collide.
    route: t.kind,
    status: t.status,
    priority: t.priority,
    dueAt: new Date(t.dueAt).toISOString(),
    claimedBy: t.claimedBy,
    leaseExpiresAt: t.leaseExpiresAt ? new Date(t.leaseExpiresAt).toISOString() : null,
  };
}

/**
 * Puts a claimed task back in the queue (lease lapsed or released); a decision it held goes back to
 * pending review. Only while the same reviewer still holds it: false when someone else changed it first.
 */
async function returnToQueue(tx: DbOrTx, t: Pick<TaskRow, "id" | "decisionId" | "kind" | "claimedBy">, now: number): Promise<boolean> {
  const held = await tx
    .update(tasks)
    .set({ status: "open", claimedBy: null, leaseExpiresAt: null })
    .where(and(eq(tasks.id, t.id), eq(tasks.status, "claimed"), t.claimedBy === null ? isNull(tasks.claimedBy) : eq(tasks.claimedBy, t.claimedBy)))
    .returning({ id: tasks.id });
  if (held.length === 0) return false;
  if (holdsDecision(t.kind)) {
    await tx.update(decisions)
            .set({ status: "pending_review", updatedAt: now })
            .where(and(eq(decisions.id, t.decisionId), eq(decisions.status, "in_review")));
  }
  return true;
}

/** Returns tasks whose lease ran out to the queue (and their decisions to pending). */
export async function reapExpiredLeases(tx: DbOrTx, now: number): Promise<number> {
  // Rows another transaction is reaping (or claiming) are skipped: each lapsed lease is returned once.
  const lapsed = await forUpdateSkipLocked(
    tx,
    tx
      .select({ id: tasks.id, decisionId: tasks.decisionId, kind: tasks.kind, claimedBy: tasks.claimedBy })
      .from(tasks)
      .where(and(eq(tasks.status, "claimed"), lt(tasks.leaseExpiresAt, now)))
      .limit(1000),
  );
  const expired: typeof lapsed = [];
  for (const t of lapsed) if (await returnToQueue(tx, t, now)) expired.push(t);
  if (expired.length === 0) return 0;
  await appendAudit(
        tx,
        expired.map((t) => ({ actor: "system", action: "task.lease_expired", entityType: "task", entityId: t.id, data: { previousHolder: t.claimedBy }, at: now })),
      );
  return expired.length;
}

/** Tasks the decision waits for: while one is claimed the decision shows as in_review. */
function holdsDecision(kind: TaskKind): boolean {
  return kind === "review" || kind === "second";
}

/** Conditions for tasks a reviewer may take from the shared queue. */
export function claimableBy(reviewer: Reviewer): SQL {
  return and(
    eq(tasks.status, "open"),
    // Escalations never enter the shared queue; only the type's owner (their assignee) gets them.
    or(ne(tasks.kind, "escalation"), eq(tasks.assigneeId, reviewer.id)),
    or(isNull(tasks.assigneeId), eq(tasks.assigneeId, reviewer.id)),
    or(isNull(tasks.excludedUserId), ne(tasks.excludedUserId, reviewer.id)),
  )!;
}

/**
 * Chooses the next task inside the claim's own transaction (so what it reads
 * cannot change before the lease is taken); returns its id or null. Given to
 * claimNextTask by views that order or filter the queue their own way.
 */
export type NextTaskPicker = (tx: DbOrTx, now: number) => Promise<string | null>;

/**
 * Claims the next task: the head of the shared queue (optionally one type,
 * minus the ids in `skip`), or the task `pick` chooses. Either way the choice
 * and the lease happen in one IMMEDIATE transaction.
 */
export async function claimNextTask(
  db: Db,
  reviewer: Reviewer,
  opts: { type?: string; leaseMs?: number; now?: number; skip?: string[]; pick?: NextTaskPicker } = {},
): Promise<TaskRow | null> {
  const now = opts.now ?? Date.now();
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  return transaction(db, async (tx) => {
    await reapExpiredLeases(tx, now);
    let next: TaskRow | undefined;
    if (opts.pick) {
      const id = await opts.pick(tx, now);
      next = id ? (await forUpdateSkipLocked(tx, tx.select().from(tasks).where(and(eq(tasks.id, id), claimableBy(reviewer))).limit(1)))[0] : undefined;
    } else {
      const where = [claimableBy(reviewer)];
      if (opts.type) where.push(eq(tasks.typeKey, opts.type));
      if (opts.skip?.length) where.push(notInArray(tasks.id, opts.skip));
      // Concurrent claimers skip each other's candidate row instead of queueing on it (Postgres).
      next = (
        await forUpdateSkipLocked(
          tx,
          tx
            .select()
            .from(tasks)
            .where(and(...where))
            .orderBy(desc(tasks.priority), asc(tasks.dueAt), asc(tasks.seq))
            .limit(1),
        )
      )[0];
    }
    if (!next) return null;
    return takeLease(tx, next, reviewer, now, leaseMs);
  });
}

/** Claims one specific task (escalations view, four-eyes second review). */
export async function claimTask(db: Db, reviewer: Reviewer, taskId: string, opts: { leaseMs?: number; now?: number; kind?: TaskKind } = {}): Promise<TaskRow> {
  const now = opts.now ?? Date.now();
  return transaction(db, async (tx) => {
    await reapExpiredLeases(tx, now);
    const t = (await forUpdate(tx, tx.select().from(tasks).where(eq(tasks.id, taskId)).limit(1)))[0];
    if (!t) throw notFound(`Task ${taskId} not found`);
    // A view that claims one kind (the escalations page) must not take a lease on another.
    if (opts.kind && t.kind !== opts.kind) throw invalid(`That task is not ${opts.kind === "escalation" ? "an escalation" : `a ${opts.kind} task`}`);
    if (t.status === "claimed" && t.claimedBy === reviewer.id) return renewInTx(tx, t, now, opts.leaseMs ?? DEFAULT_LEASE_MS);
    const refused = claimRefusal(t, reviewer, now);
    if (refused) throw refused;
    return takeLease(tx, t, reviewer, now, opts.leaseMs ?? DEFAULT_LEASE_MS);
  });
}

/**
 * Why the reviewer may not take this task now, or null when they may (a lapsed
 * lease counts as free). claimTask enforces it; the review page asks it before
 * offering a claim, so a GET can explain without taking anything.
 */
export function claimRefusal(t: TaskRow, reviewer: Reviewer, now: number): AppError | null {
  const lapsed = t.status === "claimed" && (t.leaseExpiresAt ?? 0) <= now;
  if (t.status !== "open" && !lapsed) return conflict(`Task ${t.id} is ${t.status === "claimed" ? "held by another reviewer" : t.status}`);
  if (t.assigneeId && t.assigneeId !== reviewer.id) return conflict(`Task ${t.id} is assigned to someone else`);
  if (t.excludedUserId === reviewer.id) return conflict(`Task ${t.id} needs a different reviewer (four-eyes)`);
  return null;
}

async function takeLease(tx: DbOrTx, t: TaskRow, reviewer: Reviewer, now: number, leaseMs: number): Promise<TaskRow> {
  const leaseExpiresAt = now + leaseMs;
  const res = await tx
      .update(tasks)
      .set({ status: "claimed", claimedBy: reviewer.id, leaseExpiresAt })
      .where(and(eq(tasks.id, t.id), eq(tasks.status, "open")))
      .returning({ id: tasks.id });
  if (res.length !== 1) throw conflict(`Task ${t.id} was taken by someone else`);
  if (holdsDecision(t.kind)) {
    await tx.update(decisions)
            .set({ status: "in_review", updatedAt: now })
            .where(and(eq(decisions.id, t.decisionId), eq(decisions.status, "pending_review")));
  }
  await appendAudit(tx, { actor: reviewer.email, action: "task.claimed", entityType: "task", entityId: t.id, data: { decisionId: t.decisionId, leaseExpiresAt }, at: now });
  return { ...t, status: "claimed", claimedBy: reviewer.id, leaseExpiresAt };
}

/** The task, if the reviewer holds its current lease; otherwise a 409 that says why. */
export async function requireLease(tx: DbOrTx, taskId: string, reviewer: Reviewer, now: number): Promise<TaskRow> {
  // Locked until the transaction ends: a verdict, a renewal and a release of one task never interleave.
  const t = (await forUpdate(tx, tx.select().from(tasks).where(eq(tasks.id, taskId)).limit(1)))[0];
  if (!t) throw notFound(`Task ${taskId} not found`);
  if (t.status === "done" || t.status === "cancelled") throw conflict(`Task ${taskId} is already ${t.status === "done" ? "completed" : "cancelled"}`);
  if (t.status !== "claimed" || t.claimedBy !== reviewer.id) throw conflict(`You do not hold the lease on task ${taskId}; claim it first`);
  if ((t.leaseExpiresAt ?? 0) <= now) throw conflict(`Your lease on task ${taskId} expired; claim the task again`);
  return t;
}

async function renewInTx(tx: DbOrTx, t: TaskRow, now: number, leaseMs: number): Promise<TaskRow> {
  const leaseExpiresAt = now + leaseMs;
  await tx.update(tasks).set({ leaseExpiresAt }).where(eq(tasks.id, t.id));
  return { ...t, leaseExpiresAt };
}

export async function renewLease(db: Db, reviewer: Reviewer, taskId: string, opts: { leaseMs?: number; now?: number } = {}): Promise<TaskRow> {
  const now = opts.now ?? Date.now();
  return transaction(db, async (tx) => renewInTx(tx, await requireLease(tx, taskId, reviewer, now), now, opts.leaseMs ?? DEFAULT_LEASE_MS));
}

export async function releaseTask(db: Db, reviewer: Reviewer, taskId: string, opts: { now?: number } = {}): Promise<TaskRow> {
  const now = opts.now ?? Date.now();
  return transaction(db, async (tx) => {
    const t = await requireLease(tx, taskId, reviewer, now);
    if (!(await returnToQueue(tx, t, now))) throw conflict(`Task ${taskId} changed while it was being released; reload it`);
    await appendAudit(tx, { actor: reviewer.email, action: "task.released", entityType: "task", entityId: t.id, data: { decisionId: t.decisionId }, at: now });
    return { ...t, status: "open" as const, claimedBy: null, leaseExpiresAt: null };
  });
}

export async function getTask(db: DbOrTx, taskId: string): Promise<TaskRow | undefined> {
  return (await db.select().from(tasks).where(eq(tasks.id, taskId)).limit(1))[0];
}

export type QueueCount = { typeKey: string; kind: TaskKind; open: number; claimed: number };

/**
 * Open and claimed task counts per type and kind, read from task_counters
 * (kept exact by triggers on tasks), so a queue list costs O(types), not O(tasks).
 */
export async function queueCounts(db: DbOrTx): Promise<QueueCount[]> {
  const byKey = new Map<string, QueueCount>();
  for (const c of await db.select().from(taskCounters).where(inArray(taskCounters.status, ["open", "claimed"]))) {
    const k = `${c.typeKey}\u0000${c.kind}`;
    const row = byKey.get(k) ?? { typeKey: c.typeKey, kind: c.kind as TaskKind, open: 0, claimed: 0 };
    if (c.status === "open") row.open += c.n;
    else row.claimed += c.n;
    byKey.set(k, row);
  }
  return [...byKey.values()];
}
