/**
 * Drift alerts (issue 15): what the monitors raised, newest first, each with the figures that made it fire and a
 * chart of the monitored figure around its onset against the baseline. Admins and managers see every type's;
 * a type's owner sees that type's. Acknowledging is a POST by a person who may.
 */
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { ALERT_STATES } from "@db/schema/tables";
import { requireUser } from "~/domain/auth/session.server";
import { acknowledgeAlert, ALERT_STEP_MS, alertSeries, listAlerts, requireAlertReader, reviewerEmails, type AlertJson } from "~/domain/monitors/alerts.server";
import { orgTimeZone } from "~/domain/settings/org-settings.server";
import { AlertChart, ChartFrame } from "~/components/reports/charts";
import { Badge, type BadgeTone } from "~/components/ui/badge";
import { buttonClass } from "~/components/ui/button";
import { Time } from "~/components/ui/time";
import { AppError } from "~/lib/errors";
import { formFailure } from "~/lib/form-failure.server";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction = () => [{ title: "Alerts · Lastmile" }];

const viewSchema = z.object({ state: z.enum([...ALERT_STATES, "open", "all"]).catch("open"), type: z.string().max(64).optional().catch(undefined) });

async function reader(request: Request) {
  const who = await requireUser(request);
  try {
    await requireAlertReader(getDb(), who);
  } catch (e) {
    if (e instanceof AppError) throw new Response(e.message, { status: 403, statusText: "Forbidden" });
    throw e;
  }
  return who;
}

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await reader(request);
  const db = getDb();
  const url = new URL(request.url);
  const view = viewSchema.parse(Object.fromEntries(url.searchParams));
  const state = view.state === "open" || view.state === "all" ? undefined : view.state;
  let alerts = await listAlerts(db, who, { state, type: view.type || undefined });
  if (view.state === "open") alerts = alerts.filter((a) => a.state !== "resolved");
  const now = Date.now();
  const shown = alerts.slice(0, 50);
  const emails = await reviewerEmails(db, shown);
  return {
    view,
    timeZone: await orgTimeZone(db),
    total: alerts.length,
    notice: url.searchParams.get("notice"),
    alerts: await Promise.all(
      shown.map(async (a) => ({
        alert: a,
        segmentLabel:
          a.monitor === "reviewer" ? `reviewer ${emails.get(a.segment.slice("reviewer=".length)) ?? a.segment.slice("reviewer=".length)}` : a.segment,
        series: await alertSeries(db, a, now),
        // The chart's point at (or just after) the onset.
        firedPoint: new Date(Math.ceil(Date.parse(a.firedAt) / ALERT_STEP_MS) * ALERT_STEP_MS).toISOString(),
      })),
    ),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const who = await reader(request);
  const form = await readForm(request);
  const id = String(form.get("id") ?? "");
  try {
    await acknowledgeAlert(getDb(), who, id);
  } catch (e) {
    return formFailure(e, "acknowledge");
  }
  const back = new URL(request.url);
  back.searchParams.set("notice", "Acknowledged: it stays open until its monitor clears.");
  return redirect(`${back.pathname}${back.search}`);
}

const MONITOR_TITLES: Record<AlertJson["monitor"], string> = {
  override_rate: "Override rate rose",
  qa_accuracy: "QA accuracy below target",
  confidence_psi: "Model confidence shifted",
  review_share: "More decisions routed to review",
  input_psi: "Input distribution shifted",
  volume: "Decision volume far from usual",
  backlog: "Backlog growing faster than it is worked",
  sla_breaches: "Tasks went past their SLA",
  reviewer: "Reviewer approves fast and almost always",
  model_version: "New model version beside the previous one",
};
const STATE_TONES: Record<AlertJson["state"], BadgeTone> = { firing: "red", acknowledged: "amber", resolved: "emerald" };

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** "14:30" in the organisation's zone (the chart's ticks; the day is in its description); one formatter per zone. */
function timeLabel(iso: string, timeZone: string): string {
  let f = timeFormats.get(timeZone);
  if (!f) timeFormats.set(timeZone, (f = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })));
  return f.format(new Date(iso));
}
function dayLabel(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric" }).format(new Date(iso));
}

const pct = (v: unknown) => (typeof v === "number" ? `${(v * 100).toFixed(1)}%` : "–");

/** The alert's figures in one sentence. */
function summary(a: AlertJson): string {
  const f = a.figures as Record<string, number | null | undefined>;
  switch (a.monitor) {
    case "override_rate":
    case "review_share":
      return `${pct(f.recentRate)} in the last window (${f.recentN} decisions) against ${pct(f.baselineRate)} before (${f.baselineN}); one-sided p = ${typeof f.p === "number" ? f.p.toExponential(1) : "–"}.`;
    case "qa_accuracy":
      return `QA accuracy ${pct(f.accuracy)} (95%: ${pct(f.low)}–${pct(f.high)}, ${f.n} QA verdicts) against a target of ${pct(f.targetAccuracy)}.`;
    case "confidence_psi":
      return `Population stability index ${typeof f.psi === "number" ? f.psi.toFixed(3) : "–"} (${f.recentN} recent decisions against ${f.baselineN} before).`;
    case "input_psi": {
      const unseen = typeof f.unseenShare === "number" && f.unseenShare > 0 ? `; ${pct(f.unseenShare)} of recent values never seen in the baseline` : "";
      return `${String(f.field)}: population stability index ${typeof f.psi === "number" ? f.psi.toFixed(3) : "–"} (${f.recentN} recent values against ${f.baselineN} before${unseen}).`;
    }
    case "volume":
      return `${f.observed} decisions in the last window against ${typeof f.expected === "number" ? Math.round(f.expected) : "–"} usually (${String(f.usualFrom)}): ${pct(f.ratio)} of usual.`;
    case "backlog":
      return `${f.backlog} open review tasks, ${f.growth} more than a window before, with ${f.arrivals} arriving and ${f.worked} worked.`;
    case "sla_breaches":
      // Alerts raised before new breaches were counted carry only the total.
      return typeof f.newBreaches === "number"
        ? `${f.newBreaches} open tasks went past their SLA in the last window (${f.breaches} past it in all).`
        : `${f.breaches} open tasks are past their SLA.`;
    case "reviewer": {
      const peers = (a.figures.peers ?? {}) as Record<string, number | null>;
      return `Approved ${pct(f.approvalRate)} of ${f.verdicts} verdicts, ${pct(f.fastShare)} within 5 s of the claim; peers on the queue: ${pct(peers.approvalRate)} approved, ${pct(peers.fastShare)} that fast.`;
    }
    case "model_version": {
      const v = (x: unknown) => (x ?? {}) as Record<string, number | string | null>;
      const [l, p] = [v(a.figures.latest), v(a.figures.previous)];
      return `${l.version}: ${l.volume} decisions, automation ${pct(l.automationRate)}, override ${pct(l.overrideRate)}, QA accuracy ${pct(l.qaAccuracy)} · ${p.version}: ${p.volume} decisions, automation ${pct(p.automationRate)}, override ${pct(p.overrideRate)}, QA accuracy ${pct(p.qaAccuracy)}.`;
    }
  }
}

export default function Alerts() {
  const { view, timeZone, total, notice, alerts } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const tabs: [string, string][] = [
    ["open", "Open"],
    ["firing", "Firing"],
    ["acknowledged", "Acknowledged"],
    ["resolved", "Resolved"],
    ["all", "All"],
  ];
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-baseline gap-3">
        <h1 className="text-xl font-semibold tracking-tight">Alerts</h1>
        <span className="text-sm text-slate-600" data-testid="alerts-count">
          {total} {view.state === "all" ? "in total" : view.state}
        </span>
        <nav aria-label="Alert states" className="ml-auto flex gap-1 text-sm">
          {tabs.map(([state, label]) => (
            <Link
              key={state}
              to={`/alerts?state=${state}${view.type ? `&type=${encodeURIComponent(view.type)}` : ""}`}
              className={`rounded px-2 py-1 ${view.state === state ? "bg-indigo-50 text-indigo-800" : "text-slate-600 hover:text-slate-900"}`}
            >
              {label}
            </Link>
          ))}
        </nav>
      </div>
      {notice || (result && !result.ok) ? (
        <p role="status" className="rounded-md border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700">
          {result && !result.ok ? result.message : notice}
        </p>
      ) : null}
      {alerts.length === 0 ? <p className="text-slate-600">No alerts here. The monitors evaluate every minute.</p> : null}
      <ul className="space-y-4">
        {alerts.map(({ alert: a, segmentLabel, series, firedPoint }) => {
          const fired = timeLabel(firedPoint, timeZone);
          return (
            <li key={a.id} className="rounded-lg border border-slate-200 bg-white p-4" data-testid={`alert-${a.id}`}>
              <div className="flex flex-wrap items-center gap-2">
                <Badge tone={STATE_TONES[a.state]}>{a.state}</Badge>
                <h2 className="font-semibold">
                  {MONITOR_TITLES[a.monitor]}
                  {segmentLabel ? ` · ${segmentLabel}` : ""}
                </h2>
                <span className="text-sm text-slate-600">
                  · <Link to={`/reports?type=${encodeURIComponent(a.type)}`}>{a.type}</Link> · fired <Time value={a.firedAt} />
                  {a.resolvedAt ? (
                    <>
                      {" "}
                      · resolved <Time value={a.resolvedAt} />
                    </>
                  ) : null}
                  {a.acknowledgedBy ? ` · acknowledged by ${a.acknowledgedBy}` : ""}
                </span>
                {a.state === "firing" ? (
                  <Form method="post" className="ml-auto">
                    <input type="hidden" name="id" value={a.id} />
                    <button type="submit" className={buttonClass("secondary", "sm")} disabled={busy}>
                      Acknowledge
                    </button>
                  </Form>
                ) : null}
              </div>
              <p className="mt-2 text-sm text-slate-700" data-testid="alert-summary">
                {summary(a)}
              </p>
              {series ? (
                <div className="mt-3 max-w-2xl">
                  <ChartFrame
                    title={series.label}
                    unit="over the monitor's window, every 10 minutes"
                    description={`${dayLabel(a.firedAt, timeZone)}, ${timeZone}; the dashed line is the ${series.referenceLabel || "reference"}`}
                  >
                    <AlertChart
                      id={`chart-alert-${a.id}`}
                      data={series.points.map((p) => ({ label: timeLabel(p.end, timeZone), value: p.value }))}
                      label={series.label}
                      unit={series.unit}
                      reference={series.reference}
                      referenceLabel={series.referenceLabel}
                      firedLabel={fired}
                    />
                  </ChartFrame>
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
