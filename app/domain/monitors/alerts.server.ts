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
import { alerts, decisionTypes, monitorCounters, users } from "@db/schema/index";
import { ALERT_STATES } from "@db/schema/tables";
import { newId } from "~/lib/crypto.server";
import { conflict, forbidden, notFound } from "~/lib/errors";
import { can, type Principal } from "../auth/permissions";
import { appendAudit } from "../audit/audit.server";
import { listDecisionTypes, type DecisionType } from "../decision-types/decision-types.server";
import { isoInstant } from "../reports/query";
import { enqueueEvents, type OutboxEvent } from "../webhooks/outbox.server";
import { CONFIDENCE_BINS, MINUTE, minuteStart } from "./counters";
import { findings, MONITORS, windowsAt, type Counts, type Finding, type Window, type WindowCounts } from "./findings";

/** How long the per-minute counters are kept: the longest window a monitor may look back, and a day more. */
export const MONITOR_RETENTION_MS = 8 * 24 * 60 * MINUTE;

async function windowCounts(db: DbOrTx, typeKey: string, w: Window): Promise<Counts> {
  const rows = await sqlAll<{ metric: string; value: number | string }>(
    db,
    sql`SELECT metric, SUM(value) AS value FROM ${monitorCounters} WHERE type_key = ${typeKey} AND minute >= ${w.from} AND minute < ${w.to} GROUP BY metric`,
  );
  return new Map(rows.map((r) => [r.metric, Number(r.value)]));
}

export type EvaluationResult = { at: string; types: number; fired: AlertJson[]; resolved: AlertJson[] };

/**
 * One evaluation of every type's monitors on the data up to `at` (floored to the minute), in one
 * transaction per type. Returns the alerts it raised and resolved.
 */
export async function evaluateMonitors(db: Db, at: number = Date.now(), now: number = Date.now()): Promise<EvaluationResult> {
  const end = minuteStart(at);
  const out: EvaluationResult = { at: new Date(end).toISOString(), types: 0, fired: [], resolved: [] };
  for (const type of await listDecisionTypes(db)) {
    out.types++;
    const w = windowsAt(end, type.monitors);
    // Monitors often share a window (by default the recent and baseline ones): each distinct window is read once.
    const read = new Map<string, Promise<Counts>>();
    const counts = {} as { -readonly [K in keyof WindowCounts]: Counts };
    for (const k of Object.keys(w) as (keyof WindowCounts)[]) {
      const key = `${w[k].from}-${w[k].to}`;
      if (!read.has(key)) read.set(key, windowCounts(db, type.key, w[k]));
      counts[k] = await read.get(key)!;
    }
    const found = findings(type.monitors, type.targetAccuracy, w, counts);
    const { fired, resolved } = await transaction(db, (tx) => keepAlerts(tx, type, found, end, now));
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
      events.push({ eventType: "alert.fired", typeKey: type.key, entityId: row.id, data: json, at: now });
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
      events.push({ eventType: "alert.resolved", typeKey: type.key, entityId: existing.id, data: json, at: now });
    }
  }
  // Source systems hear of it by webhook, in the same transaction (the outbox).
  await enqueueEvents(tx, events);
  return { fired, resolved };
}

/** Deletes counters older than the retention (the monitor job, after each evaluation). */
export async function pruneMonitorCounters(db: DbOrTx, now: number = Date.now()): Promise<void> {
  await db.delete(monitorCounters).where(lt(monitorCounters.minute, minuteStart(now - MONITOR_RETENTION_MS)));
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

/** Alerts are for admins, managers, read keys (alerts:read) and the owners of types: anyone else is refused (403). */
export async function requireAlertReader(db: DbOrTx, who: Principal): Promise<void> {
  if (can(who, "alerts:read")) return;
  if ((await ownedTypes(db, who)).length === 0) throw forbidden("Alerts are for admins, managers and the owners of decision types (alerts:read)");
}

/** GET /api/v1/alerts: newest first (at most 500). */
export async function listAlerts(db: DbOrTx, who: Principal, q: AlertQuery): Promise<AlertJson[]> {
  const visible = await visibleTypes(db, who);
  if (visible !== "all" && visible.length === 0) return [];
  const where: SQL[] = [];
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
    if (!row || !(anyType || owned.includes(row.typeKey))) throw notFound(`Alert ${id} not found`);
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
  const where: SQL[] = [ne(alerts.state, "resolved")];
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
export type AlertSeries = { label: string; unit: "rate" | "confidence"; reference: number | null; referenceLabel: string; points: AlertPoint[] };

/** The chart's step. */
export const ALERT_STEP_MS = 10 * MINUTE;
const BEFORE_MS = 4 * 60 * MINUTE;
const AFTER_MS = 60 * MINUTE;

/**
 * The monitored figure around an alert's onset, as the monitor saw it: every 10 minutes from 4 hours before it
 * fired to an hour after (or to `now`), the figure over the monitor's recent window ending there (the
 * override or review share or QA accuracy of the alert's segment, or the mean confidence), read from the
 * per-minute counters. `reference` is what it was compared with: the baseline, or the target for QA accuracy.
 */
export async function alertSeries(db: DbOrTx, a: AlertJson, now = Date.now()): Promise<AlertSeries> {
  const fired = Date.parse(a.firedAt);
  const f = a.figures as { baselineRate?: number | null; targetAccuracy?: number | null; recentWindow?: { from: string; to: string } };
  const windowMs = f.recentWindow ? Date.parse(f.recentWindow.to) - Date.parse(f.recentWindow.from) : 30 * MINUTE;
  const first = Math.ceil((fired - BEFORE_MS) / ALERT_STEP_MS) * ALERT_STEP_MS;
  const last = Math.max(
    Math.ceil(fired / ALERT_STEP_MS) * ALERT_STEP_MS,
    Math.min(fired + AFTER_MS, Math.floor(minuteStart(now) / ALERT_STEP_MS) * ALERT_STEP_MS),
  );
  const metrics: Record<AlertJson["monitor"], { num: string[]; den: string }> = {
    override_rate: { num: [`ovr:k|${a.segment}`], den: `ovr:n|${a.segment}` },
    review_share: { num: ["review"], den: "n" },
    qa_accuracy: { num: ["qa:ok"], den: "qa:n" },
    confidence_psi: { num: Array.from({ length: CONFIDENCE_BINS }, (_, i) => `conf:${i}`), den: "n" },
  };
  const { num, den } = metrics[a.monitor];
  const rows = await db
    .select({ metric: monitorCounters.metric, minute: monitorCounters.minute, value: monitorCounters.value })
    .from(monitorCounters)
    .where(
      and(
        eq(monitorCounters.typeKey, a.type),
        inArray(monitorCounters.metric, [...num, den]),
        gte(monitorCounters.minute, first - windowMs),
        lt(monitorCounters.minute, last),
      ),
    );
  // Per minute, then summed over each point's window.
  const perMinute = new Map<number, { num: number; den: number }>();
  for (const r of rows) {
    const m = Number(r.minute);
    const cur = perMinute.get(m) ?? { num: 0, den: 0 };
    const v = Number(r.value);
    if (r.metric === den) cur.den += v;
    // Mean confidence: each bin counts at its middle.
    else if (a.monitor === "confidence_psi") cur.num += v * ((Number(r.metric.slice("conf:".length)) + 0.5) / CONFIDENCE_BINS);
    else cur.num += v;
    perMinute.set(m, cur);
  }
  const points: AlertPoint[] = [];
  for (let end = first; end <= last; end += ALERT_STEP_MS) {
    let n = 0;
    let k = 0;
    for (let m = end - windowMs; m < end; m += MINUTE) {
      const c = perMinute.get(m);
      if (c) {
        n += c.den;
        k += c.num;
      }
    }
    points.push({ end: new Date(end).toISOString(), value: n > 0 ? k / n : null, n });
  }
  const seg = a.segment ? ` (${a.segment})` : "";
  switch (a.monitor) {
    case "override_rate":
      return { label: `Override rate${seg}`, unit: "rate", reference: f.baselineRate ?? null, referenceLabel: "baseline", points };
    case "review_share":
      return { label: "Share routed to review", unit: "rate", reference: f.baselineRate ?? null, referenceLabel: "baseline", points };
    case "qa_accuracy":
      return { label: "Auto-lane accuracy (QA)", unit: "rate", reference: f.targetAccuracy ?? null, referenceLabel: "target", points };
    case "confidence_psi":
      return { label: "Mean model confidence", unit: "confidence", reference: null, referenceLabel: "", points };
  }
}

/** How many firing alerts `who` sees (the banner on every page): 0 for anyone who reads no alerts. */
export async function firingAlertCount(db: DbOrTx, who: Principal): Promise<number> {
  const visible = await visibleTypes(db, who);
  if (visible !== "all" && visible.length === 0) return 0;
  const where: SQL[] = [eq(alerts.state, "firing")];
  if (visible !== "all") where.push(inArray(alerts.typeKey, visible));
  const row = (
    await db
      .select({ n: sql<number>`count(*)` })
      .from(alerts)
      .where(and(...where))
  )[0];
  return Number(row?.n ?? 0);
}
