/** Every decision, newest first: filter by type, status, route, model version or external id. Read-only. */
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { DECISION_STATUSES } from "~/domain/decisions/statuses";
import { searchDecisions, searchQuerySchema, type DecisionListItem } from "~/domain/decisions/search.server";
import { describeIssues, failureOf, type FormFailure } from "~/lib/form-failure";
import { readQuery } from "~/lib/query";
import { RouteErrorBoundary } from "~/components/route-error";
import { RouteBadge, StatusBadge } from "~/components/ui/badge";
import { FormMessage, inputClass, PrimaryButton } from "~/components/ui/form-field";
import { PageHeader } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction = () => [{ title: "Decisions · Lastmile" }];

const FILTERS = ["type", "status", "route", "modelVersion", "externalId", "limit"] as const;

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "decisions:read");
  const db = getDb();
  const url = new URL(request.url);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, url.searchParams.get(f) ?? ""])) as Record<(typeof FILTERS)[number], string>;
  const types = (await listDecisionTypes(db)).map((t) => ({ key: t.key, name: t.name }));
  const { data: query, issues } = readQuery(searchQuerySchema, url.searchParams);
  if (!query || issues.length)
    return {
      types,
      filters,
      error: failureOf("filter", "Invalid filter", issues),
      decisions: [] as DecisionListItem[],
      nextBefore: null as number | null,
      paged: false,
    };
  const page = await searchDecisions(db, query);
  return { types, filters, error: null as FormFailure | null, ...page, paged: url.searchParams.has("before") };
}

export default function Decisions() {
  const { types, filters, error, decisions, nextBefore, paged } = useLoaderData<typeof loader>();
  const loading = useNavigation().state === "loading";
  const typeName = new Map(types.map((t) => [t.key, t.name]));
  const keep = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ""));
  // Remount the filter form when the filters in the URL change, so its fields show the filters in effect.
  const formKey = useLocation().search;
  const olderHref = nextBefore ? `/decisions?${new URLSearchParams([...keep, ["before", String(nextBefore)]])}` : null;
  const active = [...keep].length > 0;
  return (
    <div>
      <PageHeader title="Decisions" description="Every decision received, newest first. Open one for its outputs, reviews, audit trail and events." />
      <Form
        key={formKey}
        method="get"
        role="search"
        aria-label="Filter decisions"
        className="mb-4 grid grid-cols-2 items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm md:grid-cols-6"
      >
        {filters.limit ? <input type="hidden" name="limit" value={filters.limit} /> : null}
        <div>
          <label htmlFor="filter-type" className="block text-xs font-medium text-slate-600">
            Type
          </label>
          <select id="filter-type" name="type" defaultValue={filters.type} className={`${inputClass} mt-1`}>
            <option value="">All types</option>
            {types.map((t) => (
              <option key={t.key} value={t.key}>
                {t.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="filter-status" className="block text-xs font-medium text-slate-600">
            Status
          </label>
          <select id="filter-status" name="status" defaultValue={filters.status} className={`${inputClass} mt-1`}>
            <option value="">Any status</option>
            {DECISION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, " ")}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="filter-route" className="block text-xs font-medium text-slate-600">
            Route
          </label>
          <select id="filter-route" name="route" defaultValue={filters.route} className={`${inputClass} mt-1`}>
            <option value="">Any route</option>
            <option value="auto">auto</option>
            <option value="review">review</option>
          </select>
        </div>
        <div>
          <label htmlFor="filter-model" className="block text-xs font-medium text-slate-600">
            Model version
          </label>
          <input
            id="filter-model"
            name="modelVersion"
            defaultValue={filters.modelVersion}
            className={`${inputClass} mt-1 font-mono`}
            placeholder="exact, e.g. 1.0.0"
          />
        </div>
        <div>
          <label htmlFor="filter-external" className="block text-xs font-medium text-slate-600">
            External id
          </label>
          <input id="filter-external" name="externalId" defaultValue={filters.externalId} className={`${inputClass} mt-1 font-mono`} placeholder="exact" />
        </div>
        <div className="flex items-center gap-2">
          <PrimaryButton type="submit">Filter</PrimaryButton>
          {active ? (
            <Link to="/decisions" className="text-sm text-slate-600 hover:text-slate-900">
              Clear
            </Link>
          ) : null}
        </div>
      </Form>
      {error ? (
        <div className="mb-4">
          <FormMessage tone="error">Invalid filter: {describeIssues(error)}</FormMessage>
        </div>
      ) : null}
      <div className={loading ? "opacity-60 transition-opacity" : undefined}>
        <Table label="Decisions">
          <THead>
            <TH>Received</TH>
            <TH>External id</TH>
            <TH>Type</TH>
            <TH>Status</TH>
            <TH>Route</TH>
            <TH>Model</TH>
            <TH numeric>Confidence</TH>
            <TH>Why</TH>
          </THead>
          <TBody>
            {decisions.length === 0 ? <EmptyRow colSpan={8}>{active ? "No decisions match these filters." : "No decisions yet."}</EmptyRow> : null}
            {decisions.map((d) => (
              <tr key={d.id} className="hover:bg-slate-50">
                <TD>
                  <Time value={d.receivedAt} />
                </TD>
                <TD className="max-w-[14rem] truncate font-mono text-xs">
                  <Link to={`/decisions/${d.id}`} className="text-indigo-700 hover:underline" title={d.externalId}>
                    {d.externalId}
                  </Link>
                </TD>
                <TD>{typeName.get(d.type) ?? d.type}</TD>
                <TD>
                  <StatusBadge status={d.status} />
                </TD>
                <TD>
                  <span className="inline-flex gap-1">
                    <RouteBadge route={d.route} />
                    {d.qaSampled ? <span className="text-xs text-slate-500">+QA</span> : null}
                  </span>
                </TD>
                <TD className="whitespace-nowrap text-xs">
                  {d.modelName} <span className="font-mono">{d.modelVersion}</span>
                </TD>
                <TD numeric>{d.confidence.toFixed(2)}</TD>
                <TD className="max-w-[22rem] text-xs text-slate-600">
                  {d.reasons.length ? (
                    <span title={d.reasons.join("\n")}>
                      {d.reasons[0]}
                      {d.reasons.length > 1 ? ` (+${d.reasons.length - 1})` : ""}
                    </span>
                  ) : (
                    <span className="text-slate-500">—</span>
                  )}
                </TD>
              </tr>
            ))}
          </TBody>
        </Table>
      </div>
      <nav aria-label="Pages" className="mt-3 flex items-center justify-between text-sm">
        <span className="text-slate-600">{decisions.length} shown</span>
        <span className="flex gap-4">
          {paged ? (
            <Link to={`/decisions${[...keep].length ? `?${keep}` : ""}`} className="text-indigo-700 hover:underline">
              ← Newest
            </Link>
          ) : null}
          {olderHref ? (
            <Link to={olderHref} className="text-indigo-700 hover:underline">
              Older →
            </Link>
          ) : null}
        </span>
      </nav>
    </div>
  );
}

export function ErrorBoundary() {
  return <RouteErrorBoundary />;
}
