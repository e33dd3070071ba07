/**
 * Benchmark: GET /api/v1/reports/reviewers (reviewerReport, what the route answers) over its default 7-day period,
 * on SQLite, with 10,000, 100,000 and 300,000 reviews in the period (20 reviewers, one queue, handling times spread
 * from 1 s to 3 min). Each time it is read as the report reads it (whole days and hours from the reviewer roll-up,
 * the sub-hour edges from the reviews) and, as a baseline in the same run, with every window read from the reviews
 * (the report's computation before the roll-up, and what it does while a backfill runs). Prints p50 of each and
 * the ratios. The roll-up's rows per reviewer are bounded (metrics × days, and hours at the edges of the UTC days;
 * handling-time bins at most ~260 here, 1 s to 3 min at 2%): its cost grows while a reviewer-day's reviews still
 * fill new bins, then stays flat; the baseline's grows with the reviews.
 *
 *   npm run bench:reviewers                              # about two minutes
 *   BENCH_REVIEWS=10000,50000 npm run bench:reviewers    # other counts (ascending)
 *
 * The reviews come from the bench generator (generate.ts); their handling times are set after, and the reviewer
 * roll-up counted again from the reviews (rebuildReviewerRollups).
 */
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { closeDatabase, sqlRun, type Db } from "@db/client.server";
import { num, sqliteBenchStore } from "./common";
import { generateReviewedInvoices } from "./generate";
import { periodRange } from "~/domain/reports/query";
import { rebuildReviewerRollups } from "~/domain/reports/rollups.server";
import { reviewerReport } from "~/domain/teams/progress.server";
import { MINUTE } from "~/lib/time";

/** The review counts in the period, ascending (each run adds rows to reach the next). */
const COUNTS = (process.env.BENCH_REVIEWS || "10000,100000,300000").split(",").map(Number);
const RUNS = num("BENCH_RUNS", 15);
const BASELINE_RUNS = num("BENCH_BASELINE_RUNS", 3);

/** "Now": half past an hour, so the period's edges (the next full hour, 7 days back) and today's are read from the reviews. */
const NOW = Date.parse("2026-03-12T14:30:00Z");
const PERIOD = periodRange("7d", NOW);

async function timed(db: Db, runs: number): Promise<{ p50: number; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = (await reviewerReport(db, { type: null, ...PERIOD }, { now: NOW })).rows.length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], rows };
}

/** The same report with every window read from the reviews (as while a backfill runs: its row makes the report do so). */
async function baseline(db: Db, runs: number) {
  await sqlRun(db, sql`INSERT INTO reviewer_rollup_backfill (id, below_seq, after_decision) VALUES (1, 0, '~')`);
  try {
    return await timed(db, runs);
  } finally {
    await sqlRun(db, sql`DELETE FROM reviewer_rollup_backfill`);
  }
}

/** `count` reviews in the period in all: rows first…count, spread evenly over it; handling times from 1 s to 3 min. */
async function fill(db: Db, first: number, count: number) {
  const spacing = (PERIOD.to - PERIOD.from - MINUTE) / (count - first + 1);
  await generateReviewedInvoices(db, count - first + 1, { first, spacingMs: spacing, start: PERIOD.from - (first - 1) * Math.round(spacing) - MINUTE });
  await sqlRun(db, sql`UPDATE reviews SET handling_ms = 1000 + (seq * 7919) % 179000`);
  await rebuildReviewerRollups(db);
}

async function main() {
  const { db } = await sqliteBenchStore();
  const out: { count: number; rollup: number; raw: number; rows: [number, number] }[] = [];
  try {
    let have = 0;
    for (const count of COUNTS) {
      await fill(db, have + 1, count);
      have = count;
      const rollup = await timed(db, RUNS);
      const raw = await baseline(db, BASELINE_RUNS);
      out.push({ count, rollup: rollup.p50, raw: raw.p50, rows: [rollup.rows, raw.rows] });
    }
  } finally {
    await closeDatabase(db);
  }
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`GET /api/v1/reports/reviewers, 7-day period, 20 reviewers, SQLite (p50 of ${RUNS} runs, baseline of ${BASELINE_RUNS}):`);
  console.log(`  reviews in period   roll-up + edges   vs first   every review (baseline)   vs first   baseline / roll-up`);
  for (const r of out)
    console.log(
      `  ${String(r.count).padStart(17)}   ${ms(r.rollup).padStart(15)}   ${(r.rollup / out[0].rollup).toFixed(2).padStart(7)}x   ${ms(r.raw).padStart(23)}   ${(r.raw / out[0].raw).toFixed(2).padStart(7)}x   ${(r.raw / r.rollup).toFixed(1).padStart(17)}x`,
    );
  for (const r of out) if (r.rows[0] !== r.rows[1]) throw new Error(`the two reads answer different rows at ${r.count} (${r.rows[0]} vs ${r.rows[1]})`);
}

await main();
