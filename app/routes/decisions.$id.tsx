/**
 * One decision, everything known about it: status, route and the rules that
 * fired, the model, its input, model vs final output field by field, reviews,
 * tasks, the audit trail and the events sent to the source system. Read-only.
 */
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { getDecisionType } from "~/domain/decision-types/decision-types.server";
import { getDecisionDetail } from "~/domain/decisions/search.server";
import { viewerOf } from "~/domain/decisions/sealing.server";
import { SEALED_LABEL } from "~/domain/review/four-eyes";
import { orErrorResponse } from "~/lib/invariant";
import { outputRows } from "~/components/decisions/output-rows";
import { RouteErrorBoundary } from "~/components/route-error";
import { Badge, RouteBadge, StatusBadge } from "~/components/ui/badge";
import { JsonValue, RawJson } from "~/components/ui/json-view";
import { PageHeader, Section } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data ? `Decision ${data.decision.externalId}` : "Decision"} · Lastmile` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const who = await requireUser(request, "decisions:read");
  const db = getDb();
  const detail = await orErrorResponse(() => getDecisionDetail(db, params.id!, viewerOf(who)));
  const type = await getDecisionType(db, detail.decision.type);
  return {
    ...detail,
    type: type ? { key: type.key, name: type.name, owner: type.owner, reasonCodes: type.reasonCodes, currentPolicyVersion: type.policyVersion } : null,
  };
}

function Value({ v }: { v: unknown }) {
  if (v === undefined) return <span className="text-slate-500">—</span>;
  if (v === null) return <span className="text-slate-500">null</span>;
  if (typeof v === "object") return <span className="font-mono text-xs">{JSON.stringify(v)}</span>;
  return <span className={typeof v === "number" ? "font-mono tabular-nums" : undefined}>{String(v)}</span>;
}

function Confidence({ c, threshold }: { c: number | null; threshold?: number }) {
  if (c === null) return <span className="text-slate-500">—</span>;
  const pct = Math.round(c * 100);
  const low = threshold !== undefined && c < threshold;
  return (
    <span className="inline-flex items-center gap-2">
      <span className="h-1.5 w-16 overflow-hidden rounded bg-slate-200" aria-hidden>
        <span className={`block h-full ${c >= 0.9 ? "bg-emerald-500" : c >= 0.7 ? "bg-amber-500" : "bg-red-500"}`} style={{ width: `${pct}%` }} />
      </span>
      <span className={`tabular-nums ${low ? "font-medium text-red-700" : ""}`}>{c.toFixed(2)}</span>
    </span>
  );
}

function summarize(data: unknown): string {
  if (!data || typeof data !== "object") return "";
  return Object.entries(data as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}

export default function DecisionDetail() {
  const { decision: d, tasks, audit, events, type } = useLoaderData<typeof loader>();
  const rows = outputRows(d.output, d.finalOutput, d.fieldConfidence);
  const changedCount = rows.filter((r) => r.changed).length;
  const label = new Map((type?.reasonCodes ?? []).map((r) => [r.code, r.label]));
  return (
    <div className="space-y-6">
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-2">
            <span className="font-mono">{d.externalId}</span>
            <StatusBadge status={d.status} />
            <RouteBadge route={d.route} />
            {d.qaSampled ? <Badge tone="sky">QA sampled</Badge> : null}
          </span>
        }
        description={
          <>
            {type?.name ?? d.type} · received <Time value={d.receivedAt} /> · id <code className="font-mono text-xs">{d.id}</code>
          </>
        }
        actions={
          <Link to={`/decisions?type=${encodeURIComponent(d.type)}`} className="text-sm text-slate-600 hover:text-slate-900">
            ← Decisions of this type
          </Link>
        }
      />

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <Section title="Outcome" id="outcome">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-2 text-sm">
            <dt className="text-slate-500">Status</dt>
            <dd>
              <StatusBadge status={d.status} />
            </dd>
            <dt className="text-slate-500">Finalized</dt>
            <dd>{d.finalizedAt ? <Time value={d.finalizedAt} /> : <span className="text-slate-500">not yet</span>}</dd>
            <dt className="text-slate-500">Occurred</dt>
            <dd>
              <Time value={d.occurredAt} />
            </dd>
            <dt className="text-slate-500">Priority</dt>
            <dd className="tabular-nums">{d.priority}</dd>
            <dt className="text-slate-500">Owner</dt>
            <dd>{type?.owner ?? "—"}</dd>
          </dl>
        </Section>
        <Section title="Model" id="model">
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-2 text-sm">
            <dt className="text-slate-500">Name</dt>
            <dd>{d.model.name}</dd>
            <dt className="text-slate-500">Version</dt>
            <dd className="font-mono">{d.model.version}</dd>
            <dt className="text-slate-500">Confidence</dt>
            <dd>
              <Confidence c={d.confidence} />
            </dd>
            <dt className="text-slate-500">Flags</dt>
            <dd className="flex flex-wrap gap-1">
              {d.flags.length ? d.flags.map((f) => <Badge key={f}>{f}</Badge>) : <span className="text-slate-500">none</span>}
            </dd>
          </dl>
        </Section>
        <Section
          title="Routing"
          id="routing"
          description={`Routed under policy v${d.policyVersion}${type && type.currentPolicyVersion !== d.policyVersion ? ` (current: v${type.currentPolicyVersion})` : ""}.`}
        >
          {d.reasons.length ? (
            <ul className="list-disc space-y-1 pl-5 text-sm">
              {d.reasons.map((r) => (
                <li key={r} className="font-mono text-xs">
                  {r}
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-600">
              No rule fired: released automatically with the model's output{d.qaSampled ? ", and sampled for a QA check" : ""}.
            </p>
          )}
        </Section>
      </div>

      <Section
        title="Output: model vs final"
        id="output"
        description={
          d.finalOutput == null
            ? "Not final yet: the final output appears once the decision is reviewed."
            : changedCount
              ? `${changedCount} field(s) changed by a reviewer.`
              : "The final output equals the model's output."
        }
      >
        <Table label="Model output and final output by field">
          <THead>
            <TH>Field</TH>
            <TH>Model output</TH>
            <TH>Final output</TH>
            <TH>Field confidence</TH>
          </THead>
          <TBody>
            {rows.length === 0 ? <EmptyRow colSpan={4}>The output is empty.</EmptyRow> : null}
            {rows.map((r) => (
              <tr key={r.path} className={r.changed ? "bg-amber-50" : undefined}>
                <TD className="font-mono text-xs">
                  {r.path}
                  {r.changed ? (
                    <span className="ml-2">
                      <Badge tone="amber">changed</Badge>
                    </span>
                  ) : null}
                </TD>
                <TD className={r.changed ? "text-slate-500 line-through decoration-slate-400" : undefined}>
                  <Value v={r.model} />
                </TD>
                <TD className={r.changed ? "font-medium" : undefined}>
                  {d.finalOutput == null ? (
                    <span className="text-slate-500">pending</span>
                  ) : r.final === undefined ? (
                    <span className="italic text-slate-500">removed</span>
                  ) : (
                    <Value v={r.final} />
                  )}
                </TD>
                <TD>
                  <Confidence c={r.confidence} />
                </TD>
              </tr>
            ))}
          </TBody>
        </Table>
      </Section>

      <Section title="Input" id="input" description="What the upstream system sent for this decision.">
        <JsonValue value={d.input} />
        <RawJson value={d.input} label="Input as JSON" />
      </Section>

      <Section
        title="Reviews"
        id="reviews"
        description={tasks.some((t) => t.sealed) ? "A four-eyes first verdict is sealed until the second, independent review is in." : undefined}
      >
        <Table label="Reviews">
          <THead>
            <TH>When</TH>
            <TH>Reviewer</TH>
            <TH>Task</TH>
            <TH>Action</TH>
            <TH>Reasons</TH>
            <TH>Changed fields</TH>
            <TH>Note</TH>
          </THead>
          <TBody>
            {d.reviews.length === 0 ? <EmptyRow colSpan={7}>No reviews yet.</EmptyRow> : null}
            {d.reviews.map((r, i) => (
              <tr key={i}>
                <TD>
                  <Time value={r.at} />
                </TD>
                <TD>{r.reviewer}</TD>
                <TD>{r.kind}</TD>
                <TD>
                  <Badge tone={r.action === "approve" ? "emerald" : r.action === "correct" ? "indigo" : r.action === "reject" ? "red" : "amber"}>
                    {r.action}
                  </Badge>
                </TD>
                <TD className="text-xs">
                  {r.reasonCodes.length
                    ? r.reasonCodes.map((c) => (
                        <span key={c} className="mr-2 inline-block" title={label.get(c)}>
                          <code className="font-mono">{c}</code>
                          {label.get(c) ? <span className="text-slate-500"> · {label.get(c)}</span> : null}
                        </span>
                      ))
                    : "—"}
                </TD>
                <TD className="font-mono text-xs">{r.changedFields.length ? r.changedFields.join(", ") : "—"}</TD>
                <TD className="max-w-xs whitespace-pre-wrap text-xs">{r.note ?? "—"}</TD>
              </tr>
            ))}
          </TBody>
        </Table>
      </Section>

      <Section title="Tasks" id="tasks" description="The review work this decision created.">
        <Table label="Tasks">
          <THead>
            <TH>Kind</TH>
            <TH>Status</TH>
            <TH>Created</TH>
            <TH>Due</TH>
            <TH>Claimed by</TH>
            <TH>Assigned to</TH>
            <TH>Completed</TH>
          </THead>
          <TBody>
            {tasks.length === 0 ? <EmptyRow colSpan={7}>No tasks: released automatically.</EmptyRow> : null}
            {tasks.map((t) => (
              <tr key={t.id}>
                <TD>{t.kind}</TD>
                <TD>
                  <Badge tone={t.status === "open" ? "amber" : t.status === "claimed" ? "sky" : "slate"}>{t.status}</Badge>
                </TD>
                <TD>
                  <Time value={t.createdAt} />
                </TD>
                <TD>
                  <Time value={t.dueAt} />
                </TD>
                <TD>{t.sealed ? <span className="italic text-slate-500">{SEALED_LABEL}</span> : (t.claimedBy ?? "—")}</TD>
                <TD>{t.assignee ?? "—"}</TD>
                <TD>
                  <Time value={t.completedAt} />
                </TD>
              </tr>
            ))}
          </TBody>
        </Table>
      </Section>

      <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
        <Section
          title="Audit trail"
          id="audit"
          description="Hash-chained entries about this decision and its tasks."
          actions={
            <span className="flex gap-3 text-sm">
              {/* The evidence pack: these entries with their hashes up to a signed checkpoint (lastmile audit verify --pack). */}
              <a
                href={`/api/v1/decisions/${encodeURIComponent(d.id)}/evidence`}
                download={`evidence-${d.id}.json`}
                className="text-indigo-700 underline-offset-2 hover:underline"
              >
                Evidence pack (JSON)
              </a>
              <a
                href={`/api/v1/decisions/${encodeURIComponent(d.id)}/evidence?format=html`}
                target="_blank"
                rel="noreferrer"
                className="text-indigo-700 underline-offset-2 hover:underline"
              >
                Printable
              </a>
            </span>
          }
        >
          <ol className="space-y-3">
            {audit.length === 0 ? <li className="text-sm text-slate-500">No entries.</li> : null}
            {audit.map((a) => (
              <li key={a.seq} className="border-l-2 border-slate-200 pl-3 text-sm">
                <div className="flex flex-wrap items-baseline gap-x-2">
                  {a.sealed ? <span className="italic text-slate-600">{SEALED_LABEL}</span> : <code className="font-mono text-xs font-medium">{a.action}</code>}
                  {a.actor !== null ? <span className="text-slate-600">by {a.actor}</span> : null}
                  <span className="text-xs text-slate-500">
                    <Time value={a.at} /> · #{a.seq}
                  </span>
                </div>
                {summarize(a.data) ? <p className="mt-0.5 break-words font-mono text-xs text-slate-500">{summarize(a.data)}</p> : null}
              </li>
            ))}
          </ol>
        </Section>
        <Section title="Events to the source system" id="events" description="The transactional outbox: what was announced and whether it was delivered.">
          <Table label="Outbox events">
            <THead>
              <TH>Event</TH>
              <TH>Created</TH>
              <TH>Delivery</TH>
              <TH numeric>Attempts</TH>
            </THead>
            <TBody>
              {events.length === 0 ? <EmptyRow colSpan={4}>No events yet (sent when the decision is final).</EmptyRow> : null}
              {events.map((e) => (
                <tr key={e.seq}>
                  <TD className="font-mono text-xs">{e.eventType}</TD>
                  <TD>
                    <Time value={e.createdAt} />
                  </TD>
                  <TD>
                    {e.deliveredAt ? (
                      <span>
                        <Badge tone="emerald">delivered</Badge> <Time value={e.deliveredAt} />
                      </span>
                    ) : (
                      <span>
                        <Badge tone="amber">pending</Badge>
                        {e.lastError ? <span className="block text-xs text-red-700">{e.lastError}</span> : null}
                      </span>
                    )}
                  </TD>
                  <TD numeric>{e.attempts}</TD>
                </tr>
              ))}
            </TBody>
          </Table>
        </Section>
      </div>
    </div>
  );
}

export function ErrorBoundary() {
  return <RouteErrorBoundary />;
}
