/**
 * The reviewer's queue page: every queue with its open count, oldest item and
 * SLA misses, the reviewer's own in-progress items, and the filterable,
 * keyset-paginated list of open tasks. "Start reviewing" enters work mode.
 */
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { claimNextTask, claimTask } from "~/domain/queue/queue.server";
import { listQueue, myInProgress, parseQueueFilter, queueFacets, queueOverview, type QueueFilter } from "~/domain/queue/queue-view.server";
import { AppError } from "~/lib/errors";
import { Badge } from "~/components/ui/badge";
import { buttonClass } from "~/components/ui/button";
import { formatClock, formatDuration, formatNumber, percent } from "~/components/review/format";

export const meta: MetaFunction = () => [{ title: "Queue · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "tasks:review");
  const db = getDb();
  const now = Date.now();
  const url = new URL(request.url);
  const { filter, issues } = parseQueueFilter(url.searchParams);
  return {
    now,
    filter,
    issues,
    notice: url.searchParams.get("notice"),
    queues: queueOverview(db, now),
    mine: myInProgress(db, who.user, now),
    page: listQueue(db, who.user, filter, now),
    facets: queueFacets(db, now),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "tasks:review");
  const db = getDb();
  const form = await request.formData();
  const intent = form.get("intent");
  const type = typeof form.get("type") === "string" && form.get("type") ? String(form.get("type")) : undefined;
  const q = type ? `?type=${encodeURIComponent(type)}` : "";
  if (intent === "start") {
    const task = claimNextTask(db, who.user, { type });
    if (!task) return data({ message: type ? "Nothing to review in this queue right now." : "Nothing to review right now." }, { status: 200 });
    return redirect(`/review/${task.id}${q}`);
  }
  if (intent === "claim") {
    const taskId = String(form.get("taskId") ?? "");
    try {
      const task = claimTask(db, who.user, taskId);
      return redirect(`/review/${task.id}${q}`);
    } catch (e) {
      if (e instanceof AppError) return data({ message: `${e.message}. The list is refreshed.` }, { status: 409 });
      throw e;
    }
  }
  return data({ message: "Unknown action." }, { status: 400 });
}

const KIND: Record<string, { label: string; tone: "indigo" | "sky" | "violet" | "amber" }> = {
  review: { label: "Review", tone: "indigo" },
  qa: { label: "QA", tone: "sky" },
  second: { label: "2nd review", tone: "violet" },
  // An owner's own escalations come to them in work mode too.
  escalation: { label: "Escalation", tone: "amber" },
};

export default function Queue() {
  const { now, filter, issues, notice, queues, mine, page, facets } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const [params] = useSearchParams();
  const totalOpen = queues.reduce((n, q) => n + q.open, 0);
  const nextParams = new URLSearchParams(params);
  nextParams.delete("notice");
  if (page.nextCursor) nextParams.set("cursor", page.nextCursor);
  const firstParams = new URLSearchParams(params);
  firstParams.delete("cursor");
  firstParams.delete("notice");

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-xl font-semibold tracking-tight">Queues</h1>
        <span className="text-sm text-slate-600">{formatNumber(totalOpen)} open</span>
        <Form method="post" className="ml-auto">
          <input type="hidden" name="type" value={filter.type ?? ""} />
          <button type="submit" name="intent" value="start" disabled={busy || totalOpen === 0} className={buttonClass("primary")}>
            Start reviewing{filter.type ? ` ${queues.find((q) => q.key === filter.type)?.name ?? filter.type}` : ""}
          </button>
        </Form>
      </div>

      {notice || result?.message ? (
        <p role="status" className="rounded-md border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700">
          {result?.message ?? notice}
        </p>
      ) : null}

      <section aria-labelledby="queues-heading">
        <h2 id="queues-heading" className="sr-only">
          Queues by decision type
        </h2>
        {queues.length === 0 ? <p className="text-slate-600">No decision types yet.</p> : null}
        <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full text-sm">
            <thead className="border-b border-slate-200 bg-slate-50 text-left text-xs text-slate-600">
              <tr>
                <th scope="col" className="px-4 py-2 font-medium">
                  Queue
                </th>
                <th scope="col" className="px-4 py-2 text-right font-medium">
                  Open
                </th>
                <th scope="col" className="px-4 py-2 text-right font-medium">
                  In progress
                </th>
                <th scope="col" className="px-4 py-2 text-right font-medium">
                  Oldest item
                </th>
                <th scope="col" className="px-4 py-2 text-right font-medium">
                  Past SLA
                </th>
                <th scope="col" className="px-4 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {queues.map((q) => (
                <tr key={q.key}>
                  <th scope="row" className="px-4 py-2 text-left font-medium">
                    <Link to={`/queue?type=${encodeURIComponent(q.key)}`} className="text-slate-900 hover:text-indigo-700 hover:underline">
                      {q.name}
                    </Link>
                    <span className="ml-2 font-mono text-xs font-normal text-slate-500">{q.key}</span>
                  </th>
                  <td className="px-4 py-2 text-right tabular-nums">{formatNumber(q.open)}</td>
                  <td className="px-4 py-2 text-right tabular-nums">{formatNumber(q.inProgress)}</td>
                  <td className="px-4 py-2 text-right tabular-nums text-slate-700">{q.oldestCreatedAt ? formatDuration(now - q.oldestCreatedAt) : "—"}</td>
                  <td className={`px-4 py-2 text-right tabular-nums ${q.pastSla > 0 ? "font-medium text-red-700" : "text-slate-500"}`}>
                    {formatNumber(q.pastSla)}
                    {q.pastSlaCapped ? "+" : ""}
                  </td>
                  <td className="px-4 py-2 text-right">
                    <Form method="post">
                      <input type="hidden" name="type" value={q.key} />
                      <button type="submit" name="intent" value="start" disabled={busy || q.open === 0} className={buttonClass("secondary", "sm")} aria-label={`Start reviewing ${q.name}`}>
                        Start
                      </button>
                    </Form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
                <Badge tone={KIND[t.kind]?.tone ?? "slate"}>{KIND[t.kind]?.label ?? t.kind}</Badge>
                <span className={`text-xs ${t.expired ? "text-red-700" : "text-slate-600"}`}>{t.expired ? "lease expired" : `lease ${formatClock((t.leaseExpiresAt ?? now) - now)} left`}</span>
                <Link to={`/review/${t.id}`} className={`${buttonClass("secondary", "sm")} ml-auto`} aria-label={`Continue ${t.externalId}`}>
                  {t.expired ? "Resume" : "Continue"}
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section aria-labelledby="tasks-heading" className="space-y-3">
        <h2 id="tasks-heading" className="text-sm font-semibold text-slate-800">
          Open tasks
        </h2>
        <Filters filter={filter} queues={queues} models={facets.models} />
        {issues.length ? (
          <p role="alert" className="text-sm text-red-700">
            Ignored: {issues.map((i) => `${i.path} (${i.message})`).join(", ")}
          </p>
        ) : null}
        <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
          <table className="min-w-full text-sm">
            <thead className="border-b border-slate-200 bg-slate-50 text-left text-xs text-slate-600">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">
                  Decision
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Route
                </th>
                <th scope="col" className="px-3 py-2 text-right font-medium">
                  Priority
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  SLA
                </th>
                <th scope="col" className="hidden px-3 py-2 font-medium lg:table-cell">
                  Model
                </th>
                <th scope="col" className="px-3 py-2 text-right font-medium">
                  Conf.
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Why
                </th>
                <th scope="col" className="px-3 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {page.items.length === 0 ? (
                <tr>
                  <td colSpan={8} className="px-3 py-6 text-center text-slate-500">
                    {page.partial ? "No match in this stretch of the queue yet; search further below." : "No open tasks match these filters."}
                  </td>
                </tr>
              ) : null}
              {page.items.map((t) => {
                const overdue = t.dueAt < now;
                return (
                  <tr key={t.id} className="align-top">
                    <td className="whitespace-nowrap px-3 py-2">
                      <span className="font-mono text-xs">{t.externalId}</span>
                      <span className="block text-xs text-slate-500">
                        <span className="hidden lg:inline">{t.typeKey} · </span>waiting {formatDuration(now - t.createdAt)}
                      </span>
                    </td>
                    <td className="px-3 py-2">
                      <Badge tone={KIND[t.kind]?.tone ?? "slate"}>{KIND[t.kind]?.label ?? t.kind}</Badge>
                    </td>
                    <td className="px-3 py-2 text-right tabular-nums">{t.priority}</td>
                    <td className={`whitespace-nowrap px-3 py-2 text-xs ${overdue ? "font-medium text-red-700" : "text-slate-600"}`}>{overdue ? `${formatDuration(now - t.dueAt)} over` : `due in ${formatDuration(t.dueAt - now)}`}</td>
                    <td className="hidden whitespace-nowrap px-3 py-2 font-mono text-xs text-slate-600 lg:table-cell">{t.model}</td>
                    <td className="px-3 py-2 text-right tabular-nums">{percent(t.confidence)}</td>
                    <td className="max-w-xs break-words px-3 py-2 text-xs text-slate-600">
                      {t.reasons[0] ?? (t.kind === "qa" ? "QA sample" : "")}
                      {t.reasons.length > 1 ? <span className="text-slate-500"> +{t.reasons.length - 1}</span> : null}
                      {t.flags.length ? (
                        <span className="mt-1 flex flex-wrap gap-1">
                          {t.flags.slice(0, 3).map((f) => (
                            <Badge key={f}>{f}</Badge>
                          ))}
                        </span>
                      ) : null}
                    </td>
                    <td className="px-3 py-2 text-right">
                      <Form method="post">
                        <input type="hidden" name="taskId" value={t.id} />
                        <input type="hidden" name="type" value={filter.type ?? ""} />
                        <button type="submit" name="intent" value="claim" disabled={busy} className={buttonClass("secondary", "sm")} aria-label={`Review ${t.externalId}`}>
                          Review
                        </button>
                      </Form>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
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

function Filters({ filter, queues, models }: { filter: QueueFilter; queues: { key: string; name: string }[]; models: string[] }) {
  const field = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm";
  const label = "block text-xs font-medium text-slate-600";
  return (
    <Form method="get" className="grid grid-cols-2 gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm sm:grid-cols-4 lg:grid-cols-8" aria-label="Filter open tasks">
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
