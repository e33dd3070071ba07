/**
 * The type owner's escalations: items escalated by reviewers (with their note)
 * or by a four-eyes disagreement. Resolved on the same review screen.
 * Owners see what is assigned to them; admins may see everyone's.
 */
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { can } from "~/domain/auth/permissions";
import { advance, FROM_ESCALATIONS } from "~/domain/queue/work-mode.server";
import { listEscalations } from "~/domain/queue/queue-view.server";
import { formFailure } from "~/lib/form-failure.server";
import { buttonClass } from "~/components/ui/button";
import { formatDuration, percent } from "~/lib/format";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction = () => [{ title: "Escalations · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "escalations:resolve");
  const url = new URL(request.url);
  const mayShowAll = can(who, "escalations:all");
  const all = mayShowAll && url.searchParams.get("all") === "1";
  return { now: Date.now(), all, mayShowAll, notice: url.searchParams.get("notice"), items: await listEscalations(getDb(), who.user, { all }) };
}

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "escalations:resolve");
  const form = await readForm(request);
  const taskId = String(form.get("taskId") ?? "");
  try {
    return redirect(await advance(getDb(), who.user, FROM_ESCALATIONS, { type: "resolve", taskId }));
  } catch (e) {
    return formFailure(e, "resolve");
  }
}

export default function Escalations() {
  const { now, all, mayShowAll, notice, items } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-xl font-semibold tracking-tight">Escalations</h1>
        <span className="text-sm text-slate-600">
          {items.length} {all ? "open in total" : "assigned to you"}
        </span>
        {mayShowAll ? (
          <Link to={all ? "/escalations" : "/escalations?all=1"} className="ml-auto text-sm text-indigo-700 hover:underline">
            {all ? "Show only mine" : "Show all owners"}
          </Link>
        ) : null}
      </div>
      {notice || result?.message ? (
        <p role="status" className="rounded-md border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700">
          {result?.message ?? notice}
        </p>
      ) : null}
      {items.length === 0 ? (
        <p className="rounded-lg border border-dashed border-slate-300 bg-white px-4 py-10 text-center text-slate-600">
          Nothing is escalated to you. Reviewers escalate decisions they cannot settle; they show up here.
        </p>
      ) : (
        <ul className="space-y-3">
          {items.map((t) => (
            <li key={t.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
              <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
                <h2 className="font-mono text-sm font-semibold">{t.externalId}</h2>
                <span className="text-sm text-slate-600">{t.typeName}</span>
                <span className="text-xs text-slate-500">
                  {t.model} · confidence {percent(t.confidence)} · escalated {formatDuration(now - t.createdAt)} ago
                </span>
                {all ? <span className="text-xs text-slate-500">owner {t.assignee}</span> : null}
                <div className="ml-auto">
                  {t.claimedByMe ? (
                    <Link to={`/review/${t.id}?from=escalations`} className={buttonClass("primary", "sm")}>
                      Continue
                    </Link>
                  ) : t.mine && t.status === "open" ? (
                    <Form method="post">
                      <input type="hidden" name="taskId" value={t.id} />
                      <button type="submit" disabled={busy} className={buttonClass("primary", "sm")} aria-label={`Resolve ${t.externalId}`}>
                        Resolve
                      </button>
                    </Form>
                  ) : (
                    <span className="text-xs text-slate-500">{t.status === "claimed" ? "being resolved" : `assigned to ${t.assignee}`}</span>
                  )}
                </div>
              </div>
              <figure className="mt-2">
                <blockquote className="border-l-2 border-amber-300 pl-3 text-sm text-slate-800">{t.note || "No note."}</blockquote>
                <figcaption className="mt-1 pl-3 text-xs text-slate-500">{t.escalatedBy ? `— ${t.escalatedBy}` : null}</figcaption>
              </figure>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
