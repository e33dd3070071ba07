/**
 * The drift monitors' evaluator and their alerts (issue 15). `evaluateMonitors` reads, for every decision
 * type, bounded windows of the per-minute counters (monitors/counters.ts) ending at a minute boundary, asks
 * findings.ts what they mean, and keeps the alerts: a finding that fires raises an alert unless one is open
 * for the same type, monitor and segment (deduplicated; the unique index alerts_open_idx holds it), a
 * finding that clears resolves the open one. An alert keeps the figures and windows that made it fire;
 * `firedAt` and `resolvedAt` are the data's time (the window's end), so simulated traffic gets meaningful
 * times. Lifecycle: firing → acknowledged (by a person) → resolved; every step is an audit entry.
 *
 * Who sees alerts: admins and managers (alerts:read, alerts:acknowledge), read-scope keys (alerts:read), and
 * each type's owner for that type's alerts.
 */
import { and, asc, desc, eq, gte, inArray, lt, ne, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { sqlAll, transaction, type Db, type DbOrTx } from "@db/client.server";
import { alerts, decisionTypes, monitorCounters, rollups, taskCounters, tasks, users } from "@db/schema/index";
import { ALERT_STATES } from "@db/schema/tables";
import { newId } from "~/lib/crypto.server";
import { conflict, forbidden, notFound } from "~/lib/errors";
import { can, type Principal } from "../auth/permissions";
import { appendAudit } from "../audit/audit.server";
import { listDecisionTypes, type DecisionType } from "../decision-types/decision-types.server";
import { isoInstant } from "../reports/query";
import { enqueueEvents, type OutboxEvent } from "../webhooks/outbox.server";
import { automationFigures, rate } from "../reports/metrics";
import { orgTimeZone } from "../settings/org-settings.server";
import { zoneOffset } from "~/lib/zone";
import { bucketStart, CONFIDENCE_BINS, MINUTE, minuteStart, setGauge } from "./counters";
import { findings, MONITORS, windowsAt, type Counts, type Finding, type MonitorData, type Window, type Windows } from "./findings";

/** Per-minute counters are kept this long, then summed into hour rows (compactMonitorCounters). */
export const MINUTE_RETENTION_MS = 2 * 24 * 60 * MINUTE;
/** Hour rows are kept this long: four weeks of "the same time of the week" for the volume monitor, and a few days more. */
export const MONITOR_RETENTION_MS = 35 * 24 * 60 * MINUTE;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A baseline window's counters, summed per metric. The reviewers' counters (rv:) are left out: no baseline
 * uses them (the reviewer monitor compares reviewers within the recent window), and with one metric per
 * reviewer they are about half the rows of a day, so summing them would double the evaluation's cost.
 */
async function windowCounts(db: DbOrTx, typeKey: string, w: Window): Promise<Counts> {
  const rows = await sqlAll<{ metric: string; value: number | string }>(
    db,
    sql`SELECT metric, SUM(value) AS value FROM ${monitorCounters} WHERE type_key = ${typeKey} AND minute >= ${w.from} AND minute < ${w.to} AND metric NOT LIKE 'g:%' AND metric NOT LIKE 'rv:%' GROUP BY metric`,
  );
  return new Map(rows.map((r) => [r.metric, Number(r.value)]));
}

async function countOf(db: DbOrTx, typeKey: string, metric: string, w: Window): Promise<number> {
  const rows = await sqlAll<{ value: number | string | null }>(
    db,
    sql`SELECT SUM(value) AS value FROM ${monitorCounters} WHERE type_key = ${typeKey} AND metric = ${metric} AND minute >= ${w.from} AND minute < ${w.to}`,
  );
  return Number(rows[0]?.value ?? 0);
}

/**
 * The usual decisions a minute in [end − window, end): the mean rate of the same time of the week in the
 * four weeks before, in the organisation's time zone (read at hour granularity, the older counters being
 * hour rows), over the weeks that had traffic; with none, the rate of the 24 hours before the window (or of
 * as much of them as has counters: a store younger than a day compares with what it has).
 *
 * A week counts only if the type's traffic had begun before its window: the window in which traffic began
 * holds only part of an hour's decisions, so a week later the usual level read from it is too low and a
 * steady stream looks like a surge (the session-17 stationary run fired exactly that, once per run, seven
 * days in). The first counter is compared at hour granularity, as the week-old counters are hour rows.
 */
async function usualVolume(db: DbOrTx, typeKey: string, end: number, windowMinutes: number, timeZone: string): Promise<MonitorData["volume"]> {
  const len = windowMinutes * MINUTE;
  const rates: number[] = [];
  const earliest = await sqlAll<{ m: number | string | null }>(
    db,
    sql`SELECT MIN(minute) AS m FROM ${monitorCounters} WHERE type_key = ${typeKey} AND metric = 'n'`,
  );
  const began = earliest[0]?.m == null ? null : Math.floor(Number(earliest[0].m) / HOUR) * HOUR;
  for (let k = 1; k <= 4; k++) {
    // The same wall-clock time k weeks earlier: a week of days in the zone, whatever the clocks did meanwhile.
    const shift = 7 * k * DAY + zoneOffset(end - 7 * k * DAY, timeZone) - zoneOffset(end, timeZone);
    const from = Math.floor((end - len - shift) / HOUR) * HOUR;
    const to = Math.ceil((end - shift) / HOUR) * HOUR;
    if (began === null || began >= from) break; // this week and the older ones are before (or at) the start of traffic
    const n = await countOf(db, typeKey, "n", { from, to });
    if (n > 0) rates.push((n * MINUTE) / (to - from));
  }
  if (rates.length) return { perMinute: rates.reduce((a, b) => a + b, 0) / rates.length, source: "same time in earlier weeks", weeks: rates.length };
  const day = { from: end - len - DAY, to: end - len };
  const trailing = await countOf(db, typeKey, "n", day);
  if (trailing === 0) return { perMinute: null, source: null, weeks: 0 };
  const first = await sqlAll<{ m: number | string | null }>(
    db,
    sql`SELECT MIN(minute) AS m FROM ${monitorCounters} WHERE type_key = ${typeKey} AND metric = 'n' AND minute >= ${day.from} AND minute < ${day.to}`,
  );
  const span = day.to - Number(first[0]?.m ?? day.from);
  return { perMinute: (trailing * MINUTE) / Math.max(span, MINUTE), source: "the hours before", weeks: 0 };
}

/** Everything one type's monitors read at `end`: bounded windows of counters, the queue's gauges, the model versions' roll-ups. */
async function monitorData(db: DbOrTx, type: DecisionType, end: number, w: Windows, timeZone: string): Promise<MonitorData> {
  const s = type.monitors;
  const rows = await sqlAll<{ metric: string; minute: number | string; value: number | string }>(
    db,
    sql`SELECT metric, minute, value FROM ${monitorCounters} WHERE type_key = ${type.key} AND minute >= ${end - w.recentMinutes * MINUTE} AND minute < ${end} AND metric NOT LIKE 'g:%'`,
  );
  const recent = new Map<number, Map<string, number>>();
  for (const r of rows) {
    const m = Number(r.minute);
    let c = recent.get(m);
    if (!c) recent.set(m, (c = new Map()));
    c.set(r.metric, Number(r.value));
  }
  // Monitors often share a baseline (by default they all do): each distinct window is read once.
  const read = new Map<string, Promise<Counts>>();
  const baseline = (x: Window) => {
    const key = `${x.from}-${x.to}`;
    if (!read.has(key)) read.set(key, windowCounts(db, type.key, x));
    return read.get(key)!;
  };
  const breachedSince = end - s.flow.windowMinutes * MINUTE;
  const [backlog, before, breaches] = await Promise.all([
    sqlAll<{ n: number | string | null }>(
      db,
      sql`SELECT SUM(n) AS n FROM ${taskCounters} WHERE type_key = ${type.key} AND kind IN ('review', 'second') AND status IN ('open', 'claimed')`,
    ),
    sqlAll<{ value: number | string }>(
      db,
      sql`SELECT value FROM ${monitorCounters} WHERE type_key = ${type.key} AND metric = 'g:backlog' AND minute = ${end - s.flow.windowMinutes * MINUTE}`,
    ),
    // All open tasks past their SLA, and those whose deadline passed within the flow window (new breaches).
    sqlAll<{ n: number | string; fresh: number | string | null }>(
      db,
      sql`SELECT COUNT(*) AS n, SUM(CASE WHEN due_at >= ${breachedSince} THEN 1 ELSE 0 END) AS fresh FROM ${tasks} WHERE status IN ('open', 'claimed') AND type_key = ${type.key} AND kind IN ('review', 'second', 'qa') AND due_at < ${end}`,
    ),
  ]);
  return {
    recent,
    overrideBaseline: await baseline(w.overrideBaseline),
    confidenceBaseline: await baseline(w.confidenceBaseline),
    inputBaseline: s.inputs.length ? await baseline(w.inputBaseline) : new Map(),
    volume: s.volume.enabled ? await usualVolume(db, type.key, end, s.volume.windowMinutes, timeZone) : { perMinute: null, source: null, weeks: 0 },
    flow: {
      backlog: Number(backlog[0]?.n ?? 0),
      backlogBefore: before[0] ? Number(before[0].value) : null,
      breaches: Number(breaches[0]?.n ?? 0),
      newBreaches: Number(breaches[0]?.fresh ?? 0),
    },
    models: s.modelVersion.enabled ? await modelFigures(db, type.key, end, s.modelVersion.windowMinutes) : [],
  };
}

const MODEL_METRICS = ["volume", "final:auto", "final:reviewed", "outcome:corrected", "outcome:rejected", "qa:reviewed", "qa:approved"];

/** Each model version's figures over the hours of the window (the roll-ups), newest version (by first appearance) first. */
async function modelFigures(db: DbOrTx, typeKey: string, end: number, windowMinutes: number): Promise<MonitorData["models"]> {
  const rows = await sqlAll<{ v: string; metric: string; value: number | string; first: number | string }>(
    db,
    sql`SELECT model_version AS v, metric, SUM(value) AS value, MIN(hour) AS first FROM ${rollups} WHERE type_key = ${typeKey} AND hour >= ${Math.floor((end - windowMinutes * MINUTE) / HOUR) * HOUR} AND hour < ${end} AND metric IN (${sql.join(
      MODEL_METRICS.map((m) => sql`${m}`),
      sql`, `,
    )}) GROUP BY model_version, metric`,
  );
  const by = new Map<string, { counters: Record<string, number>; first: number }>();
  for (const r of rows) {
    const cur = by.get(r.v) ?? { counters: {}, first: Infinity };
    cur.counters[r.metric] = Number(r.value);
    cur.first = Math.min(cur.first, Number(r.first));
    by.set(r.v, cur);
  }
  return [...by.entries()]
    .sort(([av, a], [bv, b]) => b.first - a.first || bv.localeCompare(av))
    .map(([version, { counters }]) => {
      const f = automationFigures(counters);
      const qaN = counters["qa:reviewed"] ?? 0;
      return {
        version,
        volume: f.volume,
        automationRate: f.automationRate,
        overrideRate: f.overrideRate,
        qaAccuracy: rate(counters["qa:approved"] ?? 0, qaN),
        qaN,
      };
    });
}

export type EvaluationResult = { at: string; types: number; fired: AlertJson[]; resolved: AlertJson[] };

/**
 * One evaluation of every type's monitors on the data up to `at` (floored to the minute), in one
 * transaction per type. Returns the alerts it raised and resolved. It also records the review backlog it
 * saw at that minute (the backlog monitor compares the backlog with the one recorded a window ago).
 */
export async function evaluateMonitors(db: Db, at: number = Date.now(), now: number = Date.now()): Promise<EvaluationResult> {
  const end = minuteStart(at);
  const out: EvaluationResult = { at: new Date(end).toISOString(), types: 0, fired: [], resolved: [] };
  const timeZone = await orgTimeZone(db);
  for (const type of await listDecisionTypes(db)) {
    out.types++;
    const w = windowsAt(end, type.monitors);
    const data = await monitorData(db, type, end, w, timeZone);
    const found = findings(type.monitors, type.targetAccuracy, end, w, data);
    const { fired, resolved } = await transaction(db, async (tx) => {
      await setGauge(tx, type.key, "g:backlog", end, data.flow.backlog);
      await setGauge(tx, type.key, "g:breaches", end, data.flow.breaches);
      return keepAlerts(tx, type, found, end, now);
    });
    out.fired.push(...fired);
    out.resolved.push(...resolved);
  }
  return out;
}

async function keepAlerts(tx: DbOrTx, type: DecisionType, found: Finding[], at: number, now: number) {
  const fired: AlertJson[] = [];
  const resolved: AlertJson[] = [];
  const events: OutboxEvent[] = [];
  const open = await tx
    .select()
    .from(alerts)
    .where(and(eq(alerts.typeKey, type.key), ne(alerts.state, "resolved")));
  const openBy = new Map(open.map((a) => [`${a.monitor}|${a.segment}`, a]));
  for (const f of found) {
    const existing = openBy.get(`${f.monitor}|${f.segment}`);
    if (f.verdict === "fire" && !existing) {
      const row = {
        id: newId("alr", now),
        typeKey: type.key,
        monitor: f.monitor,
        segment: f.segment,
        state: "firing" as const,
        firedAt: at,
        resolvedAt: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        figures: f.figures,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insert(alerts).values(row);
      await appendAudit(tx, {
        actor: "system:monitors",
        action: "alert.fired",
        entityType: "alert",
        entityId: row.id,
        data: { type: type.key, monitor: f.monitor, segment: f.segment, firedAt: new Date(at).toISOString(), figures: f.figures },
        at: now,
      });
      const json = toJson({ ...row, seq: 0 }, null);
      fired.push(json);
      if (f.monitor !== REVIEWER_MONITOR) events.push({ eventType: "alert.fired", typeKey: type.key, entityId: row.id, data: json, at: now });
    } else if (f.verdict === "clear" && existing) {
      await tx.update(alerts).set({ state: "resolved", resolvedAt: at, updatedAt: now }).where(eq(alerts.id, existing.id));
      await appendAudit(tx, {
        actor: "system:monitors",
        action: "alert.resolved",
        entityType: "alert",
        entityId: existing.id,
        data: { type: type.key, monitor: f.monitor, segment: f.segment, resolvedAt: new Date(at).toISOString(), figures: f.figures },
        at: now,
      });
      const json = toJson({ ...existing, state: "resolved", resolvedAt: at, updatedAt: now }, await emailOf(tx, existing.acknowledgedBy));
      resolved.push(json);
      if (f.monitor !== REVIEWER_MONITOR) events.push({ eventType: "alert.resolved", typeKey: type.key, entityId: existing.id, data: json, at: now });
    }
  }
  // Source systems hear of it by webhook, in the same transaction (the outbox).
  await enqueueEvents(tx, events);
  return { fired, resolved };
}

/**
 * Keeps the counters bounded (the monitor job, after each evaluation): per-minute rows older than
 * MINUTE_RETENTION_MS are summed into one row per hour (at the hour's first minute; gauges are dropped
 * instead), and rows older than MONITOR_RETENTION_MS are deleted. One transaction; running it twice
 * changes nothing more.
 */
export async function pruneMonitorCounters(db: Db, now: number = Date.now()): Promise<{ compacted: number; deleted: number }> {
  const cutoff = Math.floor((now - MINUTE_RETENTION_MS) / HOUR) * HOUR;
  const oldest = minuteStart(now - MONITOR_RETENTION_MS);
  return transaction(db, async (tx) => {
    const notOnHour = sql`(${monitorCounters.minute} % ${HOUR}) <> 0`;
    const sums = await sqlAll<{ type_key: string; metric: string; hour: number | string; value: number | string }>(
      tx,
      // Grouped by position: on Postgres the hour written out again would be another parameter, so another
      // expression, and "minute" would be neither grouped nor aggregated.
      sql`SELECT type_key, metric, minute - (minute % ${HOUR}) AS hour, SUM(value) AS value FROM ${monitorCounters} WHERE minute < ${cutoff} AND ${notOnHour} AND metric NOT LIKE 'g:%' GROUP BY 1, 2, 3`,
    );
    const moved = sums.map((r) => ({ typeKey: r.type_key, metric: r.metric, minute: Number(r.hour), value: Number(r.value) })).filter((r) => r.value !== 0);
    for (let i = 0; i < moved.length; i += 500)
      await tx
        .insert(monitorCounters)
        .values(moved.slice(i, i + 500))
        .onConflictDoUpdate({
          target: [monitorCounters.typeKey, monitorCounters.metric, monitorCounters.minute],
          set: { value: sql`${monitorCounters.value} + excluded.value` },
        });
    const compacted = await tx
      .delete(monitorCounters)
      .where(and(lt(monitorCounters.minute, cutoff), sql`(${notOnHour} OR ${monitorCounters.metric} LIKE 'g:%')`))
      .returning({ m: monitorCounters.minute });
    const deleted = await tx.delete(monitorCounters).where(lt(monitorCounters.minute, oldest)).returning({ m: monitorCounters.minute });
    return { compacted: compacted.length, deleted: deleted.length };
  });
}

export const alertJsonSchema = z
  .object({
    id: z.string(),
    monitor: z.enum(MONITORS),
    type: z.string(),
    segment: z.string().describe('What the monitor looked at: "" for the whole type, "model=<version>", "segment=<value>"'),
    state: z.enum(ALERT_STATES),
    firedAt: z.iso.datetime().describe("The time of the data that made it fire (the end of the window it looked at)"),
    resolvedAt: z.iso.datetime().nullable(),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.string().nullable(),
    figures: z.record(z.string(), z.unknown()).describe("The figures that made it fire, and the windows it compared"),
  })
  .meta({ id: "Alert" });
export type AlertJson = z.output<typeof alertJsonSchema>;
export const alertListSchema = z.object({ alerts: z.array(alertJsonSchema) });

type AlertRow = typeof alerts.$inferSelect;

async function emailOf(db: DbOrTx, id: string | null): Promise<string | null> {
  if (!id) return null;
  return (await db.select({ email: users.email }).from(users).where(eq(users.id, id)).limit(1))[0]?.email ?? null;
}

/** The body of the alert.fired and alert.resolved webhook events. */
export const alertEventSchema = z
  .object({ type: z.enum(["alert.fired", "alert.resolved"]), timestamp: z.iso.datetime(), data: alertJsonSchema })
  .meta({ id: "AlertEvent" });

function toJson(r: AlertRow, acknowledgedBy: string | null): AlertJson {
  return {
    id: r.id,
    monitor: r.monitor as AlertJson["monitor"],
    type: r.typeKey,
    segment: r.segment,
    state: r.state,
    firedAt: new Date(r.firedAt).toISOString(),
    resolvedAt: r.resolvedAt === null ? null : new Date(r.resolvedAt).toISOString(),
    acknowledgedAt: r.acknowledgedAt === null ? null : new Date(r.acknowledgedAt).toISOString(),
    acknowledgedBy,
    figures: r.figures as Record<string, unknown>,
  };
}

export const alertQuerySchema = z
  .object({
    type: z.string().min(1).max(64).optional(),
    state: z.enum(ALERT_STATES, { error: `state must be one of ${ALERT_STATES.join(", ")}` }).optional(),
    from: isoInstant.optional().describe("Alerts that fired at or after this instant"),
    to: isoInstant.optional().describe("Alerts that fired before this instant"),
  })
  .strict();
export type AlertQuery = z.output<typeof alertQuerySchema>;

/** The types `who` owns (a person's; none for a key tied to nobody). */
async function ownedTypes(db: DbOrTx, who: Principal): Promise<string[]> {
  if (!who.user) return [];
  return (await db.select({ key: decisionTypes.key }).from(decisionTypes).where(eq(decisionTypes.ownerId, who.user.id))).map((r) => r.key);
}

/** The types whose alerts `who` sees: all of them with alerts:read, else the ones they own. */
async function visibleTypes(db: DbOrTx, who: Principal): Promise<string[] | "all"> {
  return can(who, "alerts:read") ? "all" : ownedTypes(db, who);
}

/** Reviewer-pattern alerts name a person: only admins and managers see them (not type owners, keys or webhooks). */
const REVIEWER_MONITOR = "reviewer";
function hiddenMonitors(who: Principal): SQL[] {
  return can(who, "alerts:acknowledge") && who.user ? [] : [ne(alerts.monitor, REVIEWER_MONITOR)];
}

/** Alerts are for admins, managers, read keys (alerts:read) and the owners of types: anyone else is refused (403). */
export async function requireAlertReader(db: DbOrTx, who: Principal): Promise<void> {
  if (can(who, "alerts:read")) return;
  if ((await ownedTypes(db, who)).length === 0) throw forbidden("Alerts are for admins, managers and the owners of decision types (alerts:read)");
}

/** GET /api/v1/alerts: newest first (at most 500). */
export async function listAlerts(db: DbOrTx, who: Principal, q: AlertQuery): Promise<AlertJson[]> {
  const visible = await visibleTypes(db, who);
  if (visible !== "all" && visible.length === 0) return [];
  const where: SQL[] = hiddenMonitors(who);
  if (visible !== "all") where.push(inArray(alerts.typeKey, visible));
  if (q.type) where.push(eq(alerts.typeKey, q.type));
  if (q.state) where.push(eq(alerts.state, q.state));
  if (q.from !== undefined) where.push(gte(alerts.firedAt, q.from));
  if (q.to !== undefined) where.push(lt(alerts.firedAt, q.to));
  const rows = await db
    .select({ a: alerts, by: users.email })
    .from(alerts)
    .leftJoin(users, eq(users.id, alerts.acknowledgedBy))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(alerts.firedAt), desc(alerts.seq))
    .limit(500);
  return rows.map((r) => toJson(r.a, r.by));
}

/** POST /api/v1/alerts/:id/acknowledge: a person who manages alerts, or the type's owner; a firing alert becomes acknowledged. */
export async function acknowledgeAlert(db: Db, who: Principal, id: string, now = Date.now()): Promise<AlertJson> {
  if (!who.user) throw forbidden("An alert is acknowledged by a person: use a session or a key tied to a user");
  const person = who.user;
  const owned = await ownedTypes(db, who);
  const anyType = can(who, "alerts:acknowledge");
  if (!anyType && owned.length === 0) throw forbidden("Alerts are acknowledged by admins, managers and the type's owner (alerts:acknowledge)");
  return transaction(db, async (tx) => {
    const row = (await tx.select().from(alerts).where(eq(alerts.id, id)).limit(1))[0];
    if (!row || !(anyType || owned.includes(row.typeKey)) || (row.monitor === REVIEWER_MONITOR && hiddenMonitors(who).length))
      throw notFound(`Alert ${id} not found`);
    if (row.state !== "firing") throw conflict(`Alert ${id} is ${row.state}: only a firing alert is acknowledged`);
    await tx.update(alerts).set({ state: "acknowledged", acknowledgedAt: now, acknowledgedBy: person.id, updatedAt: now }).where(eq(alerts.id, id));
    await appendAudit(tx, {
      actor: who.actor,
      action: "alert.acknowledged",
      entityType: "alert",
      entityId: id,
      data: { type: row.typeKey, monitor: row.monitor },
      at: now,
    });
    return toJson({ ...row, state: "acknowledged", acknowledgedAt: now, acknowledgedBy: person.id, updatedAt: now }, person.email);
  });
}

/** Open alerts (firing or acknowledged) `who` sees, oldest first: the banner. */
export async function openAlerts(db: DbOrTx, who: Principal): Promise<AlertJson[]> {
  const visible = await visibleTypes(db, who);
  if (visible !== "all" && visible.length === 0) return [];
  const where: SQL[] = [ne(alerts.state, "resolved"), ...hiddenMonitors(who)];
  if (visible !== "all") where.push(inArray(alerts.typeKey, visible));
  const rows = await db
    .select({ a: alerts, by: users.email })
    .from(alerts)
    .leftJoin(users, eq(users.id, alerts.acknowledgedBy))
    .where(and(...where))
    .orderBy(asc(alerts.firedAt));
  return rows.map((r) => toJson(r.a, r.by));
}

/** One point of an alert's chart: the monitored figure over the monitor's window ending at `end`, and how many it rests on. */
export type AlertPoint = { end: string; value: number | null; n: number };
export type AlertSeries = {
  label: string;
  unit: "rate" | "confidence" | "count" | "value";
  reference: number | null;
  referenceLabel: string;
  points: AlertPoint[];
};

/** The chart's step. */
export const ALERT_STEP_MS = 10 * MINUTE;
const BEFORE_MS = 4 * 60 * MINUTE;
const AFTER_MS = 60 * MINUTE;

type SeriesSpec = {
  label: string;
  unit: AlertSeries["unit"];
  reference: number | null;
  referenceLabel: string;
  /** Counters summed over each point's window: the figure is num / den (den "": num alone). A gauge is read at the point itself. */
  num: string[];
  den: string;
  gauge?: boolean;
  /** What one count of a `num` metric weighs (mean confidence, mean input value); 1 by default. */
  weight?: (metric: string) => number;
};

function seriesSpec(a: AlertJson): SeriesSpec | null {
  const f = a.figures as Record<string, unknown> & { baselineRate?: number | null; targetAccuracy?: number | null; expected?: number | null };
  const seg = a.segment ? ` (${a.segment})` : "";
  switch (a.monitor) {
    case "override_rate":
      return {
        label: `Override rate${seg}`,
        unit: "rate",
        reference: f.baselineRate ?? null,
        referenceLabel: "baseline",
        num: [`ovr:k|${a.segment}`],
        den: `ovr:n|${a.segment}`,
      };
    case "review_share":
      return { label: "Share routed to review", unit: "rate", reference: f.baselineRate ?? null, referenceLabel: "baseline", num: ["review"], den: "n" };
    case "qa_accuracy":
      return { label: "Auto-lane accuracy (QA)", unit: "rate", reference: f.targetAccuracy ?? null, referenceLabel: "target", num: ["qa:ok"], den: "qa:n" };
    case "confidence_psi":
      return {
        label: "Mean model confidence",
        unit: "confidence",
        reference: null,
        referenceLabel: "",
        num: Array.from({ length: CONFIDENCE_BINS }, (_, i) => `conf:${i}`),
        den: "n",
        // Each bin counts at its middle.
        weight: (m) => (Number(m.slice("conf:".length)) + 0.5) / CONFIDENCE_BINS,
      };
    case "volume":
      return { label: "Decisions in the window", unit: "count", reference: f.expected ?? null, referenceLabel: "usual", num: ["n"], den: "" };
    case "backlog":
      return { label: "Open review tasks", unit: "count", reference: null, referenceLabel: "", num: ["g:backlog"], den: "", gauge: true };
    case "sla_breaches":
      return { label: "Open tasks past their SLA", unit: "count", reference: null, referenceLabel: "", num: ["g:breaches"], den: "", gauge: true };
    case "reviewer": {
      const id = a.segment.slice("reviewer=".length);
      const peers = (f.peers as { approvalRate?: number | null } | undefined)?.approvalRate ?? null;
      return { label: "The reviewer's approval rate", unit: "rate", reference: peers, referenceLabel: "peers", num: [`rv:ok|${id}`], den: `rv:n|${id}` };
    }
    case "input_psi":
      // A number's mean (each fine bucket at its start); a category field has no single figure to draw.
      if (f.kind !== "number") return null;
      return { label: `Mean ${String(f.field)}`, unit: "value", reference: null, referenceLabel: "", num: [], den: "", weight: bucketWeight };
    case "model_version":
      return null;
  }
}

const bucketWeight = (metric: string) => bucketStart(metric.slice(metric.indexOf("|") + 1));

/**
 * The monitored figure around an alert's onset, as the monitor saw it: every 10 minutes from 4 hours before it
 * fired to an hour after (or to `now`), the figure over the monitor's recent window ending there (the
 * override or review share or QA accuracy of the alert's segment, the mean confidence or input value, the
 * decision count), or a gauge's reading there (backlog, SLA breaches), read from the counters.
 * `reference` is what it was compared with: the baseline, the peers, the usual count, or the target.
 * null for a monitor with no single figure over time (a category field, a model version change).
 */
export async function alertSeries(db: DbOrTx, a: AlertJson, now = Date.now()): Promise<AlertSeries | null> {
  const spec = seriesSpec(a);
  if (!spec) return null;
  const fired = Date.parse(a.firedAt);
  const f = a.figures as { recentWindow?: { from: string; to: string }; field?: string };
  const windowMs = spec.gauge ? MINUTE : f.recentWindow ? Date.parse(f.recentWindow.to) - Date.parse(f.recentWindow.from) : 30 * MINUTE;
  const first = Math.ceil((fired - BEFORE_MS) / ALERT_STEP_MS) * ALERT_STEP_MS;
  const last = Math.max(
    Math.ceil(fired / ALERT_STEP_MS) * ALERT_STEP_MS,
    Math.min(fired + AFTER_MS, Math.floor(minuteStart(now) / ALERT_STEP_MS) * ALERT_STEP_MS),
  );
  const input = a.monitor === "input_psi" ? `in:${f.field}|n:` : null;
  const metricFilter = input
    ? sql`${monitorCounters.metric} LIKE ${`${input}%`}`
    : inArray(monitorCounters.metric, spec.den ? [...spec.num, spec.den] : spec.num);
  const rows = await db
    .select({ metric: monitorCounters.metric, minute: monitorCounters.minute, value: monitorCounters.value })
    .from(monitorCounters)
    .where(and(eq(monitorCounters.typeKey, a.type), metricFilter, gte(monitorCounters.minute, first - windowMs), lt(monitorCounters.minute, last + MINUTE)));
  // Per minute, then summed over each point's window.
  const perMinute = new Map<number, { num: number; den: number }>();
  for (const r of rows) {
    const m = Number(r.minute);
    const cur = perMinute.get(m) ?? { num: 0, den: 0 };
    const v = Number(r.value);
    if (r.metric === spec.den) cur.den += v;
    else if (input) {
      cur.num += v * bucketWeight(r.metric);
      cur.den += v;
    } else cur.num += v * (spec.weight ? spec.weight(r.metric) : 1);
    perMinute.set(m, cur);
  }
  const ratio = Boolean(spec.den) || Boolean(input);
  const points: AlertPoint[] = [];
  for (let end = first; end <= last; end += ALERT_STEP_MS) {
    let n = 0;
    let k = 0;
    // A gauge is read where it was recorded: the evaluation at `end`.
    for (let m = spec.gauge ? end : end - windowMs; spec.gauge ? m === end : m < end; m += MINUTE) {
      const c = perMinute.get(m);
      if (c) {
        n += c.den;
        k += c.num;
      }
    }
    const value = ratio ? (n > 0 ? k / n : null) : spec.gauge && !perMinute.has(end) ? null : k;
    points.push({ end: new Date(end).toISOString(), value, n: ratio ? n : k });
  }
  const { label, unit, reference, referenceLabel } = spec;
  return { label, unit, reference, referenceLabel, points };
}

/** A reviewer alert names the person by id (the API's contract); pages show their email: id → email for the reviewer alerts given. */
export async function reviewerEmails(db: DbOrTx, list: readonly AlertJson[]): Promise<Map<string, string>> {
  const ids = [...new Set(list.filter((a) => a.monitor === REVIEWER_MONITOR).map((a) => a.segment.slice("reviewer=".length)))];
  if (ids.length === 0) return new Map();
  return new Map((await db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, ids))).map((u) => [u.id, u.email]));
}

/** How many firing alerts `who` sees (the banner on every page): 0 for anyone who reads no alerts. */
export async function firingAlertCount(db: DbOrTx, who: Principal): Promise<number> {
  const visible = await visibleTypes(db, who);
  if (visible !== "all" && visible.length === 0) return 0;
  const where: SQL[] = [eq(alerts.state, "firing"), ...hiddenMonitors(who)];
  if (visible !== "all") where.push(inArray(alerts.typeKey, visible));
  const row = (
    await db
      .select({ n: sql<number>`count(*)` })
      .from(alerts)
      .where(and(...where))
  )[0];
  return Number(row?.n ?? 0);
}
