/**
 * Benchmark (issue 15): one evaluation of the drift monitors, `evaluateMonitors(db, at, now)`, on a store
 * of ~10,000 decisions and on one of ~10,000,000, with the same recent traffic. The evaluator reads
 * bounded windows of the per-minute monitor counters, a day of the model versions' roll-ups, the task
 * counters and a count of the open tasks past their SLA, so one evaluation should cost the same on both:
 * prints p50/p95 of each and the ratio big / small (target ≤ 1.5; PASS/FAIL, exit code 0 either way).
 *
 *   npm run bench:monitors                              # 10M decisions (SQLite and Postgres)
 *   BENCH_STORES=sqlite npm run bench:monitors
 *   BENCH_DECISIONS=1000000 BENCH_RUNS=30 npm run bench:monitors
 *
 * The stores, both made with generate.ts (generateReviewedInvoices):
 *   small  BENCH_SMALL_DECISIONS (10,000) decisions over the last two days (about 3.5 a minute), with
 *          their tasks and reviews;
 *   big    the same two days, row for row (the rows' content repeats every 3,000 rows), after
 *          BENCH_DECISIONS − small decisions spread evenly over the 363 days before: the last 33 days
 *          of them with tasks and reviews, the older ones decisions only (their tasks and reviews are
 *          never read by the monitors, and leaving them out keeps the load to a few minutes).
 * In both, the decisions of the last 75 minutes are not reviewed yet (open review and QA tasks, the older
 * ones past their one-hour SLA), and the big store also has a few hundred review tasks left open for
 * weeks (one in 2,503 of the last 33 days' tasks). The roll-ups and the monitor counters are then derived
 * from the rows with INSERT … SELECT … GROUP BY, in the shapes the write paths give them
 * (reports/contributions.ts, monitors/counters.ts): per-minute counter rows for the last two days, hour
 * rows (at the hour's first minute) back to 35 days, nothing older, as pruneMonitorCounters leaves them;
 * the task counters are kept by the tasks table's triggers. The type's monitors are all on, with
 * windows and minimum counts for ~3.5 decisions a minute, a segment field (pages) and two monitored
 * inputs (pages, a number; vendor, a category), so they reach verdicts rather than "too little data".
 *
 * The two stores are open side by side and evaluated alternately (after BENCH_WARMUP evaluations each,
 * which raise the alerts once), so a busy machine slows both alike. BENCH_EXPLAIN=1 prints the plans
 * of the evaluation's statements on the big Postgres store. The SQLite stores are measured as the app
 * leaves them (no ANALYZE: the app never runs it); Postgres gets VACUUM ANALYZE after the load, as
 * autovacuum would.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { closeDatabase, sqlAll, type Db } from "@db/client.server";
import { sqliteBenchStore, summaryLine } from "./common";
import { generateReviewedInvoices } from "./generate";
import { benchStore, describeStore, explainHotPath, onEachStore, pgClient, sideBySide, type StoreKind } from "./stores";
import { evaluateMonitors } from "~/domain/monitors/alerts.server";
import { CONFIDENCE_BINS, inputBucket, MINUTE } from "~/domain/monitors/counters";
import { monitorSettingsSchema } from "~/domain/monitors/settings";
import { ttdBucket } from "~/domain/reports/contributions";

const N = Number(process.env.BENCH_DECISIONS || 10_000_000);
const SMALL = Number(process.env.BENCH_SMALL_DECISIONS || 10_000);
const RUNS = Number(process.env.BENCH_RUNS || 50);
const WARMUP = Number(process.env.BENCH_WARMUP || 5);
const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
const TARGET = 1.5;
// The load's statements (a million rows each) run through the app's pool, whose statements time out after 30 s by default.
process.env.DATABASE_STATEMENT_TIMEOUT_MS ||= String(60 * 60_000);

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TYPE = "invoice";
/** The evaluation's time (a Monday noon, UTC): the data ends two minutes before it. */
const END = Date.UTC(2026, 5, 1, 12);
/** Per-minute counters for the last two days, hour rows back to 35 days (alerts.server.ts: MINUTE_RETENTION_MS, MONITOR_RETENTION_MS). */
const MINUTE_ROWS_FROM = END - 2 * DAY;
const OLDEST_COUNTER = END - 35 * DAY;
/** Decisions (and QA samples) of the last 75 minutes wait for their reviewer; tasks are due an hour after they open. */
const UNREVIEWED_FROM = END - 75 * MINUTE;
/** One in this many review tasks of the big store's history is still open (weeks past its SLA). */
const STRAGGLER_EVERY = 2_503;
/** Rows whose content is the same (generate.ts: what is counted of a row depends on its number modulo 3,000). */
const PERIOD = 3_000;
const CHUNK = 1_000_000;

/** The type's monitors, for ~3.5 decisions a minute: every monitor on, windows long enough to reach their minimum counts. */
const MONITORS = monitorSettingsSchema.parse({
  segmentField: "pages",
  inputs: ["pages", "vendor"],
  overrideRate: { windowMinutes: 240, minCount: 30 },
  qaAccuracy: { windowMinutes: 240, minCount: 20 },
  confidence: { windowMinutes: 60, minCount: 150 },
  inputDrift: { windowMinutes: 60, minCount: 150 },
  volume: { windowMinutes: 60, minExpected: 150 },
  reviewers: { windowMinutes: 240, minCount: 20 },
});
const TARGET_ACCURACY = 0.95;

type Layout = {
  recent: { first: number; rows: number; start: number; spacing: number };
  history: { old: number; middle: number; start: number; spacing: number };
};

/** Where the rows go: the recent two days (identical in both stores) and, for the big store, the history before them. */
function layout(total: number): Layout {
  const rows = Math.min(SMALL, total);
  const spacing = Math.floor((2 * DAY) / rows);
  // The history's row count is a multiple of PERIOD, so the recent rows of both stores have the same content.
  const historyRows = Math.max(0, Math.floor((total - rows) / PERIOD) * PERIOD);
  const recentFirstAt = END - 2 * MINUTE - (rows - 1) * spacing;
  const first = historyRows + 1;
  const hSpacing = historyRows ? Math.floor((363 * DAY) / historyRows) : 0;
  const hStart = recentFirstAt - (historyRows + 1) * hSpacing;
  // Rows from an hour before the counters' oldest row on get their tasks and reviews.
  const old = historyRows ? Math.max(0, Math.min(historyRows, Math.ceil((OLDEST_COUNTER - HOUR - hStart) / hSpacing) - 1)) : 0;
  return {
    recent: { first, rows, start: recentFirstAt - first * spacing, spacing },
    history: { old, middle: historyRows - old, start: hStart, spacing: hSpacing },
  };
}

async function generate(db: Db, l: Layout, big: boolean, between: () => Promise<void> = async () => {}): Promise<void> {
  const { recent, history } = l;
  // A million rows a transaction: SQLite's WAL (and Postgres's) stays small.
  for (let done = 0; big && done < history.old;) {
    const rows = Math.min(CHUNK, history.old - done);
    await generateReviewedInvoices(db, rows, {
      typeKey: TYPE,
      start: history.start,
      spacingMs: history.spacing,
      segment: true,
      rollups: false,
      decisionsOnly: true,
      first: done + 1,
    });
    done += rows;
    await between();
    progress(`history, decisions only: ${fmtN(done)} / ${fmtN(history.old)}`);
  }
  if (big && history.middle) {
    await generateReviewedInvoices(db, history.middle, {
      typeKey: TYPE,
      start: history.start,
      spacingMs: history.spacing,
      segment: true,
      rollups: false,
      first: history.old + 1,
    });
    progress(`history, with tasks and reviews: ${fmtN(history.middle)}`);
  }
  await generateReviewedInvoices(db, recent.rows, {
    typeKey: TYPE,
    start: recent.start,
    spacingMs: recent.spacing,
    segment: true,
    rollups: false,
    first: recent.first,
  });
  progress(`last two days: ${fmtN(recent.rows)}`);
}

/** The dialect's spellings of the few expressions the derivations need. */
function dialectSql(kind: StoreKind) {
  const lite = kind === "sqlite";
  return {
    lite,
    input: (field: string) => (lite ? `CAST(json_extract(d.input, '$.${field}') AS TEXT)` : `(d.input::json ->> '${field}')`),
    confBin: lite
      ? `min(${CONFIDENCE_BINS - 1}, max(0, CAST(d.confidence * ${CONFIDENCE_BINS} AS INTEGER)))`
      : `least(${CONFIDENCE_BINS - 1}, greatest(0, floor(d.confidence * ${CONFIDENCE_BINS})::int))`,
    max0: (x: string) => (lite ? `max(0, ${x})` : `greatest(0, ${x})`),
    flag: (cond: string) => `CASE WHEN ${cond} THEN 1 ELSE 0 END`,
  };
}

/** The queue now: what the last 75 minutes brought is not reviewed yet, and in the big store's history a few review tasks were never done. */
function openTasksSql(): string[] {
  const open = `type_key = '${TYPE}' AND status = 'done' AND (created_at >= ${UNREVIEWED_FROM} OR (kind = 'review' AND created_at < ${END - 3 * DAY} AND seq % ${STRAGGLER_EVERY} = 0))`;
  return [
    `DELETE FROM reviews WHERE decision_id IN (SELECT decision_id FROM tasks WHERE ${open})`,
    `UPDATE decisions SET status = 'pending_review', finalized_at = NULL, finalized_by = NULL, updated_at = received_at
       WHERE id IN (SELECT decision_id FROM tasks WHERE kind = 'review' AND ${open})`,
    `UPDATE tasks SET status = 'open', claimed_by = NULL, completed_at = NULL WHERE ${open}`,
  ];
}

/**
 * The roll-ups of every decision (reports/contributions.ts), from one pass grouping them per hour: a QA-sampled auto
 * decision has its QA verdict (an approval, as generate.ts writes them) unless it is among the unreviewed last 75 minutes.
 */
/** A statement, or one that is written once the statements before it have run. */
type Step = string | (() => Promise<string>);

function rollupsSql(kind: StoreKind, distinctTtd: (q: string) => Promise<number[]>): Step[] {
  const d = dialectSql(kind);
  const final = `status IN ('approved', 'corrected', 'rejected', 'auto_approved')`;
  const group = `CREATE TEMP TABLE g AS
    SELECT d.type_key, d.model_version AS v, d.policy_version AS pv, d.occurred_at - d.occurred_at % ${HOUR} AS hour, d.route, d.status,
           ${d.flag("d.qa_sampled")} AS qa, ${d.flag(`d.qa_sampled AND d.occurred_at < ${UNREVIEWED_FROM}`)} AS qa_done,
           CASE WHEN d.finalized_at IS NULL THEN NULL ELSE ${d.max0("d.finalized_at - d.received_at")} END AS ttd, count(*) AS n
    FROM decisions d GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`;
  return [
    group,
    async () => {
      const buckets = await distinctTtd(`SELECT DISTINCT ttd FROM g WHERE ttd IS NOT NULL`);
      const bucket = buckets.length ? `CASE ttd ${buckets.map((ms) => `WHEN ${ms} THEN '${ttdBucket(ms)}'`).join(" ")} END` : "NULL";
      return `INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
      SELECT type_key, v, pv, hour, metric, sum(n) FROM (
        SELECT type_key, v, pv, hour, 'volume' AS metric, n FROM g
        UNION ALL SELECT type_key, v, pv, hour, 'route:' || route, n FROM g
        UNION ALL SELECT type_key, v, pv, hour, 'rule:confidence', n FROM g WHERE route = 'review'
        UNION ALL SELECT type_key, v, pv, hour, CASE WHEN route = 'auto' THEN 'final:auto' ELSE 'final:reviewed' END, n FROM g WHERE ${final}
        UNION ALL SELECT type_key, v, pv, hour, 'outcome:' || status, n FROM g WHERE ${final}
        UNION ALL SELECT type_key, v, pv, hour, 'ttd:' || route || ':' || ${bucket}, n FROM g WHERE ${final} AND ttd IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'ttd_sum_ms', ttd * n FROM g WHERE ${final} AND ttd IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'field:total', n FROM g WHERE route = 'review' AND status = 'corrected'
        UNION ALL SELECT type_key, v, pv, hour, 'reason:WRONG_TOTAL', n FROM g WHERE route = 'review' AND status = 'corrected'
        UNION ALL SELECT type_key, v, pv, hour, 'reason:NOT_AN_INVOICE', n FROM g WHERE route = 'review' AND status = 'rejected'
        UNION ALL SELECT type_key, v, pv, hour, 'pending', n FROM g WHERE NOT (${final})
        UNION ALL SELECT type_key, v, pv, hour, 'qa:sampled', n FROM g WHERE qa = 1
        UNION ALL SELECT type_key, v, pv, hour, 'qa:reviewed', n FROM g WHERE qa_done = 1
        UNION ALL SELECT type_key, v, pv, hour, 'qa:approved', n FROM g WHERE qa_done = 1
      ) x GROUP BY 1, 2, 3, 4, 5`;
    },
    `DROP TABLE g`,
    `INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
      SELECT type_key, model_version, policy_version, hour - hour % ${DAY}, 'day:' || metric, sum(value) FROM rollups GROUP BY 1, 2, 3, 4, 5`,
  ];
}

/**
 * The monitor counters (monitors/counters.ts) of the last 35 days: each decision's state keyed by the minute it
 * occurred in, its monitored inputs, each verdict keyed by its minute; per-minute rows for the last two days,
 * older ones summed per hour. And the evaluator's gauges, one a minute for the last two days.
 */
function countersSql(kind: StoreKind): string[] {
  const d = dialectSql(kind);
  const slot = (t: string) => `CASE WHEN ${t} < ${MINUTE_ROWS_FROM} THEN ${t} - ${t} % ${HOUR} ELSE ${t} - ${t} % ${MINUTE} END`;
  const pagesBucket = `CASE ${d.input("pages")} ${[1, 2, 3, 4].map((p) => `WHEN '${p}' THEN '${inputBucket(p)}'`).join(" ")} END`;
  // One pass over the decisions (occurred_at has no index): the last 35 days' decisions, with what the counters need of them.
  const decisions = `CREATE TEMP TABLE c35 AS
    SELECT ${slot("d.occurred_at")} AS minute, d.route, d.status, d.model_version AS v, d.segment, ${d.confBin} AS bin,
           ${d.flag(`d.route = 'auto' AND d.qa_sampled AND d.occurred_at < ${UNREVIEWED_FROM}`)} AS qa_done,
           ${pagesBucket} AS pages, substr(${d.input("vendor")}, 1, 60) AS vendor
    FROM decisions d WHERE d.type_key = '${TYPE}' AND d.occurred_at >= ${OLDEST_COUNTER} AND d.occurred_at < ${END}`;
  const human = `route = 'review' AND status IN ('approved', 'corrected', 'rejected')`;
  const changed = `${human} AND status <> 'approved'`;
  const minutes = d.lite
    ? `WITH RECURSIVE m(minute) AS (SELECT ${MINUTE_ROWS_FROM} UNION ALL SELECT minute + ${MINUTE} FROM m WHERE minute + ${MINUTE} < ${END}) SELECT minute FROM m`
    : `SELECT minute FROM generate_series(${MINUTE_ROWS_FROM}::bigint, ${END - MINUTE}::bigint, ${MINUTE}) AS s(minute)`;
  return [
    decisions,
    `INSERT INTO monitor_counters (type_key, metric, minute, value)
     SELECT '${TYPE}', metric, minute, count(*) FROM (
       SELECT 'n' AS metric, minute FROM c35
       UNION ALL SELECT 'conf:' || bin, minute FROM c35
       UNION ALL SELECT 'review', minute FROM c35 WHERE route = 'review'
       UNION ALL SELECT 'ovr:n|', minute FROM c35 WHERE ${human}
       UNION ALL SELECT 'ovr:n|model=' || v, minute FROM c35 WHERE ${human}
       UNION ALL SELECT 'ovr:n|segment=' || segment, minute FROM c35 WHERE ${human} AND segment IS NOT NULL
       UNION ALL SELECT 'ovr:k|', minute FROM c35 WHERE ${changed}
       UNION ALL SELECT 'ovr:k|model=' || v, minute FROM c35 WHERE ${changed}
       UNION ALL SELECT 'ovr:k|segment=' || segment, minute FROM c35 WHERE ${changed} AND segment IS NOT NULL
       UNION ALL SELECT 'qa:n', minute FROM c35 WHERE qa_done = 1
       UNION ALL SELECT 'qa:ok', minute FROM c35 WHERE qa_done = 1
       UNION ALL SELECT 'in:pages|' || pages, minute FROM c35 WHERE pages IS NOT NULL
       UNION ALL SELECT 'in:vendor|c:' || vendor, minute FROM c35 WHERE vendor IS NOT NULL
     ) x GROUP BY metric, minute`,
    `DROP TABLE c35`,
    // A reviewer's verdicts, at the minute of the verdict (no handling time recorded: none counts as fast).
    `INSERT INTO monitor_counters (type_key, metric, minute, value)
     SELECT '${TYPE}', metric, minute, count(*) FROM (
       SELECT 'rv:n|' || r.reviewer_id AS metric, ${slot("r.created_at")} AS minute FROM reviews r
         WHERE r.created_at >= ${OLDEST_COUNTER} AND r.created_at < ${END} AND r.action IN ('approve', 'correct', 'reject')
       UNION ALL SELECT 'rv:ok|' || r.reviewer_id, ${slot("r.created_at")} FROM reviews r
         WHERE r.created_at >= ${OLDEST_COUNTER} AND r.created_at < ${END} AND r.action = 'approve'
     ) x GROUP BY metric, minute`,
    // The evaluator ran every minute: the review backlog and the SLA breaches it saw (today's, throughout).
    `INSERT INTO monitor_counters (type_key, metric, minute, value)
     SELECT '${TYPE}', 'g:backlog', minute, (SELECT coalesce(sum(n), 0) FROM task_counters WHERE type_key = '${TYPE}' AND kind IN ('review', 'second') AND status IN ('open', 'claimed')) FROM (${minutes}) m`,
    `INSERT INTO monitor_counters (type_key, metric, minute, value)
     SELECT '${TYPE}', 'g:breaches', minute, (SELECT count(*) FROM tasks WHERE status IN ('open', 'claimed') AND type_key = '${TYPE}' AND kind IN ('review', 'second', 'qa') AND due_at < ${END}) FROM (${minutes}) m`,
    `UPDATE decision_types SET monitors = '${JSON.stringify(MONITORS)}', target_accuracy = ${TARGET_ACCURACY} WHERE key = '${TYPE}'`,
  ];
}

type Built = {
  db: Db;
  label: string;
  decisions: number;
  counterRows: number;
  rollupRows: number;
  openTasks: number;
  pastDue: number;
  size: string;
  seconds: number;
};

async function describe(db: Db, label: string, t0: number, size: string): Promise<Built> {
  const one = async (q: string) => Number((await sqlAll<{ n: number | string }>(db, sql.raw(q)))[0].n);
  const b: Built = {
    db,
    label,
    decisions: await one(`SELECT count(*) AS n FROM decisions`),
    counterRows: await one(`SELECT count(*) AS n FROM monitor_counters`),
    rollupRows: await one(`SELECT count(*) AS n FROM rollups`),
    openTasks: await one(`SELECT coalesce(sum(n), 0) AS n FROM task_counters WHERE status IN ('open', 'claimed')`),
    pastDue: await one(`SELECT count(*) AS n FROM tasks WHERE status IN ('open', 'claimed') AND due_at < ${END}`),
    size,
    seconds: (performance.now() - t0) / 1000,
  };
  console.log(
    `  ${label}: ${fmtN(b.decisions)} decisions, ${fmtN(b.counterRows)} monitor counter rows, ${fmtN(b.rollupRows)} roll-up rows, ` +
      `${fmtN(b.openTasks)} open tasks (${fmtN(b.pastDue)} past due); ${size}; built in ${b.seconds.toFixed(0)} s`,
  );
  return b;
}

async function buildSqlite(file: string, total: number, label: string): Promise<Built> {
  const t0 = performance.now();
  const { db, sqlite } = await sqliteBenchStore(file);
  // Bulk load: no journal, no fsync; the file is thrown away afterwards. The app's settings come back for the measurement.
  const journal = sqlite.pragma("journal_mode = OFF", { simple: true });
  if (journal !== "off") console.log(`  (journal_mode stays ${String(journal)} for the load)`);
  sqlite.pragma("cache_size = -1048576");
  sqlite.pragma("temp_store = MEMORY");
  const big = total > SMALL;
  await generate(db, layout(total), big, async () => {
    sqlite.pragma("wal_checkpoint(TRUNCATE)");
  });
  sqlite.pragma("synchronous = OFF");
  const run = async (statements: Step[]) => {
    for (const s of statements) sqlite.exec(typeof s === "string" ? s : await s());
  };
  await run(openTasksSql());
  await run(rollupsSql("sqlite", async (q) => (sqlite.prepare(q).all() as { ttd: number }[]).map((r) => Number(r.ttd))));
  progress("roll-ups derived");
  await run(countersSql("sqlite"));
  progress("monitor counters derived");
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("cache_size = -32000");
  // A settled store: the load's WAL checkpointed into the file (readers would otherwise look every page up in a GB-sized WAL).
  sqlite.pragma("wal_checkpoint(TRUNCATE)");
  return describe(db, label, t0, `${(fs.statSync(file).size / 1e9).toFixed(2)} GB`);
}

async function buildPostgres(total: number, label: string): Promise<Built & { target: string }> {
  const t0 = performance.now();
  const store = await benchStore("postgres");
  const db = store.db;
  const c = await pgClient(store.target);
  try {
    await c.query("SET maintenance_work_mem = '512MB'");
    await c.query("SET work_mem = '256MB'");
    // The decisions table's secondary indexes are rebuilt after the load (constraint-backed ones stay), as bench:reports does.
    const indexes = (
      await c.query<{ name: string; def: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'decisions'
           AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'decisions'::regclass)`,
      )
    ).rows;
    const big = total > SMALL;
    if (big) for (const ix of indexes) await c.query(`DROP INDEX ${ix.name}`);
    await generate(db, layout(total), big);
    if (big) for (const ix of indexes) await c.query(ix.def);
    const run = async (statements: Step[]) => {
      for (const s of statements) await c.query(typeof s === "string" ? s : await s());
    };
    await run(openTasksSql());
    await run(rollupsSql("postgres", async (q) => (await c.query<{ ttd: string }>(q)).rows.map((r) => Number(r.ttd))));
    progress("roll-ups derived");
    await run(countersSql("postgres"));
    progress("monitor counters derived");
    // What autovacuum leaves a settled table with: statistics and a visibility map.
    await c.query("VACUUM ANALYZE");
    const size = Number((await c.query("SELECT pg_database_size(current_database()) AS n")).rows[0].n) / 1e9;
    return { ...(await describe(db, label, t0, `${size.toFixed(2)} GB`)), target: store.target };
  } finally {
    await c.end();
  }
}

/** The recent windows' counts (the evaluator's longest span: the longest recent window and the day before it): they must be equal in both stores. */
async function windowCounts(db: Db): Promise<string> {
  const rows = await sqlAll<{ metric: string; v: number | string }>(
    db,
    sql`SELECT metric, SUM(value) AS v FROM monitor_counters WHERE type_key = ${TYPE} AND minute >= ${END - (240 + 1440) * MINUTE} AND minute < ${END} AND metric NOT LIKE 'g:%' GROUP BY metric ORDER BY metric`,
  );
  return rows.map((r) => `${r.metric}=${Number(r.v)}`).join(",");
}

async function openAlertList(db: Db): Promise<string> {
  const rows = await sqlAll<{ monitor: string; segment: string }>(
    db,
    sql`SELECT monitor, segment FROM alerts WHERE state <> 'resolved' ORDER BY monitor, segment`,
  );
  return rows.map((r) => (r.segment ? `${r.monitor} (${r.segment})` : r.monitor)).join(", ") || "none";
}

type Result = { small: Built; big: Built; smallMs: number[]; bigMs: number[]; sameWindows: boolean; alerts: { small: string; big: string } };

async function measure(small: Built, big: Built): Promise<Omit<Result, "small" | "big">> {
  const sameWindows = (await windowCounts(small.db)) === (await windowCounts(big.db));
  console.log(`  the windows the evaluator reads hold the same counts in both stores: ${sameWindows ? "yes" : "NO"}`);
  const once = async (db: Db) => {
    const s = performance.now();
    await evaluateMonitors(db, END, END);
    return performance.now() - s;
  };
  for (let i = 0; i < WARMUP; i++) {
    await once(small.db);
    await once(big.db);
  }
  const alerts = { small: await openAlertList(small.db), big: await openAlertList(big.db) };
  console.log(`  open alerts after the first evaluation: small: ${alerts.small}`);
  console.log(`                                            big: ${alerts.big}`);
  const smallMs: number[] = [];
  const bigMs: number[] = [];
  // Alternately, in the opposite order every other round, so neither store always runs right after the other.
  for (let i = 0; i < RUNS; i++) {
    if (i % 2) {
      bigMs.push(await once(big.db));
      smallMs.push(await once(small.db));
    } else {
      smallMs.push(await once(small.db));
      bigMs.push(await once(big.db));
    }
  }
  const r = { smallMs, bigMs, sameWindows, alerts };
  print(small, big, r);
  return r;
}

function print(small: Built, big: Built, r: Pick<Result, "smallMs" | "bigMs">) {
  const line = (b: Built, xs: number[]) =>
    `  ${b.label.padEnd(5)} ${fmtN(b.decisions).padStart(10)} decisions  p50 ${ms(pct(xs, 50))}  p95 ${ms(pct(xs, 95))}  (${RUNS} evaluations)`;
  console.log("");
  console.log(`one evaluateMonitors call (1 type, all monitors on), in-process`);
  console.log(line(small, r.smallMs));
  console.log(line(big, r.bigMs));
  const p50 = pct(r.bigMs, 50) / pct(r.smallMs, 50);
  const p95 = pct(r.bigMs, 95) / pct(r.smallMs, 95);
  console.log(`  ratio big / small: p50 ${p50.toFixed(2)}×, p95 ${p95.toFixed(2)}×   target: p50 ratio ≤ ${TARGET} → ${verdict(p50)}`);
}

const verdict = (ratio: number) => (ratio <= TARGET ? "PASS" : "FAIL");

async function runSqlite(): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-monitors-"));
  try {
    const small = await buildSqlite(path.join(dir, "small.db"), SMALL, "small");
    const big = await buildSqlite(path.join(dir, "big.db"), N, "big");
    const r = await measure(small, big);
    await closeDatabase(small.db);
    await closeDatabase(big.db);
    return { small, big, ...r };
  } finally {
    if (process.env.BENCH_KEEP) console.log(`  kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(): Promise<Result> {
  const small = await buildPostgres(SMALL, "small");
  const big = await buildPostgres(N, "big");
  const r = await measure(small, big);
  if (EXPLAIN) {
    console.log("");
    console.log(await explainHotPath(big.target, "evaluateMonitors on the big store", () => evaluateMonitors(big.db, END, END)));
  }
  await closeDatabase(small.db);
  await closeDatabase(big.db);
  return { small, big, ...r };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const fmtN = (n: number) => n.toLocaleString("en");
const started = performance.now();
const progress = (what: string) => console.log(`  … ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`);

async function main() {
  const {
    kinds,
    results,
    column: v,
  } = await onEachStore(async (kind) => {
    console.log(`\n### ${await describeStore(kind)}`);
    return kind === "sqlite" ? runSqlite() : runPostgres();
  });
  console.log("");
  console.log(
    sideBySide(`one drift monitor evaluation, ${fmtN(SMALL)} vs ${fmtN(N)} decisions, side by side`, kinds, [
      { label: "small store, p50", values: v((r) => ms(pct(r.smallMs, 50))) },
      { label: "small store, p95", values: v((r) => ms(pct(r.smallMs, 95))) },
      { label: "big store, p50", values: v((r) => ms(pct(r.bigMs, 50))) },
      { label: "big store, p95", values: v((r) => ms(pct(r.bigMs, 95))) },
      {
        label: "ratio big / small, p50",
        values: v((r) => `${(pct(r.bigMs, 50) / pct(r.smallMs, 50)).toFixed(2)}×`),
        target: (k) => `≤ ${TARGET}× ${verdict(pct(results[k]!.bigMs, 50) / pct(results[k]!.smallMs, 50))}`,
      },
      { label: "ratio big / small, p95", values: v((r) => `${(pct(r.bigMs, 95) / pct(r.smallMs, 95)).toFixed(2)}×`) },
      { label: "same counts in the windows", values: v((r) => (r.sameWindows ? "yes" : "NO")) },
    ]),
  );
  for (const k of kinds) {
    const ratio = pct(results[k].bigMs, 50) / pct(results[k].smallMs, 50);
    summaryLine({
      bench: "monitors",
      store: k,
      figure: "evaluation time big / small store, p50",
      value: `${ratio.toFixed(2)}x`,
      target: `<= ${TARGET}x`,
      ok: ratio <= TARGET,
    });
  }
}

await main();
