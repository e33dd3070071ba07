/**
 * Report charts (recharts 2.15). They are drawn on the server: every chart has a
 * fixed width and height and no animation, so recharts 2 lays it out during server
 * rendering and the HTML already holds the finished SVG (recharts 3 lays charts out
 * in effects and sent empty boxes). To hydrate without mismatches or jumps, nothing
 * in a chart depends on measuring text in the browser:
 * - every chart has a stable `id` (recharts would otherwise number clip paths with a
 *   per-process counter that differs between server and browser);
 * - axes use a numeric `interval` (recharts measures tick labels in the browser but
 *   not on the server) and plain <text> ticks and titles (recharts' <Text> wraps
 *   labels using browser measurements);
 * - legends are HTML above the SVG (recharts' <Legend> is measured after mount and
 *   then shrinks the plot).
 * The SVG has a viewBox and scales down with its container on narrow screens.
 */
import { createContext, useContext, type ReactNode } from "react";
import { Area, Bar, BarChart, CartesianGrid, ComposedChart, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from "recharts";
import type { Bucket } from "~/domain/reports/query";
import type { ReasonRow, RuleRow, FieldRow, SeriesPoint } from "~/domain/reports/reports.server";
import { formatDuration } from "~/lib/format";

export const CHART_W = 560;
export const CHART_H = 260;

const AXIS = { fontSize: 12, fill: "#334155" };
const COLORS = { auto: "#4f46e5", reviewed: "#d97706", pending: "#94a3b8", band: "#a5b4fc", line: "#1e293b", p50: "#0891b2", p95: "#be123c" };
const VERSION_COLORS = ["#7c3aed", "#059669", "#db2777", "#0284c7", "#ca8a04", "#475569"];
const MARGIN = { top: 8, right: 16, bottom: 8, left: 8 };

const pct = (v: unknown) => (typeof v === "number" ? `${Math.round(v * 100)}%` : "–");
const pct1 = (v: unknown) => (typeof v === "number" ? `${(v * 100).toFixed(1)}%` : "–");

/** Bucket labels in the report's time zone (the organisation's), identical on server and client. */
const labelFormats = new Map<string, Intl.DateTimeFormat>();

export function bucketLabel(iso: string, bucket: Bucket, timeZone = "UTC"): string {
  // One formatter per zone: a chart labels up to thousands of buckets.
  let f = labelFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    labelFormats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  if (bucket === "hour") return `${parts.month} ${parts.day} ${parts.hour}:${parts.minute}`;
  return bucket === "week" ? `wk ${parts.month} ${parts.day}` : `${parts.month} ${parts.day}`;
}

/** Show every (interval + 1)-th category label so that at most `max` fit on the axis. */
export function tickInterval(count: number, max: number): number {
  return count <= max ? 0 : Math.ceil(count / max) - 1;
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

type TickProps = {
  x?: number;
  y?: number;
  index?: number;
  payload?: { value: unknown };
  textAnchor?: string;
  orientation?: "left" | "right" | "top" | "bottom";
  tickFormatter?: (value: unknown, index: number) => string;
};

/** An axis tick as plain SVG text: no measuring, so server and browser draw the same. */
function PlainTick({
  x = 0,
  y = 0,
  index = 0,
  payload,
  textAnchor,
  orientation,
  tickFormatter,
  maxChars = 28,
  rotate,
}: TickProps & { maxChars?: number; rotate?: number }) {
  const raw = payload?.value;
  const full = tickFormatter ? tickFormatter(raw, index) : String(raw ?? "");
  const text = truncate(full, maxChars);
  const dy = orientation === "bottom" ? "0.71em" : orientation === "top" ? "0" : "0.32em";
  return (
    <text
      x={x}
      y={y}
      dy={dy}
      textAnchor={rotate ? "end" : (textAnchor as "start" | "middle" | "end" | undefined)}
      transform={rotate ? `rotate(${rotate} ${x} ${y})` : undefined}
      fontSize={AXIS.fontSize}
      fill={AXIS.fill}
      className="recharts-cartesian-axis-tick-value"
    >
      {text !== full ? <title>{full}</title> : null}
      {text}
    </text>
  );
}

/** A rotated axis title (the unit) inside the axis band, as plain SVG text. */
function AxisTitle({
  value,
  side = "left",
  viewBox,
}: {
  value: string;
  side?: "left" | "right";
  viewBox?: { x: number; y: number; width: number; height: number };
}) {
  if (!viewBox) return null;
  const x = side === "left" ? viewBox.x + 10 : viewBox.x + viewBox.width - 4;
  const y = viewBox.y + viewBox.height / 2;
  return (
    <text x={x} y={y} transform={`rotate(-90 ${x} ${y})`} textAnchor="middle" fontSize={AXIS.fontSize} fill={AXIS.fill} className="recharts-label">
      {value}
    </text>
  );
}

type LegendItem = { name: string; color: string; kind: "line" | "dashed" | "box" | "band" };

/** The legend as HTML above the chart: laid out by the browser, identical on the server. */
function ChartLegend({ items }: { items: LegendItem[] }) {
  return (
    <ul className="mb-1 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700" aria-label="Legend">
      {items.map((it) => (
        <li key={it.name} className="flex items-center gap-1.5">
          <svg width="18" height="10" aria-hidden="true" focusable="false">
            {it.kind === "box" || it.kind === "band" ? (
              <rect x="1" y="0" width="16" height="10" fill={it.color} opacity={it.kind === "band" ? 0.8 : 1} />
            ) : (
              <line x1="0" y1="5" x2="18" y2="5" stroke={it.color} strokeWidth="2.5" strokeDasharray={it.kind === "dashed" ? "5 3" : undefined} />
            )}
          </svg>
          {it.name}
        </li>
      ))}
    </ul>
  );
}

const ChartLabel = createContext("");

/** The chart itself: a fixed-size SVG scaled down (never up) by its viewBox when the column is narrower. */
function Plot({ height, children }: { height: number; children: ReactNode }) {
  const label = useContext(ChartLabel);
  return (
    <div
      role="img"
      aria-label={label}
      style={{ width: CHART_W, maxWidth: "100%", aspectRatio: `${CHART_W} / ${height}` }}
      className="[&_.recharts-surface]:h-auto [&_.recharts-surface]:w-full [&_.recharts-wrapper]:!h-auto [&_.recharts-wrapper]:!w-full"
    >
      {children}
    </div>
  );
}

export function ChartFrame(props: { title: string; unit: string; description: string; children: ReactNode }) {
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-4">
      <figcaption className="mb-2">
        <span className="font-medium text-slate-900">{props.title}</span> <span className="text-sm text-slate-500">({props.unit})</span>
        <span className="block text-xs text-slate-500">{props.description}</span>
      </figcaption>
      <ChartLabel.Provider value={`${props.title}: ${props.description}`}>{props.children}</ChartLabel.Provider>
    </figure>
  );
}

/**
 * A line series' dots: none, unless the series has a single value, which a line alone would not draw at all
 * (a new type's first day, a feed of the last hours in a report by day).
 */
function loneDot<T>(rows: readonly T[], value: (row: T) => unknown): false | { r: number } {
  let n = 0;
  for (const row of rows) if (typeof value(row) === "number" && ++n > 1) return false;
  return n === 1 ? { r: 3 } : false;
}

/** A series over the buckets: a smooth line drawn at once and across gaps, with a dot when it has a single value. */
function seriesLine<T extends object>(
  rows: readonly T[],
  p: { dataKey: string | ((row: T) => unknown); name: string; stroke: string; strokeWidth?: number; dashed?: boolean },
) {
  const value = typeof p.dataKey === "function" ? p.dataKey : (row: T) => (row as Record<string, unknown>)[p.dataKey as string];
  return (
    <Line
      key={p.name}
      type="monotone"
      dataKey={p.dataKey}
      name={p.name}
      stroke={p.stroke}
      strokeWidth={p.strokeWidth ?? 2}
      strokeDasharray={p.dashed ? "5 3" : undefined}
      dot={loneDot(rows, value)}
      isAnimationActive={false}
      connectNulls
    />
  );
}

/**
 * Category axis of bucket labels, chosen without measuring: at most 8 day labels ("Nov 29"), at most 5 when the
 * labels carry a time of day ("Nov 29 14:00"), so that they do not run into each other.
 */
const bucketAxis = (rows: readonly { label: string }[]) => {
  const longest = rows.reduce((m, r) => Math.max(m, r.label.length), 0);
  return <XAxis dataKey="label" tick={<PlainTick />} interval={tickInterval(rows.length, longest > 7 ? 5 : 8)} tickLine={false} height={24} />;
};
const percentAxis = (title: string) => (
  <YAxis domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tickFormatter={pct} tick={<PlainTick />} interval={0} width={56} label={<AxisTitle value={title} />} />
);

type SeriesProps = { data: (SeriesPoint & { label: string })[]; versions: string[] };

export function AutomationRateChart({ data, versions }: SeriesProps) {
  const perVersion = versions.length > 1;
  return (
    <>
      <ChartLegend
        items={[
          { name: "All versions", color: COLORS.line, kind: "line" },
          ...(perVersion ? versions.map((v, i) => ({ name: `v${v}`, color: VERSION_COLORS[i % VERSION_COLORS.length], kind: "dashed" as const })) : []),
        ]}
      />
      <Plot height={CHART_H}>
        <LineChart id="chart-automation-rate" width={CHART_W} height={CHART_H} data={data} margin={MARGIN}>
          <CartesianGrid stroke="#e2e8f0" />
          {bucketAxis(data)}
          {percentAxis("% automated")}
          <Tooltip formatter={(v) => pct1(v)} />
          {seriesLine(data, { dataKey: "automationRate", name: "All versions", stroke: COLORS.line, strokeWidth: 2.5 })}
          {perVersion
            ? versions.map((v, i) =>
                seriesLine(data, { dataKey: (d) => d.byVersion[v], name: `v${v}`, stroke: VERSION_COLORS[i % VERSION_COLORS.length], dashed: true }),
              )
            : null}
        </LineChart>
      </Plot>
    </>
  );
}

export function VolumeChart({ data }: SeriesProps) {
  return (
    <>
      <ChartLegend
        items={[
          { name: "Auto", color: COLORS.auto, kind: "box" },
          { name: "Reviewed", color: COLORS.reviewed, kind: "box" },
          { name: "Pending", color: COLORS.pending, kind: "box" },
        ]}
      />
      <Plot height={CHART_H}>
        <BarChart id="chart-volume" width={CHART_W} height={CHART_H} data={data} margin={MARGIN}>
          <CartesianGrid stroke="#e2e8f0" vertical={false} />
          {bucketAxis(data)}
          <YAxis
            tick={<PlainTick />}
            interval={0}
            width={64}
            allowDecimals={false}
            tickFormatter={(v: number) => v.toLocaleString("en-US")}
            label={<AxisTitle value="decisions" />}
          />
          <Tooltip />
          <Bar dataKey="auto" name="Auto" stackId="v" fill={COLORS.auto} isAnimationActive={false} />
          <Bar dataKey="reviewed" name="Reviewed" stackId="v" fill={COLORS.reviewed} isAnimationActive={false} />
          <Bar dataKey="pending" name="Pending" stackId="v" fill={COLORS.pending} isAnimationActive={false} />
        </BarChart>
      </Plot>
    </>
  );
}

export function OverrideRateChart({ data }: SeriesProps) {
  return (
    <>
      <ChartLegend items={[{ name: "Override rate", color: COLORS.reviewed, kind: "line" }]} />
      <Plot height={CHART_H}>
        <LineChart id="chart-override-rate" width={CHART_W} height={CHART_H} data={data} margin={MARGIN}>
          <CartesianGrid stroke="#e2e8f0" />
          {bucketAxis(data)}
          {percentAxis("% overridden")}
          <Tooltip formatter={(v) => pct1(v)} />
          {seriesLine(data, { dataKey: "overrideRate", name: "Override rate", stroke: COLORS.reviewed })}
        </LineChart>
      </Plot>
    </>
  );
}

export function AccuracyChart({ data }: SeriesProps) {
  const rows = data.map((d) => ({ ...d, band: d.accuracyLow == null || d.accuracyHigh == null ? null : [d.accuracyLow, d.accuracyHigh] }));
  return (
    <>
      <ChartLegend
        items={[
          { name: "Auto-lane accuracy", color: COLORS.auto, kind: "line" },
          { name: "95% Wilson interval", color: COLORS.band, kind: "band" },
        ]}
      />
      <Plot height={CHART_H}>
        <ComposedChart id="chart-accuracy" width={CHART_W} height={CHART_H} data={rows} margin={MARGIN}>
          <CartesianGrid stroke="#e2e8f0" />
          {bucketAxis(rows)}
          {percentAxis("% correct")}
          <Tooltip formatter={(v) => (Array.isArray(v) ? `${pct1(v[0])} – ${pct1(v[1])}` : pct1(v))} />
          <Area dataKey="band" name="95% Wilson interval" fill={COLORS.band} stroke="none" fillOpacity={0.8} isAnimationActive={false} connectNulls />
          <Line
            type="monotone"
            dataKey="accuracy"
            name="Auto-lane accuracy"
            stroke={COLORS.auto}
            strokeWidth={2}
            dot={{ r: 2 }}
            isAnimationActive={false}
            connectNulls
          />
        </ComposedChart>
      </Plot>
    </>
  );
}

export function TimeToDecisionChart({ data }: SeriesProps) {
  const max = Math.max(0, ...data.map((d) => d.reviewP95Ms ?? 0));
  const [unit, div] = max >= 2 * 3_600_000 ? ["hours", 3_600_000] : max >= 2 * 60_000 ? ["minutes", 60_000] : ["seconds", 1000];
  const rows = data.map((d) => ({
    label: d.label,
    p50: d.reviewP50Ms == null ? null : d.reviewP50Ms / div,
    p95: d.reviewP95Ms == null ? null : d.reviewP95Ms / div,
  }));
  return (
    <>
      <ChartLegend
        items={[
          { name: "Review lane p50", color: COLORS.p50, kind: "line" },
          { name: "Review lane p95", color: COLORS.p95, kind: "line" },
        ]}
      />
      <Plot height={CHART_H}>
        <LineChart id="chart-time-to-decision" width={CHART_W} height={CHART_H} data={rows} margin={MARGIN}>
          <CartesianGrid stroke="#e2e8f0" />
          {bucketAxis(rows)}
          <YAxis tick={<PlainTick />} interval={0} width={56} label={<AxisTitle value={unit} />} />
          <Tooltip formatter={(v) => (typeof v === "number" ? formatDuration(v * div) : "–")} />
          {seriesLine(rows, { dataKey: "p50", name: "Review lane p50", stroke: COLORS.p50 })}
          {seriesLine(rows, { dataKey: "p95", name: "Review lane p95", stroke: COLORS.p95 })}
        </LineChart>
      </Plot>
    </>
  );
}

/** Reason codes are long: their labels are slanted, so the chart is taller. */
const PARETO_H = CHART_H + 60;

export function ReasonParetoChart({ rows }: { rows: ReasonRow[] }) {
  const data = rows.slice(0, 12);
  return (
    <>
      <ChartLegend
        items={[
          { name: "Count", color: COLORS.reviewed, kind: "box" },
          { name: "Cumulative share", color: COLORS.line, kind: "line" },
        ]}
      />
      <Plot height={PARETO_H}>
        <ComposedChart id="chart-reasons" width={CHART_W} height={PARETO_H} data={data} margin={{ ...MARGIN, left: 40, right: 8 }}>
          <CartesianGrid stroke="#e2e8f0" vertical={false} />
          <XAxis dataKey="code" tick={<PlainTick maxChars={16} rotate={-30} />} interval={0} height={84} />
          <YAxis yAxisId="n" tick={<PlainTick />} interval={0} width={56} allowDecimals={false} label={<AxisTitle value="count" />} />
          <YAxis
            yAxisId="c"
            orientation="right"
            domain={[0, 1]}
            ticks={[0, 0.25, 0.5, 0.75, 1]}
            tickFormatter={pct}
            tick={<PlainTick />}
            interval={0}
            width={56}
            label={<AxisTitle value="cumulative %" side="right" />}
          />
          <Tooltip formatter={(v, name) => (name === "Cumulative share" ? pct1(v) : String(v))} />
          <Bar yAxisId="n" dataKey="count" name="Count" fill={COLORS.reviewed} isAnimationActive={false} />
          <Line yAxisId="c" type="linear" dataKey="cumulativeShare" name="Cumulative share" stroke={COLORS.line} strokeWidth={2} isAnimationActive={false} />
        </ComposedChart>
      </Plot>
    </>
  );
}

/** Height of a horizontal bar chart with `n` bars (at most 10 are drawn). */
export const barsHeight = (n: number) => Math.max(120, 56 + 28 * Math.min(10, n));

export function HorizontalBars({
  rows,
  labelKey,
  valueKey,
  name,
  id,
}: {
  rows: (FieldRow | RuleRow)[];
  labelKey: string;
  valueKey: string;
  name: string;
  id: string;
}) {
  const data = rows.slice(0, 10);
  const height = barsHeight(data.length);
  return (
    <>
      <ChartLegend items={[{ name, color: COLORS.auto, kind: "box" }]} />
      <Plot height={height}>
        <BarChart id={id} layout="vertical" width={CHART_W} height={height} data={data} margin={{ ...MARGIN, right: 24 }}>
          <CartesianGrid stroke="#e2e8f0" horizontal={false} />
          <XAxis type="number" domain={[0, "auto"]} tickFormatter={pct} tick={<PlainTick />} interval={0} height={24} />
          <YAxis type="category" dataKey={labelKey} tick={<PlainTick maxChars={26} />} width={180} interval={0} tickLine={false} />
          <Tooltip formatter={(v) => pct1(v)} />
          <Bar dataKey={valueKey} name={name} fill={COLORS.auto} isAnimationActive={false} />
        </BarChart>
      </Plot>
    </>
  );
}

type ThresholdPoint = { threshold: number; automationRate: number | null; errorRate: number | null; errorLow: number | null; errorHigh: number | null };

/**
 * The threshold what-if: automation rate (left axis) and the released lane's estimated error rate with its 95%
 * interval (right axis) for every candidate threshold; the target error as a dashed line, the current and the
 * recommended thresholds as vertical lines.
 */
export function ThresholdChart({
  curve,
  current,
  recommended,
  maxError,
}: {
  curve: ThresholdPoint[];
  current: number | null;
  recommended: number | null;
  maxError: number;
}) {
  const rows = curve.map((p) => ({ ...p, band: p.errorLow === null || p.errorHigh === null ? null : [p.errorLow, p.errorHigh] }));
  const top = Math.min(1, Math.max(maxError * 3, ...curve.map((p) => p.errorRate ?? 0)) * 1.1);
  const errorTicks = [0, top / 4, top / 2, (3 * top) / 4, top];
  return (
    <>
      <ChartLegend
        items={[
          { name: "Automation rate", color: COLORS.auto, kind: "line" },
          { name: "Estimated error rate", color: COLORS.p95, kind: "line" },
          { name: "95% interval", color: "#fecdd3", kind: "band" },
          { name: `Target: at most ${pct1(maxError)} errors`, color: COLORS.line, kind: "dashed" },
        ]}
      />
      <Plot height={CHART_H}>
        <ComposedChart id="chart-thresholds" width={CHART_W} height={CHART_H} data={rows} margin={{ ...MARGIN, right: 8 }}>
          <CartesianGrid stroke="#e2e8f0" />
          <XAxis
            dataKey="threshold"
            type="number"
            domain={[0, 1]}
            ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]}
            tick={<PlainTick />}
            interval={0}
            tickLine={false}
            height={24}
          />
          <YAxis
            yAxisId="auto"
            domain={[0, 1]}
            ticks={[0, 0.25, 0.5, 0.75, 1]}
            tickFormatter={pct}
            tick={<PlainTick />}
            interval={0}
            width={56}
            label={<AxisTitle value="% automated" />}
          />
          <YAxis
            yAxisId="error"
            orientation="right"
            domain={[0, top]}
            allowDataOverflow
            ticks={errorTicks}
            tickFormatter={pct1}
            tick={<PlainTick />}
            interval={0}
            width={60}
            label={<AxisTitle value="% errors released" side="right" />}
          />
          <Tooltip formatter={(v) => (Array.isArray(v) ? `${pct1(v[0])} – ${pct1(v[1])}` : pct1(v))} labelFormatter={(t) => `threshold ${t}`} />
          <Area yAxisId="error" dataKey="band" name="95% interval" fill="#fecdd3" stroke="none" fillOpacity={0.9} isAnimationActive={false} connectNulls />
          <Line yAxisId="auto" dataKey="automationRate" name="Automation rate" stroke={COLORS.auto} strokeWidth={2.5} dot={false} isAnimationActive={false} />
          <Line
            yAxisId="error"
            dataKey="errorRate"
            name="Estimated error rate"
            stroke={COLORS.p95}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
            connectNulls
          />
          <ReferenceLine yAxisId="error" y={maxError} stroke={COLORS.line} strokeDasharray="5 3" />
          {current !== null ? (
            <ReferenceLine yAxisId="auto" x={current} stroke="#64748b" label={{ value: "current", position: "insideTopLeft", fontSize: 11, fill: "#334155" }} />
          ) : null}
          {recommended !== null ? (
            <ReferenceLine
              yAxisId="auto"
              x={recommended}
              stroke="#059669"
              strokeWidth={2}
              label={{ value: "recommended", position: "insideBottomLeft", fontSize: 11, fill: "#047857" }}
            />
          ) : null}
        </ComposedChart>
      </Plot>
    </>
  );
}

/** A drift alert's monitored figure around its onset: the figure per bucket, the baseline (or target) dashed, "fired" marked. */
export function AlertChart({
  id,
  data,
  label,
  unit,
  reference,
  referenceLabel,
  firedLabel,
}: {
  id: string;
  data: { label: string; value: number | null }[];
  label: string;
  unit: "rate" | "confidence" | "count" | "value";
  reference: number | null;
  referenceLabel: string;
  firedLabel: string;
}) {
  // Rates on 0–100%; a mean confidence, a mean value or a count on an axis fitted to the data (a drop of 0.05 in confidence must show).
  const fixed = unit === "rate";
  const format =
    unit === "rate"
      ? pct1
      : unit === "confidence"
        ? (v: unknown) => (typeof v === "number" ? v.toFixed(3) : "–")
        : (v: unknown) => (typeof v === "number" ? Number(v.toPrecision(4)).toLocaleString("en-GB") : "–");
  return (
    <>
      <ChartLegend
        items={[
          { name: label, color: COLORS.p95, kind: "line" },
          ...(reference !== null ? [{ name: `${referenceLabel} ${format(reference)}`, color: COLORS.line, kind: "dashed" as const }] : []),
        ]}
      />
      <Plot height={CHART_H}>
        <LineChart id={id} width={CHART_W} height={CHART_H} data={data} margin={MARGIN}>
          <CartesianGrid stroke="#e2e8f0" />
          {bucketAxis(data)}
          {fixed ? (
            <YAxis
              domain={[0, 1]}
              ticks={[0, 0.25, 0.5, 0.75, 1]}
              tickFormatter={pct}
              tick={<PlainTick />}
              interval={0}
              width={56}
              label={<AxisTitle value="%" />}
            />
          ) : (
            <YAxis
              domain={unit === "count" ? [0, "auto"] : ["auto", "auto"]}
              tickFormatter={(v: number) => (unit === "confidence" ? v.toFixed(2) : format(v))}
              tick={<PlainTick />}
              width={56}
              label={<AxisTitle value={unit} />}
            />
          )}
          <Tooltip formatter={(v) => format(v)} />
          <Line
            type="linear"
            dataKey="value"
            name={label}
            stroke={COLORS.p95}
            strokeWidth={2}
            dot={loneDot(data, (d) => d.value)}
            isAnimationActive={false}
            connectNulls
          />
          {reference !== null ? <ReferenceLine y={reference} stroke={COLORS.line} strokeDasharray="5 3" /> : null}
          <ReferenceLine x={firedLabel} stroke="#be123c" label={{ value: "fired", position: "insideTopRight", fontSize: 11, fill: "#9f1239" }} />
        </LineChart>
      </Plot>
    </>
  );
}
