/**
 * The server at rest on a big store (issue 16): "server RSS at rest under 300 MB with 10,000,000 decisions in
 * the database". Makes (or reuses) a SQLite store of BENCH_DECISIONS reviewed decisions, starts the built
 * production server on it (scripts/server.js), and prints:
 *   - time to listen (the spawn to the first answer of /healthz) and to ready (the first 200 of /readyz);
 *   - the slowest /readyz answer while the background jobs' first runs go on (probed every second);
 *   - RSS and CPU every BENCH_SAMPLE_EVERY (5) s until the jobs have settled (BENCH_SETTLE_SECONDS, 10, in a row
 *     under 5 % of a core), then RSS at rest over BENCH_REST_SECONDS (60): median and max, against the target.
 *
 * The store: generate.ts (generateReviewedInvoices) in chunks of a million rows, spread evenly over the year
 * before now, every row with its task, its review and its roll-ups (as the app writes them). Kept when
 * BENCH_REST_DB names its file (made there when missing, reused when present), else thrown away.
 * BENCH_REST_UNSPLIT=1 first puts the roll-ups back as a store upgraded from a build without the policy version
 * has them (policy_version 0), so the start includes the roll-up split (only with a throw-away store or a copy:
 * it rewrites the roll-ups of the file).
 *
 *   npm run bench:rest                                            # 10,000,000 decisions
 *   BENCH_DECISIONS=1000000 npm run bench:rest
 *   BENCH_REST_DB=/tmp/rest-10m.db npm run bench:rest             # made once, reused by the next runs
 *
 * Target: RSS at rest < 300 MB with 10,000,000 decisions (PASS/FAIL; exit code 0 either way).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { closeDatabase } from "@db/client.server";
import { freePort } from "../../tests/support/server";
import { buildApp, fmt, machineLine, num, percentile, procSample, sqliteBenchStore, summaryLine } from "./common";
import { generateReviewedInvoices } from "./generate";

const DECISIONS = num("BENCH_DECISIONS", 10_000_000);
const SAMPLE_EVERY_S = num("BENCH_SAMPLE_EVERY", 5);
const SETTLE_S = num("BENCH_SETTLE_SECONDS", 10);
const SETTLE_MAX_S = num("BENCH_SETTLE_MAX_SECONDS", 1800);
const REST_S = num("BENCH_REST_SECONDS", 60);
const UNSPLIT = process.env.BENCH_REST_UNSPLIT === "1";
const TARGET_MB = 300;
const IDLE_CPU_PCT = 5;
const CHUNK = 1_000_000;
const YEAR = 365 * 86_400_000;

const started = performance.now();
const progress = (what: string) => console.log(`  … ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The store's file: BENCH_REST_DB (made when missing), or a new one in a temporary folder. */
async function prepareStore(): Promise<{ file: string; kept: boolean }> {
  const named = process.env.BENCH_REST_DB;
  if (named && fs.existsSync(named)) {
    console.log(`Store: ${named} (reused, ${(fs.statSync(named).size / 1e9).toFixed(2)} GB)`);
    return { file: named, kept: true };
  }
  const file = named ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-rest-")), "bench.db");
  console.log(`Store: ${file}, ${fmt(DECISIONS)} decisions with their tasks, reviews and roll-ups`);
  const { db, sqlite } = await sqliteBenchStore(file);
  // Bulk load: no journal; the app's settings come back before the server opens it.
  sqlite.pragma("journal_mode = OFF");
  sqlite.pragma("cache_size = -1048576");
  sqlite.pragma("temp_store = MEMORY");
  const spacingMs = Math.max(1, Math.floor(YEAR / DECISIONS));
  const start = Date.now() - 60 * 60_000 - DECISIONS * spacingMs;
  for (let done = 0; done < DECISIONS;) {
    const rows = Math.min(CHUNK, DECISIONS - done);
    await generateReviewedInvoices(db, rows, { start, spacingMs, first: done + 1 });
    done += rows;
    progress(`${fmt(done)} / ${fmt(DECISIONS)} decisions`);
  }
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("wal_checkpoint(TRUNCATE)");
  await closeDatabase(db);
  console.log(`  ${(fs.statSync(file).size / 1e9).toFixed(2)} GB`);
  return { file, kept: Boolean(named) };
}

/** As a store upgraded from a build without the policy version has its counters: summed over the versions, at 0. */
async function unsplit(file: string): Promise<void> {
  const { db, sqlite } = await sqliteBenchStore(file);
  sqlite.exec(`BEGIN;
    CREATE TEMP TABLE r0 AS SELECT type_key, model_version, hour, metric, sum(value) AS value FROM rollups GROUP BY 1, 2, 3, 4;
    DELETE FROM rollups;
    INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value) SELECT type_key, model_version, 0, hour, metric, value FROM r0;
    DROP TABLE r0;
    COMMIT;`);
  const n = (sqlite.prepare("SELECT count(*) AS n FROM rollups WHERE policy_version = 0").get() as { n: number }).n;
  await closeDatabase(db);
  console.log(`  roll-ups put back without their policy version: ${fmt(n)} counters at policy_version 0`);
}

async function probe(url: string): Promise<{ status: number; ms: number } | null> {
  const t = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t };
  } catch {
    return null;
  }
}

async function main() {
  console.log(`bench:rest: the server at rest on a store of ${fmt(DECISIONS)} decisions (SQLite)`);
  console.log(machineLine());
  buildApp();
  const { file, kept } = await prepareStore();
  if (UNSPLIT) await unsplit(file);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const child = spawn(process.execPath, ["scripts/server.js"], {
    env: { ...process.env, NODE_ENV: "production", DATABASE_URL: "", DATABASE_PATH: file, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let peakMb = 0;
  const rss = () => {
    const p = procSample(pid);
    if (p) peakMb = Math.max(peakMb, p.rssMb);
    return p;
  };

  // Until it listens, then until it is ready: one probe at a time, 50 ms apart.
  let listenS = NaN;
  let readyS = NaN;
  while (Number.isNaN(readyS)) {
    if (child.exitCode !== null) throw new Error("the server exited during its start");
    if (since() > SETTLE_MAX_S) throw new Error(`the server was not ready within ${SETTLE_MAX_S} s`);
    rss();
    if (Number.isNaN(listenS) && (await probe(`${base}/healthz`))?.status === 200) listenS = since();
    if (!Number.isNaN(listenS) && (await probe(`${base}/readyz`))?.status === 200) readyS = since();
    await sleep(50);
  }
  console.log(`\nlistening after ${listenS.toFixed(2)} s, /readyz 200 after ${readyS.toFixed(2)} s (RSS ${fmt(rss()?.rssMb ?? NaN)} MB)`);

  // While the jobs' first runs go on: /readyz every second, RSS and CPU every SAMPLE_EVERY_S, until SETTLE_S seconds in a row are idle.
  console.log(`\nuntil the background jobs settle (${SETTLE_S} s in a row under ${IDLE_CPU_PCT} % of a core):`);
  console.log("  t s   RSS MB   CPU %   slowest /readyz ms");
  let slowestReady = 0;
  let notReady = 0;
  let idleFor = 0;
  let last = rss()!;
  let lastAt = performance.now();
  let window = { cpuS: last.cpuS, at: lastAt, slowest: 0 };
  while (idleFor < SETTLE_S) {
    if (since() > SETTLE_MAX_S) throw new Error(`the jobs did not settle within ${SETTLE_MAX_S} s`);
    await sleep(1000);
    const r = await probe(`${base}/readyz`);
    if (r?.status !== 200) notReady++;
    slowestReady = Math.max(slowestReady, r?.ms ?? Infinity);
    window.slowest = Math.max(window.slowest, r?.ms ?? Infinity);
    const now = rss()!;
    const at = performance.now();
    const cpuPct = ((now.cpuS - last.cpuS) / ((at - lastAt) / 1000)) * 100;
    idleFor = cpuPct < IDLE_CPU_PCT ? idleFor + 1 : 0;
    last = now;
    lastAt = at;
    if (at - window.at >= SAMPLE_EVERY_S * 1000 || idleFor >= SETTLE_S) {
      const pct = ((now.cpuS - window.cpuS) / ((at - window.at) / 1000)) * 100;
      console.log(`  ${fmt(since()).padStart(4)}   ${fmt(now.rssMb).padStart(6)}   ${fmt(pct).padStart(5)}   ${fmt(window.slowest).padStart(8)}`);
      window = { cpuS: now.cpuS, at, slowest: 0 };
    }
  }
  const settledS = since();
  console.log(`settled after ${settledS.toFixed(0)} s; /readyz meanwhile: slowest ${fmt(slowestReady)} ms, ${notReady} answers not 200`);

  // At rest: RSS every second.
  const atRest: number[] = [];
  for (let i = 0; i < REST_S; i++) {
    await sleep(1000);
    atRest.push(rss()!.rssMb);
  }
  const sorted = [...atRest].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  const max = sorted[sorted.length - 1];
  const ok = max < TARGET_MB;
  console.log(`\nRSS at rest over ${REST_S} s: median ${fmt(median)} MB, max ${fmt(max)} MB; peak since the start ${fmt(peakMb)} MB`);
  console.log(`target: RSS at rest < ${TARGET_MB} MB with 10,000,000 decisions (${fmt(DECISIONS)} here) → ${ok ? "met" : "NOT met"}`);
  summaryLine({ bench: "rest", store: "sqlite", figure: `time to listen (${fmt(DECISIONS)} decisions)`, value: `${listenS.toFixed(2)} s` });
  summaryLine({
    bench: "rest",
    store: "sqlite",
    figure: `RSS at rest (${fmt(DECISIONS)} decisions)`,
    value: `${fmt(max)} MB`,
    target: `< ${TARGET_MB} MB`,
    ok,
  });

  child.kill("SIGTERM");
  await exited;
  if (!kept) fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

await main();
