/**
 * The reviewer's queue page: every queue with its open count, oldest item and
 * SLA misses, the reviewer's own in-progress items, and the filterable,
 * keyset-paginated list of open tasks. "Start reviewing" enters work mode.
 */
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useLocation, useNavigation, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { readForm } from "~/lib/read-form.server";
import { requireUser } from "~/domain/auth/session.server";
import { can, type Principal } from "~/domain/auth/permissions";
import { bulkBodyFromForm, bulkNotice, bulkTaskAction, isBulkIntent, managerView, type BulkIntent } from "~/domain/teams/bulk.server";
import { WORK_SEARCH_WINDOWS } from "~/domain/queue/claim.server";
import {
  listQueue,
  myInProgress,
  narrowsList,
  parseQueueFilter,
  queueFacets,
  queueFilterParams,
  queueOverview,
  SCAN_BUDGET,
  type QueueFilter,
} from "~/domain/queue/queue-view.server";
import { advance, readWorkMode, readWorkModeEnd, type WorkEvent } from "~/domain/queue/work-mode.server";
import { formError, formFailure } from "~/lib/form-failure.server";
import { queueRefusal, queueScope } from "~/domain/teams/membership.server";
import type { FormIssues } from "~/lib/form-failure";
import type { ManageFilter } from "~/domain/teams/manage-filter";
import { taskKindLabel } from "~/domain/queue/task-kinds";
import { Badge } from "~/components/ui/badge";
import { buttonClass } from "~/components/ui/button";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { formatClock, formatDuration, formatNumber, percent } from "~/lib/format";
import { myProgress } from "~/domain/teams/progress.server";
import { MyProgressCard } from "~/components/teams/my-progress-card";

export const meta: MetaFunction = () => [{ title: "Queue · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "tasks:review");
  const db = getDb();
  const now = Date.now();
  const url = new URL(request.url);
  const { filter, issues } = parseQueueFilter(url.searchParams);
  const empty = readWorkModeEnd(url.searchParams);
  // Only the queues this reviewer may work (teams/membership.server.ts); a closed one asked for by name is ignored, saying why.
  const scope = await queueScope(db, who.user);
  if (filter.type && scope.excluded.includes(filter.type)) {
    const refused = await queueRefusal(db, who.user, { typeKey: filter.type, assigneeId: null }, scope.excluded);
    issues.push({ path: "type", message: refused!.message });
    filter.type = undefined;
  }
  // The manager view (?manage=1): every open or claimed task with its assignee, selectable for bulk actions.
  const canAssign = can(who, "tasks:assign");
  const managed = canAssign && url.searchParams.get("manage") === "1" ? await managerView(db, url.searchParams, filter, now) : null;
  return {
    now,
    filter,
    filtered: narrowsList(filter),
    /** The list's filters as form fields, so a post starts work mode on exactly that list. */
    work: [...queueFilterParams(filter)],
    issues: managed ? [...issues, ...managed.issues] : issues,
    canAssign,
    managed,
    notice: url.searchParams.get("notice"),
    empty,
    searchedTasks: WORK_SEARCH_WINDOWS * SCAN_BUDGET,
    queues: await queueOverview(db, now, scope.excluded),
    mine: await myInProgress(db, who.user, now),
    page: managed ? managed.page : await listQueue(db, who.user, filter, now, undefined, { scope }),
    facets: await queueFacets(db, now),
    progress: await myProgress(db, who.user.id, now),
  };
}

const intentSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("start") }),
  z.object({ intent: z.literal("claim"), taskId: z.string().min(1).max(64) }),
]);

/**
 * "Start reviewing" works through the list the reviewer filtered (the form
 * carries the filters); "Review" on a row claims that task and then carries on
 * through the same list. Work mode (domain/queue/work-mode.server.ts) keeps the
 * filters in the review URL.
 */
export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "tasks:review");
  const form = await readForm(request);
  const params = new URLSearchParams();
  for (const [k, v] of form) if (typeof v === "string" && v !== "") params.append(k, v);
  const intent = params.get("intent");
  if (isBulkIntent(intent)) return bulkAction(who, intent, params);
  const parsed = intentSchema.safeParse({ intent: params.get("intent"), taskId: params.get("taskId") ?? undefined });
  if (!parsed.success) return formError("unknown", "Unknown action.");
  const event: WorkEvent = parsed.data.intent === "start" ? { type: "start" } : { type: "pick", taskId: parsed.data.taskId };
  const mode = readWorkMode(params);
  // Starting on a queue the reviewer may not work is refused (a task of one is refused by the claim itself).
  const closed = mode.filter.type ? await queueRefusal(getDb(), who.user, { typeKey: mode.filter.type, assigneeId: null }) : null;
  if (closed) return formFailure(closed, parsed.data.intent);
  try {
    return redirect(await advance(getDb(), who.user, mode, event));
  } catch (e) {
    if (event.type === "pick") return formFailure(e, "claim");
    throw e;
  }
}

/**
 * A bulk action of the manager view, on the checked rows or on every task matching the list's filters: all or
 * nothing (domain/teams/bulk.server.ts); done, back to the same list with a notice; refused, the form says which
 * tasks and why.
 */
async function bulkAction(who: Principal, intent: BulkIntent, params: URLSearchParams) {
  if (!can(who, "tasks:assign")) return formError(intent, "Your role does not allow assigning tasks.", [], { status: 403 });
  const listParams = new URLSearchParams([...params].filter(([k]) => LIST_FIELDS.includes(k)));
  const { filter } = parseQueueFilter(listParams);
  if (params.get("all") !== "1" && params.getAll("taskId").length === 0)
    return formError(intent, "Select at least one task, or every task matching the filter.");
  try {
    const done = await bulkTaskAction(getDb(), who.actor, bulkBodyFromForm(intent, params, filter));
    const back = new URLSearchParams([["manage", "1"], ...queueFilterParams(filter)]);
    for (const k of ["status", "assignee"]) if (params.get(k)) back.set(k, params.get(k)!);
    back.set("notice", bulkNotice(done, params.get("assignTo") ?? undefined));
    return redirect(`/queue?${back}`);
  } catch (e) {
    return formFailure(e, intent);
  }
}

/** The list's own filter fields, as the bulk form carries them. */
const LIST_FIELDS = ["type", "route", "priority", "sla", "flag", "model", "sort"];

export default function Queue() {
  const { now, filter, filtered, work, issues, notice, empty, searchedTasks, queues, mine, page, facets, canAssign, managed } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const [params] = useSearchParams();
  const totalOpen = queues.reduce((n, q) => n + q.open, 0);
  const nextParams = new URLSearchParams(params);
  nextParams.delete("notice");
  nextParams.delete("empty");
  if (page.nextCursor) nextParams.set("cursor", page.nextCursor);
  const firstParams = new URLSearchParams(params);
  firstParams.delete("cursor");
  firstParams.delete("notice");
  firstParams.delete("empty");
  const typeName = filter.type ? ` ${queues.find((q) => q.key === filter.type)?.name ?? filter.type}` : "";
  const narrowed = work.some(([k]) => k !== "type" && k !== "sort");
  // The first page of the filtered list, read to its end, holds nothing: there is nothing to start on.
  const listEmpty = !filter.cursor && page.items.length === 0 && !page.partial;
  const bulkFailure = result && !result.ok && result.intent.startsWith("bulk-") ? result : null;
  const failure = result && !result.ok && !bulkFailure ? (result.intent === "claim" ? `${result.message}. The list is refreshed.` : result.message) : null;
  const manageParams = new URLSearchParams([["manage", "1"], ...work]);
  // Each new list (a bulk action done: its notice, a page, a filter) starts with nothing selected; a refusal (same URL)
  // keeps the selection.
  const listKey = useLocation().search;
  const externalIds = new Map(page.items.map((t) => [t.id, t.externalId]));

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-xl font-semibold tracking-tight">Queues</h1>
        <span className="text-sm text-slate-600">{formatNumber(totalOpen)} open</span>
        <Form method="post" className="ml-auto">
          {work.map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          <button type="submit" name="intent" value="start" disabled={busy || totalOpen === 0 || listEmpty} className={buttonClass("primary")}>
            Start reviewing{typeName}
            {narrowed ? " (filtered list)" : ""}
          </button>
        </Form>
      </div>

      {empty ? (
        <div
          role="status"
          aria-label="Work mode ended"
          className="flex flex-wrap items-center gap-3 rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-950"
        >
          <p>
            {notice ? `${notice} ` : ""}
            {empty === "stretch"
              ? `No task matching these filters in the next ${formatNumber(searchedTasks)} tasks of the queue; there may be more further down the list.`
              : filtered
                ? "Nothing left to review that matches these filters."
                : "The queue is empty: nothing left to review."}
          </p>
          {filtered ? (
            <Link to="/queue" className={`${buttonClass("secondary", "sm")} ml-auto`}>
              Clear filters
            </Link>
          ) : null}
        </div>
      ) : notice || failure ? (
        <p role="status" className="rounded-md border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700">
          {failure ?? notice}
        </p>
      ) : null}

      <MyProgressCard progress={useLoaderData<typeof loader>().progress} />

      <section aria-labelledby="queues-heading">
        <h2 id="queues-heading" className="sr-only">
          Queues by decision type
        </h2>
        {queues.length === 0 ? <p className="text-slate-600">No decision types yet.</p> : null}
        <Table label="Queues by decision type" className="shadow-sm">
          <THead>
            <TH>Queue</TH>
            <TH numeric>Open</TH>
            <TH numeric>In progress</TH>
            <TH numeric>Oldest item</TH>
            <TH numeric>Past SLA</TH>
            <TH>
              <span className="sr-only">Actions</span>
            </TH>
          </THead>
          <TBody>
            {queues.map((q) => (
              <tr key={q.key}>
                <TH scope="row" className="font-medium">
                  <Link to={`/queue?type=${encodeURIComponent(q.key)}`} className="text-slate-900 hover:text-indigo-700 hover:underline">
                    {q.name}
                  </Link>
                  <span className="ml-2 font-mono text-xs font-normal text-slate-500">{q.key}</span>
                </TH>
                <TD numeric>{formatNumber(q.open)}</TD>
                <TD numeric>{formatNumber(q.inProgress)}</TD>
                <TD numeric className="text-slate-700">
                  {q.oldestCreatedAt ? formatDuration(now - q.oldestCreatedAt) : "—"}
                </TD>
                <TD numeric className={q.pastSla > 0 ? "font-medium text-red-700" : "text-slate-500"}>
                  {formatNumber(q.pastSla)}
                  {q.pastSlaCapped ? "+" : ""}
                </TD>
                <TD className="text-right">
                  <Form method="post">
                    <input type="hidden" name="type" value={q.key} />
                    <button
                      type="submit"
                      name="intent"
                      value="start"
                      disabled={busy || q.open === 0}
                      className={buttonClass("secondary", "sm")}
                      aria-label={`Start reviewing ${q.name}`}
                    >
                      Start
                    </button>
                  </Form>
                </TD>
              </tr>
            ))}
          </TBody>
        </Table>
      </section>

      {mine.length > 0 ? (
        <section aria-labelledby="mine-heading">
          <h2 id="mine-heading" className="mb-2 text-sm font-semibold text-slate-800">
            Your items in progress
          </h2>
          <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm">
            {mine.map((t) => (
              <li key={t.id} className="flex flex-wrap items-center gap-3 px-4 py-2 text-sm">
                <span className="font-mono">{t.externalId}</span>
                <span className="text-slate-500">{t.typeKey}</span>
                <Badge tone={taskKindLabel(t.kind).tone}>{taskKindLabel(t.kind).label}</Badge>
                <span className={`text-xs ${t.expired ? "text-red-700" : "text-slate-600"}`}>
                  {t.expired ? "lease expired" : `lease ${formatClock((t.leaseExpiresAt ?? now) - now)} left`}
                </span>
                <Link to={`/review/${t.id}`} className={`${buttonClass("secondary", "sm")} ml-auto`} aria-label={`Continue ${t.externalId}`}>
                  {t.expired ? "Resume" : "Continue"}
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section aria-labelledby="tasks-heading" className="space-y-3">
        <div className="flex flex-wrap items-center gap-3">
          <h2 id="tasks-heading" className="text-sm font-semibold text-slate-800">
            {managed ? "Manage tasks" : "Open tasks"}
          </h2>
          {canAssign ? (
            <Link to={managed ? `/queue?${new URLSearchParams(work)}` : `/queue?${manageParams}`} className="ml-auto text-sm text-indigo-700 hover:underline">
              {managed ? "← Back to your queue" : "Manage tasks (assign, bulk actions) →"}
            </Link>
          ) : null}
        </div>
        <Filters filter={filter} queues={queues} models={facets.models} managed={managed ? { ...managed.manage, people: managed.people } : null} />
        {managed ? (
          <BulkBar
            key={listKey}
            filter={filter}
            work={work}
            manage={managed.manage}
            people={managed.people}
            matching={managed.matching}
            busy={busy}
            failure={bulkFailure ? { message: bulkFailure.message, details: refusedTasks(bulkFailure.issues, externalIds) } : null}
          />
        ) : null}
        {issues.length ? (
          <p role="alert" className="text-sm text-red-700">
            Ignored: {issues.map((i) => `${i.path} (${i.message})`).join(", ")}
          </p>
        ) : null}
        <Table label={managed ? "Tasks to manage" : "Open tasks"} className="shadow-sm">
          <THead>
            {managed ? (
              <TH>
                <SelectPage key={listKey} />
              </TH>
            ) : null}
            <TH>Decision</TH>
            <TH>Route</TH>
            <TH numeric>Priority</TH>
            <TH>SLA</TH>
            <TH className="hidden lg:table-cell">Model</TH>
            <TH numeric>Conf.</TH>
            <TH>Why</TH>
            {managed ? <TH>Assignee</TH> : null}
            <TH>
              <span className="sr-only">Actions</span>
            </TH>
          </THead>
          <TBody>
            {page.items.length === 0 ? (
              <EmptyRow colSpan={managed ? 10 : 8}>
                {page.partial ? "No match in this stretch of the queue yet; search further below." : "No open tasks match these filters."}
              </EmptyRow>
            ) : null}
            {page.items.map((t) => {
              const overdue = t.dueAt < now;
              const held = managed?.tasks[t.id];
              return (
                <tr key={t.id}>
                  {managed ? (
                    <TD>
                      <input
                        key={listKey}
                        type="checkbox"
                        name="taskId"
                        value={t.id}
                        form={BULK_FORM}
                        aria-label={`Select ${t.externalId}`}
                        className="h-4 w-4 rounded border-slate-400"
                      />
                    </TD>
                  ) : null}
                  <TD className="whitespace-nowrap">
                    <span className="font-mono text-xs">{t.externalId}</span>
                    <span className="block text-xs text-slate-500">
                      <span className="hidden lg:inline">{t.typeKey} · </span>waiting {formatDuration(now - t.createdAt)}
                    </span>
                  </TD>
                  <TD>
                    <Badge tone={taskKindLabel(t.kind).tone}>{taskKindLabel(t.kind).label}</Badge>
                  </TD>
                  <TD numeric>{t.priority}</TD>
                  <TD className={`whitespace-nowrap text-xs ${overdue ? "font-medium text-red-700" : "text-slate-600"}`}>
                    {overdue ? `${formatDuration(now - t.dueAt)} over` : `due in ${formatDuration(t.dueAt - now)}`}
                  </TD>
                  <TD className="hidden whitespace-nowrap font-mono text-xs text-slate-600 lg:table-cell">{t.model}</TD>
                  <TD numeric>{percent(t.confidence)}</TD>
                  <TD className="max-w-xs break-words text-xs text-slate-600">
                    {t.reasons[0] ?? (t.kind === "qa" ? "QA sample" : "")}
                    {t.reasons.length > 1 ? <span className="text-slate-500"> +{t.reasons.length - 1}</span> : null}
                    {t.flags.length ? (
                      <span className="mt-1 flex flex-wrap gap-1">
                        {t.flags.slice(0, 3).map((f) => (
                          <Badge key={f}>{f}</Badge>
                        ))}
                      </span>
                    ) : null}
                  </TD>
                  {managed ? (
                    <TD className="max-w-[14rem] break-all text-xs text-slate-700">
                      {held?.assignee ?? <span className="text-slate-600">Shared queue</span>}
                      {held?.holder ? (
                        <span className={`block ${(held.leaseExpiresAt ?? 0) <= now ? "text-red-700" : "text-slate-500"}`}>
                          held by {held.holder}
                          {(held.leaseExpiresAt ?? 0) <= now ? " (lease lapsed)" : ` · ${formatClock((held.leaseExpiresAt ?? now) - now)} left`}
                        </span>
                      ) : null}
                    </TD>
                  ) : null}
                  <TD className="text-right">
                    {held?.status === "claimed" ? null : (
                      <Form method="post">
                        <input type="hidden" name="taskId" value={t.id} />
                        {work.map(([k, v]) => (
                          <input key={k} type="hidden" name={k} value={v} />
                        ))}
                        <button
                          type="submit"
                          name="intent"
                          value="claim"
                          disabled={busy}
                          className={buttonClass("secondary", "sm")}
                          aria-label={`Review ${t.externalId}`}
                        >
                          Review
                        </button>
                      </Form>
                    )}
                  </TD>
                </tr>
              );
            })}
          </TBody>
        </Table>
        <nav aria-label="Pages" className="flex items-center justify-between text-sm">
          {filter.cursor ? (
            <Link to={`/queue?${firstParams}`} className="text-indigo-700 hover:underline">
              ← First page
            </Link>
          ) : (
            <span />
          )}
          {page.partial ? (
            <span className="text-slate-600">
              {page.items.length} match{page.items.length === 1 ? "" : "es"} in the next {formatNumber(page.scanned)} tasks.{" "}
              <Link to={`/queue?${nextParams}`} className="text-indigo-700 hover:underline">
                Search further →
              </Link>
            </span>
          ) : page.nextCursor ? (
            <Link to={`/queue?${nextParams}`} className="text-indigo-700 hover:underline">
              Next page →
            </Link>
          ) : null}
        </nav>
      </section>
    </div>
  );
}

type Person = { email: string; name: string };

const fieldClass = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm";
const labelClass = "block text-xs font-medium text-slate-600";

function Filters({
  filter,
  queues,
  models,
  managed,
}: {
  filter: QueueFilter;
  queues: { key: string; name: string }[];
  models: string[];
  managed: (ManageFilter & { people: Person[] }) | null;
}) {
  const field = fieldClass;
  const label = labelClass;
  return (
    <Form
      method="get"
      className="grid grid-cols-2 gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm sm:grid-cols-4 lg:grid-cols-8"
      aria-label={managed ? "Filter tasks to manage" : "Filter open tasks"}
    >
      {managed ? (
        <>
          <input type="hidden" name="manage" value="1" />
          <div>
            <label htmlFor="flt-status" className={label}>
              Status
            </label>
            <select id="flt-status" name="status" defaultValue={managed.status ?? "open"} className={field}>
              <option value="open">Open</option>
              <option value="claimed">In progress (leased)</option>
            </select>
          </div>
          <div>
            <label htmlFor="flt-assignee" className={label}>
              Assignee
            </label>
            <select id="flt-assignee" name="assignee" defaultValue={managed.assignee ?? ""} className={field}>
              <option value="">Anyone</option>
              <option value="none">Shared queue (unassigned)</option>
              {[...new Set([...managed.people.map((p) => p.email), ...(managed.assignee && managed.assignee !== "none" ? [managed.assignee] : [])])].map(
                (e) => (
                  <option key={e} value={e}>
                    {e}
                  </option>
                ),
              )}
            </select>
          </div>
        </>
      ) : null}
      <div>
        <label htmlFor="flt-type" className={label}>
          Type
        </label>
        <select id="flt-type" name="type" defaultValue={filter.type ?? ""} className={field}>
          <option value="">All</option>
          {queues.map((q) => (
            <option key={q.key} value={q.key}>
              {q.name}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="flt-route" className={label}>
          Route
        </label>
        <select id="flt-route" name="route" defaultValue={filter.route ?? ""} className={field}>
          <option value="">All</option>
          <option value="review">Review</option>
          <option value="qa">QA</option>
        </select>
      </div>
      <div>
        <label htmlFor="flt-priority" className={label}>
          Priority
        </label>
        <input id="flt-priority" name="priority" inputMode="numeric" defaultValue={filter.priority ?? ""} className={field} />
      </div>
      <div>
        <label htmlFor="flt-sla" className={label}>
          SLA
        </label>
        <select id="flt-sla" name="sla" defaultValue={filter.sla ?? ""} className={field}>
          <option value="">Any</option>
          <option value="overdue">Overdue</option>
          <option value="due_soon">Due within 1 h</option>
          <option value="on_time">On time</option>
        </select>
      </div>
      <div>
        <label htmlFor="flt-flag" className={label}>
          Flag
        </label>
        <input id="flt-flag" name="flag" defaultValue={filter.flag ?? ""} placeholder="e.g. policy:pep" className={field} />
      </div>
      <div>
        <label htmlFor="flt-model" className={label}>
          Model version
        </label>
        <select id="flt-model" name="model" defaultValue={filter.model ?? ""} className={field}>
          <option value="">All</option>
          {[...new Set([...models, ...(filter.model ? [filter.model] : [])])].map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="flt-sort" className={label}>
          Sort
        </label>
        <select id="flt-sort" name="sort" defaultValue={filter.sort} className={field}>
          <option value="queue">Queue order</option>
          <option value="oldest">Oldest first</option>
          <option value="newest">Newest first</option>
        </select>
      </div>
      <div className="flex items-end gap-2">
        <button type="submit" className={buttonClass("secondary")}>
          Apply
        </button>
        <Link to="/queue" className="py-1.5 text-sm text-slate-600 hover:underline">
          Clear
        </Link>
      </div>
    </Form>
  );
}

const BULK_FORM = "bulk-actions";

/** A refusal's tasks as the manager knows them: the decision's external id (when listed on this page) and why. */
function refusedTasks(issues: FormIssues, externalIds: Map<string, string>): string[] {
  return Object.entries(issues)
    .filter(([path]) => path.startsWith("taskIds."))
    .flatMap(([path, messages]) => {
      const id = path.slice("taskIds.".length);
      const name = externalIds.get(id);
      return messages.map((m) => (name ? `${name}: ${m.replace(`Task ${id} `, "")}` : m));
    });
}

/** The header checkbox: checks or clears every row of this page (the rows' checkboxes belong to the bulk form). */
function SelectPage() {
  return (
    <input
      type="checkbox"
      aria-label="Select every task on this page"
      className="h-4 w-4 rounded border-slate-400"
      onChange={(e) => {
        for (const box of document.querySelectorAll<HTMLInputElement>(`input[type=checkbox][name=taskId][form=${BULK_FORM}]`))
          box.checked = e.currentTarget.checked;
      }}
    />
  );
}

/**
 * The manager view's bulk actions, on the rows checked in the list (their checkboxes name this form) or on every
 * task matching the filter: assign to a person, return to the shared queue, set the priority, release leases.
 */
function BulkBar({
  filter,
  work,
  manage,
  people,
  matching,
  busy,
  failure,
}: {
  filter: QueueFilter;
  work: [string, string][];
  manage: ManageFilter;
  people: Person[];
  matching: { count: number; more: boolean; searchedAll: boolean };
  busy: boolean;
  failure: { message: string; details: string[] } | null;
}) {
  const n = `${formatNumber(matching.count)}${matching.more || !matching.searchedAll ? "+" : ""}`;
  const tooMany = matching.more || !matching.searchedAll;
  return (
    <Form
      method="post"
      id={BULK_FORM}
      aria-label="Bulk actions"
      className="flex flex-wrap items-end gap-3 rounded-lg border border-indigo-200 bg-indigo-50/60 p-3 text-sm shadow-sm"
    >
      {work.map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      {manage.status ? <input type="hidden" name="status" value={manage.status} /> : null}
      {manage.assignee ? <input type="hidden" name="assignee" value={manage.assignee} /> : null}
      <label className="flex items-center gap-2 self-center">
        <input type="checkbox" name="all" value="1" disabled={tooMany || matching.count === 0} className="h-4 w-4 rounded border-slate-400" />
        <span>
          {`All ${n} tasks matching this filter`}
          {tooMany ? <span className="block text-xs text-slate-600">More than one action takes: narrow the filter, or select rows.</span> : null}
        </span>
      </label>
      <span className="self-center text-slate-700">or the rows checked below.</span>
      <div className="flex items-end gap-2">
        <div>
          <label htmlFor="bulk-assign-to" className={labelClass}>
            Assign to
          </label>
          <select id="bulk-assign-to" name="assignTo" defaultValue="" className={`${fieldClass} max-w-xs`}>
            <option value="">Choose a person…</option>
            {people.map((p) => (
              <option key={p.email} value={p.email}>
                {p.name && p.name !== p.email ? `${p.name} (${p.email})` : p.email}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" name="intent" value="bulk-assign" disabled={busy} className={buttonClass("primary", "sm")}>
          Assign
        </button>
      </div>
      <button type="submit" name="intent" value="bulk-unassign" disabled={busy} className={buttonClass("secondary", "sm")}>
        Return to shared queue
      </button>
      <div className="flex items-end gap-2">
        <div>
          <label htmlFor="bulk-priority" className={labelClass}>
            New priority
          </label>
          <input
            id="bulk-priority"
            name="newPriority"
            inputMode="numeric"
            defaultValue={filter.priority ?? ""}
            className={`${fieldClass} w-24`}
            onKeyDown={(e) => {
              // Enter here sets the priority (a form's implicit submission would press its first button, Assign).
              if (e.key !== "Enter") return;
              e.preventDefault();
              e.currentTarget.form?.requestSubmit(document.getElementById("bulk-priority-submit") as HTMLButtonElement | null);
            }}
          />
        </div>
        <button id="bulk-priority-submit" type="submit" name="intent" value="bulk-priority" disabled={busy} className={buttonClass("secondary", "sm")}>
          Set priority
        </button>
      </div>
      <button type="submit" name="intent" value="bulk-release" disabled={busy} className={buttonClass("secondary", "sm")}>
        Release leases
      </button>
      {failure ? (
        <div role="alert" className="w-full rounded-md border border-red-200 bg-white px-3 py-2 text-red-800">
          <p className="font-medium">{failure.details.length ? `${failure.message.split(". ")[0]}.` : failure.message}</p>
          {failure.details.length ? (
            <ul className="mt-1 list-disc pl-5 text-xs">
              {failure.details.slice(0, 20).map((d) => (
                <li key={d}>{d}</li>
              ))}
              {failure.details.length > 20 ? <li>and {failure.details.length - 20} more</li> : null}
            </ul>
          ) : null}
        </div>
      ) : null}
    </Form>
  );
}
