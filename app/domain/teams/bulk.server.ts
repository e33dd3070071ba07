/**
 * Bulk actions on the queue's filtered list, for managers: assign to a person,
 * unassign, change priority, release stuck leases, on chosen tasks or on every
 * task matching a filter (at most BULK_LIMIT). Each is one transaction and one
 * audit entry listing the tasks (changeTasks in assignment.server.ts), all or
 * nothing. The queue page's manager view (`?manage=1`) and POST /api/v1/tasks/bulk
 * both call bulkTaskAction; the page lists and counts with manageScope and matchingTaskIds.
 */
import { and, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { tasks, users } from "@db/schema/index";
import { AppError, conflict, invalid, zodIssues, type Issue } from "~/lib/errors";
import { ROLE_PERMISSIONS } from "../auth/permissions";
import { listActiveUsers, listUsers } from "../auth/users.server";
import { listQueue, PAGE_SIZE, queueFilterSchema, SCAN_BUDGET, type QueueFilter } from "../queue/queue-view.server";
import { ASSIGNABLE_KINDS, assigneeByEmail, changeTasks, lockTasks, type TaskChange } from "./assignment.server";
import { manageFilterSchema, type ManageFilter } from "./manage-filter";

/** The most tasks one bulk action changes (its audit entry lists each). */
export const BULK_LIMIT = 2_000;
/** How many tasks a filter on the decision (flag, model) may search through to find the matches. */
const BULK_SEARCH_LIMIT = 100_000;

export const BULK_ACTIONS = ["assign", "unassign", "priority", "release"] as const;

/** The tasks a bulk action covers by filter: the queue's filters (no order or page) and the manager view's. */
export const bulkFilterSchema = queueFilterSchema.omit({ cursor: true, sort: true }).extend(manageFilterSchema.shape).strict().meta({ id: "TaskFilter" });
export type BulkFilter = z.infer<typeof bulkFilterSchema>;

export const bulkBodySchema = z
  .object({
    action: z.enum(BULK_ACTIONS).describe("assign (needs `assignee`), unassign, priority (needs `priority`), or release (ends the leases of claimed tasks)"),
    taskIds: z.array(z.string().min(1).max(64)).min(1).max(BULK_LIMIT).optional().describe("The tasks; or give `filter`"),
    filter: bulkFilterSchema.optional().describe(`Every task matching this filter (at most ${BULK_LIMIT}); or give \`taskIds\``),
    assignee: z.email().optional(),
    priority: z.number().int().min(-1000).max(1000).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (!b.taskIds === !b.filter) ctx.addIssue({ code: "custom", path: ["taskIds"], message: "give either taskIds or filter" });
    if (b.action === "assign" && !b.assignee) ctx.addIssue({ code: "custom", path: ["assignee"], message: "required to assign" });
    if (b.action === "priority" && b.priority === undefined) ctx.addIssue({ code: "custom", path: ["priority"], message: "required to change the priority" });
  });
export type BulkBody = z.infer<typeof bulkBodySchema>;

export const bulkAnswerSchema = z
  .object({
    action: z.enum(BULK_ACTIONS),
    taskIds: z.array(z.string()).describe("Every task the action changed, in arrival order"),
    batchId: z.string().describe("The audit entry's entity id (entity type task_batch)"),
    leasesEnded: z.array(z.string()).describe("Tasks whose lease the action ended"),
  })
  .meta({ id: "BulkTaskResult" });
export type BulkAnswer = z.infer<typeof bulkAnswerSchema>;

/** The tasks of the manager view: assignable kinds, open or claimed, optionally of one assignee (or none). */
export function manageScope(f: { status?: ManageFilter["status"]; assigneeId?: string | null }): SQL {
  const who = f.assigneeId === undefined ? [] : [f.assigneeId === null ? isNull(tasks.assigneeId) : eq(tasks.assigneeId, f.assigneeId)];
  return and(eq(tasks.status, f.status ?? "open"), inArray(tasks.kind, [...ASSIGNABLE_KINDS]), ...who)!;
}

/** The manager view's scope for a filter; an assignee email that is nobody's is a 400 naming `path`. */
export async function scopeOf(db: DbOrTx, f: Pick<ManageFilter, "status" | "assignee">, path = "assignee"): Promise<SQL> {
  if (!f.assignee) return manageScope({ status: f.status });
  if (f.assignee === "none") return manageScope({ status: f.status, assigneeId: null });
  // Anyone by email: a disabled person's tasks are still theirs to list until handed back.
  const u = (await db.select({ id: users.id }).from(users).where(eq(users.email, f.assignee.toLowerCase())).limit(1))[0];
  if (!u) throw invalid(`No user has the email ${f.assignee}`, [{ path, message: "no user has this email" }]);
  return manageScope({ status: f.status, assigneeId: u.id });
}

/** The filters that narrow a list (no order, no page). */
function narrowOf(f: QueueFilter): Omit<QueueFilter, "cursor" | "sort"> {
  return { type: f.type, route: f.route, priority: f.priority, sla: f.sla, flag: f.flag, model: f.model };
}

/** A listing reader that never claims: the scope replaces the reviewer's claimable set. */
const NOBODY = { id: "", email: "" };

/**
 * The ids of the tasks matching a filter in queue order, at most BULK_LIMIT
 * (`more`: there are further matches). Filters on the decision (flag, model) are
 * searched window by window, up to BULK_SEARCH_LIMIT tasks (`searchedAll: false` beyond).
 */
export async function matchingTaskIds(
  db: DbOrTx,
  filter: Omit<QueueFilter, "cursor" | "sort">,
  scope: SQL,
  now: number,
): Promise<{ ids: string[]; more: boolean; searchedAll: boolean }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let scanned = 0;
  for (;;) {
    const page = await listQueue(db, NOBODY, { ...filter, sort: "queue", cursor }, now, BULK_LIMIT + 1 - ids.length, { within: scope, budget: SCAN_BUDGET });
    ids.push(...page.items.map((i) => i.id));
    scanned += page.scanned;
    if (ids.length > BULK_LIMIT) return { ids: ids.slice(0, BULK_LIMIT), more: true, searchedAll: true };
    if (!page.nextCursor) return { ids, more: false, searchedAll: true };
    if (scanned >= BULK_SEARCH_LIMIT) return { ids, more: false, searchedAll: false };
    cursor = page.nextCursor;
  }
}

/** The change a body asks for, with its assignee looked up (400 naming `assignee` when they cannot take tasks). */
async function changeOf(db: DbOrTx, b: BulkBody): Promise<TaskChange> {
  if (b.action === "assign") return { action: "assign", assignee: await assigneeByEmail(db, b.assignee!) };
  if (b.action === "priority") return { action: "priority", priority: b.priority! };
  return { action: b.action };
}

/**
 * One bulk action, all or nothing, in one transaction: the tasks (given, or found by
 * the filter inside the transaction), locked; a 409 naming every task that cannot
 * take the action, and why, with nothing written; else the change and one audit entry.
 */
export async function bulkTaskAction(db: Db, actor: string, input: unknown, now = Date.now()): Promise<BulkAnswer> {
  const parsed = bulkBodySchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid bulk action", zodIssues(parsed.error));
  const b = parsed.data;
  return transaction(db, async (tx) => {
    const change = await changeOf(tx, b);
    let ids = b.taskIds ? [...new Set(b.taskIds)] : [];
    if (b.filter) {
      const { status, assignee, ...filter } = b.filter;
      const found = await matchingTaskIds(tx, filter, await scopeOf(tx, { status, assignee }, "filter.assignee"), now);
      if (found.more)
        throw invalid(`More than ${BULK_LIMIT} tasks match this filter; narrow it`, [{ path: "filter", message: `matches more than ${BULK_LIMIT} tasks` }]);
      if (!found.searchedAll)
        throw invalid("This filter needs too long a search; narrow it by type, route or SLA", [{ path: "filter", message: "search too long" }]);
      ids = found.ids;
      if (ids.length === 0) throw invalid("No task matches this filter", [{ path: "filter", message: "matches no task" }]);
    }
    const locked = await lockTasks(tx, ids);
    const found = new Set(locked.map((t) => t.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw conflict(
        `${missing.length} of the selected tasks do not exist; nothing was changed: ${missing.slice(0, 3).join(", ")}`,
        missing.map((id) => ({ path: `taskIds.${id}`, message: `Task ${id} does not exist` })),
      );
    const done = await changeTasks(tx, locked, change, { actor, now, data: b.filter ? { filter: b.filter } : undefined });
    return { action: b.action, taskIds: done.rows.map((t) => t.id), batchId: done.batchId, leasesEnded: done.leasesEnded };
  });
}

// ---------------------------------------------------------------- the queue page's manager view

export type ManagedTask = { id: string; status: string; assignee: string | null; holder: string | null; leaseExpiresAt: number | null };

/**
 * What the manager view (`/queue?manage=1`) shows beside the list: its own filters
 * (status, assignee; a bad value is dropped and reported), the list's page in its
 * scope, who each listed task is assigned to and who holds it, how many tasks the
 * filter matches (up to BULK_LIMIT, the most one bulk action takes), and the people
 * tasks can be assigned to.
 */
export async function managerView(db: DbOrTx, params: URLSearchParams, filter: QueueFilter, now: number) {
  const issues: Issue[] = [];
  const raw = { status: params.get("status") || undefined, assignee: params.get("assignee")?.trim() || undefined };
  const read = manageFilterSchema.safeParse(raw);
  const manage: ManageFilter = read.success ? read.data : {};
  if (!read.success) {
    for (const i of zodIssues(read.error)) issues.push(i);
    const status = manageFilterSchema.shape.status.safeParse(raw.status);
    if (status.success) manage.status = status.data;
  }
  let scope: SQL;
  try {
    scope = await scopeOf(db, manage);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    issues.push(...e.issues);
    delete manage.assignee;
    scope = await scopeOf(db, manage);
  }
  const page = await listQueue(db, NOBODY, filter, now, PAGE_SIZE, { within: scope });
  const matching = await matchingTaskIds(db, narrowOf(filter), scope, now);
  const ids = page.items.map((i) => i.id);
  const details = ids.length
    ? await db
        .select({ id: tasks.id, status: tasks.status, assigneeId: tasks.assigneeId, claimedBy: tasks.claimedBy, leaseExpiresAt: tasks.leaseExpiresAt })
        .from(tasks)
        .where(inArray(tasks.id, ids))
    : [];
  const people = (await listActiveUsers(db)).filter((u) => ROLE_PERMISSIONS[u.role].has("tasks:review"));
  const emailOf = new Map((await listUsers(db)).map((u) => [u.id, u.email]));
  const tasksById: Record<string, ManagedTask> = {};
  for (const d of details)
    tasksById[d.id] = {
      id: d.id,
      status: d.status,
      assignee: d.assigneeId ? (emailOf.get(d.assigneeId) ?? d.assigneeId) : null,
      holder: d.claimedBy ? (emailOf.get(d.claimedBy) ?? d.claimedBy) : null,
      leaseExpiresAt: d.leaseExpiresAt,
    };
  return {
    manage,
    issues,
    page,
    tasks: tasksById,
    matching: { count: matching.ids.length, more: matching.more, searchedAll: matching.searchedAll },
    people: people.map((u) => ({ email: u.email, name: u.name })),
  };
}

const BULK_INTENTS = { "bulk-assign": "assign", "bulk-unassign": "unassign", "bulk-priority": "priority", "bulk-release": "release" } as const;
export type BulkIntent = keyof typeof BULK_INTENTS;
export const isBulkIntent = (intent: string | null): intent is BulkIntent => intent !== null && Object.hasOwn(BULK_INTENTS, intent);

/**
 * The bulk body a queue page form asks for: the checked rows (`taskId`, repeated),
 * or with `all=1` every task matching the list's filters (the page's own fields);
 * `assignTo` and `newPriority` carry the action's value.
 */
export function bulkBodyFromForm(intent: BulkIntent, params: URLSearchParams, filter: QueueFilter): Record<string, unknown> {
  const action = BULK_INTENTS[intent];
  const narrow = narrowOf(filter);
  const all = params.get("all") === "1";
  const newPriority = params.get("newPriority")?.trim();
  return {
    action,
    ...(all
      ? { filter: { ...narrow, status: params.get("status") || undefined, assignee: params.get("assignee") || undefined } }
      : { taskIds: params.getAll("taskId") }),
    ...(action === "assign" ? { assignee: params.get("assignTo") || undefined } : {}),
    ...(action === "priority" ? { priority: newPriority ? Number(newPriority) : undefined } : {}),
  };
}

/** What a done bulk action says on the page. */
export function bulkNotice(a: BulkAnswer, assignee?: string): string {
  const n = `${a.taskIds.length} task${a.taskIds.length === 1 ? "" : "s"}`;
  const leases = a.leasesEnded.length ? ` (${a.leasesEnded.length} lease${a.leasesEnded.length === 1 ? "" : "s"} ended)` : "";
  if (a.action === "assign") return `Assigned ${n} to ${assignee}${leases}.`;
  if (a.action === "unassign") return `Returned ${n} to the shared queue.`;
  if (a.action === "priority") return `Changed the priority of ${n}.`;
  return `Released the leases of ${n}.`;
}
