/**
 * Work mode: a reviewer goes from task to task through one list (the queue
 * page's filtered list in its order, or their escalations) without going back
 * to it. Its state travels in the URL (WorkMode: the list's filters, where in
 * the list they are, the tasks they skipped, or that they came from the
 * escalations page); each step is one call, `advance(db, reviewer, mode,
 * event)`, which does what the event means (claim, release, submit the
 * verdict) and answers where the reviewer goes next. Routes parse the event
 * and redirect.
 *
 * After a verdict, a skip, a lost task or "Load next task", the next task of
 * the list is claimed (claim.server.ts, view target) and opened; when none is
 * left, the reviewer is back on the list, told why (`empty`: all, or the
 * bounded search for a rare filter ran out: stretch). From the escalations
 * page there is no next task: back to that page.
 */
import { z } from "zod";
import type { Db } from "@db/client.server";
import { AppError } from "~/lib/errors";
import { submitReview } from "../review/review.server";
import { claim } from "./claim.server";
import { listPosition, parseQueueFilter, queueFilterParams, queueFilterSchema, type QueueFilter } from "./queue-view.server";
import { releaseTask, type Reviewer } from "./queue.server";

/** Skipped tasks work mode remembers (the oldest are forgotten first). */
const SKIP_MEMORY = 20;

export type WorkMode = {
  /** The list being worked through (never a page cursor). */
  filter: QueueFilter;
  /** Came from the escalations page: each step goes back there. */
  from?: "escalations";
  /** Tasks skipped or lost on the way, not offered again. */
  skip: string[];
  /** Where in the list the current task sits: the next claim goes on from there. */
  after?: string;
};

const workModeParams = z.object({
  from: z.literal("escalations").optional().catch(undefined),
  skip: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? "")
        .split(",")
        .filter((id) => /^[\w-]{1,64}$/.test(id))
        .slice(-SKIP_MEMORY),
    ),
  after: queueFilterSchema.shape.cursor.catch(undefined),
});

/** Work mode from a query string (or posted fields); anything unreadable is dropped, never an error. */
export function readWorkMode(params: URLSearchParams): WorkMode {
  const { filter } = parseQueueFilter(params);
  const { from, skip, after } = workModeParams.parse({
    from: params.get("from") ?? undefined,
    skip: params.get("skip") ?? undefined,
    after: params.get("after") ?? undefined,
  });
  return { filter: { ...filter, cursor: undefined }, from, skip, after };
}

/** Work mode as the escalations page starts it. */
export const FROM_ESCALATIONS: WorkMode = { filter: queueFilterSchema.parse({}), from: "escalations", skip: [] };

/** Why work mode came back to the list: nothing matching is left, or the bounded search for a rare filter ran out. */
export type WorkModeEnd = "all" | "stretch";
export function readWorkModeEnd(params: URLSearchParams): WorkModeEnd | null {
  const empty = params.get("empty");
  return empty === "all" || empty === "stretch" ? empty : null;
}

type Extra = Record<string, string | null | undefined>;

/** A task's review page, work mode carried along. */
export function reviewUrl(taskId: string, mode: WorkMode, extra: Extra = {}): string {
  const q = queueFilterParams(mode.filter);
  if (mode.from) q.set("from", mode.from);
  if (mode.skip.length) q.set("skip", mode.skip.join(","));
  if (mode.after) q.set("after", mode.after);
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  const s = q.toString();
  return `/review/${taskId}${s ? `?${s}` : ""}`;
}

/** Where "Stop reviewing" and "Back to queue" go: the list work mode was serving, filters kept. */
export function listUrl(mode: WorkMode, extra: Extra = {}): string {
  if (mode.from === "escalations") return `/escalations${extra.notice ? `?notice=${encodeURIComponent(extra.notice)}` : ""}`;
  const q = queueFilterParams(mode.filter);
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  const s = q.toString();
  return `/queue${s ? `?${s}` : ""}`;
}

export type WorkEvent =
  /** "Start reviewing" on the queue page: the head of the list. */
  | { type: "start" }
  /** "Review" on a row of the list: that task, then on through the list from it. */
  | { type: "pick"; taskId: string }
  /** "Resolve" on the escalations page: that escalation (no other kind). */
  | { type: "resolve"; taskId: string }
  /** "Claim and review" on the page of a task the reviewer does not hold. */
  | { type: "open"; taskId: string }
  /** "Load next task" (the task was lost, or its lease expired). */
  | { type: "next" }
  /** Skip: the task goes back to the queue and is not offered again. */
  | { type: "skip"; taskId: string }
  /** "Stop reviewing": the task goes back to the queue, the reviewer back to the list. */
  | { type: "stop"; taskId: string }
  /** A verdict (the review body, as the API takes it). */
  | { type: "verdict"; taskId: string; body: unknown };

const VERDICT_NOTICES: Record<string, string> = {
  approved: "Approved",
  corrected: "Corrected",
  rejected: "Rejected",
  escalated: "Escalated",
  pending_review: "Recorded (awaiting a second review)",
  in_review: "Recorded",
};

/**
 * One step of work mode: does what the event means and answers the URL to go
 * to. Claims that name a task (pick, resolve, open) and a verdict the review
 * rules refuse throw the AppError, for the page to show; a verdict on a task
 * the reviewer lost (lease expired, someone else finished it) saves nothing
 * and moves on to the next task, saying so.
 */
export async function advance(db: Db, reviewer: Reviewer, mode: WorkMode, event: WorkEvent): Promise<string> {
  switch (event.type) {
    case "start":
      // Work mode starts afresh on the list: from its head, nothing skipped.
      return nextTask(db, reviewer, { filter: mode.filter, skip: [] }, null);
    case "pick": {
      const task = await claim(db, reviewer, { task: event.taskId });
      // Then on through the same list: from its head, or, for flag/model filters (checked task
      // by task), down from the row picked, sweeping the rows above it at the end.
      return reviewUrl(task.id, { filter: mode.filter, skip: [], after: listPosition(mode.filter.sort, task) });
    }
    case "resolve": {
      const task = await claim(db, reviewer, { task: event.taskId, kind: "escalation" });
      return reviewUrl(task.id, FROM_ESCALATIONS);
    }
    case "open":
      await claim(db, reviewer, { task: event.taskId });
      return reviewUrl(event.taskId, mode);
    case "next":
      return nextTask(db, reviewer, mode, null);
    case "stop":
      await releaseQuietly(db, reviewer, event.taskId);
      return listUrl(mode);
    case "skip":
      await releaseQuietly(db, reviewer, event.taskId);
      return nextTask(db, reviewer, skipping(mode, event.taskId), "Skipped; the task went back to the queue.");
    case "verdict": {
      let decision: Awaited<ReturnType<typeof submitReview>>;
      try {
        decision = await submitReview(db, reviewer, event.taskId, event.body);
      } catch (e) {
        if (e instanceof AppError && (e.code === "conflict" || e.code === "not_found")) {
          return nextTask(db, reviewer, skipping(mode, event.taskId), `${e.message}. Nothing was saved; here is the next task.`);
        }
        throw e;
      }
      return nextTask(db, reviewer, mode, `${VERDICT_NOTICES[decision.status as string] ?? "Saved"} ${decision.externalId}.`);
    }
  }
}

function skipping(mode: WorkMode, taskId: string): WorkMode {
  return { ...mode, skip: [...mode.skip, taskId].slice(-SKIP_MEMORY) };
}

/** Claims the list's next task and opens it; with none left, back to the list, saying why. */
async function nextTask(db: Db, reviewer: Reviewer, mode: WorkMode, notice: string | null): Promise<string> {
  if (mode.from === "escalations") return listUrl(mode, { notice });
  const found = await claim(db, reviewer, { view: mode.filter, skip: mode.skip, after: mode.after });
  if (!found.task) return listUrl(mode, { notice, empty: found.searchedAll ? "all" : "stretch" });
  return reviewUrl(found.task.id, { ...mode, after: found.position }, { notice });
}

/** Gives the task back if the reviewer still holds it; a lease already gone is no reason to stop them. */
async function releaseQuietly(db: Db, reviewer: Reviewer, taskId: string): Promise<void> {
  try {
    await releaseTask(db, reviewer, taskId);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
  }
}
