/**
 * What the reviewer workbench reads: the per-type queue overview, the filtered
 * task list (keyset pagination that stays fast at a million open tasks), the
 * reviewer's own in-progress items and the owner's escalations.
 *
 * Counts come from task_counters (kept exact by triggers); everything else is
 * an index range read, never a scan of the open queue.
 */
import { and, asc, desc, eq, gte, inArray, lt, notInArray, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { jsonArrayHas } from "@db/sql";
import { preparedQuery, sqlAll, type DbOrTx } from "@db/client.server";
import { decisionTypes, decisions, reviews, rollups, tasks, users } from "@db/schema/index";
import { HOUR } from "~/lib/time";
import { decisionTypeNames } from "../decision-types/decision-types.server";
import { claimableBy, queueCounts, type Reviewer } from "./queue.server";
import { queueScope, type QueueScope } from "../teams/membership.server";
import type { Issue } from "~/lib/errors";
import { MANAGE_PARAMS } from "../teams/manage-filter";
import { readQuery } from "~/lib/query";

/** Past-SLA counts stop here and show as "10,000+": counting further would scan the backlog. */
export const SLA_COUNT_CAP = 10_000;
export const PAGE_SIZE = 50;
const WORK_KINDS = ["review", "qa", "second"] as const;

export const queueFilterSchema = z.object({
  type: z.string().min(1).max(64).optional(),
  route: z.enum(["review", "qa"]).optional(),
  priority: z.coerce.number().int().min(-1_000_000).max(1_000_000).optional(),
  sla: z.enum(["overdue", "due_soon", "on_time"]).optional(),
  flag: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(200).optional(),
  sort: z.enum(["queue", "oldest", "newest"]).default("queue"),
  cursor: z
    .string()
    .regex(/^-?\d+(_-?\d+){0,2}$/, "not a cursor this page produced")
    .optional(),
});
export type QueueFilter = z.infer<typeof queueFilterSchema>;

/** Parameters the queue and review pages carry beside the list's filters (work mode, notices, the form's intent). */
const QUEUE_PAGE_PARAMS = ["notice", "empty", "after", "skip", "from", "intent", "taskId", ...MANAGE_PARAMS];

/** Reads filters from a query string (lib/query.ts rules); a bad value is dropped and reported, never a 500. */
export function parseQueueFilter(params: URLSearchParams): { filter: QueueFilter; issues: Issue[] } {
  const { data, issues } = readQuery(queueFilterSchema, params, { ignore: QUEUE_PAGE_PARAMS });
  return { filter: data ?? queueFilterSchema.parse({}), issues };
}

export type QueueSummary = {
  key: string;
  name: string;
  open: number;
  inProgress: number;
  oldestCreatedAt: number | null;
  pastSla: number;
  pastSlaCapped: boolean;
  escalations: number;
};

/** Every queue's figures; with `excluded` (the types closed to the reviewer, teams/membership.server.ts), only the others. */
export async function queueOverview(db: DbOrTx, now: number, excluded: readonly string[] = []): Promise<QueueSummary[]> {
  const counts = await queueCounts(db);
  // One type after another: on a Postgres transaction the queries share one connection (one query at a time),
  // and outside one a page must not take a pool connection per type.
  const out: QueueSummary[] = [];
  for (const t of await decisionTypeNames(db)) {
    if (excluded.includes(t.key)) continue;
    const mine = counts.filter((c) => c.typeKey === t.key);
    const sum = (status: "open" | "claimed", kinds: readonly string[]) => mine.filter((c) => kinds.includes(c.kind)).reduce((n, c) => n + c[status], 0);
    const [figures] = await typeQueueFigures(db, { type: t.key, now });
    const pastSla = Number(figures?.pastSla ?? 0);
    out.push({
      key: t.key,
      name: t.name,
      open: sum("open", WORK_KINDS),
      inProgress: sum("claimed", WORK_KINDS),
      oldestCreatedAt: figures?.oldestCreatedAt == null ? null : Number(figures.oldestCreatedAt),
      pastSla,
      pastSlaCapped: pastSla >= SLA_COUNT_CAP,
      escalations: sum("open", ["escalation"]) + sum("claimed", ["escalation"]),
    });
  }
  return out;
}

/**
 * One queue's oldest open task and its past-SLA count (capped at SLA_COUNT_CAP), in one prepared statement per type:
 * - the oldest: the first entry of each work kind's range of tasks_backlog_idx (status, type_key, kind, created_at), on
 *   both stores. (Walking the tasks in seq order instead reads every finished task first on Postgres: 0.3-0.5 s at
 *   900,000 done tasks.)
 * - past SLA: the work kinds' ranges of tasks_status_type_kind_due_idx, counted up to the cap and no further.
 */
const typeQueueFigures = preparedQuery("queue_type_figures", (db) => {
  const type = sql.placeholder("type");
  const workKinds = sql.raw(WORK_KINDS.map((k) => `'${k}'`).join(", "));
  return db
    .select({
      oldestCreatedAt: sql<number | null>`(select min(oldest) from (${sql.join(
        WORK_KINDS.map(
          (kind) =>
            sql`select (select ${tasks.createdAt} from ${tasks} where ${tasks.status} = 'open' and ${tasks.typeKey} = ${type} and ${tasks.kind} = ${sql.raw(`'${kind}'`)} order by ${tasks.createdAt} asc limit 1) as oldest`,
        ),
        sql` union all `,
      )}) as heads)`,
      pastSla: sql<number>`(select count(*) from (select 1 from ${tasks} where ${tasks.status} = 'open' and ${tasks.typeKey} = ${type} and ${tasks.kind} in (${workKinds}) and ${tasks.dueAt} < ${sql.placeholder("now")} limit ${sql.raw(String(SLA_COUNT_CAP))}) as capped)`,
    })
    .from(decisionTypes)
    .where(eq(decisionTypes.key, type));
});

const listColumns = {
  seq: tasks.seq,
  id: tasks.id,
  kind: tasks.kind,
  typeKey: tasks.typeKey,
  status: tasks.status,
  priority: tasks.priority,
  dueAt: tasks.dueAt,
  createdAt: tasks.createdAt,
  leaseExpiresAt: tasks.leaseExpiresAt,
  decisionId: tasks.decisionId,
  externalId: decisions.externalId,
  modelName: decisions.modelName,
  modelVersion: decisions.modelVersion,
  confidence: decisions.confidence,
  flags: decisions.flags,
  reasons: decisions.reasons,
};

export type QueueItem = {
  /** The task's place in arrival order (the keyset cursors are built from it). */
  seq: number;
  id: string;
  kind: string;
  typeKey: string;
  priority: number;
  dueAt: number;
  createdAt: number;
  decisionId: string;
  externalId: string;
  model: string;
  confidence: number;
  flags: string[];
  reasons: string[];
};

function toItem(r: { [K in keyof typeof listColumns]: unknown }): QueueItem {
  return {
    seq: r.seq as number,
    id: r.id as string,
    kind: r.kind as string,
    typeKey: r.typeKey as string,
    priority: r.priority as number,
    dueAt: r.dueAt as number,
    createdAt: r.createdAt as number,
    decisionId: r.decisionId as string,
    externalId: r.externalId as string,
    model: `${r.modelName} ${r.modelVersion}`,
    confidence: r.confidence as number,
    flags: r.flags as string[],
    reasons: r.reasons as string[],
  };
}

/** Filters on the decision (flag, model version) are checked row by row within this many tasks per request. */
export const SCAN_BUDGET = 2_000;

type Row = { [K in keyof typeof listColumns]: unknown } & { seq: number; priority: number; dueAt: number };

/**
 * One page of open tasks the reviewer may work, in the chosen order.
 * Keyset pagination: the cursor is the last row's sort key and every page is
 * an index range read from it, so page 10,000 costs what page 1 costs.
 * Filters on task columns narrow the index range; filters on the decision
 * (flag, model version) are checked row by row, at most SCAN_BUDGET tasks per
 * request: when the window runs out before the page is full, the page comes
 * back with what it found and a cursor to search further (`partial`), so a
 * rare flag can never turn one request into a scan of the whole backlog
 * (at most two windows: the rest of the cursor's priority, then lower ones).
 * Only queues the reviewer may work (`scope`, read here unless the caller has it).
 */
export async function listQueue(
  db: DbOrTx,
  reviewer: Reviewer,
  f: QueueFilter,
  now: number,
  limit = PAGE_SIZE,
  opts: { exclude?: string[]; budget?: number; scope?: QueueScope; within?: SQL } = {},
): Promise<{ items: QueueItem[]; nextCursor: string | null; partial: boolean; scanned: number }> {
  const budget = opts.budget ?? SCAN_BUDGET;
  // `within`: which tasks the list holds instead of those the reviewer may claim in the queues they may work
  // (a manager's list: teams/bulk.server.ts; a reviewer's assigned tasks: claim.server.ts).
  const taskWhere: SQL[] = opts.within ? [opts.within] : [claimableBy(reviewer), ...(opts.scope ?? (await queueScope(db, reviewer))).where];
  if (opts.exclude?.length) taskWhere.push(notInArray(tasks.id, opts.exclude));
  if (f.type) taskWhere.push(eq(tasks.typeKey, f.type));
  if (f.route === "qa") taskWhere.push(eq(tasks.kind, "qa"));
  if (f.route === "review") taskWhere.push(inArray(tasks.kind, ["review", "second"]));
  if (f.priority !== undefined) taskWhere.push(eq(tasks.priority, f.priority));
  if (f.sla === "overdue") taskWhere.push(lt(tasks.dueAt, now));
  if (f.sla === "due_soon") taskWhere.push(and(gte(tasks.dueAt, now), lt(tasks.dueAt, now + HOUR))!);
  if (f.sla === "on_time") taskWhere.push(gte(tasks.dueAt, now + HOUR));
  const decisionWhere: SQL[] = [];
  if (f.model) decisionWhere.push(eq(decisions.modelVersion, f.model));
  if (f.flag) decisionWhere.push(jsonArrayHas(db, decisions.flags, f.flag));

  const queueOrder = f.sort === "queue";
  const newest = f.sort === "newest";
  const order = queueOrder ? [desc(tasks.priority), asc(tasks.dueAt), asc(tasks.seq)] : [newest ? desc(tasks.seq) : asc(tasks.seq)];
  const keyOf = (r: { priority: number; dueAt: number; seq: number }) => listPosition(f.sort, r);

  /** Reads up to `want` rows from one index range; with decision filters, only within the scan budget. */
  const read = async (range: SQL[], want: number, budget: number): Promise<{ rows: Row[]; exhausted: Row | null; scanned: number }> => {
    const where = and(...taskWhere, ...range);
    if (decisionWhere.length === 0) {
      const rows = (await db
        .select(listColumns)
        .from(tasks)
        .innerJoin(decisions, eq(decisions.id, tasks.decisionId))
        .where(where)
        .orderBy(...order)
        .limit(want)) as Row[];
      return { rows, exhausted: null, scanned: rows.length };
    }
    const window = db
      .select({ seq: tasks.seq })
      .from(tasks)
      .where(where)
      .orderBy(...order)
      .limit(budget)
      .as("w");
    const rows = (await db
      .select(listColumns)
      .from(window)
      .innerJoin(tasks, eq(tasks.seq, window.seq))
      .innerJoin(decisions, eq(decisions.id, tasks.decisionId))
      .where(and(...decisionWhere))
      .orderBy(...order)
      .limit(want)) as Row[];
    if (rows.length >= want) return { rows, exhausted: null, scanned: budget };
    // Fewer than wanted: either the range ended, or the window did (then say where the search stopped).
    const last = (
      await db
        .select({ seq: tasks.seq, priority: tasks.priority, dueAt: tasks.dueAt })
        .from(tasks)
        .where(where)
        .orderBy(...order)
        .limit(1)
        .offset(budget - 1)
    )[0];
    return { rows, exhausted: last ? (last as Row) : null, scanned: budget };
  };

  const key = f.cursor?.split("_").map(Number);
  let rows: Row[] = [];
  let stoppedAt: Row | null = null;
  let scanned = 0;
  if (queueOrder) {
    const phases: SQL[][] = [];
    if (key && key.length === 3) {
      const [p, d, s] = key;
      // The rest of the cursor's priority, then every lower priority: two index ranges.
      phases.push([eq(tasks.priority, p), sql`(${tasks.dueAt}, ${tasks.seq}) > (${d}, ${s})`], [lt(tasks.priority, p)]);
    } else phases.push([]);
    for (const range of phases) {
      const r = await read(range, limit + 1 - rows.length, budget);
      rows = rows.concat(r.rows);
      scanned += r.scanned;
      if (r.exhausted) {
        stoppedAt = r.exhausted;
        break;
      }
      if (rows.length > limit) break;
    }
  } else {
    const range = key && key.length === 1 ? [newest ? lt(tasks.seq, key[0]) : sql`${tasks.seq} > ${key[0]}`] : [];
    const r = await read(range, limit + 1, budget);
    rows = r.rows;
    scanned = r.scanned;
    stoppedAt = r.exhausted;
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  if (rows.length > limit && last) return { items: page.map(toItem), nextCursor: keyOf(last), partial: false, scanned };
  if (stoppedAt) return { items: page.map(toItem), nextCursor: keyOf(stoppedAt), partial: true, scanned };
  return { items: page.map(toItem), nextCursor: null, partial: false, scanned };
}

/** The filters that narrow the list (everything but the order and the page). */
export function narrowsList(f: QueueFilter): boolean {
  return Boolean(f.type || f.route || f.priority !== undefined || f.sla || f.flag || f.model);
}

/** A filter as query-string pairs (no cursor, default order omitted): how work mode carries the list it works through. */
export function queueFilterParams(f: QueueFilter): URLSearchParams {
  const q = new URLSearchParams();
  for (const key of ["type", "route", "priority", "sla", "flag", "model"] as const) if (f[key] !== undefined) q.set(key, String(f[key]));
  if (f.sort !== "queue") q.set("sort", f.sort);
  return q;
}

/** A task's place in the list's order, as a keyset cursor: the list continues right after it. */
export function listPosition(sort: QueueFilter["sort"], t: { priority: number; dueAt: number; seq: number }): string {
  return sort === "queue" ? `${t.priority}_${t.dueAt}_${t.seq}` : String(t.seq);
}

/** Filter choices: model versions seen in the last 90 days, read from the hourly roll-ups (small), never from decisions. */
export async function queueFacets(db: DbOrTx, now: number) {
  const rows = await sqlAll<{ v: string }>(
    db,
    sql`select distinct ${rollups.modelVersion} as v from ${rollups} where ${rollups.metric} = 'volume' and ${rollups.hour} >= ${now - 90 * 24 * HOUR} order by 1 limit 100`,
  );
  return { models: rows.map((r) => r.v) };
}

/** The reviewer's claimed tasks, newest lease first. */
export async function myInProgress(db: DbOrTx, reviewer: Reviewer, now: number) {
  return (await inProgressOf(db, { reviewer: reviewer.id })).map((r) => ({
    ...toItem(r),
    leaseExpiresAt: r.leaseExpiresAt as number | null,
    expired: (r.leaseExpiresAt ?? 0) <= now,
  }));
}

const inProgressOf = preparedQuery("tasks_in_progress_of", (db) =>
  db
    .select(listColumns)
    .from(tasks)
    .innerJoin(decisions, eq(decisions.id, tasks.decisionId))
    .where(and(eq(tasks.claimedBy, sql.placeholder("reviewer")), eq(tasks.status, "claimed")))
    .orderBy(desc(tasks.leaseExpiresAt))
    .limit(50),
);

export type EscalationItem = QueueItem & {
  typeName: string;
  status: string;
  assignee: string | null;
  mine: boolean;
  claimedByMe: boolean;
  escalatedBy: string | null;
  note: string;
};

/**
 * Escalated items for the type owner (or every one for admins), with why they
 * were escalated: the reviewer's note, or the two verdicts that disagreed.
 */
export async function listEscalations(db: DbOrTx, user: Reviewer, opts: { all: boolean }): Promise<EscalationItem[]> {
  const where: SQL[] = [eq(tasks.kind, "escalation"), inArray(tasks.status, ["open", "claimed"])];
  if (!opts.all) where.push(eq(tasks.assigneeId, user.id));
  const rows = await db
    .select({ ...listColumns, assigneeId: tasks.assigneeId, claimedBy: tasks.claimedBy, assignee: users.email, typeName: decisionTypes.name })
    .from(tasks)
    .innerJoin(decisions, eq(decisions.id, tasks.decisionId))
    .innerJoin(decisionTypes, eq(decisionTypes.key, tasks.typeKey))
    .leftJoin(users, eq(users.id, tasks.assigneeId))
    .where(and(...where))
    .orderBy(desc(tasks.priority), asc(tasks.dueAt), asc(tasks.seq))
    .limit(200);
  const ids = rows.map((r) => r.decisionId);
  const revs = ids.length
    ? await db
        .select({
          decisionId: reviews.decisionId,
          action: reviews.action,
          taskKind: reviews.taskKind,
          note: reviews.note,
          changedFields: reviews.changedFields,
          email: users.email,
        })
        .from(reviews)
        .innerJoin(users, eq(users.id, reviews.reviewerId))
        .where(inArray(reviews.decisionId, ids))
        .orderBy(asc(reviews.seq))
    : [];
  return rows.map((r) => {
    const mine = revs.filter((v) => v.decisionId === r.decisionId);
    const last = mine[mine.length - 1];
    let note = "";
    let escalatedBy: string | null = last?.email ?? null;
    if (last?.action === "escalate") note = last.note ?? "";
    else if (last?.taskKind === "second") {
      const first = [...mine].reverse().find((v) => v.taskKind === "review");
      const describe = (v: typeof last) =>
        `${v.email} ${v.action === "correct" ? `corrected ${v.changedFields.join(", ")}` : v.action === "approve" ? "approved" : "rejected"}`;
      note = `Four-eyes disagreement: ${first ? describe(first) : "first reviewer"}; ${describe(last)}.`;
      escalatedBy = "four-eyes rule";
    }
    return {
      ...toItem(r),
      status: r.status as string,
      assignee: r.assignee,
      typeName: r.typeName,
      mine: r.assigneeId === user.id,
      claimedByMe: r.claimedBy === user.id,
      escalatedBy,
      note,
    };
  });
}
