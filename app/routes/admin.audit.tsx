/** The audit trail: verify the hash chain on demand, browse the latest entries with filters. Read-only. */
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { auditQuerySchema, listAuditEntries, type AuditRow } from "~/domain/audit/audit-read.server";
import { viewerOf } from "~/domain/decisions/sealing.server";
import { SEALED_LABEL } from "~/domain/review/four-eyes";
import { verifyAuditChain, type ChainCheck } from "~/domain/audit/audit.server";
import { describeIssues, failureOf, type FormFailure } from "~/lib/form-failure";
import { readQuery } from "~/lib/query";
import { FormMessage, inputClass, PrimaryButton, SecondaryButton } from "~/components/ui/form-field";
import { PageHeader } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction = () => [{ title: "Audit trail · Lastmile" }];

const FILTERS = ["action", "actor", "entityType", "entityId", "limit"] as const;

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "audit:read");
  const db = getDb();
  const url = new URL(request.url);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, url.searchParams.get(f) ?? ""])) as Record<(typeof FILTERS)[number], string>;
  // Verifying reads the whole chain, so it runs when asked for, not on every page view.
  const verification: (ChainCheck & { checkedAt: number }) | null =
    url.searchParams.get("verify") === "1" ? { ...(await verifyAuditChain(db)), checkedAt: Date.now() } : null;
  const { data: query, issues } = readQuery(auditQuerySchema, url.searchParams, { ignore: ["verify"] });
  if (!query || issues.length)
    return {
      filters,
      verification,
      error: failureOf("filter", "Invalid filter", issues),
      entries: [] as AuditRow[],
      nextBefore: null as number | null,
      paged: false,
    };
  const page = await listAuditEntries(db, query, viewerOf(who));
  return { filters, verification, error: null as FormFailure | null, ...page, paged: url.searchParams.has("before") };
}

function entityLink(a: AuditRow) {
  if (a.entityType === "decision") return `/decisions/${a.entityId}`;
  if (a.entityType === "decision_type") return `/admin/types/${a.entityId}`;
  return null;
}

function dataSummary(data: unknown): string {
  if (!data || typeof data !== "object") return "";
  const s = JSON.stringify(data);
  return s === "{}" ? "" : s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

export default function Audit() {
  const { filters, verification, error, entries, nextBefore, paged } = useLoaderData<typeof loader>();
  const busy = useNavigation().state !== "idle";
  const keep = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ""));
  // Remount the filter form when the filters in the URL change, so its fields show the filters in effect.
  const formKey = useLocation().search;
  const active = [...keep].length > 0;
  // The CSV holds every entry matching the filters, so the page size does not ride along.
  const csvQuery = new URLSearchParams([...keep].filter(([k]) => k !== "limit")).toString();
  return (
    <div className="space-y-4">
      <PageHeader
        title="Audit trail"
        description="Every state change, appended in the transaction that made it. Each entry's hash covers the previous one, so any edit or deletion breaks the chain."
        actions={
          <div className="flex items-center gap-2">
            <a
              href={`/admin/audit/csv${csvQuery ? `?${csvQuery}` : ""}`}
              download
              className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50"
            >
              Export CSV
            </a>
            <Form method="get">
              {[...keep].map(([k, v]) => (
                <input key={k} type="hidden" name={k} value={v} />
              ))}
              <input type="hidden" name="verify" value="1" />
              <SecondaryButton type="submit" disabled={busy}>
                Verify hash chain
              </SecondaryButton>
            </Form>
          </div>
        }
      />
      {verification ? (
        verification.ok ? (
          <FormMessage tone="success">
            <strong>Chain intact.</strong> All {verification.entries.toLocaleString("en")} entries verified at <Time value={verification.checkedAt} />.
          </FormMessage>
        ) : (
          <FormMessage tone="error">
            <strong>Chain broken at entry #{verification.brokenAt}:</strong> {verification.reason}. {verification.entries.toLocaleString("en")} entries before
            it verified.
          </FormMessage>
        )
      ) : null}
      <Form
        key={formKey}
        method="get"
        role="search"
        aria-label="Filter audit entries"
        className="grid grid-cols-2 items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm md:grid-cols-5"
      >
        {filters.limit ? <input type="hidden" name="limit" value={filters.limit} /> : null}
        <div>
          <label htmlFor="audit-action" className="block text-xs font-medium text-slate-600">
            Action starts with
          </label>
          <input id="audit-action" name="action" defaultValue={filters.action} placeholder="e.g. apikey." className={`${inputClass} mt-1 font-mono`} />
        </div>
        <div>
          <label htmlFor="audit-actor" className="block text-xs font-medium text-slate-600">
            Actor starts with
          </label>
          <input id="audit-actor" name="actor" defaultValue={filters.actor} className={`${inputClass} mt-1`} />
        </div>
        <div>
          <label htmlFor="audit-entity-type" className="block text-xs font-medium text-slate-600">
            Entity type
          </label>
          <select id="audit-entity-type" name="entityType" defaultValue={filters.entityType} className={`${inputClass} mt-1`}>
            <option value="">Any</option>
            {["decision", "task", "decision_type", "user", "apikey"].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="audit-entity-id" className="block text-xs font-medium text-slate-600">
            Entity id
          </label>
          <input id="audit-entity-id" name="entityId" defaultValue={filters.entityId} className={`${inputClass} mt-1 font-mono`} />
        </div>
        <div className="flex items-center gap-2">
          <PrimaryButton type="submit">Filter</PrimaryButton>
          {active ? (
            <Link to="/admin/audit" className="text-sm text-slate-600 hover:text-slate-900">
              Clear
            </Link>
          ) : null}
        </div>
      </Form>
      {error ? <FormMessage tone="error">Invalid filter: {describeIssues(error)}</FormMessage> : null}
      <Table label="Audit entries">
        <THead>
          <TH numeric>#</TH>
          <TH>When</TH>
          <TH>Actor</TH>
          <TH>Action</TH>
          <TH>Entity</TH>
          <TH>Details</TH>
          <TH>Hash</TH>
        </THead>
        <TBody>
          {entries.length === 0 ? <EmptyRow colSpan={7}>{active ? "No entries match these filters." : "No entries yet."}</EmptyRow> : null}
          {entries.map((a) => {
            const href = entityLink(a);
            return (
              <tr key={a.seq}>
                <TD numeric className="text-slate-500">
                  {a.seq}
                </TD>
                <TD>
                  <Time value={a.at} />
                </TD>
                <TD className="max-w-[12rem] truncate">
                  {a.actor === null ? <span className="text-slate-500">—</span> : <span title={a.actor}>{a.actor}</span>}
                </TD>
                <TD className="font-mono text-xs">{a.sealed ? <span className="font-sans italic text-slate-600">{SEALED_LABEL}</span> : a.action}</TD>
                <TD className="text-xs">
                  <span className="text-slate-500">{a.entityType}</span>{" "}
                  {href ? (
                    <Link to={href} className="font-mono text-indigo-700 hover:underline">
                      {a.entityId}
                    </Link>
                  ) : (
                    <span className="font-mono">{a.entityId}</span>
                  )}
                </TD>
                <TD className="min-w-[18rem] max-w-md break-words font-mono text-xs text-slate-600">{dataSummary(a.data)}</TD>
                <TD className="font-mono text-xs text-slate-500">{a.hash === null ? "—" : <span title={a.hash}>{a.hash.slice(0, 10)}…</span>}</TD>
              </tr>
            );
          })}
        </TBody>
      </Table>
      <nav aria-label="Pages" className="flex items-center justify-end gap-4 text-sm">
        {paged ? (
          <Link to={`/admin/audit${active ? `?${keep}` : ""}`} className="text-indigo-700 hover:underline">
            ← Newest
          </Link>
        ) : null}
        {nextBefore ? (
          <Link to={`/admin/audit?${new URLSearchParams([...keep, ["before", String(nextBefore)]])}`} className="text-indigo-700 hover:underline">
            Older →
          </Link>
        ) : null}
      </nav>
    </div>
  );
}
