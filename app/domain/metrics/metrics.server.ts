/**
 * The Prometheus metrics (/metrics), on prom-client's default registry: the
 * server build externalises node_modules, so the Remix build, scripts/server.js
 * (which reaches this module through the build's entry) and anything else in
 * the process share one prom-client instance and one registry.
 *
 * Two kinds of figures:
 * - counters and histograms that domain code moves as things happen (ingest,
 *   verdicts, webhook deliveries, HTTP requests): per process, like every
 *   Prometheus counter; sum them over instances in queries;
 * - gauges read from the database when scraped (queue depth and oldest task
 *   from task_counters and the tasks index, automation and override rates from
 *   the hourly roll-ups): cluster-wide, the same on every instance, so take one
 *   instance's value (max/avg), never the sum.
 */
import { and, eq, min, sql } from "drizzle-orm";
import { collectDefaultMetrics, Counter, Gauge, Histogram, register, type Metric } from "prom-client";
import { databaseReady, sqlAll, type DbOrTx } from "@db/client.server";
import { indexedBy } from "@db/sql";
import { decisionTypes, tasks } from "@db/schema/index";
import { errorFields, log } from "~/lib/log.server";
import { HOUR, hourStart } from "~/lib/time";
import { automationFigures, type Counters } from "../reports/metrics";
import { queueCounts } from "../queue/queue.server";

export const registry = register;

/**
 * One metric per name in the process: a second copy of this module (the Remix build loaded beside the sources,
 * as a benchmark or test does) uses the metric the first registered instead of failing to register its own.
 */
function once<M extends Metric>(metric: M): M {
  const existing = register.getSingleMetric((metric as unknown as { name: string }).name);
  if (existing) return existing as unknown as M;
  register.registerMetric(metric);
  return metric;
}

// ---------------------------------------------------------------- moved by domain code (per process)

const decisionsIngested = once(
  new Counter({
    registers: [],
    name: "lastmile_decisions_ingested_total",
    help: "Decisions stored by this process (replays of a stored decision excluded), by decision type and routing lane (route: auto or review). Per process: sum over instances.",
    labelNames: ["type", "route"] as const,
  }),
);

const reviewActions = once(
  new Counter({
    registers: [],
    name: "lastmile_review_actions_total",
    help: "Verdicts submitted through this process, by decision type and action (approve, correct, reject, escalate). Per process: sum over instances.",
    labelNames: ["type", "action"] as const,
  }),
);

const reviewDuration = once(
  new Histogram({
    registers: [],
    name: "lastmile_review_duration_seconds",
    help: "Seconds from a task's (latest) claim to its verdict, by decision type, observed by the process that took the verdict. Per process: sum over instances.",
    labelNames: ["type"] as const,
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
  }),
);

export const WEBHOOK_OUTCOMES = ["delivered", "failed", "dead"] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

const webhookDeliveries = once(
  new Counter({
    registers: [],
    name: "lastmile_webhook_deliveries_total",
    help: "Webhook delivery attempts made by this process, by outcome: delivered (2xx), failed (will be retried), dead (gave up; dead-lettered). Per process: sum over instances.",
    labelNames: ["outcome"] as const,
  }),
);
// Every outcome is exported from the start (at 0), so rate() and alerts see the series before the first failure.
for (const outcome of WEBHOOK_OUTCOMES) webhookDeliveries.inc({ outcome }, 0);

const httpDuration = once(
  new Histogram({
    registers: [],
    name: "lastmile_http_request_duration_seconds",
    help: "HTTP request duration in seconds on the main port, by method, route (the Remix route id; /healthz, /readyz, /metrics; static for built assets; unmatched) and status. Per process.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
);

/** Decisions newly stored by one ingest call: `types[i]` is the type of `results[i]`. */
export function recordDecisionsIngested(types: string[], results: ({ route: "auto" | "review"; created: boolean } | null)[]): void {
  const counts = new Map<string, { type: string; route: string; n: number }>();
  results.forEach((r, i) => {
    if (!r?.created) return;
    const k = `${types[i]}\u0000${r.route}`;
    const c = counts.get(k) ?? { type: types[i], route: r.route, n: 0 };
    c.n++;
    counts.set(k, c);
  });
  for (const c of counts.values()) decisionsIngested.inc({ type: c.type, route: c.route }, c.n);
}

/** A verdict that was committed; `claimedAt` (ms) when the task's claim is known. */
export function recordReviewAction(type: string, action: string, opts: { claimedAt?: number | null; now?: number } = {}): void {
  reviewActions.inc({ type, action });
  if (opts.claimedAt != null) reviewDuration.observe({ type }, Math.max(0, ((opts.now ?? Date.now()) - opts.claimedAt) / 1000));
}

/** Called by webhook delivery for every attempt's outcome. */
export function recordWebhookDelivery(outcome: WebhookOutcome): void {
  webhookDeliveries.inc({ outcome });
}

/** One HTTP request on the main port (scripts/server.js calls it when the response is finished). */
export function observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
  httpDuration.observe({ method, route, status: String(status) }, seconds);
}

// ---------------------------------------------------------------- read from the database on scrape (cluster-wide)

const queueDepth = once(
  new Gauge({
    registers: [],
    name: "lastmile_queue_depth",
    help: "Tasks per queue (decision type × task kind: review, qa, second, escalation) by status (open: waiting; claimed: under a lease), read from the database on scrape. Cluster-wide: the same on every instance.",
    labelNames: ["type", "kind", "status"] as const,
  }),
);

const oldestTask = once(
  new Gauge({
    registers: [],
    name: "lastmile_queue_oldest_task_age_seconds",
    help: "Age in seconds of the oldest open (unclaimed) task per queue (decision type × task kind), 0 when none is open, read from the database on scrape. Cluster-wide.",
    labelNames: ["type", "kind"] as const,
  }),
);

/** The window the rate gauges cover, in hours of occurrence before the current hour. */
export const RATE_WINDOW_HOURS = 24;

const automationRate = once(
  new Gauge({
    registers: [],
    name: "lastmile_automation_rate",
    help: `Share of finalized decisions that were decided automatically (auto / (auto + reviewed)), per decision type, over decisions that occurred in the last ${RATE_WINDOW_HOURS} hours (hourly roll-ups: the current UTC hour and the ${RATE_WINDOW_HOURS} before it); absent when none was finalized. Read on scrape; cluster-wide.`,
    labelNames: ["type"] as const,
  }),
);

const overrideRate = once(
  new Gauge({
    registers: [],
    name: "lastmile_override_rate",
    help: `Share of human-reviewed final decisions where the reviewer corrected or rejected the model output, per decision type, over decisions that occurred in the last ${RATE_WINDOW_HOURS} hours (hourly roll-ups: the current UTC hour and the ${RATE_WINDOW_HOURS} before it); absent when none was reviewed. Read on scrape; cluster-wide.`,
    labelNames: ["type"] as const,
  }),
);

const alertsOpen = once(
  new Gauge({
    registers: [],
    name: "lastmile_alerts_open",
    help: "Open drift alerts (firing or acknowledged) per decision type, monitor and state, read from the database on scrape; 0 for a type with none. Cluster-wide.",
    labelNames: ["type", "monitor", "state"] as const,
  }),
);

const scrapeErrors = once(
  new Counter({
    registers: [],
    name: "lastmile_metrics_database_errors_total",
    help: "Scrapes of this process whose database-derived gauges could not be read (they are left out of that scrape).",
  }),
);

const RATE_METRICS = ["final:auto", "final:reviewed", "outcome:corrected", "outcome:rejected"];

async function readQueues(db: DbOrTx, now: number): Promise<void> {
  const counts = await queueCounts(db);
  queueDepth.reset();
  oldestTask.reset();
  for (const q of counts) {
    queueDepth.set({ type: q.typeKey, kind: q.kind, status: "open" }, q.open);
    queueDepth.set({ type: q.typeKey, kind: q.kind, status: "claimed" }, q.claimed);
    let age = 0;
    if (q.open > 0) {
      // One index probe per non-empty queue (tasks_backlog_idx: status, type, kind, created_at), never a scan of the backlog.
      const row = (
        await db
          .select({ oldest: min(tasks.createdAt) })
          .from(tasks)
          .where(and(eq(tasks.status, "open"), eq(tasks.typeKey, q.typeKey), eq(tasks.kind, q.kind)))
      )[0];
      if (row?.oldest != null) age = Math.max(0, (now - Number(row.oldest)) / 1000);
    }
    oldestTask.set({ type: q.typeKey, kind: q.kind }, age);
  }
}

async function readRates(db: DbOrTx, now: number): Promise<void> {
  const types = (await db.select({ key: decisionTypes.key }).from(decisionTypes)).map((t) => t.key);
  automationRate.reset();
  overrideRate.reset();
  if (types.length === 0) return;
  const from = hourStart(now) - RATE_WINDOW_HOURS * HOUR;
  const list = (values: string[]) =>
    sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    );
  // Range scans on the roll-ups' (type, metric, hour) index: a few rows per type and hour.
  const rows = await sqlAll<{ typeKey: string; metric: string; value: number }>(
    db,
    sql`SELECT type_key AS "typeKey", metric, SUM(value) AS value FROM ${indexedBy(db, "rollups", "rollups_metric_idx")}
        WHERE type_key IN (${list(types)}) AND metric IN (${list(RATE_METRICS)}) AND hour >= ${from}
        GROUP BY type_key, metric`,
  );
  const byType = new Map<string, Counters>();
  for (const r of rows) {
    const m = byType.get(r.typeKey) ?? {};
    m[r.metric] = Number(r.value);
    byType.set(r.typeKey, m);
  }
  for (const [type, counters] of byType) {
    const f = automationFigures(counters);
    if (f.automationRate != null) automationRate.set({ type }, f.automationRate);
    if (f.overrideRate != null) overrideRate.set({ type }, f.overrideRate);
  }
}

async function readAlerts(db: DbOrTx): Promise<void> {
  const rows = await sqlAll<{ typeKey: string; monitor: string; state: string; n: number }>(
    db,
    sql`SELECT type_key AS "typeKey", monitor, state, COUNT(*) AS n FROM alerts WHERE state <> 'resolved' GROUP BY type_key, monitor, state`,
  );
  alertsOpen.reset();
  for (const r of rows) alertsOpen.set({ type: r.typeKey, monitor: r.monitor, state: r.state }, Number(r.n));
}

/** Refreshes the database-derived gauges; on failure they are left out of this scrape (and the failure counted and logged). */
export async function refreshDatabaseGauges(db?: DbOrTx, now = Date.now()): Promise<void> {
  try {
    const handle = db ?? (await databaseReady());
    await readQueues(handle, now);
    await readRates(handle, now);
    await readAlerts(handle);
  } catch (e) {
    for (const g of [queueDepth, oldestTask, automationRate, overrideRate, alertsOpen]) g.reset();
    scrapeErrors.inc();
    log().error(errorFields(e), "metrics: reading the database-derived gauges failed");
  }
}

export const metricsContentType = registry.contentType;

/** The exposition text of a scrape: the database gauges read now, then every metric of the registry. */
export async function metricsText(db?: DbOrTx): Promise<string> {
  await refreshDatabaseGauges(db);
  return registry.metrics();
}

let processMetrics = false;

/** Adds prom-client's default process metrics (CPU, memory, event loop, GC): once, and only where metrics are served. */
export function enableProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}
