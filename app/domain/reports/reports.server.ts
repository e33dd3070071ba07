/**
 * Where the automation rate is computed: reports read the hourly roll-ups
 * (never the decisions table) through the (type, metric, hour) index, sum them
 * per bucket and hand the sums to the pure formulas in metrics.ts. Backlog is
 * current state and reads open tasks through their own index.
 */
import { desc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { sqlAll, type DbOrTx } from "@db/client.server";
import { routingPolicies } from "@db/schema/index";
import { countIf, indexedBy } from "@db/sql";
import { listDecisionTypes, getDecisionType } from "../decision-types/decision-types.server";
import { DAILY_PREFIX } from "./rollups.server";
import { automationFigures, qualityFigures, rate, timeToDecision, wilson, type AutomationFigures, type Counters, type QualityFigures } from "./metrics";
import { invalid } from "~/lib/errors";
import { bucketStarts, firstHour, isPeriod, parseReportQuery, periodRange, type Bucket, type Period, type ReportQuery } from "./query";
import { AppError } from "~/lib/errors";
import { dateOfDayNumber, DEFAULT_TIME_ZONE, offsetSpans, startOfLocalDate } from "~/lib/zone";
import { orgTimeZone } from "../settings/org-settings.server";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const AUTOMATION_METRICS = ["volume", "final:auto", "final:reviewed", "pending", "outcome:corrected", "outcome:rejected"] as const;
const QUALITY_METRICS = ["qa:reviewed", "qa:approved", "final:auto", "final:reviewed"] as const;

/**
 * The bucket key of a roll-up row (`hour` holds its UTC hour, or its UTC day for a daily row) where the zone is
 * `offset` ms ahead of UTC: the hour itself, the local day number (days since 1970-01-01 on the local calendar)
 * or the local week number (weeks from Monday). bucketOfKey turns a key back into the bucket's start.
 */
function bucketExpr(bucket: Bucket, offset: number): SQL {
  if (bucket === "hour") return sql`hour`;
  // Integer literals, not parameters: SQLite binds a JS number as REAL, and the division must be an integer one.
  if (!Number.isInteger(offset)) throw new Error(`offset ${offset} is not whole milliseconds`);
  const day = offset === 0 ? sql.raw(`(hour / ${DAY_MS})`) : sql.raw(`((hour + ${offset}) / ${DAY_MS})`);
  if (bucket === "day") return day;
  // 1970-01-01 was a Thursday: day d is in week (d + 3) / 7, which starts on day 7w - 3, a Monday.
  return sql`((${day} + 3) / 7)`;
}

/** The start (UTC ms) of the bucket a key names, days and weeks in `zone`. */
function bucketOfKey(bucket: Bucket, zone: string, key: number): number {
  if (bucket === "hour") return key;
  const day = bucket === "day" ? key : key * 7 - 3;
  return zone === "UTC" ? day * DAY_MS : startOfLocalDate(dateOfDayNumber(day), zone);
}

/** Bucket keys as the bucket starts they name (as strings, the maps' keys), each looked up once. */
function keyToStart(q: ReportQuery): (key: unknown) => string {
  const seen = new Map<number, string>();
  return (key) => {
    const k = Number(key);
    let s = seen.get(k);
    if (s === undefined) seen.set(k, (s = String(bucketOfKey(q.bucket, zoneOf(q), k))));
    return s;
  };
}

const zoneOf = (q: ReportQuery) => q.zone ?? DEFAULT_TIME_ZONE;

function inList(values: readonly string[]): SQL {
  return sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );
}

/** The version dimensions of the roll-ups: a report is filtered by each (modelVersion, policyVersion) and split by either. */
type Dimension = "model" | "policy";

/** The query's version filters, but for the dimension `allOf` (a side-by-side table of that dimension lists all of it). */
function versionFilters(q: ReportQuery, allOf?: Dimension): SQL[] {
  const out: SQL[] = [];
  if (q.modelVersion && allOf !== "model") out.push(sql`model_version = ${q.modelVersion}`);
  if (q.policyVersion && allOf !== "policy") out.push(sql`policy_version = ${q.policyVersion}`);
  return out;
}

/** `b`: the bucket's start (UTC ms, as a string) when summed per bucket. */
type Row = { b: string; v: string; metric: string; value: number };

/**
 * Sums counters per bucket (and per model version when `byVersion`), for the
 * listed metrics and the metric-name prefixes given (prefix ranges use the index).
 */
/**
 * Where a period's counters come from: spans of one UTC offset (the zone's daylight-saving changes cut the
 * period), each bucketed with its offset. Where the offset is 0 (UTC, or a zone on UTC for a while), whole UTC
 * days come from the daily rows (day and week buckets), the ragged edges from the hourly ones; elsewhere a local
 * day is not a UTC day, and every hour comes from the hourly rows.
 */
type Segment = { prefix: "" | typeof DAILY_PREFIX; from: number; to: number; offset: number };
function segments(q: ReportQuery): Segment[] {
  const hourFrom = firstHour(q.from);
  const hourTo = Math.ceil(q.to / HOUR_MS) * HOUR_MS;
  if (q.bucket === "hour") return hourFrom < hourTo ? [{ prefix: "", from: hourFrom, to: hourTo, offset: 0 }] : [];
  const all: Segment[] = [];
  for (const span of offsetSpans(hourFrom, hourTo, zoneOf(q))) {
    const dayFrom = Math.ceil(span.from / DAY_MS) * DAY_MS;
    const dayTo = Math.floor(span.to / DAY_MS) * DAY_MS;
    if (span.offset !== 0 || dayFrom >= dayTo) {
      all.push({ prefix: "", ...span });
      continue;
    }
    all.push(
      { prefix: "", from: span.from, to: dayFrom, offset: 0 },
      { prefix: DAILY_PREFIX, from: dayFrom, to: dayTo, offset: 0 },
      { prefix: "", from: dayTo, to: span.to, offset: 0 },
    );
  }
  return all.filter((g) => g.from < g.to);
}

const prefixRange = (p: string) => sql`(metric >= ${p} AND metric < ${p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1)})`;

/**
 * Sums counters per bucket (and per model version when `byVersion`), for the
 * listed metrics and metric-name prefixes (all metrics when neither is given).
 * Metric names come back without the daily prefix.
 */
async function sumCounters(
  db: DbOrTx,
  q: ReportQuery,
  opts: { metrics?: readonly string[]; prefixes?: string[]; byBucket: boolean; by?: Dimension; allOf?: Dimension },
): Promise<Row[]> {
  const out: Row[] = [];
  const bucketKey = keyToStart(q);
  for (const g of segments(q)) {
    const metricConds: SQL[] = [];
    if (opts.metrics?.length) metricConds.push(sql`metric IN (${inList(opts.metrics.map((m) => g.prefix + m))})`);
    for (const p of opts.prefixes ?? []) metricConds.push(prefixRange(g.prefix + p));
    const every = metricConds.length === 0;
    if (every && g.prefix) metricConds.push(prefixRange(g.prefix));
    const where: SQL[] = [sql`type_key = ${q.type}`, sql`hour >= ${g.from}`, sql`hour < ${g.to}`];
    if (metricConds.length) where.push(sql`(${sql.join(metricConds, sql` OR `)})`);
    if (every && !g.prefix) where.push(sql`substr(metric, 1, ${DAILY_PREFIX.length}) <> ${DAILY_PREFIX}`);
    where.push(...versionFilters(q, opts.allOf));
    const b = opts.byBucket ? bucketExpr(q.bucket, g.offset) : sql`0`;
    const v = opts.by === "model" ? sql`model_version` : opts.by === "policy" ? sql`policy_version` : sql`''`;
    // Metric ranges over a period: range scans on (type, metric, hour); all hourly metrics: the (type, hour) key.
    const from = metricConds.length ? indexedBy(db, "rollups", "rollups_metric_idx") : sql`rollups`;
    const rows = await sqlAll<Row>(
      db,
      sql`SELECT ${b} AS b, ${v} AS v, metric, SUM(value) AS value FROM ${from} WHERE ${sql.join(where, sql` AND `)} GROUP BY 1, 2, metric`,
    );
    for (const r of rows) {
      const row = opts.byBucket ? { ...r, b: bucketKey(r.b) } : r;
      out.push(g.prefix ? { ...row, metric: row.metric.slice(g.prefix.length) } : row);
    }
  }
  return out;
}

function fold(rows: Row[], key: (r: Row) => string): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const r of rows) {
    const k = key(r);
    let m = out.get(k);
    if (!m) out.set(k, (m = {}));
    m[r.metric] = (m[r.metric] ?? 0) + Number(r.value);
  }
  return out;
}

function sumAll(maps: Iterable<Counters>): Counters {
  const out: Counters = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const automationFiguresSchema = z.object({
  volume: z.number(),
  auto: z.number(),
  reviewed: z.number(),
  pending: z.number(),
  corrected: z.number(),
  rejected: z.number(),
  automationRate: z.number().nullable(),
  overrideRate: z.number().nullable(),
}) satisfies z.ZodType<AutomationFigures>;

/** GET /api/v1/reports/automation: figures per bucket (every bucket of the period, empty ones too) and in total. */
export const automationReportSchema = z.object({
  /** The IANA time zone days and weeks are counted in: the organisation's (an admin setting, UTC by default). */
  timeZone: z.string(),
  buckets: z.array(automationFiguresSchema.extend({ start: z.iso.datetime() })),
  totals: automationFiguresSchema,
});

const intervalSchema = z.object({ estimate: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable() });

/** GET /api/v1/reports/quality: auto-lane accuracy (Wilson 95%), estimated released accuracy, time to decision. */
export const qualityReportSchema = z.object({
  autoLaneAccuracy: intervalSchema.extend({ n: z.number().int() }),
  estimatedReleasedAccuracy: intervalSchema,
  timeToDecision: z.object({ p50Ms: z.number().nullable(), p95Ms: z.number().nullable() }),
}) satisfies z.ZodType<QualityFigures>;

export type AutomationBucket = { start: string } & AutomationFigures;
export type AutomationReport = z.output<typeof automationReportSchema>;

/** Automation counters per bucket over [hourFrom, hourTo), pivoted in SQL: one row per bucket, one column per metric. */
async function automationCounters(db: DbOrTx, q: ReportQuery, g: Segment, into: Map<string, Counters>, bucketKey: (key: unknown) => string): Promise<void> {
  const { prefix, from: hourFrom, to: hourTo } = g;
  if (hourFrom >= hourTo) return;
  const names = AUTOMATION_METRICS.map((m) => prefix + m);
  const cols = sql.join(
    names.map((m, i) => sql`SUM(CASE WHEN metric = ${m} THEN value ELSE 0 END) AS ${sql.raw(`m${i}`)}`),
    sql`, `,
  );
  const where: SQL[] = [sql`type_key = ${q.type}`, sql`metric IN (${inList(names)})`, sql`hour >= ${hourFrom}`, sql`hour < ${hourTo}`];
  where.push(...versionFilters(q));
  const rows = await sqlAll<Record<string, number>>(
    db,
    sql`SELECT ${bucketExpr(q.bucket, g.offset)} AS b, ${cols} FROM ${indexedBy(db, "rollups", "rollups_metric_idx")} WHERE ${sql.join(where, sql` AND `)} GROUP BY 1`,
  );
  for (const r of rows) {
    const b = bucketKey(r.b);
    const m = into.get(b) ?? {};
    AUTOMATION_METRICS.forEach((name, i) => (m[name] = (m[name] ?? 0) + Number(r[`m${i}`])));
    into.set(b, m);
  }
}

/** GET /api/v1/reports/automation: automation figures per bucket and in total. */
export async function automationReport(db: DbOrTx, q: ReportQuery): Promise<AutomationReport> {
  const perBucket = new Map<string, Counters>();
  const bucketKey = keyToStart(q);
  for (const g of segments(q)) await automationCounters(db, q, g, perBucket, bucketKey);
  const buckets = bucketStarts(q.from, q.to, q.bucket, zoneOf(q)).map((s) => ({
    start: new Date(s).toISOString(),
    ...automationFigures(perBucket.get(String(s)) ?? {}),
  }));
  return { timeZone: zoneOf(q), buckets, totals: automationFigures(sumAll(perBucket.values())) };
}

/** GET /api/v1/reports/quality: auto-lane accuracy, estimated released accuracy, time to decision. */
export async function qualityReport(db: DbOrTx, q: ReportQuery): Promise<QualityFigures> {
  const rows = await sumCounters(db, q, { metrics: QUALITY_METRICS, prefixes: ["ttd:"], byBucket: false });
  return qualityFigures(sumAll(fold(rows, () => "").values()));
}

/** Model versions that ever reported for a type, newest first by first appearance. */
export async function modelVersions(db: DbOrTx, typeKey: string): Promise<string[]> {
  return (
    await sqlAll<{ v: string }>(
      db,
      sql`SELECT model_version AS v, MIN(hour) AS first FROM ${indexedBy(db, "rollups", "rollups_metric_idx")} WHERE type_key = ${typeKey} AND metric = ${DAILY_PREFIX + "volume"} GROUP BY model_version ORDER BY first DESC, v`,
    )
  ).map((r) => r.v);
}

export type BacklogQueue = {
  typeKey: string;
  typeName: string;
  kind: string;
  owner: string;
  open: number;
  claimed: number;
  oldestAgeMs: number | null;
  pastSla: number;
  slaMinutes: number;
};
export type BacklogOwner = { owner: string; open: number; claimed: number; oldestAgeMs: number | null; pastSla: number };

/**
 * Open work now, per queue (type × task kind) and per accountable owner (the
 * type's owner). Reads only open and claimed tasks through tasks_backlog_idx.
 */
export async function backlog(db: DbOrTx, now = Date.now()): Promise<{ queues: BacklogQueue[]; owners: BacklogOwner[] }> {
  const rows = await sqlAll<{ typeKey: string; kind: string; open: number; claimed: number; oldest: number | null; pastSla: number }>(
    db,
    sql`
    SELECT type_key AS "typeKey", kind,
           ${countIf(sql`status = 'open'`)} AS open, ${countIf(sql`status = 'claimed'`)} AS claimed,
           MIN(created_at) AS oldest, ${countIf(sql`due_at < ${now}`)} AS "pastSla"
    FROM ${indexedBy(db, "tasks", "tasks_backlog_idx")}
    WHERE status IN ('open', 'claimed')
    GROUP BY type_key, kind`,
  );
  const types = new Map((await listDecisionTypes(db)).map((t) => [t.key, t]));
  const queues: BacklogQueue[] = rows
    .map((r) => {
      const t = types.get(r.typeKey);
      return {
        typeKey: r.typeKey,
        typeName: t?.name ?? r.typeKey,
        kind: r.kind,
        owner: t?.owner ?? "(unknown)",
        open: Number(r.open),
        claimed: Number(r.claimed),
        oldestAgeMs: r.oldest == null ? null : Math.max(0, now - r.oldest),
        pastSla: Number(r.pastSla),
        slaMinutes: t?.slaMinutes ?? 0,
      };
    })
    .sort((a, b) => b.pastSla - a.pastSla || (b.oldestAgeMs ?? 0) - (a.oldestAgeMs ?? 0));
  const owners = new Map<string, BacklogOwner>();
  for (const qu of queues) {
    const o = owners.get(qu.owner) ?? { owner: qu.owner, open: 0, claimed: 0, oldestAgeMs: null, pastSla: 0 };
    o.open += qu.open;
    o.claimed += qu.claimed;
    o.pastSla += qu.pastSla;
    o.oldestAgeMs = Math.max(o.oldestAgeMs ?? 0, qu.oldestAgeMs ?? 0);
    owners.set(qu.owner, o);
  }
  return { queues, owners: [...owners.values()].sort((a, b) => b.pastSla - a.pastSla || b.open + b.claimed - (a.open + a.claimed)) };
}

type RowFigures = AutomationFigures & QualityFigures & { escalated: number; reviewP50Ms: number | null; reviewP95Ms: number | null };
export type VersionRow = RowFigures & { modelVersion: string };
/** `policyVersion` 0: counters from before the policy version was recorded in them (an upgraded store, being rebuilt). */
export type PolicyRow = RowFigures & { policyVersion: number; since: string | null };
export type SeriesPoint = AutomationBucket & {
  byVersion: Record<string, number | null>;
  accuracy: number | null;
  accuracyLow: number | null;
  accuracyHigh: number | null;
  qaN: number;
  p50Ms: number | null;
  p95Ms: number | null;
  reviewP50Ms: number | null;
  reviewP95Ms: number | null;
};
export type FieldRow = { field: string; corrections: number; correctionRate: number | null; qaMisses: number; qaMissRate: number | null };
export type RuleRow = { rule: string; decisions: number; shareOfReviewed: number | null };
export type ReasonRow = { code: string; label: string; count: number; share: number | null; cumulativeShare: number | null };

export type ReportPage = {
  query: { type: string; from: string; to: string; bucket: Bucket; modelVersion: string | null; policyVersion: number | null; timeZone: string };
  versions: string[];
  /** The type's routing policy versions, newest first, and when each took effect. */
  policyVersions: { version: number; since: string }[];
  totals: AutomationFigures & QualityFigures & { escalated: number; reviewP50Ms: number | null; reviewP95Ms: number | null };
  series: SeriesPoint[];
  byVersion: VersionRow[];
  byPolicy: PolicyRow[];
  fields: FieldRow[];
  rules: RuleRow[];
  reasons: ReasonRow[];
};

function versionFigures(m: Counters) {
  const review = timeToDecision(m, "review");
  return { ...automationFigures(m), ...qualityFigures(m), escalated: m.escalated ?? 0, reviewP50Ms: review.p50Ms, reviewP95Ms: review.p95Ms };
}

/** Everything the /reports page and its CSV downloads show, in one pass over the roll-ups. */
export async function reportPage(db: DbOrTx, q: ReportQuery): Promise<ReportPage> {
  const type = await getDecisionType(db, q.type);
  // Totals per model version, every metric (side-by-side table, breakdowns).
  const perVersion = fold(await sumCounters(db, q, { byBucket: false, by: "model", allOf: "model" }), (r) => r.v);
  const perPolicy = fold(await sumCounters(db, q, { byBucket: false, by: "policy", allOf: "policy" }), (r) => String(r.v));
  const selected = q.policyVersion
    ? [perPolicy.get(String(q.policyVersion)) ?? {}]
    : q.modelVersion
      ? [perVersion.get(q.modelVersion) ?? {}]
      : [...perVersion.values()];
  const totalsCounters = sumAll(selected);

  // Per bucket and version: the figures charted over time.
  const seriesRows = await sumCounters(db, q, {
    metrics: [...new Set([...AUTOMATION_METRICS, ...QUALITY_METRICS])],
    prefixes: ["ttd:"],
    byBucket: true,
    by: "model",
  });
  const byBucketVersion = new Map<string, Map<string, Counters>>();
  for (const r of seriesRows) {
    const bk = String(r.b);
    let versions = byBucketVersion.get(bk);
    if (!versions) byBucketVersion.set(bk, (versions = new Map()));
    const m = versions.get(r.v) ?? {};
    m[r.metric] = (m[r.metric] ?? 0) + Number(r.value);
    versions.set(r.v, m);
  }
  const versionNames = [...perVersion.keys()].sort();
  const series: SeriesPoint[] = bucketStarts(q.from, q.to, q.bucket, zoneOf(q)).map((s) => {
    const versions = byBucketVersion.get(String(s)) ?? new Map<string, Counters>();
    const m = sumAll(versions.values());
    const acc = wilson(m["qa:approved"] ?? 0, m["qa:reviewed"] ?? 0);
    const ttd = timeToDecision(m);
    const reviewTtd = timeToDecision(m, "review");
    const byVersion: Record<string, number | null> = {};
    for (const v of versionNames) byVersion[v] = automationFigures(versions.get(v) ?? {}).automationRate;
    return {
      start: new Date(s).toISOString(),
      ...automationFigures(m),
      byVersion,
      accuracy: acc.estimate,
      accuracyLow: acc.low,
      accuracyHigh: acc.high,
      qaN: acc.n,
      p50Ms: ttd.p50Ms,
      p95Ms: ttd.p95Ms,
      reviewP50Ms: reviewTtd.p50Ms,
      reviewP95Ms: reviewTtd.p95Ms,
    };
  });

  const reviewed = totalsCounters["final:reviewed"] ?? 0;
  const qaReviewed = totalsCounters["qa:reviewed"] ?? 0;
  const fieldNames = new Set<string>();
  for (const k of Object.keys(totalsCounters)) {
    if (k.startsWith("field:")) fieldNames.add(k.slice(6));
    if (k.startsWith("qa_field:")) fieldNames.add(k.slice(9));
  }
  const fields: FieldRow[] = [...fieldNames]
    .map((f) => {
      const corrections = totalsCounters[`field:${f}`] ?? 0;
      const qaMisses = totalsCounters[`qa_field:${f}`] ?? 0;
      return { field: f, corrections, correctionRate: rate(corrections, reviewed), qaMisses, qaMissRate: rate(qaMisses, qaReviewed) };
    })
    .filter((r) => r.corrections > 0 || r.qaMisses > 0)
    .sort((a, b) => b.corrections - a.corrections || b.qaMisses - a.qaMisses || a.field.localeCompare(b.field));

  const routedToReview = totalsCounters["route:review"] ?? 0;
  const rules: RuleRow[] = Object.entries(totalsCounters)
    .filter(([k, v]) => k.startsWith("rule:") && v > 0)
    .map(([k, v]) => ({ rule: k.slice(5), decisions: v, shareOfReviewed: rate(v, routedToReview) }))
    .sort((a, b) => b.decisions - a.decisions || a.rule.localeCompare(b.rule));

  const labels = new Map((type?.reasonCodes ?? []).map((r) => [r.code, r.label]));
  const reasonCounts = new Map<string, number>();
  for (const [k, v] of Object.entries(totalsCounters)) {
    const code = k.startsWith("reason:") ? k.slice(7) : k.startsWith("qa_reason:") ? k.slice(10) : null;
    if (code && v > 0) reasonCounts.set(code, (reasonCounts.get(code) ?? 0) + v);
  }
  const reasonTotal = [...reasonCounts.values()].reduce((s, v) => s + v, 0);
  let running = 0;
  const reasons: ReasonRow[] = [...reasonCounts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, count]) => {
      running += count;
      return { code, label: labels.get(code) ?? code, count, share: rate(count, reasonTotal), cumulativeShare: rate(running, reasonTotal) };
    });

  const policies = await db
    .select({ version: routingPolicies.version, createdAt: routingPolicies.createdAt })
    .from(routingPolicies)
    .where(eq(routingPolicies.typeKey, q.type))
    .orderBy(desc(routingPolicies.version));
  const sinceOf = new Map(policies.map((p) => [p.version, new Date(p.createdAt).toISOString()]));
  return {
    query: {
      type: q.type,
      from: new Date(q.from).toISOString(),
      to: new Date(q.to).toISOString(),
      bucket: q.bucket,
      modelVersion: q.modelVersion ?? null,
      policyVersion: q.policyVersion ?? null,
      timeZone: zoneOf(q),
    },
    versions: await modelVersions(db, q.type),
    policyVersions: policies.map((p) => ({ version: p.version, since: new Date(p.createdAt).toISOString() })),
    totals: versionFigures(totalsCounters),
    series,
    byVersion: versionNames.map((v) => ({ modelVersion: v, ...versionFigures(perVersion.get(v)!) })),
    byPolicy: [...perPolicy.keys()]
      .map(Number)
      .sort((a, b) => b - a)
      .map((v) => ({ policyVersion: v, since: sinceOf.get(v) ?? null, ...versionFigures(perPolicy.get(String(v))!) })),
    fields,
    rules,
    reasons,
  };
}

/** Parses report query parameters and checks the decision type exists (400 naming the field otherwise). */
export async function readReportQuery(db: DbOrTx, params: URLSearchParams, opts: { now?: number; ignore?: readonly string[] } = {}): Promise<ReportQuery> {
  const q = parseReportQuery(params, opts);
  if (!(await getDecisionType(db, q.type))) throw invalid("Invalid query", [{ path: "type", message: `unknown decision type "${q.type}"` }]);
  return { ...q, zone: await orgTimeZone(db) };
}

export type ReportsView = {
  types: { key: string; name: string }[];
  period: Period | "custom";
  error: { message: string; issues: { path: string; message: string }[] } | null;
  report: ReportPage | null;
  backlog: { queues: BacklogQueue[]; owners: BacklogOwner[] };
  generatedAt: string;
};

/**
 * The /reports page: filters from the URL (type, modelVersion, period preset or
 * from/to, bucket), bad filters answered inline, defaults where absent.
 */
export async function reportsView(db: DbOrTx, params: URLSearchParams, now = Date.now()): Promise<ReportsView> {
  const types = (await listDecisionTypes(db)).map((t) => ({ key: t.key, name: t.name }));
  const view: ReportsView = { types, period: "30d", error: null, report: null, backlog: await backlog(db, now), generatedAt: new Date(now).toISOString() };
  if (types.length === 0) return view;
  const p = new URLSearchParams();
  p.set("type", params.get("type") || types[0].key);
  for (const k of ["bucket", "modelVersion", "policyVersion"]) if (params.get(k)) p.set(k, params.get(k)!);
  const period = params.get("period");
  if (params.get("from") || params.get("to")) {
    view.period = "custom";
    for (const k of ["from", "to"]) if (params.get(k)) p.set(k, params.get(k)!);
  } else {
    view.period = isPeriod(period) ? period : "30d";
    const r = periodRange(view.period, now);
    p.set("from", new Date(r.from).toISOString());
    p.set("to", new Date(r.to).toISOString());
  }
  try {
    view.report = await reportPage(db, await readReportQuery(db, p, { now }));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    view.error = { message: e.message, issues: e.issues };
    const r = periodRange("30d", now);
    view.period = "30d";
    const type = types.some((t) => t.key === p.get("type")) ? p.get("type")! : types[0].key;
    view.report = await reportPage(db, { type, from: r.from, to: r.to, bucket: "day", zone: await orgTimeZone(db) });
  }
  return view;
}
