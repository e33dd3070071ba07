import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { thresholdsView } from "~/domain/governance/thresholds.server";
import { formatCell } from "~/domain/reports/tables";
import { formatRate } from "~/lib/format";
import { ChartFrame, ThresholdChart } from "~/components/reports/charts";
import { FilterSelect } from "~/components/ui/filter-select";

export const meta: MetaFunction = () => [{ title: "Threshold what-if · Reports · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "reports:read");
  return thresholdsView(getDb(), new URL(request.url).searchParams);
}

const rate = (v: number | null) => (v === null ? "–" : formatRate(v));

export default function Thresholds() {
  const view = useLoaderData<typeof loader>();
  const busy = useNavigation().state === "loading";
  const r = view.report;
  const typeName = view.types.find((t) => t.key === view.type)?.name ?? view.type;
  const target = Number(view.targetAccuracy);
  const issue = (path: string) => view.error?.issues.find((i) => i.path === path)?.message;
  // The table: every tenth of the curve, and the current and recommended thresholds.
  const marks = new Set([r?.current.threshold, r?.recommended?.threshold].filter((t): t is number => typeof t === "number"));
  const rows = r ? r.curve.filter((p) => Math.round(p.threshold * 100) % 5 === 0 || marks.has(p.threshold)) : [];

  return (
    <div className={busy ? "opacity-70 transition-opacity" : undefined}>
      <p className="text-sm">
        <Link to={view.type ? `/reports?type=${encodeURIComponent(view.type)}` : "/reports"} className="text-indigo-700 hover:underline">
          ← Reports
        </Link>
      </p>
      <h1 className="mt-1 text-xl font-semibold">Threshold what-if{typeName ? ` · ${typeName}` : ""}</h1>
      {r ? (
        <p className="text-sm text-slate-600" data-testid="threshold-period">
          {formatCell("date", r.period.from)} – {formatCell("date", r.period.to)} · {r.labelled.toLocaleString("en-US")} decisions with a human verdict
          {r.field ? ` · threshold of the field ${r.field}` : " · overall confidence threshold"}
        </p>
      ) : null}

      <Form method="get" className="mt-4 flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4" aria-label="What-if filters">
        {view.types.length ? <FilterSelect label="Decision type" name="type" value={view.type ?? ""} options={view.types.map((t) => [t.key, t.name])} /> : null}
        <NumberFilter label="Target accuracy" name="targetAccuracy" value={view.targetAccuracy} error={issue("targetAccuracy")} />
        <NumberFilter label="Interval width" name="intervalWidth" value={view.intervalWidth} error={issue("intervalWidth")} />
        <button type="submit" className="rounded bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700">
          Apply
        </button>
      </Form>

      {view.error && !issue("targetAccuracy") && !issue("intervalWidth") ? (
        <p role="alert" className="mt-4 rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">
          {view.error.message}: {view.error.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}
        </p>
      ) : null}
      {!view.type ? <p className="mt-4 text-slate-600">No decision types yet.</p> : null}

      {r ? (
        <>
          <p
            data-testid="threshold-reason"
            className={`mt-4 rounded-lg border p-4 ${r.recommended ? "border-emerald-200 bg-emerald-50 text-emerald-900" : "border-amber-200 bg-amber-50 text-amber-900"}`}
          >
            {r.reason}
          </p>
          <div className="mt-4 grid gap-4 sm:grid-cols-2">
            <Figures
              title="Current policy"
              testId="threshold-current"
              threshold={r.current.threshold}
              automationRate={r.current.automationRate}
              errorRate={r.current.errorRate}
              errorHigh={r.current.errorHigh}
            />
            {r.recommended ? (
              <Figures title={`Recommended for ${formatRate(target)}`} testId="threshold-recommended" {...r.recommended} />
            ) : (
              <div className="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="threshold-recommended">
                No recommendation
                {r.moreQaReviews !== null ? ` yet: about ${r.moreQaReviews.toLocaleString("en-US")} more QA reviews are needed.` : "."}
              </div>
            )}
          </div>
          <p className="mt-4 rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-700" data-testid="threshold-qa-rate">
            {r.qaSampling.sentence}
          </p>
          <div className="mt-4">
            <ChartFrame
              title="Automation and released errors by threshold"
              unit="share of decisions"
              description="What releasing every decision at or above each threshold would have done over the period, every other rule as it is"
            >
              <ThresholdChart curve={r.curve} current={r.current.threshold} recommended={r.recommended?.threshold ?? null} maxError={1 - target} />
            </ChartFrame>
          </div>
          <table className="mt-4 w-full max-w-3xl text-sm" data-testid="threshold-table">
            <caption className="text-left font-medium text-slate-900">The curve</caption>
            <thead>
              <tr className="border-b border-slate-200 text-left text-slate-600">
                <th className="py-1 pr-4 font-medium">Threshold</th>
                <th className="py-1 pr-4 font-medium">Automated</th>
                <th className="py-1 pr-4 font-medium">Error rate</th>
                <th className="py-1 pr-4 font-medium">95% interval</th>
                <th className="py-1 pr-4 font-medium">Verdicts (effective)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.threshold} className={`border-b border-slate-100 ${marks.has(p.threshold) ? "bg-indigo-50 font-medium" : ""}`}>
                  <td className="py-1 pr-4 tabular-nums">
                    {p.threshold}
                    {p.threshold === r.current.threshold ? " (current)" : ""}
                    {p.threshold === r.recommended?.threshold ? " (recommended)" : ""}
                  </td>
                  <td className="py-1 pr-4 tabular-nums">{rate(p.automationRate)}</td>
                  <td className="py-1 pr-4 tabular-nums">{rate(p.errorRate)}</td>
                  <td className="py-1 pr-4 tabular-nums">{p.errorLow === null ? "–" : `${rate(p.errorLow)} – ${rate(p.errorHigh)}`}</td>
                  <td className="py-1 pr-4 tabular-nums">{p.n}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="mt-4 max-w-3xl text-xs text-slate-500">
            Error rates come from human verdicts: every decision below the current threshold was reviewed; above it only a QA sample was, so each QA verdict
            counts for 1 / the sample rate decisions. The interval is Wilson&apos;s 95% interval on the effective number of verdicts (Kish), which shrinks when
            a few heavily weighted QA verdicts stand beside many reviewed ones. Decisions still waiting for review are assumed to be like the reviewed ones.
          </p>
        </>
      ) : null}
    </div>
  );
}

function Figures(props: {
  title: string;
  testId: string;
  threshold: number | null;
  automationRate: number | null;
  errorRate: number | null;
  errorHigh: number | null;
}) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4" data-testid={props.testId}>
      <div className="text-sm font-medium text-slate-700">{props.title}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums">{props.threshold === null ? "no threshold" : props.threshold}</div>
      <dl className="mt-2 grid grid-cols-2 gap-1 text-sm">
        <dt className="text-slate-600">Automated</dt>
        <dd className="tabular-nums">{rate(props.automationRate)}</dd>
        <dt className="text-slate-600">Error rate</dt>
        <dd className="tabular-nums">
          {rate(props.errorRate)}
          {props.errorHigh !== null ? <span className="text-slate-500"> (at most {rate(props.errorHigh)})</span> : null}
        </dd>
      </dl>
    </div>
  );
}

/** A number filter of the what-if, with its problem beside it. */
function NumberFilter({ label, name, value, error }: { label: string; name: string; value: string; error: string | undefined }) {
  return (
    <label className="flex flex-col text-sm">
      <span className="font-medium text-slate-700">{label}</span>
      <input
        name={name}
        defaultValue={value}
        inputMode="decimal"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${name}-error` : undefined}
        className="mt-1 w-28 rounded border border-slate-300 px-2 py-1.5"
      />
      {error ? (
        <span id={`${name}-error`} role="alert" className="mt-1 text-xs text-red-700">
          {error}
        </span>
      ) : null}
    </label>
  );
}
