/**
 * Benchmark: the automation report over 90 days with 10,000,000 decisions in
 * the database, read from the roll-ups, against a plain aggregate query over
 * the decisions table in the same run. Prints p50/p95 of both and the ratio.
 *
 *   npm run bench:reports                 # 10M decisions (a few minutes, ~3 GB temp file, deleted after)
 *   BENCH_DECISIONS=1000000 npm run bench:reports
 *
 * Also times the same report for an organisation whose time zone is off UTC (BENCH_ZONE,
 * default America/New_York): its days are summed from the hourly roll-ups, not the daily ones.
 *
 * The rows are generated in SQL (one transaction, minimal columns, a realistic
 * spread: a working-day/night rhythm, 75% automation, a new model version for the
 * last 30 days) and the roll-ups are derived from them with INSERT … SELECT … GROUP BY,
 * using the same contribution rules as the write paths.
 *
 * Runs on SQLite and on Postgres in one run (BENCH_STORES, see stores.ts) and prints
 * them side by side. On Postgres the same rows come from INSERT … SELECT FROM
 * generate_series (the decisions table's secondary indexes are dropped for the load
 * and rebuilt after it, then VACUUM ANALYZE, as autovacuum would leave the table), and
 * the same roll-ups from the same GROUP BY. BENCH_EXPLAIN=1 prints the report's plans.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { closeDatabase, sqlAll, type Db } from "@db/client.server";
import { sqliteBenchStore, summaryLine } from "./common";
import { benchStore, onEachStore, describeStore, explainHotPath, pgClient, sideBySide } from "./stores";
import { createUser } from "~/domain/auth/users.server";
import { upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import { ttdBucket } from "~/domain/reports/contributions";
import { automationReport, reportPage } from "~/domain/reports/reports.server";
import { DAY, HOUR } from "~/lib/time";

const N = Number(process.env.BENCH_DECISIONS || 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS || 40);
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS || 3);
const CHUNK = 1_000_000;

const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
/** The organisation time zone of the zoned figure (days summed from the hourly roll-ups). */
const ZONE = process.env.BENCH_ZONE || "America/New_York";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-reports-"));
const file = path.join(dir, "bench.db");

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;

const end = Math.floor(Date.parse("2026-01-01T00:00:00Z") / HOUR) * HOUR;
const start = end - 90 * DAY;
const launch = end - 30 * DAY;
const span = end - start;
// Deterministic pseudo-random numbers from the row number (random() would be re-evaluated per use).
const h1 = "((i * 2654435761) % 1000)";
const h2 = "((i * 40503 + 7919) % 1000)";
const h3 = "((i * 69069 + 12345) % 28800000)";
// Uniform spread plus a day/night rhythm: a third of the night's decisions move into working hours.
const occurred = `(${start} + (i * ${span}) / ${N} + CASE WHEN ((${start} + (i * ${span}) / ${N}) % ${DAY}) < ${7 * HOUR} AND ${h2} < 333 THEN ${9 * HOUR} ELSE 0 END)`;

type Result = {
  rollups: number[];
  hourly: number[];
  zoned: number[];
  page: number[];
  plain: number[];
  same: boolean;
};

async function setup(db: Db) {
  const { user } = await createUser(
    db,
    {
      email: "bench@example.com",
      role: "manager",
      password: "bench bench bench",
    },
    "bench",
  );
  await upsertDecisionType(
    db,
    {
      key: "bench",
      name: "Bench",
      owner: user.email,
      outputSchema: { type: "object", properties: { ok: { type: "boolean" } } },
      routing: { minConfidence: 0.9, qaSampleRate: 0.05 },
      slaMinutes: 240,
      reasonCodes: [],
    },
    "bench",
  );
}

async function runSqlite(): Promise<Result> {
  const t0 = performance.now();
  const { db, sqlite } = await sqliteBenchStore(file);
  await setup(db);

  // Bulk load: no journal, no fsync; the file is thrown away afterwards.
  sqlite.pragma("journal_mode = OFF");
  sqlite.pragma("synchronous = OFF");
  sqlite.pragma("cache_size = -1048576");
  sqlite.pragma("temp_store = MEMORY");
  sqlite.function("ttd_bucket", { deterministic: true }, (x: unknown) => ttdBucket(Number(x)));

  const insert = sqlite.prepare(`
    WITH RECURSIVE c(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM c WHERE i + 1 < ?),
    g AS (
      SELECT i, min(${occurred}, ${end - 1}) AS occ,
             CASE WHEN ${h1} < 750 THEN 'auto' ELSE 'review' END AS route,
             ${h2} AS r2, ${h3} AS wait
      FROM c)
    INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence, flags,
                           occurred_at, received_at, route, reasons, policy_version, qa_sampled, status, final_output, finalized_at, finalized_by, updated_at)
    SELECT printf('d%09d', i), 'bench', printf('e%09d', i), '', 'm', CASE WHEN occ < ${launch} THEN '1.0' ELSE '2.0' END, '{}', '{}',
           CASE WHEN route = 'auto' THEN 0.95 ELSE 0.6 END, '[]',
           occ, occ + 500, route,
           CASE WHEN route = 'auto' THEN '[]' ELSE '["confidence 0.6 < 0.9"]' END, 1,
           route = 'auto' AND r2 < 50,
           CASE WHEN route = 'auto' THEN 'auto_approved'
                WHEN occ > ${end - 2 * DAY} AND r2 < 600 THEN 'pending_review'
                WHEN r2 < 700 THEN 'approved' WHEN r2 < 900 THEN 'corrected' WHEN r2 < 950 THEN 'rejected' ELSE 'pending_review' END,
           NULL,
           CASE WHEN route = 'auto' THEN occ + 500 WHEN (occ > ${end - 2 * DAY} AND r2 < 600) OR r2 >= 950 THEN NULL ELSE occ + 500 + 60000 + wait END,
           NULL, occ + 500
    FROM g`);

  const load = sqlite.transaction(() => {
    for (let from = 0; from < N; from += CHUNK) {
      insert.run(from, Math.min(N, from + CHUNK));
      process.stdout.write(`\r  generating decisions: ${Math.min(N, from + CHUNK).toLocaleString("en")} / ${N.toLocaleString("en")}`);
    }
    process.stdout.write("\n  deriving roll-ups…\n");
    // One pass over the decisions into per-hour groups, then one row per metric.
    sqlite.exec(`
      CREATE TEMP TABLE g AS
      SELECT type_key, model_version AS v, policy_version AS pv, occurred_at - occurred_at % ${HOUR} AS hour, route, status, qa_sampled AS qa,
             CASE WHEN finalized_at IS NULL THEN NULL ELSE ttd_bucket(max(0, finalized_at - received_at)) END AS b,
             count(*) AS n, sum(CASE WHEN finalized_at IS NULL THEN 0 ELSE max(0, finalized_at - received_at) END) AS ttd_sum
      FROM decisions GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
      SELECT type_key, v, pv, hour, metric, sum(n) FROM (
        SELECT type_key, v, pv, hour, 'volume' AS metric, n FROM g
        UNION ALL SELECT type_key, v, pv, hour, 'route:' || route, n FROM g
        UNION ALL SELECT type_key, v, pv, hour, 'rule:confidence', n FROM g WHERE route = 'review'
        UNION ALL SELECT type_key, v, pv, hour, CASE WHEN route = 'auto' THEN 'final:auto' ELSE 'final:reviewed' END, n FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'outcome:' || status, n FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'ttd:' || route || ':' || b, n FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'ttd_sum_ms', ttd_sum FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'pending', n FROM g WHERE b IS NULL
        UNION ALL SELECT type_key, v, pv, hour, 'qa:sampled', n FROM g WHERE qa
      ) GROUP BY 1, 2, 3, 4, 5;
      DROP TABLE g;
      INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
      SELECT type_key, model_version, policy_version, hour - hour % ${DAY}, 'day:' || metric, sum(value) FROM rollups
      GROUP BY 1, 2, 3, 4, 5;`);
  });
  load();
  sqlite.exec("ANALYZE");
  const rollupRows = (sqlite.prepare("SELECT count(*) AS n FROM rollups").get() as { n: number }).n;
  const sizeGb = fs.statSync(file).size / 1e9;
  console.log(
    `  loaded ${N.toLocaleString("en")} decisions and ${rollupRows.toLocaleString("en")} roll-up rows in ${((performance.now() - t0) / 1000).toFixed(0)} s (${sizeGb.toFixed(2)} GB)`,
  );

  const plainStmt = sqlite.prepare(`
    SELECT occurred_at - occurred_at % ${DAY} AS day, count(*) AS volume,
           sum(status = 'auto_approved') AS auto, sum(status IN ('approved', 'corrected', 'rejected')) AS reviewed,
           sum(status IN ('pending_review', 'in_review', 'escalated')) AS pending,
           sum(status = 'corrected') AS corrected, sum(status = 'rejected') AS rejected
    FROM decisions WHERE type_key = ? AND occurred_at >= ? AND occurred_at < ? GROUP BY 1 ORDER BY 1`);
  const plain = async () => plainStmt.all("bench", start, end) as Plain[];
  const result = await measure(db, plain);
  await closeDatabase(db);
  return result;
}

type Plain = {
  volume: number;
  auto: number;
  reviewed: number;
  pending: number;
  corrected: number;
  rejected: number;
};
const q = { type: "bench", from: start, to: end, bucket: "day" as const };

/** The report (roll-ups) and the plain aggregate over the decisions table, timed on one store. */
async function measure(db: Db, plain: () => Promise<Plain[]>): Promise<Result> {
  // The report, as the API route computes and serializes it.
  const report = async () => JSON.stringify(await automationReport(db, q));

  // Both must say the same thing before either is timed.
  const r = await automationReport(db, q);
  const p = await plain();
  const sum = (k: keyof (typeof p)[number]) => p.reduce((s, x) => s + Number(x[k]), 0);
  const same = (["volume", "auto", "reviewed", "pending", "corrected", "rejected"] as const).every((k) => r.totals[k] === sum(k));
  console.log(
    `  totals: volume ${r.totals.volume}, auto ${r.totals.auto}, reviewed ${r.totals.reviewed}, pending ${r.totals.pending}; automation rate ${(r.totals.automationRate! * 100).toFixed(2)}%; roll-ups ${same ? "match" : "DO NOT MATCH"} the plain aggregate`,
  );
  if (!same) process.exitCode = 1;

  // Awaited: the report is async (an un-awaited call would time only its first query).
  const time = async (fn: () => unknown, runs: number) => {
    await fn();
    const out: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await fn();
      out.push(performance.now() - s);
    }
    return out;
  };
  const rollupTimes = await time(report, RUNS);
  const hourly = await time(async () => JSON.stringify(await automationReport(db, { ...q, bucket: "hour" })), RUNS);
  // An organisation in a zone off UTC: its days are not UTC days, so they are summed from the hourly rows.
  const zoned = { ...q, zone: ZONE };
  const zonedTotals = (await automationReport(db, zoned)).totals;
  if (zonedTotals.volume !== r.totals.volume) {
    console.log(`  by day in ${ZONE}: volume ${zonedTotals.volume}, not ${r.totals.volume}`);
    process.exitCode = 1;
  }
  const zonedTimes = await time(async () => JSON.stringify(await automationReport(db, zoned)), RUNS);
  const pageTimes = await time(async () => JSON.stringify(await reportPage(db, q)), 10);
  const plainTimes = await time(plain, BASELINE_RUNS);

  print({
    rollups: rollupTimes,
    hourly,
    zoned: zonedTimes,
    page: pageTimes,
    plain: plainTimes,
    same,
  });
  return {
    rollups: rollupTimes,
    hourly,
    zoned: zonedTimes,
    page: pageTimes,
    plain: plainTimes,
    same,
  };
}

function print(r: Result) {
  console.log("");
  console.log(`automation report, 90 days, ${N.toLocaleString("en")} decisions (in-process server time)`);
  console.log(`  roll-ups, by day     p50 ${ms(pct(r.rollups, 50))}  p95 ${ms(pct(r.rollups, 95))}  (${RUNS} runs)`);
  console.log(`  roll-ups, by hour    p50 ${ms(pct(r.hourly, 50))}  p95 ${ms(pct(r.hourly, 95))}  (${RUNS} runs)`);
  console.log(
    `  by day in ${ZONE}  p50 ${ms(pct(r.zoned, 50))}  p95 ${ms(pct(r.zoned, 95))}  (${RUNS} runs; an organisation off UTC: days from the hourly rows)`,
  );
  console.log(`  whole /reports page  p50 ${ms(pct(r.page, 50))}  p95 ${ms(pct(r.page, 95))}  (10 runs; every chart and table, by day)`);
  console.log(`  plain aggregate      p50 ${ms(pct(r.plain, 50))}  p95 ${ms(pct(r.plain, 95))}  (${BASELINE_RUNS} runs, GROUP BY over the decisions table)`);
  console.log(
    `  ratio (plain p95 / roll-ups p95): ${(pct(r.plain, 95) / pct(r.rollups, 95)).toFixed(0)}×   target: roll-ups p95 < 50 ms → ${pct(r.rollups, 95) < 50 ? "met" : "NOT met"}`,
  );
}

/** The same rows and roll-ups on Postgres, set-based (generate_series), in a fresh database. */
async function runPostgres(): Promise<Result> {
  const t0 = performance.now();
  const store = await benchStore("postgres");
  const db = store.db;
  await setup(db);
  const c = await pgClient(store.target);
  try {
    await c.query("SET maintenance_work_mem = '512MB'");
    await c.query("SET work_mem = '256MB'");
    // Secondary indexes of decisions are rebuilt after the load (constraint-backed ones stay).
    const indexes = (
      await c.query<{ name: string; def: string }>(
        `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'decisions'
           AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'decisions'::regclass)`,
      )
    ).rows;
    for (const ix of indexes) await c.query(`DROP INDEX ${ix.name}`);
    for (let from = 0; from < N; from += CHUNK) {
      await c.query(`
        INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence, flags,
                               occurred_at, received_at, route, reasons, policy_version, qa_sampled, status, final_output, finalized_at, finalized_by, updated_at)
        SELECT 'd' || lpad(i::text, 9, '0'), 'bench', 'e' || lpad(i::text, 9, '0'), '', 'm', CASE WHEN occ < ${launch} THEN '1.0' ELSE '2.0' END, '{}', '{}',
               CASE WHEN route = 'auto' THEN 0.95 ELSE 0.6 END, '[]',
               occ, occ + 500, route,
               CASE WHEN route = 'auto' THEN '[]' ELSE '["confidence 0.6 < 0.9"]' END, 1,
               route = 'auto' AND r2 < 50,
               CASE WHEN route = 'auto' THEN 'auto_approved'
                    WHEN occ > ${end - 2 * DAY} AND r2 < 600 THEN 'pending_review'
                    WHEN r2 < 700 THEN 'approved' WHEN r2 < 900 THEN 'corrected' WHEN r2 < 950 THEN 'rejected' ELSE 'pending_review' END,
               NULL,
               CASE WHEN route = 'auto' THEN occ + 500 WHEN (occ > ${end - 2 * DAY} AND r2 < 600) OR r2 >= 950 THEN NULL ELSE occ + 500 + 60000 + wait END,
               NULL, occ + 500
        FROM (SELECT i, least(${occurred}, ${end - 1}) AS occ,
                     CASE WHEN ${h1} < 750 THEN 'auto' ELSE 'review' END AS route, ${h2} AS r2, ${h3} AS wait
              FROM generate_series(${from}::bigint, ${Math.min(N, from + CHUNK) - 1}::bigint) AS s(i)) g`);
      process.stdout.write(`\r  generating decisions: ${Math.min(N, from + CHUNK).toLocaleString("en")} / ${N.toLocaleString("en")}`);
    }
    process.stdout.write(`\n  rebuilding ${indexes.length} indexes, deriving roll-ups…\n`);
    for (const ix of indexes) await c.query(ix.def);
    // ttdBucket (contributions.ts) in SQL: floor(log_1.25(ms)) + 1, with the same guard at the bucket edges.
    await c.query(`CREATE FUNCTION pg_temp.ttd_bucket(ms float8) RETURNS int LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN NOT (ms >= 1) THEN 0 ELSE (SELECT CASE WHEN ms < power(1.25::float8, k - 1) THEN k - 1 WHEN ms >= power(1.25::float8, k) THEN k + 1 ELSE k END
                                               FROM (SELECT floor(ln(ms) / ln(1.25::float8))::int + 1 AS k) x) END $$`);
    await c.query(`
      CREATE TEMP TABLE g AS
      SELECT type_key, model_version AS v, policy_version AS pv, occurred_at - occurred_at % ${HOUR} AS hour, route, status, qa_sampled AS qa,
             CASE WHEN finalized_at IS NULL THEN NULL ELSE pg_temp.ttd_bucket(greatest(0, finalized_at - received_at)) END AS b,
             count(*) AS n, sum(CASE WHEN finalized_at IS NULL THEN 0 ELSE greatest(0, finalized_at - received_at) END) AS ttd_sum
      FROM decisions GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`);
    await c.query(`
      INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
      SELECT type_key, v, pv, hour, metric, sum(n) FROM (
        SELECT type_key, v, pv, hour, 'volume' AS metric, n FROM g
        UNION ALL SELECT type_key, v, pv, hour, 'route:' || route, n FROM g
        UNION ALL SELECT type_key, v, pv, hour, 'rule:confidence', n FROM g WHERE route = 'review'
        UNION ALL SELECT type_key, v, pv, hour, CASE WHEN route = 'auto' THEN 'final:auto' ELSE 'final:reviewed' END, n FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'outcome:' || status, n FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'ttd:' || route || ':' || b, n FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'ttd_sum_ms', ttd_sum FROM g WHERE b IS NOT NULL
        UNION ALL SELECT type_key, v, pv, hour, 'pending', n FROM g WHERE b IS NULL
        UNION ALL SELECT type_key, v, pv, hour, 'qa:sampled', n FROM g WHERE qa
      ) x GROUP BY 1, 2, 3, 4, 5`);
    await c.query("DROP TABLE g");
    await c.query(`
      INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
      SELECT type_key, model_version, policy_version, hour - hour % ${DAY}, 'day:' || metric, sum(value) FROM rollups
      GROUP BY 1, 2, 3, 4, 5`);
    // What autovacuum leaves a settled table with: statistics and a visibility map (index-only scans).
    await c.query("VACUUM ANALYZE");
    const rollupRows = Number((await c.query("SELECT count(*) AS n FROM rollups")).rows[0].n);
    const size = Number((await c.query("SELECT pg_database_size(current_database()) AS n")).rows[0].n) / 1e9;
    console.log(
      `  loaded ${N.toLocaleString("en")} decisions and ${rollupRows.toLocaleString("en")} roll-up rows in ${((performance.now() - t0) / 1000).toFixed(0)} s (${size.toFixed(2)} GB)`,
    );
  } finally {
    await c.end();
  }
  const plain = () =>
    sqlAll<Plain>(
      db,
      sql`SELECT occurred_at - occurred_at % ${DAY} AS day, count(*) AS volume,
             count(*) FILTER (WHERE status = 'auto_approved') AS auto, count(*) FILTER (WHERE status IN ('approved', 'corrected', 'rejected')) AS reviewed,
             count(*) FILTER (WHERE status IN ('pending_review', 'in_review', 'escalated')) AS pending,
             count(*) FILTER (WHERE status = 'corrected') AS corrected, count(*) FILTER (WHERE status = 'rejected') AS rejected
      FROM decisions WHERE type_key = ${"bench"} AND occurred_at >= ${start} AND occurred_at < ${end} GROUP BY 1 ORDER BY 1`,
    );
  const result = await measure(db, plain);
  if (EXPLAIN) {
    console.log("");
    console.log(await explainHotPath(store.target, "automationReport, 90 days by day", () => automationReport(db, q)));
  }
  await closeDatabase(db);
  return result;
}

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
    sideBySide(`automation report, 90 days, ${N.toLocaleString("en")} decisions, side by side`, kinds, [
      {
        label: "roll-ups by day, p50",
        values: v((r) => ms(pct(r.rollups, 50))),
      },
      {
        label: "roll-ups by day, p95",
        values: v((r) => ms(pct(r.rollups, 95))),
        target: (k) => (pct(results[k]!.rollups, 95) < 50 ? "< 50 ms met" : "< 50 ms NOT met"),
      },
      {
        label: "roll-ups by hour, p95",
        values: v((r) => ms(pct(r.hourly, 95))),
      },
      {
        label: `by day in ${ZONE}, p95`,
        values: v((r) => ms(pct(r.zoned, 95))),
      },
      {
        label: "whole /reports page, p95",
        values: v((r) => ms(pct(r.page, 95))),
      },
      {
        label: "plain aggregate, p95",
        values: v((r) => ms(pct(r.plain, 95))),
      },
      {
        label: "ratio plain / roll-ups (p95)",
        values: v((r) => `${(pct(r.plain, 95) / pct(r.rollups, 95)).toFixed(0)}×`),
      },
      {
        label: "roll-ups match the plain aggregate",
        values: v((r) => (r.same ? "yes" : "NO")),
      },
    ]),
  );
  for (const k of kinds) {
    const r = results[k];
    const p95 = pct(r.rollups, 95);
    summaryLine({
      bench: "reports",
      store: k,
      figure: `90-day automation report p95 (${N.toLocaleString("en")} decisions)`,
      value: ms(p95),
      target: "< 50 ms",
      ok: p95 < 50,
    });
    summaryLine({ bench: "reports", store: k, figure: "roll-ups match the plain aggregate", value: r.same ? "yes" : "NO", target: "yes", ok: r.same });
  }
}

try {
  await main();
} finally {
  if (process.env.BENCH_KEEP) console.log(`  kept ${file}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
