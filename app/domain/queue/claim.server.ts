/**
 * Claiming: the one way a reviewer takes a task under a lease.
 *
 *   claim(db, reviewer, { next: { type } })             the head of the shared queue (optionally one type):
 *                                                        the task, or null when nothing is open (HTTP API, seeds)
 *   claim(db, reviewer, { task: id, kind })             one given task (a list row, the review page's button,
 *                                                        the escalations page; `kind` refuses any other kind):
 *                                                        the task, or an AppError that says why not
 *   claim(db, reviewer, { view: filter, skip, after })  work mode's next task of a filtered list:
 *                                                        the task and its place in the list, or why there is none
 *
 * Queue order: tasks a manager assigned to the reviewer first, then the shared
 * queue; each by priority (high first), then SLA due time, then arrival. Every
 * claim reaps lapsed leases (when one may have lapsed: reapLapsedLeases), chooses its task and takes the lease in one
 * transaction: the candidate row is read `FOR UPDATE SKIP LOCKED` (a given task
 * `FOR UPDATE`), so concurrent claimers on Postgres take different tasks instead
 * of queueing on one, and the lease is a guarded update (`status = 'open'`), so
 * two reviewers never hold the same task, however many app instances run.
 *
 * Queue membership (teams/membership.server.ts): each claim reads once which
 * types are closed to the reviewer (a small prepared query, before the claim's
 * transaction) and leaves their tasks out; a given task of such a type is a 403.
 */
import { and, eq, inArray, sql, type Placeholder, type SQL } from "drizzle-orm";
import { forUpdate, forUpdateSkipLocked } from "@db/sql";
import { dialectOf, preparedQuery, transaction, type Db, type DbOrTx } from "@db/client.server";
import { tasks } from "@db/schema/index";
import { conflict, invalid, notFound } from "~/lib/errors";
import { appendAudit } from "../audit/audit.server";
import { inReviewerQueuesOf, queueRefusal, queueScope, type QueueScope } from "../teams/membership.server";
import { z } from "zod";
import { decisionJsonSchema } from "../decisions/decisions.server";
import { listPosition, listQueue, SCAN_BUDGET, type QueueFilter } from "./queue-view.server";
import {
  claimableBy,
  claimRefusal,
  DEFAULT_LEASE_MS,
  extendLease,
  holdsDecision,
  notExcluded,
  noteLease,
  reapExpiredLeases,
  reapLapsedLeases,
  setDecisionStatus,
  taskJsonSchema,
  type Reviewer,
  type TaskKind,
  type TaskRow,
} from "./queue.server";

/** POST /api/v1/tasks/claim answers the task taken and its decision (204 when nothing is open). */
export const claimAnswerSchema = z.object({ task: taskJsonSchema, decision: decisionJsonSchema });

/** What to claim. */
export type ClaimTarget = NextTarget | TaskTarget | ViewTarget;
/** The head of the shared queue, optionally of one decision type. */
export type NextTarget = { next: { type?: string } };
/** One task by id; with `kind`, only a task of that kind (the escalations page never takes a lease on anything else). */
export type TaskTarget = { task: string; kind?: TaskKind };
/**
 * The next task of a filtered list, in its order, minus the ids in `skip`.
 * `after` is where the reviewer is in the list (a position from an earlier
 * view claim, or listPosition); `windows` bounds the search for decision
 * filters (default WORK_SEARCH_WINDOWS).
 */
export type ViewTarget = { view: QueueFilter; skip?: string[]; after?: string; windows?: number };

export type ClaimOptions = { leaseMs?: number; now?: number };

/**
 * A view claim's answer: the task and its place in the list (the next view
 * claim goes on from there), or none. `searchedAll: false` means the bounded
 * search for a rare flag or model ran out before the end of the queue; no match
 * so far is not "none left".
 */
export type ViewClaim = { task: TaskRow; position: string; searchedAll: true } | { task: null; searchedAll: boolean; scanned: number };

export function claim(db: Db, reviewer: Reviewer, target: NextTarget, opts?: ClaimOptions): Promise<TaskRow | null>;
export function claim(db: Db, reviewer: Reviewer, target: TaskTarget, opts?: ClaimOptions): Promise<TaskRow>;
export function claim(db: Db, reviewer: Reviewer, target: ViewTarget, opts?: ClaimOptions): Promise<ViewClaim>;
export async function claim(db: Db, reviewer: Reviewer, target: ClaimTarget, opts: ClaimOptions = {}): Promise<TaskRow | null | ViewClaim> {
  const at = { now: opts.now ?? Date.now(), leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS };
  if ("next" in target) return claimHead(db, reviewer, at, target.next.type);
  if ("task" in target) return claimGiven(db, reviewer, at, target.task, target.kind);
  return claimInView(db, reviewer, at, target);
}

type At = { now: number; leaseMs: number };

/**
 * The claim transaction: reap lapsed leases, let `choose` pick a row (locked,
 * inside the same transaction, so what it read cannot change before the lease
 * is taken), take the lease on it. Null when `choose` finds nothing.
 */
async function claimChosen(db: Db, reviewer: Reviewer, at: At, choose: (tx: DbOrTx) => Promise<TaskRow | undefined>): Promise<TaskRow | null> {
  return transaction(db, async (tx) => {
    await reapLapsedLeases(tx, at.now);
    const next = await choose(tx);
    return next ? takeLease(tx, next, reviewer, at) : null;
  });
}

/**
 * The head claim in one statement: the lease is taken on the first task assigned to the reviewer that matches
 * `filters` (among up to ASSIGNED_PROBE of their open assigned tasks), else on the head of the shared queue in the
 * queues the reviewer works, and the leased row is returned; none when nothing is open for them. The head is chosen
 * and locked inside the update (`FOR UPDATE SKIP LOCKED` on Postgres), and which queues are closed to the reviewer is
 * read inside it too (inReviewerQueuesOf), so a claim's choice is one round trip, not three, and the lease is guarded
 * (`status = 'open'`) as every lease is. The constants are written into the SQL, not bound, so Postgres can plan the
 * prepared statement once (a generic plan on the queue-order indexes) instead of for every claim.
 *
 * The assigned probe already holds only open tasks the reviewer may take (their own, not escalations, whatever the
 * queue's members), so its head adds only what the probe cannot know (four-eyes, the filters) and no condition on
 * the status: both stores then start from the probe's few ids (the assignee index), not from a walk of the whole
 * queue in order.
 */
function leaseHeadQuery(db: DbOrTx, reviewer: { id: Placeholder }, filters: SQL[], p: { until: Placeholder; now: Placeholder }) {
  const locked = dialectOf(db) === "postgres" ? sql` for update skip locked` : sql``;
  const head = (cond: SQL[]) =>
    sql`(select ${tasks.id} from ${tasks} where ${and(...cond)} order by ${tasks.priority} desc, ${tasks.dueAt} asc, ${tasks.seq} asc limit 1${locked})`;
  const assigned = sql`${tasks.id} in (select ${tasks.id} from ${tasks} where ${assignedOpenTo(reviewer)} limit ${sql.raw(String(ASSIGNED_PROBE))})`;
  const mine = head([assigned, notExcluded(reviewer), ...filters]);
  const shared = head([claimableBy(reviewer), inReviewerQueuesOf(db, reviewer), ...filters]);
  return db
    .update(tasks)
    .set({ status: "claimed", claimedBy: sql`${reviewer.id}`, leaseExpiresAt: sql`${p.until}`, claimedAt: sql`${p.now}` })
    .where(sql`${tasks.id} = coalesce(${mine}, ${shared}) and ${tasks.status} = 'open'`)
    .returning();
}

/** The head claim, prepared once (on Postgres a named statement per connection): of the whole queue, and of one type. */
const placeholders = { until: sql.placeholder("until"), now: sql.placeholder("now") };
const someone = { id: sql.placeholder("reviewer") };
const leaseHead = preparedQuery("tasks_lease_head", (db) => leaseHeadQuery(db, someone, [], placeholders));
const leaseHeadOfType = preparedQuery("tasks_lease_head_of_type", (db) =>
  leaseHeadQuery(db, someone, [eq(tasks.typeKey, sql.placeholder("type"))], placeholders),
);

async function claimHead(db: Db, reviewer: Reviewer, at: At, type: string | undefined): Promise<TaskRow | null> {
  const leased = await transaction(db, async (tx) => {
    await reapLapsedLeases(tx, at.now);
    const p = { until: at.now + at.leaseMs, now: at.now, reviewer: reviewer.id };
    const [row] = type ? await leaseHeadOfType(tx, { ...p, type }) : await leaseHead(tx, p);
    return row ? leaseTaken(tx, row, reviewer, at) : null;
  });
  if (leased || !type) return leased;
  // Nothing for them in a queue they may not work: a 403 that says so, not "nothing open".
  const refused = await queueRefusal(db, reviewer, { typeKey: type, assigneeId: null });
  if (refused) throw refused;
  return null;
}

// ---------------------------------------------------------------- assigned work first

/** How many of a reviewer's assigned open tasks a claim considers before the shared queue (the rest come in queue order). */
const ASSIGNED_PROBE = 500;

/**
 * The open tasks a manager assigned to this reviewer (teams/assignment.server.ts), served before the
 * shared queue's head: one probe of tasks_assignee_idx (assignee, status, …), empty for most reviewers.
 * The claim then orders and filters only these ids, so no list order or filter can turn the probe into a
 * scan of the queue. Escalations, assigned to their type's owner, keep their place in the queue order.
 * Beyond ASSIGNED_PROBE assigned tasks, the others still reach the reviewer (claimableBy), in queue order.
 */
const assignedOpen = preparedQuery("tasks_assigned_open", (db) =>
  db
    .select({ id: tasks.id })
    .from(tasks)
    .where(assignedOpenTo({ id: sql.placeholder("reviewer") }))
    .limit(ASSIGNED_PROBE),
);

/** The reviewer's own open tasks, escalations aside: what the assigned probe reads (tasks_assignee_idx), in a claim and in a view claim. */
function assignedOpenTo(reviewer: { id: string | Placeholder }): SQL {
  return sql`${tasks.assigneeId} = ${reviewer.id} and ${tasks.status} = 'open' and ${tasks.kind} <> 'escalation'`;
}

async function assignedIds(tx: DbOrTx, reviewer: Reviewer): Promise<string[]> {
  return (await assignedOpen(tx, { reviewer: reviewer.id })).map((r) => r.id);
}

/**
 * The task, locked, if the reviewer may still take it (and it meets `where`); undefined when it is gone or
 * another claim holds it locked but not yet committed (Postgres: SKIP LOCKED), so the caller passes it over.
 */
async function lockIfClaimable(tx: DbOrTx, reviewer: Reviewer, id: string, where: SQL[] = []): Promise<TaskRow | undefined> {
  return (
    await forUpdateSkipLocked(
      tx,
      tx
        .select()
        .from(tasks)
        .where(and(eq(tasks.id, id), claimableBy(reviewer), ...where))
        .limit(1),
    )
  )[0];
}

/** Work mode: the first task assigned to the reviewer that matches the view, locked inside the claim's transaction. */
function assignedInView(reviewer: Reviewer, view: QueueFilter, skip: string[] | undefined, now: number) {
  return async (tx: DbOrTx) => {
    const mine = await assignedIds(tx, reviewer);
    if (mine.length === 0) return undefined;
    const scope = and(claimableBy(reviewer), inArray(tasks.id, mine))!;
    const passed: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const id = (await listQueue(tx, reviewer, view, now, 1, { within: scope, exclude: [...(skip ?? []), ...passed] })).items[0]?.id;
      if (!id) return undefined;
      const row = await lockIfClaimable(tx, reviewer, id);
      if (row) return row;
      passed.push(id);
    }
    return undefined;
  };
}

/** A cursor before the first task of any list: where a walk that has not started stands. */
function listStart(sort: QueueFilter["sort"]): string {
  const top = 2_147_483_647;
  return sort === "queue" ? `${top}_0_0` : sort === "newest" ? String(top) : "0";
}

async function claimGiven(db: Db, reviewer: Reviewer, at: At, taskId: string, kind: TaskKind | undefined): Promise<TaskRow> {
  return transaction(db, async (tx) => {
    // One given task (a person's click, not the hot path): every lapsed lease is reaped, whoever handed it out.
    await reapExpiredLeases(tx, at.now);
    const t = (await forUpdate(tx, tx.select().from(tasks).where(eq(tasks.id, taskId)).limit(1)))[0];
    if (!t) throw notFound(`Task ${taskId} not found`);
    // A view that claims one kind (the escalations page) must not take a lease on another.
    if (kind && t.kind !== kind) throw invalid(`That task is not ${kind === "escalation" ? "an escalation" : `a ${kind} task`}`);
    const notMember = await queueRefusal(tx, reviewer, t);
    if (notMember) throw notMember;
    // Claiming a task one already holds renews the lease.
    if (t.status === "claimed" && t.claimedBy === reviewer.id) return extendLease(tx, t, at.now, at.leaseMs);
    const refused = claimRefusal(t, reviewer, at.now);
    if (refused) throw refused;
    return takeLease(tx, t, reviewer, at);
  });
}

const leaseUpdate = preparedQuery("task_take_lease", (db) =>
  db
    .update(tasks)
    .set({
      status: "claimed",
      claimedBy: sql`${sql.placeholder("reviewer")}`,
      leaseExpiresAt: sql`${sql.placeholder("until")}`,
      claimedAt: sql`${sql.placeholder("now")}`,
    })
    .where(and(eq(tasks.id, sql.placeholder("id")), eq(tasks.status, "open")))
    .returning({ id: tasks.id }),
);

/** The lease itself: only on a task still open (a guarded update), and its decision shows as in review. */
async function takeLease(tx: DbOrTx, t: TaskRow, reviewer: Reviewer, at: At): Promise<TaskRow> {
  const leaseExpiresAt = at.now + at.leaseMs;
  const res = await leaseUpdate(tx, { id: t.id, reviewer: reviewer.id, until: leaseExpiresAt, now: at.now });
  if (res.length !== 1) throw conflict(`Task ${t.id} was taken by someone else`);
  return leaseTaken(tx, { ...t, status: "claimed", claimedBy: reviewer.id, leaseExpiresAt, claimedAt: at.now }, reviewer, at);
}

/** What follows a lease on the leased task `t`: the lease is watched, its decision shows as in review, the audit trail says who took it. */
async function leaseTaken(tx: DbOrTx, t: TaskRow, reviewer: Reviewer, at: At): Promise<TaskRow> {
  const leaseExpiresAt = t.leaseExpiresAt!;
  noteLease(tx, leaseExpiresAt);
  if (holdsDecision(t.kind)) await setDecisionStatus(tx, { id: t.decisionId, from: "pending_review", to: "in_review", now: at.now });
  await appendAudit(tx, {
    actor: reviewer.email,
    action: "task.claimed",
    entityType: "task",
    entityId: t.id,
    data: { decisionId: t.decisionId, leaseExpiresAt },
    at: at.now,
  });
  return t;
}

// ---------------------------------------------------------------- the next task of a filtered list

/**
 * How far a view claim looks for the next match of a decision filter (flag,
 * model version): at most this many list windows' worth of tasks
 * (WORK_SEARCH_WINDOWS × SCAN_BUDGET), so one request never scans the whole
 * backlog. The search starts with a small window that grows, since a claim
 * needs one match, not a page.
 */
export const WORK_SEARCH_WINDOWS = 10;
const FIRST_WORK_WINDOW = 64;
/** How far the claim itself looks (inside its write transaction) before a longer search runs as a plain read. */
const NEAR_SCAN = FIRST_WORK_WINDOW * 5;

/** A cursor the task comes right after, in the list's order. */
function positionBefore(sort: QueueFilter["sort"], t: { priority: number; dueAt: number; seq: number }): string {
  return sort === "queue" ? `${t.priority}_${t.dueAt}_${t.seq - 1}` : String(sort === "newest" ? t.seq + 1 : t.seq - 1);
}

/**
 * Claims the next task of the list the reviewer is working through (same
 * filters, same order, via listQueue's keyset query), minus the ones they
 * skipped. Filters the indexes answer (type, route, priority, SLA) always take
 * the head of the list, exactly as the shared queue does: a task that arrives
 * higher, or whose lease lapsed, is served next. Filters on the decision (flag,
 * model version) are checked task by task, so there `after`, the position of
 * the task the reviewer had before, is where the search goes on: each claim
 * reads only up to the next match, however deep into the list work mode has
 * got, and when nothing is left after it, one sweep from the top picks up what
 * came back meanwhile.
 *
 * The claim first looks a short way (NEAR_SCAN tasks) inside its own
 * transaction. Further than that, the search is a plain read, so a long scan
 * for a rare flag never holds the write lock; the claim then re-reads the list
 * from just before the task found, inside its transaction, and takes the lease
 * on the first match there: that task, or the next one if someone took it in
 * between. Either way two reviewers never get the same task.
 */
async function claimInView(db: Db, reviewer: Reviewer, at: At, target: ViewTarget): Promise<ViewClaim> {
  const filter = target.view;
  const after = filter.flag || filter.model ? target.after : undefined;
  const search = { skip: target.skip, maxScan: (target.windows ?? WORK_SEARCH_WINDOWS) * SCAN_BUDGET };
  const view = { ...filter, cursor: undefined };
  const scope = await queueScope(db, reviewer);
  // The task `firstInView` found, re-read locked and still claimable inside the claim's transaction. On Postgres a
  // task another claim has locked but not yet committed still reads as open: it is passed over for the next one
  // (a few times at most), so two reviewers starting together both get a task.
  const pickFrom = (from: string | undefined, maxScan: number) => async (tx: DbOrTx) => {
    const passed: string[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = (await firstInView(tx, reviewer, view, at.now, { skip: [...(target.skip ?? []), ...passed], maxScan, from, scope })).row?.id;
      if (!id) return undefined;
      const row = await lockIfClaimable(tx, reviewer, id, scope.where);
      if (row) return row;
      passed.push(id);
    }
    return undefined;
  };
  // Tasks assigned to the reviewer come first (the walk through the shared list stays where it was); else, usually
  // the next match is close by: look a short way inside the claim itself, one read.
  let assigned = false;
  const near = await claimChosen(db, reviewer, at, async (tx) => {
    const mine = await assignedInView(reviewer, view, target.skip, at.now)(tx);
    assigned = mine !== undefined;
    return mine ?? pickFrom(after, Math.min(NEAR_SCAN, search.maxScan))(tx);
  });
  if (near) return { task: near, position: assigned ? (target.after ?? listStart(view.sort)) : listPosition(view.sort, near), searchedAll: true };
  let scanned = 0;
  for (const from of after ? [after, undefined] : [undefined]) {
    const found = await firstInView(db, reviewer, view, at.now, { ...search, from, scope });
    scanned += found.scanned;
    if (!found.row) {
      if (!found.searchedAll) return { task: null, searchedAll: false, scanned };
      continue;
    }
    const task = await claimChosen(db, reviewer, at, pickFrom(positionBefore(view.sort, found.row), search.maxScan));
    if (task) return { task, position: listPosition(view.sort, task), searchedAll: true };
    // Nothing from there on any more (all taken in between): on to the sweep from the top, if not done yet.
  }
  return { task: null, searchedAll: true, scanned };
}

/** The first task of the filtered list after `from` (a cursor), searching at most `maxScan` tasks in growing windows. */
async function firstInView(
  db: DbOrTx,
  reviewer: Reviewer,
  filter: QueueFilter,
  now: number,
  opts: { skip?: string[]; maxScan: number; from?: string; scope: QueueScope },
) {
  let cursor = opts.from;
  let scanned = 0;
  for (let w = 0; scanned < opts.maxScan; w++) {
    // A claim needs one match, not a page: start small, since most searches end in the first window.
    const budget = Math.min(SCAN_BUDGET, FIRST_WORK_WINDOW * 4 ** w, opts.maxScan - scanned);
    const page = await listQueue(db, reviewer, { ...filter, cursor }, now, 1, { exclude: opts.skip, budget, scope: opts.scope });
    scanned += page.scanned;
    const item = page.items[0];
    if (item) return { row: { id: item.id, priority: item.priority, dueAt: item.dueAt, seq: item.seq }, searchedAll: true, scanned };
    if (!page.partial || !page.nextCursor) return { row: null, searchedAll: true, scanned };
    cursor = page.nextCursor;
  }
  return { row: null, searchedAll: false, scanned };
}
