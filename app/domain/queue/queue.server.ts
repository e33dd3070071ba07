/**
 * Tasks and their leases: who may take what (claimableBy, claimRefusal), and
 * what happens to a lease after a claim (claim.server.ts takes it): renew,
 * release, expiry (a lapsed lease returns the task to the queue), and the
 * check every verdict makes (requireLease). Each runs in one transaction, on
 * rows it locks or with updates guarded by the state it expects.
 */
import { forUpdate, forUpdateSkipLocked } from "@db/sql";
import { and, eq, inArray, isNull, lt, min, ne, or, sql, type Placeholder, type SQL } from "drizzle-orm";
import { z } from "zod";
import { afterCommit, perStore, preparedQuery, transaction, writeBehind, type Db, type DbOrTx } from "@db/client.server";
import { decisions, taskCounters, tasks, users } from "@db/schema/index";
import { TASK_KINDS, TASK_STATUSES } from "@db/schema/tables";
import { conflict, notFound, type AppError } from "~/lib/errors";
import { MINUTE } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { requireQueueMember } from "../teams/membership.server";

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

/** The public JSON shape of a task (claim, renew, release). */
export const taskJsonSchema = z
  .object({
    id: z.string(),
    decisionId: z.string(),
    type: z.string(),
    route: z.enum(TASK_KINDS).describe("The task's kind (review, qa, second, escalation); not the decision's route"),
    status: z.enum(TASK_STATUSES),
    priority: z.number().int(),
    dueAt: z.iso.datetime(),
    claimedBy: z.string().nullable().describe("The id of the user holding the lease"),
    leaseExpiresAt: z.iso.datetime().nullable(),
    assignee: z
      .string()
      .nullable()
      .describe("The email of the person the task is assigned to (only they may claim it; escalations: the type's owner); null: the shared queue"),
  })
  .meta({ id: "Task" });

export type TaskJson = z.output<typeof taskJsonSchema>;

/** The answer of renew and release: the task as it is now. */
export const taskAnswerSchema = z.object({ task: taskJsonSchema });

/** The task as JSON, with its assignee's email (`assignee`: the email of t.assigneeId, or null when unassigned). */
export function taskToJson(t: TaskRow, assignee: string | null): TaskJson {
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
    assignee: t.assigneeId ? assignee : null,
  };
}

/** taskToJson, reading the assignee's email (one lookup by primary key, only for an assigned task). */
export async function describeTask(db: DbOrTx, t: TaskRow): Promise<TaskJson> {
  if (!t.assigneeId) return taskToJson(t, null);
  const u = (await db.select({ email: users.email }).from(users).where(eq(users.id, t.assigneeId)).limit(1))[0];
  return taskToJson(t, u?.email ?? null);
}

/**
 * Puts a claimed task back in the queue (lease lapsed or released); a decision it held goes back to
 * pending review. Only while the same reviewer still holds it: false when someone else changed it first.
 */
export async function returnToQueue(tx: DbOrTx, t: ReturnedTask, now: number): Promise<boolean> {
  return (await returnAllToQueue(tx, [t], now, t.claimedBy === null ? isNull(tasks.claimedBy) : eq(tasks.claimedBy, t.claimedBy))).size === 1;
}

type ReturnedTask = Pick<TaskRow, "id" | "decisionId" | "kind" | "claimedBy">;

/**
 * Puts claimed tasks back in the queue, set-based (a slice of ids a statement, so a mass expiry costs a few
 * statements, not two per task); the decisions they held go back to pending review. Only tasks still claimed and
 * still meeting `guard` (as the caller read them) are returned: their ids are the answer.
 */
export async function returnAllToQueue(tx: DbOrTx, ts: ReturnedTask[], now: number, guard: SQL): Promise<Set<string>> {
  const returned = new Set<string>();
  for (let i = 0; i < ts.length; i += 500) {
    const rows = await tx
      .update(tasks)
      .set({ status: "open", claimedBy: null, leaseExpiresAt: null, claimedAt: null })
      .where(
        and(
          inArray(
            tasks.id,
            ts.slice(i, i + 500).map((t) => t.id),
          ),
          eq(tasks.status, "claimed"),
          guard,
        ),
      )
      .returning({ id: tasks.id });
    for (const r of rows) returned.add(r.id);
  }
  const held = ts.filter((t) => returned.has(t.id) && holdsDecision(t.kind)).map((t) => t.decisionId);
  for (let i = 0; i < held.length; i += 500) {
    await tx
      .update(decisions)
      .set({ status: "pending_review", updatedAt: now })
      .where(and(inArray(decisions.id, held.slice(i, i + 500)), eq(decisions.status, "in_review")));
  }
  return returned;
}

/** A decision's review status as its task is claimed or returned (only from the status expected: a guarded update). */
const decisionStatusUpdate = preparedQuery("decision_review_status", (db) =>
  db
    .update(decisions)
    .set({ status: sql`${sql.placeholder("to")}`, updatedAt: sql`${sql.placeholder("now")}` })
    .where(and(eq(decisions.id, sql.placeholder("id")), eq(decisions.status, sql.placeholder("from"))))
    .returning({ id: decisions.id }),
);

export async function setDecisionStatus(
  tx: DbOrTx,
  p: { id: string; from: "pending_review" | "in_review"; to: "pending_review" | "in_review"; now: number },
): Promise<void> {
  // Nothing reads its answer (a decision no longer in the status expected keeps its own): on Postgres it goes with the commit.
  await writeBehind(tx, (db) => decisionStatusUpdate(db, p));
}

/** Claimed tasks whose lease ran out, locked (rows another transaction is reaping or claiming are skipped). */
const lapsedLeases = preparedQuery("tasks_lapsed_leases", (db) =>
  forUpdateSkipLocked(
    db,
    db
      .select({ id: tasks.id, decisionId: tasks.decisionId, kind: tasks.kind, claimedBy: tasks.claimedBy })
      .from(tasks)
      .where(and(eq(tasks.status, "claimed"), lt(tasks.leaseExpiresAt, sql.placeholder("now"))))
      .limit(1000),
  ),
);

/** Returns tasks whose lease ran out to the queue (and their decisions to pending). */
export async function reapExpiredLeases(tx: DbOrTx, now: number): Promise<number> {
  // Rows another transaction is reaping (or claiming) are skipped: each lapsed lease is returned once.
  const lapsed = await lapsedLeases(tx, { now });
  // Each is returned as it was read: still claimed, its lease lapsed.
  const returned = await returnAllToQueue(tx, lapsed, now, lt(tasks.leaseExpiresAt, now));
  const expired = lapsed.filter((t) => returned.has(t.id));
  if (expired.length === 0) return 0;
  await appendAudit(
    tx,
    expired.map((t) => ({ actor: "system", action: "task.lease_expired", entityType: "task", entityId: t.id, data: { previousHolder: t.claimedBy }, at: now })),
  );
  return expired.length;
}

/**
 * Lapsed leases, reaped by the claims that need it. A claim reaps before it chooses, so a task whose lease ran out
 * is served again at once; but nearly every claim would find nothing, and on Postgres the locked probe is a round
 * trip. So each process keeps, per database, a time before which no lease can lapse: the earliest lease on record
 * when it last looked, lowered by every lease it hands out or renews (noteLease). It looks again once that time
 * has come, when the clock it is given went back, and at least every LEASE_WATCH_MS for the leases other app
 * instances handed out meanwhile (so on several instances a lapsed lease waits at most that long for the next
 * claim; the lease-expiry job reaps it in any case).
 */
export const LEASE_WATCH_MS = 1_000;
type LeaseWatch = { checkedAt: number; nextLapse: number };
const LEASE_WATCH = {};
const leaseWatch = (db: DbOrTx) => perStore<LeaseWatch>(db, LEASE_WATCH, () => ({ checkedAt: -Infinity, nextLapse: -Infinity }));

/** A lease this process handed out or renewed: the next claim after `until` reaps. */
export function noteLease(db: DbOrTx, until: number): void {
  const w = leaseWatch(db);
  if (until < w.nextLapse) w.nextLapse = until;
}

const earliestLease = preparedQuery("tasks_earliest_lease", (db) =>
  db
    .select({ at: min(tasks.leaseExpiresAt) })
    .from(tasks)
    .where(eq(tasks.status, "claimed")),
);

/** reapExpiredLeases, for a claim: only when a lease may have lapsed since this process last looked. */
export async function reapLapsedLeases(tx: DbOrTx, now: number): Promise<number> {
  const w = leaseWatch(tx);
  if (now < w.nextLapse && now >= w.checkedAt && now < w.checkedAt + LEASE_WATCH_MS) return 0;
  const reaped = await reapExpiredLeases(tx, now);
  const next = Number((await earliestLease(tx, {}))[0]?.at ?? Infinity);
  // Only once this transaction commits (a rollback puts the lapsed leases back); a lease handed out meanwhile
  // (noted, not yet visible here) keeps the watch below it.
  afterCommit(tx, () => {
    w.checkedAt = now;
    w.nextLapse = Math.min(next, w.nextLapse > now ? w.nextLapse : Infinity);
  });
  return reaped;
}

/** Tasks the decision waits for: while one is claimed the decision shows as in_review. */
export function holdsDecision(kind: TaskKind): boolean {
  return kind === "review" || kind === "second";
}

/**
 * Conditions for tasks a reviewer may take from the shared queue. The status and kind are written into the SQL,
 * not bound: a prepared claim's plan then knows it reads open tasks (the queue-order indexes), once for all calls.
 */
export function claimableBy(reviewer: { id: string | Placeholder }): SQL {
  return and(
    sql`${tasks.status} = 'open'`,
    // Escalations never enter the shared queue; only the type's owner (their assignee) gets them.
    or(sql`${tasks.kind} <> 'escalation'`, eq(tasks.assigneeId, reviewer.id)),
    or(isNull(tasks.assigneeId), eq(tasks.assigneeId, reviewer.id)),
    notExcluded(reviewer),
  )!;
}

/** Not a task the reviewer is kept off (four-eyes: the second review needs someone other than the first reviewer). */
export function notExcluded(reviewer: { id: string | Placeholder }): SQL {
  return or(isNull(tasks.excludedUserId), ne(tasks.excludedUserId, reviewer.id))!;
}

/**
 * Why the reviewer may not take this task now, or null when they may (a lapsed
 * lease counts as free). claim() enforces it for a given task; the review page asks it before
 * offering a claim, so a GET can explain without taking anything.
 */
export function claimRefusal(t: TaskRow, reviewer: Reviewer, now: number): AppError | null {
  const lapsed = t.status === "claimed" && (t.leaseExpiresAt ?? 0) <= now;
  if (t.status !== "open" && !lapsed) return conflict(`Task ${t.id} is ${t.status === "claimed" ? "held by another reviewer" : t.status}`);
  if (t.assigneeId && t.assigneeId !== reviewer.id) return conflict(`Task ${t.id} is assigned to someone else`);
  if (t.excludedUserId === reviewer.id) return conflict(`Task ${t.id} needs a different reviewer (four-eyes)`);
  return null;
}

/** The task, if the reviewer holds its current lease; otherwise a 409 that says why (403 for a queue they may not work). */
export async function requireLease(tx: DbOrTx, taskId: string, reviewer: Reviewer, now: number): Promise<TaskRow> {
  // Locked until the transaction ends: a verdict, a renewal and a release of one task never interleave.
  const t = (await forUpdate(tx, tx.select().from(tasks).where(eq(tasks.id, taskId)).limit(1)))[0];
  if (!t) throw notFound(`Task ${taskId} not found`);
  await requireQueueMember(tx, reviewer, t);
  if (t.status === "done" || t.status === "cancelled") throw conflict(`Task ${taskId} is already ${t.status === "done" ? "completed" : "cancelled"}`);
  if (t.status !== "claimed" || t.claimedBy !== reviewer.id) throw conflict(`You do not hold the lease on task ${taskId}; claim it first`);
  if ((t.leaseExpiresAt ?? 0) <= now) throw conflict(`Your lease on task ${taskId} expired; claim the task again`);
  return t;
}

/** Moves the lease's end to `now + leaseMs`; only inside a transaction that checked the reviewer holds the task. */
export async function extendLease(tx: DbOrTx, t: TaskRow, now: number, leaseMs: number): Promise<TaskRow> {
  const leaseExpiresAt = now + leaseMs;
  await tx.update(tasks).set({ leaseExpiresAt }).where(eq(tasks.id, t.id));
  noteLease(tx, leaseExpiresAt);
  return { ...t, leaseExpiresAt };
}

export async function renewLease(db: Db, reviewer: Reviewer, taskId: string, opts: { leaseMs?: number; now?: number } = {}): Promise<TaskRow> {
  const now = opts.now ?? Date.now();
  return transaction(db, async (tx) => extendLease(tx, await requireLease(tx, taskId, reviewer, now), now, opts.leaseMs ?? DEFAULT_LEASE_MS));
}

export async function releaseTask(db: Db, reviewer: Reviewer, taskId: string, opts: { now?: number } = {}): Promise<TaskRow> {
  const now = opts.now ?? Date.now();
  return transaction(db, async (tx) => {
    const t = await requireLease(tx, taskId, reviewer, now);
    if (!(await returnToQueue(tx, t, now))) throw conflict(`Task ${taskId} changed while it was being released; reload it`);
    await appendAudit(tx, { actor: reviewer.email, action: "task.released", entityType: "task", entityId: t.id, data: { decisionId: t.decisionId }, at: now });
    return { ...t, status: "open" as const, claimedBy: null, leaseExpiresAt: null, claimedAt: null };
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
  for (const c of await db
    .select()
    .from(taskCounters)
    .where(inArray(taskCounters.status, ["open", "claimed"]))) {
    const k = `${c.typeKey}\u0000${c.kind}`;
    const row = byKey.get(k) ?? { typeKey: c.typeKey, kind: c.kind as TaskKind, open: 0, claimed: 0 };
    if (c.status === "open") row.open += c.n;
    else row.claimed += c.n;
    byKey.set(k, row);
  }
  return [...byKey.values()];
}
