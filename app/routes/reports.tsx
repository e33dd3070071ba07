import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import * as Dialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { PERIODS, BUCKETS, PERIOD_LABELS, type Period } from "~/domain/reports/query";
import { reportsView } from "~/domain/reports/reports.server";
import { formatCell, reportTables, type Table, type TableName } from "~/domain/reports/tables";
import { formatDuration, formatRate } from "~/lib/format";
import {
  AccuracyChart,
  AutomationRateChart,
  bucketLabel,
  ChartFrame,
  HorizontalBars,
  OverrideRateChart,
  ReasonParetoChart,
  TimeToDecisionChart,
  VolumeChart,
} from "~/components/reports/charts";
import { FilterSelect } from "~/components/ui/filter-select";

export const meta: MetaFunction = () => [{ title: "Reports · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "reports:read");
  return reportsView(getDb(), new URL(request.url).searchParams);
}

export default function Reports() {
  const view = useLoaderData<typeof loader>();
  const submit = useSubmit();
  const busy = useNavigation().state === "loading";
  const r = view.report;
  if (!r) {
    return (
      <div>
        <h1 className="text-xl font-semibold">Reports</h1>
        <p className="mt-4 text-slate-600">No decision types yet: reports appear once a type is defined and decisions arrive.</p>
      </div>
    );
  }
  const q = r.query;
  const tables = reportTables(r, view.backlog);
  const csvQuery = new URLSearchParams({
    type: q.type,
    from: q.from,
    to: q.to,
    bucket: q.bucket,
    ...(q.modelVersion ? { modelVersion: q.modelVersion } : {}),
    ...(q.policyVersion ? { policyVersion: String(q.policyVersion) } : {}),
  });
  const csvHref = (t: TableName) => `/reports/csv?table=${t}&${csvQuery}`;
  const series = r.series.map((s) => ({ ...s, label: bucketLabel(s.start, q.bucket, q.timeZone) }));
  const versionNames = r.byVersion.map((v) => v.modelVersion);
  const t = r.totals;
  const acc = t.autoLaneAccuracy;
  const rel = t.estimatedReleasedAccuracy;
  const typeName = view.types.find((x) => x.key === q.type)?.name ?? q.type;

  return (
    <div className={busy ? "opacity-70 transition-opacity" : undefined}>
      <div className="flex flex-wrap items-baseline justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold">Reports · {typeName}</h1>
          <p className="text-sm text-slate-600" data-testid="report-range">
            {formatCell("date", q.from)} – {formatCell("date", q.to)} · by {q.bucket}
            {q.bucket === "hour" ? null : (
              <>
                {" "}
                in <span data-testid="report-timezone">{q.timeZone}</span>
              </>
            )}{" "}
            · {q.modelVersion ? `model version ${q.modelVersion}` : "all model versions"} ·{" "}
            {q.policyVersion ? `routing policy version ${q.policyVersion}` : "all policy versions"} · decisions counted by when they occurred
          </p>
        </div>
        <div className="flex items-center gap-3">
          <Link
            to={`/reports/thresholds?type=${encodeURIComponent(q.type)}`}
            className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50"
          >
            Threshold what-if
          </Link>
          <Definitions />
        </div>
      </div>

      <Form
        method="get"
        className="mt-4 flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4"
        aria-label="Report filters"
        onChange={(e) => submit(e.currentTarget)}
      >
        <FilterSelect label="Decision type" name="type" value={q.type} options={view.types.map((x) => [x.key, x.name])} />
        <FilterSelect
          label="Model version"
          name="modelVersion"
          value={q.modelVersion ?? ""}
          options={[["", "All versions"], ...r.versions.map((v) => [v, v] as [string, string])]}
        />
        <FilterSelect
          label="Policy version"
          name="policyVersion"
          value={q.policyVersion ? String(q.policyVersion) : ""}
          options={[
            ["", "All policy versions"],
            ...r.policyVersions.map((p) => [String(p.version), `v${p.version} · since ${formatCell("date", p.since)}`] as [string, string]),
          ]}
        />
        <FilterSelect
          label="Period"
          name="period"
          value={view.period === "custom" ? "" : view.period}
          options={[
            ...(view.period === "custom" ? [["", "Custom range"] as [string, string]] : []),
            ...Object.keys(PERIODS).map((p) => [p, PERIOD_LABELS[p as Period]] as [string, string]),
          ]}
        />
        <FilterSelect label="Bucket" name="bucket" value={q.bucket} options={BUCKETS.map((b) => [b, b[0].toUpperCase() + b.slice(1)] as [string, string])} />
        <button type="submit" className="rounded bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700">
          Apply
        </button>
      </Form>
      {view.error ? (
        <div role="alert" className="mt-3 rounded border border-red-200 bg-red-50 px-4 py-2 text-sm text-red-800">
          {view.error.message}: {view.error.issues.map((i) => `${i.path || "query"} — ${i.message}`).join("; ")}. Showing the last 30 days instead.
        </div>
      ) : null}

      <dl className="mt-6 grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-8" aria-label="Totals for the period">
        <Kpi id="volume" label="Volume" value={formatCell("int", t.volume)} note={`${t.pending.toLocaleString("en-US")} pending`} />
        <Kpi
          id="automation-rate"
          label="Automation rate"
          value={formatRate(t.automationRate)}
          note={`${t.auto.toLocaleString("en-US")} auto / ${(t.auto + t.reviewed).toLocaleString("en-US")} final`}
        />
        <Kpi
          id="override-rate"
          label="Override rate"
          value={formatRate(t.overrideRate)}
          note={`${(t.corrected + t.rejected).toLocaleString("en-US")} of ${t.reviewed.toLocaleString("en-US")} reviewed`}
        />
        <Kpi
          id="auto-lane-accuracy"
          label="Auto-lane accuracy"
          value={formatRate(acc.estimate)}
          note={acc.n ? `95% CI ${formatRate(acc.low)}–${formatRate(acc.high)}, n = ${acc.n}` : "no QA checks yet"}
        />
        <Kpi
          id="released-accuracy"
          label="Est. released accuracy"
          value={formatRate(rel.estimate)}
          note={rel.low != null ? `95% CI ${formatRate(rel.low)}–${formatRate(rel.high)}` : "needs QA checks"}
        />
        <Kpi
          id="ttd"
          label="Time to decision"
          value={`${formatDuration(t.timeToDecision.p50Ms)} / ${formatDuration(t.timeToDecision.p95Ms)}`}
          note="p50 / p95, all decisions"
        />
        <Kpi
          id="review-ttd"
          label="Review lane"
          value={`${formatDuration(t.reviewP50Ms)} / ${formatDuration(t.reviewP95Ms)}`}
          note="p50 / p95 time to decision"
        />
        <Kpi id="escalated" label="Escalated" value={formatCell("int", t.escalated)} note="sent to the type's owner" />
      </dl>

      <section aria-labelledby="over-time" className="mt-8">
        <h2 id="over-time" className="text-lg font-semibold">
          Over time
        </h2>
        <div className="mt-3 grid gap-4 xl:grid-cols-2">
          <ChartFrame
            title="Automation rate"
            unit="% of decisions with a final state"
            description={versionNames.length > 1 ? "all versions (solid) and each model version (dashed)" : "auto ÷ (auto + reviewed)"}
          >
            <AutomationRateChart data={series} versions={versionNames} />
          </ChartFrame>
          <ChartFrame title="Volume by route" unit="decisions per bucket" description="auto, reviewed, and still pending (stacked)">
            <VolumeChart data={series} versions={versionNames} />
          </ChartFrame>
          <ChartFrame title="Override rate" unit="% of reviewed decisions" description="reviewed decisions a human corrected or rejected">
            <OverrideRateChart data={series} versions={versionNames} />
          </ChartFrame>
          <ChartFrame title="Auto-lane accuracy" unit="% of QA-checked auto decisions" description="QA approved unchanged, with its 95% Wilson interval">
            <AccuracyChart data={series} versions={versionNames} />
          </ChartFrame>
          <ChartFrame title="Time to decision, review lane" unit="p50 and p95" description="final time − arrival time of reviewed decisions">
            <TimeToDecisionChart data={series} versions={versionNames} />
          </ChartFrame>
        </div>
      </section>

      <DataTable table={tables.versions} csv={csvHref("versions")} />
      <DataTable table={tables.policies} csv={csvHref("policies")} />

      <section aria-labelledby="breaks" className="mt-8">
        <h2 id="breaks" className="text-lg font-semibold">
          Where automation breaks
        </h2>
        <div className="mt-3 grid gap-4 xl:grid-cols-2">
          <div>
            <ChartFrame title="Corrections per output field" unit="% of reviewed decisions" description="which fields humans change most">
              <HorizontalBars rows={r.fields} labelKey="field" valueKey="correctionRate" name="Corrected in review" id="chart-fields" />
            </ChartFrame>
            <DataTable table={tables.fields} csv={csvHref("fields")} />
          </div>
          <div>
            <ChartFrame
              title="Routing rules"
              unit="% of decisions routed to review"
              description="which rule sends most items to review (a decision can trip several)"
            >
              <HorizontalBars rows={r.rules} labelKey="rule" valueKey="shareOfReviewed" name="Share of review" id="chart-rules" />
            </ChartFrame>
            <DataTable table={tables.rules} csv={csvHref("rules")} />
          </div>
          <div>
            <ChartFrame title="Reason codes (Pareto)" unit="count and cumulative %" description="reason codes on human corrections, rejections and QA misses">
              <ReasonParetoChart rows={r.reasons} />
            </ChartFrame>
            <DataTable table={tables.reasons} csv={csvHref("reasons")} />
          </div>
        </div>
      </section>

      <section aria-labelledby="backlog" className="mt-8">
        <h2 id="backlog" className="text-lg font-semibold">
          Backlog and SLA <span className="text-sm font-normal text-slate-500">now, all types</span>
        </h2>
        <div className="grid gap-4 xl:grid-cols-2">
          <DataTable table={tables["backlog-owners"]} csv={`/reports/csv?table=backlog-owners`} />
          <DataTable table={tables["backlog-queues"]} csv={`/reports/csv?table=backlog-queues`} />
        </div>
      </section>

      <details className="mt-8">
        <summary className="cursor-pointer text-lg font-semibold">Figures per {q.bucket}</summary>
        <DataTable table={tables.automation} csv={csvHref("automation")} />
      </details>
    </div>
  );
}

function Kpi({ id, label, value, note }: { id: string; label: string; value: string; note: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3" data-testid={`kpi-${id}`}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-xl font-semibold tabular-nums text-slate-900" data-testid={`kpi-${id}-value`}>
        {value}
      </dd>
      <dd className="text-xs text-slate-500">{note}</dd>
    </div>
  );
}

function DataTable({ table, csv }: { table: Table; csv: string }) {
  const id = `table-${table.name}`;
  return (
    <div className="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
      <div className="flex items-center justify-between px-4 py-2">
        <h3 id={id} className="font-medium">
          {table.title}
        </h3>
        <a href={csv} download className="text-sm text-indigo-700 underline hover:text-indigo-900" aria-label={`Download ${table.title} as CSV`}>
          Download CSV
        </a>
      </div>
      <table className="w-full text-sm" aria-labelledby={id} data-testid={id}>
        <thead className="bg-slate-50 text-left text-slate-600">
          <tr>
            {table.columns.map((c) => (
              <th key={c.key} scope="col" className={`px-3 py-2 font-medium ${c.format === "text" || c.format === "date" ? "" : "text-right"}`}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {table.rows.length === 0 ? (
            <tr>
              <td colSpan={table.columns.length} className="px-3 py-3 text-slate-500">
                Nothing in this period.
              </td>
            </tr>
          ) : (
            table.rows.map((row, i) => (
              <tr key={i}>
                {table.columns.map((c) => (
                  <td key={c.key} className={`px-3 py-1.5 tabular-nums ${c.format === "text" || c.format === "date" ? "" : "text-right"}`}>
                    {formatCell(c.format, c.value(row))}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

const DEFINITIONS: [string, ReactNode][] = [
  [
    "Period and buckets",
    "Decisions are counted in the hour, day or week in which they occurred (occurredAt, which defaults to the time of receipt). Days and weeks (from Monday) are those of the organisation's time zone, shown above (an admin setting, UTC by default); a day is 23 or 25 hours long when the clocks change. In a zone whose offset is not a whole number of hours, a day holds the UTC hours that start in it. An hour belongs to the period when its start lies in [from, to).",
  ],
  ["Volume", "Decisions received. Volume = auto + reviewed + pending."],
  ["Auto", "Released without a human before release. QA-sampled auto decisions count as auto."],
  ["Reviewed", "Routed to human review and reached a final state (approved, corrected or rejected)."],
  ["Pending", "Routed to review and not yet final: waiting, in review, or escalated to the type's owner. Shown apart; not in the rates."],
  ["Automation rate", "auto ÷ (auto + reviewed), over decisions that reached a final state."],
  ["Override rate", "(corrected + rejected) ÷ reviewed: reviewed decisions whose final output differs from the model output."],
  ["Auto-lane accuracy", "QA-checked auto decisions the reviewer approved unchanged ÷ QA-checked auto decisions, with a 95% Wilson score interval and its n."],
  [
    "Estimated released accuracy",
    "automation rate × auto-lane accuracy + (1 − automation rate) × 1, since humans decide the rest. The interval is the auto-lane interval carried through the same formula (the automation rate is a count, not a sample).",
  ],
  [
    "Time to decision",
    "Final time − arrival time, p50 and p95, from a histogram with 25%-wide buckets (interpolated inside a bucket). For auto decisions it is the processing time; below 1 ms counts as 0.",
  ],
  [
    "Corrections per field",
    "Reviewed decisions in which a human changed the field (line items are folded: lines.*.amount), ÷ reviewed decisions. QA misses: the same for QA checks of auto decisions.",
  ],
  [
    "Routing rules",
    "Decisions each routing rule sent to review ÷ decisions routed to review. A decision can trip several rules, so shares can add up to more than 100%.",
  ],
  ["Reason codes", "Reason codes on final human verdicts and on QA corrections, ranked, with the cumulative share (Pareto)."],
  [
    "Backlog",
    "Open and in-progress tasks now, per queue (type × task kind) and per accountable owner (the type's owner): oldest age, and items past their SLA due time.",
  ],
];

function Definitions() {
  return (
    <Dialog.Root>
      <Dialog.Trigger className="rounded border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-50">Definitions</Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 bg-slate-900/40" />
        <Dialog.Content className="fixed left-1/2 top-1/2 max-h-[85vh] w-[min(44rem,92vw)] -translate-x-1/2 -translate-y-1/2 overflow-y-auto rounded-lg bg-white p-6 shadow-xl">
          <Dialog.Title className="text-lg font-semibold">How these figures are defined</Dialog.Title>
          <Dialog.Description className="mt-1 text-sm text-slate-600">
            The same definitions apply to the page, the CSV downloads and the JSON API (/api/v1/reports/…).
          </Dialog.Description>
          <dl className="mt-4 space-y-3 text-sm">
            {DEFINITIONS.map(([term, def]) => (
              <div key={term}>
                <dt className="font-medium text-slate-900">{term}</dt>
                <dd className="text-slate-700">{def}</dd>
              </div>
            ))}
          </dl>
          <Dialog.Close className="mt-6 rounded bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700">Close</Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
