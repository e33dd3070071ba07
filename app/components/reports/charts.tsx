/**
 * Report charts (recharts 3). Every chart has a fixed width and height, and its
 * frame reserves exactly that box in the server-rendered HTML, so nothing moves
 * when the SVG is drawn: recharts 3 lays charts out in effects and draws nothing
 * during server rendering (recharts issue #5997), so the figures' numbers are
 * also in the server-rendered tables next to each chart.
 */
import type { ReactNode } from "react";
import { Area, Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { Bucket } from "~/domain/reports/query";
import type { ReasonRow, RuleRow, FieldRow, SeriesPoint } from "~/domain/reports/reports.server";
import { formatDuration } from "~/domain/reports/tables";

export const CHART_W = 560;
export const CHART_H = 260;

const AXIS = { fontSize: 12, fill: "#334155" };
const COLORS = { auto: "#4f46e5", reviewed: "#d97706", pending: "#94a3b8", band: "#a5b4fc", line: "#1e293b", p50: "#0891b2", p95: "#be123c" };
const VERSION_COLORS = ["#7c3aed", "#059669", "#db2777", "#0284c7", "#ca8a04", "#475569"];

/** Legend labels in dark text: series colours alone (a pale band) would be unreadable. */
const legendText = (value: string) => <span style={{ color: "#334155" }}>{value}</span>;
const pct = (v: unknown) => (typeof v === "number" ? `${Math.round(v * 100)}%` : "–");
const pct1 = (v: unknown) => (typeof v === "number" ? `${(v * 100).toFixed(1)}%` : "–");

/** Bucket labels in UTC, identical on server and client. */
export function bucketLabel(iso: string, bucket: Bucket): string {
  const d = new Date(iso);
  const mon = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  const day = d.getUTCDate();
  if (bucket === "hour") return `${mon} ${day} ${String(d.getUTCHours()).padStart(2, "0")}:00`;
  return bucket === "week" ? `wk ${mon} ${day}` : `${mon} ${day}`;
}

export function ChartFrame(props: { title: string; unit: string; description: string; children: ReactNode; height?: number }) {
  const h = props.height ?? CHART_H;
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-4">
      <figcaption className="mb-2">
        <span className="font-medium text-slate-900">{props.title}</span> <span className="text-sm text-slate-500">({props.unit})</span>
        <span className="block text-xs text-slate-500">{props.description}</span>
      </figcaption>
      <div role="img" aria-label={`${props.title}: ${props.description}`} style={{ width: CHART_W, height: h, maxWidth: "100%" }} className="overflow-hidden">
        {props.children}
      </div>
    </figure>
  );
}

type SeriesProps = { data: (SeriesPoint & { label: string })[]; versions: string[] };

export function AutomationRateChart({ data, versions }: SeriesProps) {
  return (
    <LineChart width={CHART_W} height={CHART_H} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" />
      <XAxis dataKey="label" tick={AXIS} minTickGap={24} />
      <YAxis domain={[0, 1]} tickFormatter={pct} tick={AXIS} width={48} label={{ value: "% automated", angle: -90, position: "insideLeft", style: AXIS }} />
      <Tooltip formatter={(v) => pct1(v)} />
      <Legend formatter={legendText} />
      <Line type="monotone" dataKey="automationRate" name="All versions" stroke={COLORS.line} strokeWidth={2.5} dot={false} isAnimationActive={false} connectNulls />
      {versions.length > 1
        ? versions.map((v, i) => (
            <Line key={v} type="monotone" dataKey={(d: SeriesPoint) => d.byVersion[v]} name={`v${v}`} stroke={VERSION_COLORS[i % VERSION_COLORS.length]} strokeDasharray="5 3" dot={false} isAnimationActive={false} connectNulls />
          ))
        : null}
    </LineChart>
  );
}

export function VolumeChart({ data }: SeriesProps) {
  return (
    <BarChart width={CHART_W} height={CHART_H} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" vertical={false} />
      <XAxis dataKey="label" tick={AXIS} minTickGap={24} />
      <YAxis tick={AXIS} width={56} allowDecimals={false} label={{ value: "decisions", angle: -90, position: "insideLeft", style: AXIS }} />
      <Tooltip />
      <Legend formatter={legendText} />
      <Bar dataKey="auto" name="Auto" stackId="v" fill={COLORS.auto} isAnimationActive={false} />
      <Bar dataKey="reviewed" name="Reviewed" stackId="v" fill={COLORS.reviewed} isAnimationActive={false} />
      <Bar dataKey="pending" name="Pending" stackId="v" fill={COLORS.pending} isAnimationActive={false} />
    </BarChart>
  );
}

export function OverrideRateChart({ data }: SeriesProps) {
  return (
    <LineChart width={CHART_W} height={CHART_H} data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" />
      <XAxis dataKey="label" tick={AXIS} minTickGap={24} />
      <YAxis domain={[0, 1]} tickFormatter={pct} tick={AXIS} width={48} label={{ value: "% overridden", angle: -90, position: "insideLeft", style: AXIS }} />
      <Tooltip formatter={(v) => pct1(v)} />
      <Legend formatter={legendText} />
      <Line type="monotone" dataKey="overrideRate" name="Override rate" stroke={COLORS.reviewed} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
    </LineChart>
  );
}

export function AccuracyChart({ data }: SeriesProps) {
  const rows = data.map((d) => ({ ...d, band: d.accuracyLow == null || d.accuracyHigh == null ? null : [d.accuracyLow, d.accuracyHigh] }));
  return (
    <ComposedChart width={CHART_W} height={CHART_H} data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" />
      <XAxis dataKey="label" tick={AXIS} minTickGap={24} />
      <YAxis domain={[0, 1]} tickFormatter={pct} tick={AXIS} width={48} label={{ value: "% correct", angle: -90, position: "insideLeft", style: AXIS }} />
      <Tooltip formatter={(v) => (Array.isArray(v) ? `${pct1(v[0])} – ${pct1(v[1])}` : pct1(v))} />
      <Legend formatter={legendText} />
      <Area dataKey="band" name="95% Wilson interval" fill={COLORS.band} stroke="none" fillOpacity={0.8} isAnimationActive={false} connectNulls />
      <Line type="monotone" dataKey="accuracy" name="Auto-lane accuracy" stroke={COLORS.auto} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} connectNulls />
    </ComposedChart>
  );
}

export function TimeToDecisionChart({ data }: SeriesProps) {
  const max = Math.max(0, ...data.map((d) => d.reviewP95Ms ?? 0));
  const [unit, div] = max >= 2 * 3_600_000 ? ["hours", 3_600_000] : max >= 2 * 60_000 ? ["minutes", 60_000] : ["seconds", 1000];
  const rows = data.map((d) => ({ label: d.label, p50: d.reviewP50Ms == null ? null : d.reviewP50Ms / div, p95: d.reviewP95Ms == null ? null : d.reviewP95Ms / div, raw50: d.reviewP50Ms, raw95: d.reviewP95Ms }));
  return (
    <LineChart width={CHART_W} height={CHART_H} data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" />
      <XAxis dataKey="label" tick={AXIS} minTickGap={24} />
      <YAxis tick={AXIS} width={48} label={{ value: unit, angle: -90, position: "insideLeft", style: AXIS }} />
      <Tooltip formatter={(v) => (typeof v === "number" ? formatDuration(v * div) : "–")} />
      <Legend formatter={legendText} />
      <Line type="monotone" dataKey="p50" name="Review lane p50" stroke={COLORS.p50} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
      <Line type="monotone" dataKey="p95" name="Review lane p95" stroke={COLORS.p95} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
    </LineChart>
  );
}

export function ReasonParetoChart({ rows }: { rows: ReasonRow[] }) {
  const data = rows.slice(0, 12);
  return (
    <ComposedChart width={CHART_W} height={CHART_H} data={data} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" vertical={false} />
      <XAxis dataKey="code" tick={AXIS} interval={0} />
      <YAxis yAxisId="n" tick={AXIS} width={48} allowDecimals={false} label={{ value: "count", angle: -90, position: "insideLeft", style: AXIS }} />
      <YAxis yAxisId="c" orientation="right" domain={[0, 1]} tickFormatter={pct} tick={AXIS} width={48} />
      <Tooltip formatter={(v, name) => (name === "Cumulative share" ? pct1(v) : String(v))} />
      <Legend formatter={legendText} />
      <Bar yAxisId="n" dataKey="count" name="Count" fill={COLORS.reviewed} isAnimationActive={false} />
      <Line yAxisId="c" type="linear" dataKey="cumulativeShare" name="Cumulative share" stroke={COLORS.line} strokeWidth={2} isAnimationActive={false} />
    </ComposedChart>
  );
}

export function HorizontalBars({ rows, labelKey, valueKey, name, height }: { rows: (FieldRow | RuleRow)[]; labelKey: string; valueKey: string; name: string; height: number }) {
  return (
    <BarChart layout="vertical" width={CHART_W} height={height} data={rows.slice(0, 10)} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
      <CartesianGrid stroke="#e2e8f0" horizontal={false} />
      <XAxis type="number" domain={[0, "auto"]} tickFormatter={pct} tick={AXIS} />
      <YAxis type="category" dataKey={labelKey} tick={AXIS} width={170} interval={0} />
      <Tooltip formatter={(v) => pct1(v)} />
      <Legend formatter={legendText} />
      <Bar dataKey={valueKey} name={name} fill={COLORS.auto} isAnimationActive={false} />
    </BarChart>
  );
}
