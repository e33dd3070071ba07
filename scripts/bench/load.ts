/**
 * Mixed load over HTTP against real server processes (the built production server, scripts/server.js):
 *
 *   single ingest   BENCH_SINGLE_RATE (100) POST /api/v1/decisions of one decision a second, open loop
 *   batch ingest    a batch of BENCH_BATCH_SIZE (100) every BENCH_BATCH_EVERY (2) s, open loop
 *   reviewers       BENCH_REVIEWERS (50), each in a loop: POST /api/v1/tasks/claim, think BENCH_THINK_MS (500) on
 *                   average (drawn from an exponential distribution; BENCH_THINK_DIST=fixed: always that long),
 *                   POST /api/v1/tasks/{id}/review (approve, or correct the total 1 in 5); an empty queue (204)
 *                   is a think time and a new claim
 *   report readers  BENCH_READERS (2), each a GET of the reports API every BENCH_READ_EVERY (1) s, open loop,
 *                   in turn /api/v1/reports/automation, /quality and /reviewers (the type's default 30 days)
 *   pager           BENCH_PAGERS (1) clients paging GET /api/v1/decisions?limit=BENCH_PAGE_LIMIT (100) by keyset
 *                   (nextCursor) from the start: the next page at once while pages come back full, and when
 *                   caught up the same cursor again after BENCH_PAGE_POLL (1) s, as a sync client does
 *
 * for BENCH_WARMUP_SECONDS (10) s that are not measured, then BENCH_DURATION (120) s that are. On SQLite one server; on
 * Postgres BENCH_PG_INSTANCES (2) servers on one database, every kind of client split across them.
 *
 * Latency: the open-loop streams (ingest, reports) are sent at their scheduled times whatever the answers
 * before them did, and their latency runs from the scheduled time (so a generator or server that falls
 * behind shows as latency: no coordinated omission); the table also shows how late the sends were.
 * Reviewers and the pager are closed loops (each waits for its answer): latency from the send.
 *
 * Printed: per endpoint requests, errors, p50/p95/p99/max; every BENCH_SAMPLE_EVERY (5) s each server's RSS and
 * CPU (from /proc), a local Postgres cluster's CPU, this generator's own CPU and the machine's; each process's pauses
 * over the measured load (event-loop delay and GC: the servers' from their /metrics, the generator's own, since a
 * client's latency includes the generator's pauses on a machine it shares); then the checks: every acknowledged decision (a 201/200 answer) is stored exactly
 * once under the id it was answered with, and no task was reviewed (or handed out by a claim) twice. Targets:
 * p99 of single ingest, claim and review <= 20 ms; every endpoint p99 < 100 ms; no errors (PASS/FAIL, exit 0);
 * the exit code is 1 when a check of what was stored fails.
 *
 * BENCH_SCALES=0.25,0.5,0.75,1 runs the load once per scale (a share of the rates above) on each store and prints a
 * capacity table: how much of the load each store held within the targets on this machine.
 *
 * BENCH_LATENCIES=FILE also writes every measured request to FILE, one tab-separated line each (store, endpoint,
 * start in ms from the start of the measured load, latency ms, ok; the store is labelled with its scale when that is not 1): for a tail's shape over time, or what ran beside it.
 *
 *   npm run bench:load                                       # SQLite and Postgres, 120 s each
 *   BENCH_STORES=sqlite BENCH_DURATION=15 BENCH_WARMUP_SECONDS=3 BENCH_SINGLE_RATE=20 BENCH_REVIEWERS=10 npm run bench:load
 *   npm run bench:load -- --stores sqlite --duration 15       # a flag --name V is the variable BENCH_NAME=V
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import crypto from "node:crypto";
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import zlib from "node:zlib";
import { sql } from "drizzle-orm";
import { sqlAll, type Db } from "@db/client.server";
import { makeKey, makeType, makeUser } from "../../tests/support/db";
import { parseScrape } from "../../tests/support/prometheus";
import { type TestServer } from "../../tests/support/server";
import { createLastmileClient, type LastmileClient } from "../client/index";
import {
  BENCH_TYPE,
  benchDecision,
  benchType,
  buildApp,
  CLK_TCK,
  fmt,
  machineLine,
  num,
  percentile,
  procSample,
  rng,
  slope,
  summaryLine,
  table,
} from "./common";
import { benchStore, closeStore, describeStore, onEachStore, pgClient, sideBySide, startSharedServer, type StoreKind } from "./stores";

// Flags: `--duration 15` or `--duration=15` is BENCH_DURATION=15 (and wins over the environment).
for (let i = 2; i < process.argv.length; i++) {
  const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(process.argv[i]);
  if (!m) throw new Error(`bench:load: unknown argument ${process.argv[i]} (flags are --name value, for BENCH_NAME)`);
  const value = m[2] ?? process.argv[++i];
  if (value === undefined) throw new Error(`bench:load: --${m[1]} needs a value`);
  process.env[`BENCH_${m[1].toUpperCase().replace(/-/g, "_")}`] = value;
}
const DURATION_S = num("BENCH_DURATION", 120);
const WARMUP_S = num("BENCH_WARMUP_SECONDS", 10);
const SINGLE_RATE = num("BENCH_SINGLE_RATE", 100);
const BATCH_SIZE = num("BENCH_BATCH_SIZE", 100);
const BATCH_EVERY_S = num("BENCH_BATCH_EVERY", 2);
const REVIEWERS = num("BENCH_REVIEWERS", 50);
const THINK_MS = num("BENCH_THINK_MS", 500);
/**
 * How a reviewer's think time is drawn: "exponential" (the default), with mean THINK_MS and cut at ten times it, as
 * TPC-C draws its terminals' think times; or "fixed", always THINK_MS (the runs of sessions 10-23). With a fixed think
 * time the reviewers fall into step: one stall holds several answers back, their reviewers come back together 500 ms
 * later, and again 500 ms after that, so a single pause repeats as a convoy (session 24, scripts/bench/README.md).
 */
const THINK_DIST = (process.env.BENCH_THINK_DIST?.trim() || "exponential") as "exponential" | "fixed";
if (THINK_DIST !== "exponential" && THINK_DIST !== "fixed") throw new Error(`BENCH_THINK_DIST must be exponential or fixed (got ${THINK_DIST})`);
const thinkTime = (u: number) => (THINK_DIST === "fixed" ? THINK_MS : Math.min(10 * THINK_MS, -THINK_MS * Math.log(1 - u)));
const CORRECT_SHARE = num("BENCH_CORRECT_SHARE", 0.2);
const READERS = num("BENCH_READERS", 2);
const READ_EVERY_S = num("BENCH_READ_EVERY", 1);
const PAGERS = num("BENCH_PAGERS", 1);
const PAGE_LIMIT = num("BENCH_PAGE_LIMIT", 100);
const PAGE_POLL_S = num("BENCH_PAGE_POLL", 1);
const SAMPLE_EVERY_S = num("BENCH_SAMPLE_EVERY", 5);
const TIMEOUT_MS = num("BENCH_TIMEOUT_MS", 10_000);
const PG_INSTANCES = Math.max(1, num("BENCH_PG_INSTANCES", 2));
const SQLITE_INSTANCES = Math.max(1, num("BENCH_SQLITE_INSTANCES", 1));
const LATENCIES = process.env.BENCH_LATENCIES?.trim() || undefined;

/**
 * BENCH_SCALES=0.25,0.5,1: the load at each of these fractions of the rates above, one run per scale and store, and a
 * capacity table (how much of the load each store holds within the targets on this machine). A scale multiplies the
 * single-ingest rate, the number of reviewers, and how often batches and report reads come; a batch keeps its size
 * and the pagers stay as they are. One scale (the default, 1) is the load as configured.
 */
const SCALES = (process.env.BENCH_SCALES?.trim() || "1").split(",").map((raw) => {
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || n <= 0) throw new Error(`BENCH_SCALES must be numbers > 0, separated by commas (got ${raw})`);
  return n;
});

/** A scale as a share of the configured load: "25%". */
const share = (scale: number) => `${fmt(scale * 100)}%`;
/** A store as the tables name it: "sqlite", "postgres x2". */
const storeName = (kind: StoreKind, instances: number) => `${kind}${instances > 1 ? ` x${instances}` : ""}`;

/** The rates of one run: the configured ones times a scale. */
type Rates = { scale: number; single: number; batchEvery: number; reviewers: number; readEvery: number };
const ratesAt = (scale: number): Rates => ({
  scale,
  single: SINGLE_RATE * scale,
  batchEvery: BATCH_EVERY_S / scale,
  reviewers: Math.max(REVIEWERS > 0 ? 1 : 0, Math.round(REVIEWERS * scale)),
  readEvery: READ_EVERY_S / scale,
});

/** The targets of the issue. */
const FAST_P99_MS = 20;
const ANY_P99_MS = 100;
/** Memory flat: server RSS grows less than this (MB a minute) over the load after its first third; judged on runs of FLAT_MIN_S or more. */
const FLAT_MB_PER_MIN = 0.5;
const FLAT_MIN_S = 600;
const FAST = new Set(["POST /decisions (single)", "POST /tasks/claim", "POST /tasks/{id}/review"]);
const REPORTS = ["automation", "quality", "reviewers"] as const;
const ENDPOINTS = [
  "POST /decisions (single)",
  `POST /decisions (batch of ${BATCH_SIZE})`,
  "POST /tasks/claim",
  "POST /tasks/{id}/review",
  ...REPORTS.map((r) => `GET /reports/${r}`),
  "GET /decisions (page)",
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const now = () => performance.now();

// ---------------------------------------------------------------------------------------------------------
// Recording

type Stat = {
  ms: number[];
  /** The server's own time for the request, from its access log (durationMs): from Express receiving it to the answer sent. */
  server: number[];
  /** How late an open-loop request was sent after its scheduled time. */
  lag: number[];
  errors: number;
  /** Answers that are not errors and carry nothing: a claim on an empty queue (204). */
  empty: number;
  kinds: Map<string, number>;
  samples: string[];
  openLoop: boolean;
};

class Recorder {
  readonly stats = new Map<string, Stat>();
  /** Requests whose start (scheduled time for open loops, send time for closed ones) falls in [from, to) count. */
  from = Infinity;
  to = Infinity;
  requests = 0;
  /** Request id -> endpoint, of the requests that count. */
  readonly ids = new Map<string, string>();
  /** With BENCH_LATENCIES, one line per request that counts: endpoint, start (ms into the measured load), latency, ok. */
  readonly trace: string[] = [];
  stat(label: string, openLoop = false): Stat {
    let s = this.stats.get(label);
    if (!s) this.stats.set(label, (s = { ms: [], server: [], lag: [], errors: 0, empty: 0, kinds: new Map(), samples: [], openLoop }));
    return s;
  }
  counts(start: number) {
    return start >= this.from && start < this.to;
  }
}

type Outcome = { ok: boolean; empty?: boolean; kind?: string; detail?: string };

/**
 * Runs one request and records it: latency from `start` (the scheduled time of an open-loop request; the
 * send otherwise) to the answer read in full. A thrown error (a refused connection, the timeout) is an error.
 */
async function timed<T extends Outcome>(
  rec: Recorder,
  label: string,
  start: number,
  openLoop: boolean,
  send: (o: { signal: AbortSignal; headers: Record<string, string> }) => Promise<T>,
): Promise<T> {
  const sent = now();
  // The server logs this id with its own handling time of the request (durationMs): see serverTimes.
  const requestId = `bench-${++rec.requests}`;
  let out: T;
  try {
    out = await send({ signal: AbortSignal.timeout(TIMEOUT_MS), headers: { "X-Request-Id": requestId } });
  } catch (e) {
    // fetch throws the signal's TimeoutError; node:http an AbortError caused by it.
    const timedOut = (e as Error).name === "TimeoutError" || ((e as Error).cause as Error | undefined)?.name === "TimeoutError";
    const name = timedOut ? `timeout ${TIMEOUT_MS} ms` : `${(e as Error).name}: ${(e as Error).message}`;
    out = { ok: false, kind: name, detail: String((e as Error).cause ?? "") } as T;
  }
  const end = now();
  if (rec.counts(start)) {
    const s = rec.stat(label, openLoop);
    rec.ids.set(requestId, label);
    s.ms.push(end - start);
    if (LATENCIES) rec.trace.push(`${label}\t${(start - rec.from).toFixed(1)}\t${(end - start).toFixed(2)}\t${out.ok ? 1 : 0}`);
    if (openLoop) s.lag.push(sent - start);
    if (out.empty) s.empty++;
    if (!out.ok) {
      s.errors++;
      const k = out.kind ?? "error";
      s.kinds.set(k, (s.kinds.get(k) ?? 0) + 1);
      if (s.samples.length < 3) s.samples.push(`${k} ${out.detail ?? ""}`.slice(0, 300));
    }
  }
  return out;
}

const statusOutcome = (status: number, okStatuses: number[], body: unknown): Outcome => ({
  ok: okStatuses.includes(status),
  kind: String(status),
  detail: okStatuses.includes(status) ? undefined : JSON.stringify(body ?? null),
});

// ---------------------------------------------------------------------------------------------------------
// Server processes: RSS and CPU from /proc

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * CPU seconds of a local Postgres cluster: the postmaster and its children (backends, WAL writer,
 * checkpointer, ...), by pid: a backend that exits between two samples takes its CPU with it.
 */
function pgTreeCpu(postmaster: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(e) === postmaster || Number(f[1]) === postmaster) out.set(Number(e), (Number(f[11]) + Number(f[12])) / CLK_TCK);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The postmaster of the cluster behind `url` when it runs on this machine (its checkpointer's parent), else undefined. */
async function localPostmaster(url: string): Promise<number | undefined> {
  const c = await pgClient(url);
  try {
    const pid = (await c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")).rows[0]?.pid;
    if (!pid) return undefined;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined; // not on this machine
  } finally {
    await c.end();
  }
}

type Sample = {
  t: number;
  phase: string;
  servers: { rssMb: number; cpuPct: number }[];
  pgCpuPct?: number;
  benchCpuPct: number;
  machinePct: number;
  load1: number;
};

function sampler(pids: number[], postmaster: number | undefined, t0: number, phaseAt: (t: number) => string) {
  const series: Sample[] = [];
  const pgTree = () => (postmaster === undefined ? new Map<number, number>() : pgTreeCpu(postmaster));
  let last = { at: now(), procs: pids.map(procSample), pg: pgTree(), bench: process.cpuUsage(), machine: machineTicks() };
  const header = [
    "t s",
    "phase",
    ...pids.flatMap((_, i) => [`server${pids.length > 1 ? i + 1 : ""} RSS MB`, "CPU %"]),
    ...(postmaster === undefined ? [] : ["postgres CPU %"]),
    "bench CPU %",
    "machine busy %",
    "load 1m",
  ];
  const row = (s: Sample) => [
    fmt(s.t),
    s.phase,
    ...s.servers.flatMap((x) => [fmt(x.rssMb), fmt(x.cpuPct)]),
    ...(s.pgCpuPct === undefined ? [] : [fmt(s.pgCpuPct)]),
    fmt(s.benchCpuPct),
    fmt(s.machinePct),
    fmt(s.load1, 2),
  ];
  const take = () => {
    const at = now();
    const procs = pids.map(procSample);
    const pg = pgTree();
    const bench = process.cpuUsage();
    const machine = machineTicks();
    const wall = (at - last.at) / 1000;
    const t = (at - t0) / 1000;
    const s: Sample = {
      t,
      phase: phaseAt((at + last.at) / 2), // the phase in the middle of the interval the figures cover
      servers: procs.map((p, i) => {
        const before = last.procs[i];
        return { rssMb: p?.rssMb ?? NaN, cpuPct: p && before ? ((p.cpuS - before.cpuS) / wall) * 100 : NaN };
      }),
      pgCpuPct: postmaster === undefined ? undefined : ([...pg].reduce((a, [pid, cpu]) => a + cpu - (last.pg.get(pid) ?? 0), 0) / wall) * 100,
      benchCpuPct: ((bench.user + bench.system - last.bench.user - last.bench.system) / 1e6 / wall) * 100,
      machinePct: ((machine.busy - last.machine.busy) / Math.max(1, machine.total - last.machine.total)) * 100,
      load1: os.loadavg()[0],
    };
    last = { at, procs, pg, bench, machine };
    series.push(s);
    console.log(`  ${row(s).join("  ")}`);
  };
  console.log(`  sampling every ${SAMPLE_EVERY_S} s (CPU % of one core; machine busy % of all ${os.cpus().length}): ${header.join(" | ")}`);
  const timer = setInterval(take, SAMPLE_EVERY_S * 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { header, rows: series.map(row), series };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The load

type Setup = { ingestKey: string; readKey: string; reviewerKeys: string[] };

/** The type, an ingest key, a read key and one reviewer (a person, with a review key of their own) per reviewer client. */
async function setUp(db: Db, reviewers: number): Promise<Setup> {
  const owner = await makeUser(db, "admin");
  await makeType(db, benchType(owner.email));
  const ingestKey = await makeKey(db, ["ingest"]);
  const readKey = await makeKey(db, ["read"]);
  const reviewerKeys: string[] = [];
  for (let i = 0; i < reviewers; i++) reviewerKeys.push(await makeKey(db, ["review"], (await makeUser(db, "reviewer")).email));
  return { ingestKey, readKey, reviewerKeys };
}

type Acked = Map<string, string>; // externalId -> the id the answer gave

/** Open-loop schedule: `fire(i, at)` at each time in `times` (ms, performance.now() clock); never awaits an answer. */
async function openLoop(times: number[], stop: () => boolean, fire: (i: number, at: number) => Promise<unknown>, inflight: Set<Promise<unknown>>) {
  for (let i = 0; i < times.length && !stop(); i++) {
    const wait = times[i] - now();
    if (wait > 0) await sleep(wait);
    const p = fire(i, times[i]).finally(() => inflight.delete(p));
    inflight.add(p);
  }
}

type RunResult = {
  stats: Map<string, Stat>;
  samples: ReturnType<ReturnType<typeof sampler>["stop"]>;
  checks: { label: string; ok: boolean; detail: string }[];
  integrityOk: boolean;
  measuredS: number;
  instances: number;
  reviews: number;
  acked: number;
  rates: Rates;
  /** Mean over the load phase: all the servers' CPU (% of one core), and the machine's busy share (% of all its cores). */
  serverCpu: number;
  machineBusy: number;
};

// ---------------------------------------------------------------------------------------------------------
// The generator's HTTP client

/**
 * node:http on keep-alive connections, with the request headers fetch sends (so the servers do the same work: they
 * gzip answers of 1 kB or more for "gzip, deflate"). The generator shares the machine's cores with the servers and
 * every pause of its own is in the latencies it records: sending through the typed client (openapi-fetch on fetch)
 * cost it about 1 ms of CPU a request and 35 collections over 10 ms a minute at the full rates (session 18), and this
 * costs a fraction of that. The answer's body is read in full (and decompressed) either way; `parse` says whether
 * the generator needs it as JSON (an error's body is always parsed, for the error samples).
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
type Answer = { status: number; data: unknown };

function call(
  base: string,
  key: string,
  method: "GET" | "POST",
  path: string,
  body: string | undefined,
  o: { signal: AbortSignal; headers: Record<string, string> },
  parse = true,
): Promise<Answer> {
  const headers: Record<string, string | number> = {
    Accept: "*/*",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": "node",
    Authorization: `Bearer ${key}`,
    ...o.headers,
  };
  if (body !== undefined) Object.assign(headers, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, agent, signal: o.signal, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        try {
          let buf = Buffer.concat(chunks);
          const encoding = res.headers["content-encoding"];
          if (encoding === "gzip") buf = zlib.gunzipSync(buf);
          else if (encoding === "deflate") buf = zlib.inflateSync(buf);
          let data: unknown = null;
          if ((parse || (res.statusCode ?? 0) >= 400) && buf.length) {
            const text = buf.toString("utf8");
            try {
              data = JSON.parse(text);
            } catch {
              data = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, data });
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Pauses: how long each process's event loop was held up during the load, and by garbage collection.
// A client's latency includes the generator's own pauses (it shares the machine's cores with the servers), so
// the table says how much of a tail is whose.

type Pauses = { loopP50: number; loopP99: number; loopMax: number; gcCount: number; gcMs: number; gcOver10: number };

/** The timer interval both event-loop measurements use; a histogram value is the interval plus the delay, so it is taken off. */
const LOOP_RESOLUTION_MS = 10;

/** The generator's event-loop delay (10 ms resolution, as prom-client measures the servers') and its GC pauses, from `start()`. */
function generatorPauses() {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  let from = Infinity;
  const gcs: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= from) gcs.push(e.duration);
  });
  obs.observe({ entryTypes: ["gc"] });
  return {
    start() {
      from = performance.now();
      loop.reset();
    },
    stop(): Pauses {
      obs.disconnect();
      loop.disable();
      return {
        loopP50: loop.percentile(50) / 1e6,
        loopP99: loop.percentile(99) / 1e6,
        loopMax: loop.max / 1e6,
        gcCount: gcs.length,
        gcMs: gcs.reduce((a, b) => a + b, 0),
        gcOver10: gcs.filter((d) => d > 10).length,
      };
    },
  };
}

/**
 * A server's pauses from its own /metrics (prom-client's default metrics, on with METRICS_TOKEN): the event-loop
 * delay since the previous scrape (prom-client resets it at each), and the GC histogram's counts, cumulative.
 */
async function scrapePauses(url: string, token: string) {
  const text = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).text();
  const { samples } = parseScrape(text);
  // Summed over series: the GC histogram has one per kind of collection (minor, major, incremental, weak callbacks).
  const sum = (name: string, labels: Record<string, string> = {}) =>
    (samples.get(name) ?? []).filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)).reduce((a, m) => a + Number(m.value ?? 0), 0);
  return {
    loopP50: sum("nodejs_eventloop_lag_p50_seconds") * 1000,
    loopP99: sum("nodejs_eventloop_lag_p99_seconds") * 1000,
    loopMax: sum("nodejs_eventloop_lag_max_seconds") * 1000,
    gcCount: sum("nodejs_gc_duration_seconds_count"),
    gcMs: sum("nodejs_gc_duration_seconds_sum") * 1000,
    gcUnder10: sum("nodejs_gc_duration_seconds_bucket", { le: "0.01" }),
  };
}

function serverPauses(before: Awaited<ReturnType<typeof scrapePauses>>, after: Awaited<ReturnType<typeof scrapePauses>>): Pauses {
  const gcCount = after.gcCount - before.gcCount;
  return {
    loopP50: after.loopP50,
    loopP99: after.loopP99,
    loopMax: after.loopMax,
    gcCount,
    gcMs: after.gcMs - before.gcMs,
    gcOver10: gcCount - (after.gcUnder10 - before.gcUnder10),
  };
}

function pausesTable(rows: [string, Pauses][]): string {
  const late = (ms: number) => msFmt(Math.max(0, ms - LOOP_RESOLUTION_MS));
  return table([
    ["process", "loop delay p50", "p99", "max", "GCs", "GC ms in all", "GCs over 10 ms"],
    ...rows.map(([name, x]) => [name, late(x.loopP50), late(x.loopP99), late(x.loopMax), fmt(x.gcCount), fmt(x.gcMs), fmt(x.gcOver10)]),
  ]);
}

async function run(kind: StoreKind, rates: Rates): Promise<RunResult> {
  console.log(`\n### ${await describeStore(kind)}${SCALES.length > 1 || rates.scale !== 1 ? `, the load at ${share(rates.scale)}` : ""}`);
  const instances = kind === "postgres" ? PG_INSTANCES : SQLITE_INSTANCES;
  const store = await benchStore(kind);
  const setup = await setUp(store.db, rates.reviewers);
  await closeStore(store);
  const servers: TestServer[] = [];
  try {
    // A metrics token turns on the servers' process metrics: their event-loop delay and GC pauses (see Pauses).
    const metricsToken = crypto.randomBytes(16).toString("hex");
    for (let i = 0; i < instances; i++) servers.push(await startSharedServer({ ...store.env, METRICS_TOKEN: metricsToken }));
    const urls = servers.map((s) => s.url);
    console.log(
      `Mixed load on ${instances} server${instances > 1 ? "s (one database, clients split across them)" : ""}: ${fmt(rates.single)} single ingests/s, ` +
        `a batch of ${BATCH_SIZE} every ${fmt(rates.batchEvery, 2)} s, ${rates.reviewers} reviewers (think ${THINK_DIST === "fixed" ? "" : "a mean of "}${THINK_MS} ms), ${READERS} report reader(s) every ${fmt(rates.readEvery, 2)} s, ` +
        `${PAGERS} pager(s) (limit ${PAGE_LIMIT}); warm-up ${WARMUP_S} s, measured ${DURATION_S} s`,
    );
    const clients = new Map<string, LastmileClient>();
    const client = (i: number, key: string) => {
      const url = urls[i % urls.length];
      const k = `${url} ${key}`;
      if (!clients.has(k)) clients.set(k, createLastmileClient({ baseUrl: url, apiKey: key }));
      return clients.get(k)!;
    };

    // Every body before the clock starts: the generator's CPU goes to sending.
    const rand = rng(11);
    const total = WARMUP_S + DURATION_S;
    const singles = Array.from({ length: Math.floor(total * rates.single) }, (_, i) => benchDecision(i, rand, "load-s"));
    const batches = BATCH_SIZE > 0 && rates.batchEvery > 0 ? Math.floor(total / rates.batchEvery) : 0;
    const batchBodies = Array.from({ length: batches }, (_, b) =>
      Array.from({ length: BATCH_SIZE }, (_, j) => benchDecision(b * BATCH_SIZE + j, rand, "load-b")),
    );
    const singleText = singles.map((d) => JSON.stringify(d));
    const batchText = batchBodies.map((ds) => JSON.stringify({ decisions: ds }));

    const rec = new Recorder();
    const acked: Acked = new Map();
    const reviewed: string[] = [];
    const claimed: string[] = [];
    const pagerSeen = new Set<string>();
    const inflight = new Set<Promise<unknown>>();

    const t0 = now() + 500;
    const end = t0 + total * 1000;
    rec.from = t0 + WARMUP_S * 1000;
    rec.to = end;
    const stopped = () => now() >= end;
    const genPauses = generatorPauses();
    let atLoad: Promise<Awaited<ReturnType<typeof scrapePauses>>[]> | undefined;
    let atEnd: Promise<Awaited<ReturnType<typeof scrapePauses>>[]> | undefined;
    const scrapeAll = () => Promise.all(servers.map((sv) => scrapePauses(sv.url, metricsToken)));
    const pauseTimers = [
      setTimeout(() => {
        atLoad = scrapeAll();
        genPauses.start();
      }, rec.from - now()),
      setTimeout(() => {
        atEnd = scrapeAll();
      }, end - now()),
    ];
    const phaseAt = (t: number) => (t < rec.from ? "warm-up" : t < end ? "load" : "drain");
    const smp = sampler(
      servers.map((s) => s.pid),
      kind === "postgres" ? await localPostmaster(store.target) : undefined,
      t0,
      phaseAt,
    );

    const ingest = (i: number, label: string, text: string, ids: string[], batch: boolean) => async (at: number) =>
      timed(rec, label, at, true, async ({ signal, headers }) => {
        const { status, data } = await call(urls[i % urls.length], setup.ingestKey, "POST", "/api/v1/decisions", text, { signal, headers });
        const out = statusOutcome(status, [200, 201], data);
        if (out.ok && data) {
          const results = batch ? (data as { decisions: { id: string; externalId: string }[] }).decisions : [data as { id: string; externalId: string }];
          for (const r of results) acked.set(r.externalId, r.id);
          if (results.length !== ids.length) return { ok: false, kind: "short answer", detail: `${results.length} of ${ids.length}` };
        }
        return out;
      });

    const singleTimes = singles.map((_, i) => t0 + (i * 1000) / rates.single);
    const batchTimes = batchBodies.map((_, b) => t0 + 250 + b * rates.batchEvery * 1000);
    const readerTimes = Array.from({ length: READERS > 0 && rates.readEvery > 0 ? Math.floor(total / rates.readEvery) : 0 }, (_, k) => k);

    const streams: Promise<unknown>[] = [
      sleep(end - now()), // the run lasts its time whatever is configured
      openLoop(singleTimes, stopped, (i, at) => ingest(i, "POST /decisions (single)", singleText[i], [singles[i].externalId], false)(at), inflight),
      openLoop(
        batchTimes,
        stopped,
        (b, at) =>
          ingest(
            b,
            `POST /decisions (batch of ${BATCH_SIZE})`,
            batchText[b],
            batchBodies[b].map((d) => d.externalId),
            true,
          )(at),
        inflight,
      ),
    ];
    // Report readers: reader r reads every rates.readEvery s, staggered, each tick the next report.
    for (let r = 0; r < READERS; r++) {
      const times = readerTimes.map((k) => t0 + 100 + (k + r / READERS) * rates.readEvery * 1000);
      streams.push(
        openLoop(
          times,
          stopped,
          (k, at) => {
            const report = REPORTS[(k + r) % REPORTS.length];
            return timed(rec, `GET /reports/${report}`, at, true, async ({ signal, headers }) => {
              const path = `/api/v1/reports/${report}?type=${BENCH_TYPE}`;
              const { status, data } = await call(urls[r % urls.length], setup.readKey, "GET", path, undefined, { signal, headers }, false);
              return statusOutcome(status, [200], data);
            });
          },
          inflight,
        ),
      );
    }
    // Reviewers: closed loops.
    for (let r = 0; r < rates.reviewers; r++) {
      const base = urls[r % urls.length];
      const key = setup.reviewerKeys[r];
      const own = rng(1000 + r);
      streams.push(
        (async () => {
          await sleep(t0 - now() + (r * THINK_MS) / Math.max(1, rates.reviewers)); // staggered starts
          while (!stopped()) {
            let task: { id: string; output: Record<string, unknown> } | undefined;
            await timed(rec, "POST /tasks/claim", now(), false, async ({ signal, headers }) => {
              const { status, data } = await call(base, key, "POST", "/api/v1/tasks/claim", "{}", { signal, headers });
              if (status === 204) return { ok: true, empty: true };
              const claimed = data as { task: { id: string }; decision: { output: Record<string, unknown> } } | null;
              if (status === 200 && claimed) task = { id: claimed.task.id, output: claimed.decision.output };
              return statusOutcome(status, [200], data);
            });
            await sleep(thinkTime(own()));
            if (!task) continue;
            const t = task;
            claimed.push(t.id);
            const correct = own() < CORRECT_SHARE;
            const total = typeof t.output.total === "number" ? t.output.total : 0;
            await timed(rec, "POST /tasks/{id}/review", now(), false, async ({ signal, headers }) => {
              const verdict = correct
                ? { action: "correct", output: { ...t.output, total: Math.round((total + 1) * 100) / 100 }, reasonCodes: ["WRONG_TOTAL"] }
                : { action: "approve" };
              const { status, data } = await call(base, key, "POST", `/api/v1/tasks/${t.id}/review`, JSON.stringify(verdict), { signal, headers }, false);
              if (status === 200) reviewed.push(t.id);
              return statusOutcome(status, [200], data);
            });
          }
        })(),
      );
    }
    // Pagers: closed loops following nextCursor; caught up, the same cursor again after a pause.
    const pagerCursors: (string | undefined)[] = [];
    for (let p = 0; p < PAGERS; p++) {
      streams.push(
        (async () => {
          await sleep(t0 - now());
          let cursor: string | undefined;
          while (!stopped()) {
            let next: string | null = null;
            const out = await timed(rec, "GET /decisions (page)", now(), false, async ({ signal, headers }) => {
              const query = new URLSearchParams({ limit: String(PAGE_LIMIT), ...(cursor ? { cursor } : {}) });
              const { status, data } = await call(urls[(p + 1) % urls.length], setup.readKey, "GET", `/api/v1/decisions?${query}`, undefined, {
                signal,
                headers,
              });
              const page = data as { decisions: { id: string }[]; nextCursor: string | null } | null;
              if (status === 200 && page) {
                for (const d of page.decisions) pagerSeen.add(d.id);
                next = page.nextCursor;
              }
              return statusOutcome(status, [200], data);
            });
            if (out.ok && next) cursor = next;
            else await sleep(PAGE_POLL_S * 1000);
          }
          pagerCursors[p] = cursor;
        })(),
      );
    }
    await Promise.all(streams);
    const generator = genPauses.stop();
    // Drain: every request already sent gets its answer (or its timeout).
    while (inflight.size) await Promise.allSettled([...inflight]);
    for (const t of pauseTimers) clearTimeout(t);
    const before = atLoad ? await atLoad : undefined;
    const after = atEnd ? await atEnd : await scrapeAll();
    const pauses: [string, Pauses][] = before ? servers.map((_, i) => [instances > 1 ? `server ${i + 1}` : "server", serverPauses(before[i], after[i])]) : [];
    pauses.push(["load generator", generator]);
    const samples = smp.stop();
    const measuredS = (rec.to - rec.from) / 1000;
    // The servers' own handling time of each measured request, from their access log lines (by request id).
    let logged = 0;
    for (const s of servers)
      for (const line of s.output().split("\n")) {
        if (!line.includes('"bench-')) continue;
        try {
          const o = JSON.parse(line) as { reqId?: string; durationMs?: number };
          const label = o.reqId === undefined ? undefined : rec.ids.get(o.reqId);
          if (label && typeof o.durationMs === "number") {
            rec.stat(label).server.push(o.durationMs);
            logged++;
          }
        } catch {
          /* not a JSON line */
        }
      }
    if (logged < rec.ids.size)
      console.log(`  (the servers' access logs had ${fmt(logged)} of ${fmt(rec.ids.size)} measured requests: server times are of those)`);
    // The pagers read on to the end (not measured): what they then never saw, keyset paging stepped over
    // (a decision whose seq was taken before a later one's but committed after that one was read).
    for (let p = 0; p < PAGERS; p++) {
      const api = client(p + 1, setup.readKey);
      let cursor = pagerCursors[p];
      for (;;) {
        const { data } = await api.GET("/api/v1/decisions", { params: { query: { limit: 500, cursor } } });
        if (!data) throw new Error("the pager's last pages did not answer");
        for (const d of data.decisions) pagerSeen.add(d.id);
        if (!data.nextCursor) break;
        cursor = data.nextCursor;
      }
    }

    // ------------------------------------------------------------------------------------------------------
    // What was acknowledged is stored, once; no task was reviewed twice.
    const db = servers[0].db;
    const checks: RunResult["checks"] = [];
    const stored = await sqlAll<{ id: string; external_id: string }>(db, sql`SELECT id, external_id FROM decisions WHERE type_key = ${BENCH_TYPE}`);
    const byExternal = new Map<string, string[]>();
    for (const r of stored) byExternal.set(r.external_id, [...(byExternal.get(r.external_id) ?? []), r.id]);
    let missing = 0;
    let duplicated = 0;
    let otherId = 0;
    for (const [externalId, id] of acked) {
      const ids = byExternal.get(externalId) ?? [];
      if (ids.length === 0) missing++;
      else if (ids.length > 1) duplicated++;
      else if (ids[0] !== id) otherId++;
    }
    const unacked = stored.filter((r) => !acked.has(r.external_id)).length;
    checks.push({
      label: "every acknowledged decision stored exactly once",
      ok: missing + duplicated + otherId === 0 && acked.size > 0,
      detail: `${fmt(acked.size)} acknowledged: ${missing} missing, ${duplicated} stored more than once, ${otherId} under another id; ${fmt(stored.length)} stored (${unacked} without an acknowledgement: a request that timed out or failed can still have been written)`,
    });
    const twice = await sqlAll<{ task_id: string; n: number }>(db, sql`SELECT task_id, count(*) AS n FROM reviews GROUP BY task_id HAVING count(*) > 1`);
    const reviewRows = await sqlAll<{ task_id: string }>(db, sql`SELECT task_id FROM reviews`);
    const storedReviews = new Set(reviewRows.map((r) => r.task_id));
    const lostReviews = reviewed.filter((id) => !storedReviews.has(id)).length;
    checks.push({
      label: "no task reviewed twice",
      ok: twice.length === 0 && lostReviews === 0 && new Set(reviewed).size === reviewed.length,
      detail: `${fmt(reviewRows.length)} reviews stored, ${fmt(reviewed.length)} acknowledged: ${twice.length} task(s) with more than one review, ${lostReviews} acknowledged review(s) not stored`,
    });
    const handedTwice = claimed.length - new Set(claimed).size;
    checks.push({
      label: "no task handed out by two claims",
      ok: handedTwice === 0,
      detail: `${fmt(claimed.length)} tasks claimed, ${handedTwice} of them more than once`,
    });
    const open = await sqlAll<{ status: string; n: number }>(db, sql`SELECT status, count(*) AS n FROM tasks GROUP BY status ORDER BY status`);
    // Informational (not a check of the issue's): a sync client paging by seq can step over a row committed after a later seq was read.
    const unseen = stored.filter((r) => !pagerSeen.has(r.id)).length;
    const integrityOk = checks.every((c) => c.ok);

    const stats = rec.stats;
    console.log("");
    console.log(tableOf(stats, measuredS));
    console.log(
      "(ms; open loop: from the scheduled time, lag = how late the generator sent; closed loop: from the send; " +
        "server = the server's own time in its access log, from Express receiving the request to the answer sent. " +
        `errors: a refused or failed answer, or no answer within ${TIMEOUT_MS} ms; a claim on an empty queue (204) is not an error)`,
    );
    for (const [label, s] of stats)
      if (s.errors) console.log(`  errors of ${label}: ${[...s.kinds].map(([k, n]) => `${k} x${n}`).join(", ")}; e.g. ${s.samples.join(" | ")}`);
    console.log("");
    console.log(
      "pauses during the measured load (ms; event-loop delay: how late a 10 ms timer fired; GC: every collection, the main thread stopped or slowed by it):",
    );
    console.log(pausesTable(pauses));
    console.log("");
    console.log("server processes over time:");
    console.log(table([samples.header, ...samples.rows]));
    console.log("");
    for (const c of checks) console.log(`check: ${c.label}: ${c.ok ? "PASS" : "FAIL"} (${c.detail})`);
    console.log(`tasks at the end: ${open.map((o) => `${o.status} ${fmt(Number(o.n))}`).join(", ")}`);
    if (PAGERS > 0)
      console.log(
        `pager (keyset by seq, read on to the end after the load): ${fmt(unseen)} of ${fmt(stored.length)} stored decisions never seen (stepped over: committed after a later seq was read)`,
      );
    for (const line of targetLines(stats)) console.log(line);
    console.log(machineLine());
    if (LATENCIES) {
      const store = `${storeName(kind, instances)}${rates.scale === 1 ? "" : ` at ${share(rates.scale)}`}`;
      fs.appendFileSync(LATENCIES, rec.trace.map((line) => `${store}\t${line}\n`).join(""));
      console.log(
        `latencies: ${fmt(rec.trace.length)} requests written to ${LATENCIES} (start 0 ms = ${new Date(performance.timeOrigin + rec.from).toISOString()})`,
      );
    }
    const loadSamples = samples.series.filter((x) => x.phase === "load");
    const meanOf = (f: (x: Sample) => number) => loadSamples.reduce((a, x) => a + f(x), 0) / Math.max(1, loadSamples.length);
    return {
      stats,
      samples,
      checks,
      integrityOk,
      measuredS,
      instances,
      reviews: reviewed.length,
      acked: acked.size,
      rates,
      serverCpu: meanOf((x) => x.servers.reduce((a, v) => a + (Number.isFinite(v.cpuPct) ? v.cpuPct : 0), 0)),
      machineBusy: meanOf((x) => x.machinePct),
    };
  } finally {
    for (const s of servers) await s.close();
  }
}

const sortedOf = (xs: number[]) => [...xs].sort((a, b) => a - b);
const p = (xs: number[], q: number) => percentile(sortedOf(xs), q);
const msFmt = (x: number) => (Number.isFinite(x) ? fmt(x, x < 100 ? 1 : 0) : "-");

function tableOf(stats: Map<string, Stat>, seconds: number): string {
  const rows: (string | number)[][] = [
    ["endpoint", "requests", "per s", "errors", "p50", "p95", "p99", "max", "lag p99", "lag max", "server p50", "server p99", "p99 target"],
  ];
  for (const label of ENDPOINTS) {
    const s = stats.get(label);
    if (!s) continue;
    const sorted = sortedOf(s.ms);
    const lag = sortedOf(s.lag);
    const target = FAST.has(label) ? FAST_P99_MS : ANY_P99_MS;
    const p99 = percentile(sorted, 99);
    const label2 = label + (s.empty ? ` (${fmt(s.empty)} empty)` : "");
    rows.push([
      label2,
      fmt(s.ms.length),
      fmt(s.ms.length / seconds, 1),
      fmt(s.errors),
      msFmt(percentile(sorted, 50)),
      msFmt(percentile(sorted, 95)),
      msFmt(p99),
      msFmt(sorted[sorted.length - 1]),
      s.openLoop ? msFmt(percentile(lag, 99)) : "-",
      s.openLoop ? msFmt(lag[lag.length - 1]) : "-",
      s.server.length ? msFmt(p(s.server, 50)) : "-",
      s.server.length ? msFmt(p(s.server, 99)) : "-",
      `${FAST.has(label) ? "<=" : "<"} ${target} ${verdictOf(label, p99)}`,
    ]);
  }
  return table(rows);
}

const verdictOf = (label: string, p99: number) => ((FAST.has(label) ? p99 <= FAST_P99_MS : p99 < ANY_P99_MS) ? "PASS" : "FAIL");

function worst(stats: Map<string, Stat>) {
  let label = "";
  let p99 = -Infinity;
  for (const [l, s] of stats) {
    const v = p(s.ms, 99);
    if (v > p99) [label, p99] = [l, v];
  }
  return { label, p99 };
}
const errorsOf = (stats: Map<string, Stat>) => [...stats.values()].reduce((a, s) => a + s.errors, 0);
const p99Of = (stats: Map<string, Stat>, label: string) => (stats.get(label) ? p(stats.get(label)!.ms, 99) : NaN);

function targetLines(stats: Map<string, Stat>): string[] {
  const out: string[] = [];
  for (const label of FAST)
    out.push(`target: ${label} p99 <= ${FAST_P99_MS} ms -> ${verdictOf(label, p99Of(stats, label))} (${msFmt(p99Of(stats, label))} ms)`);
  const w = worst(stats);
  out.push(`target: every endpoint p99 < ${ANY_P99_MS} ms -> ${w.p99 < ANY_P99_MS ? "PASS" : "FAIL"} (worst ${w.label}: ${msFmt(w.p99)} ms)`);
  const errors = errorsOf(stats);
  out.push(`target: no errors -> ${errors === 0 ? "PASS" : "FAIL"} (${fmt(errors)})`);
  return out;
}

/** The steepest server's RSS slope (MB a minute, least squares) over the load phase after its first third, which still fills caches. */
function rssGrowth(r: RunResult): number {
  const load = r.samples.series.filter((s) => s.phase === "load");
  const tail = load.slice(Math.floor(load.length / 3));
  return Math.max(...(load[0]?.servers ?? []).map((_, i) => slope(tail.map((s) => [s.t / 60, s.servers[i].rssMb]))));
}
const flatJudged = DURATION_S >= FLAT_MIN_S;

/**
 * One row per store and scale: the load's rates, the fast endpoints' p99 and the worst endpoint's, errors, CPU; then
 * per store the largest scale at which each target held (its runs below it need not all have: a run is one sample).
 */
function capacityTable(kinds: StoreKind[], sweeps: Record<StoreKind, RunResult[]>): string {
  const fastOk = (r: RunResult) => [...FAST].every((label) => verdictOf(label, p99Of(r.stats, label)) === "PASS");
  const allOk = (r: RunResult) => worst(r.stats).p99 < ANY_P99_MS && errorsOf(r.stats) === 0 && r.integrityOk;
  const rows: string[][] = [
    [
      "store",
      "load",
      "single/s",
      "batches/s",
      "reviewers",
      "reviews/s",
      ...[...FAST].map((l) => `${l.replace(/ \(single\)$/, "")} p99`),
      "worst p99",
      "errors",
      "server CPU %",
      "machine busy %",
      `fast <= ${FAST_P99_MS}`,
      `all < ${ANY_P99_MS}, no errors`,
    ],
  ];
  const summary: string[] = [];
  for (const k of kinds) {
    const runs = [...sweeps[k]].sort((a, b) => a.rates.scale - b.rates.scale);
    const store = storeName(k, runs[0].instances);
    for (const r of runs)
      rows.push([
        store,
        share(r.rates.scale),
        fmt(r.rates.single, 1),
        r.rates.batchEvery > 0 && BATCH_SIZE > 0 ? fmt(1 / r.rates.batchEvery, 2) : "0",
        fmt(r.rates.reviewers),
        fmt((r.stats.get("POST /tasks/{id}/review")?.ms.length ?? 0) / r.measuredS, 1),
        ...[...FAST].map((l) => msFmt(p99Of(r.stats, l))),
        `${msFmt(worst(r.stats).p99)}`,
        fmt(errorsOf(r.stats)),
        fmt(r.serverCpu),
        fmt(r.machineBusy),
        fastOk(r) ? "PASS" : "FAIL",
        allOk(r) ? "PASS" : "FAIL",
      ]);
    const largest = (ok: (r: RunResult) => boolean) => {
      const passing = runs.filter(ok);
      return passing.length ? share(passing[passing.length - 1].rates.scale) : `none of ${runs.map((r) => share(r.rates.scale)).join(", ")}`;
    };
    summary.push(
      `${store}: the largest load with single ingest, claim and review p99 <= ${FAST_P99_MS} ms: ${largest(fastOk)}; ` +
        `with every endpoint p99 < ${ANY_P99_MS} ms, no errors and everything stored once: ${largest(allOk)}`,
    );
  }
  return `capacity on this machine (load = a share of the configured rates; one run each):\n${table(rows)}\n${summary.join("\n")}`;
}

async function main() {
  buildApp();
  console.log(machineLine());
  if (LATENCIES) fs.writeFileSync(LATENCIES, "store\tendpoint\tstart_ms\tlatency_ms\tok\n");
  const { kinds, results: sweeps } = await onEachStore(async (kind) => {
    const runs: RunResult[] = [];
    for (const scale of SCALES) runs.push(await run(kind, ratesAt(scale)));
    return runs;
  });
  if (SCALES.length > 1) {
    console.log("");
    console.log(capacityTable(kinds, sweeps));
  }
  // The side-by-side table and the summary are of the configured load (scale 1) when it was run, else the largest scale.
  const configured = (runs: RunResult[]) => runs.find((r) => r.rates.scale === 1) ?? runs.reduce((a, r) => (r.rates.scale > a.rates.scale ? r : a));
  const results = Object.fromEntries(kinds.map((k) => [k, configured(sweeps[k])])) as Record<StoreKind, RunResult>;
  const v = (f: (r: RunResult) => string) => Object.fromEntries(kinds.map((k) => [k, f(results[k])]));
  const rows = [
    ...[...FAST].map((label) => ({
      label: `${label} p99 ms`,
      values: v((r) => msFmt(p99Of(r.stats, label))),
      target: (k: StoreKind) => `<= ${FAST_P99_MS} ${verdictOf(label, p99Of(results[k].stats, label))}`,
    })),
    {
      label: "worst endpoint p99 ms",
      values: v((r) => `${msFmt(worst(r.stats).p99)} (${worst(r.stats).label})`),
      target: (k: StoreKind) => `< ${ANY_P99_MS} ${worst(results[k].stats).p99 < ANY_P99_MS ? "PASS" : "FAIL"}`,
    },
    { label: "errors", values: v((r) => fmt(errorsOf(r.stats))), target: (k: StoreKind) => `0 ${errorsOf(results[k].stats) === 0 ? "PASS" : "FAIL"}` },
    {
      label: "decisions acknowledged / reviews",
      values: v((r) => `${fmt(r.acked)} / ${fmt(r.reviews)}`),
    },
    {
      label: "peak server RSS MB",
      values: v((r) => fmt(sortedOf(r.samples.series.flatMap((s) => s.servers.map((x) => x.rssMb).filter(Number.isFinite))).at(-1) ?? NaN)),
    },
    {
      label: "server RSS growth MB/min (load after its first third)",
      values: v((r) => fmt(rssGrowth(r), 2)),
      target: (k: StoreKind) =>
        flatJudged ? `< ${FLAT_MB_PER_MIN} ${rssGrowth(results[k]) < FLAT_MB_PER_MIN ? "PASS" : "FAIL"}` : `(judged from ${FLAT_MIN_S} s)`,
    },
    {
      label: "mean server CPU % (load phase, all servers)",
      values: v((r) => fmt(r.serverCpu)),
    },
    {
      label: "mean Postgres CPU % (load phase, local cluster)",
      values: v((r) => {
        const load = r.samples.series.filter((s) => s.phase === "load" && s.pgCpuPct !== undefined);
        return load.length ? fmt(load.reduce((a, s) => a + s.pgCpuPct!, 0) / load.length) : "-";
      }),
    },
    {
      label: "acknowledged stored once, none reviewed twice",
      values: v((r) => (r.integrityOk ? "yes" : "NO")),
      target: (k: StoreKind) => (results[k].integrityOk ? "PASS" : "FAIL"),
    },
  ];
  console.log("");
  const scaleNote = (k: StoreKind) => (results[k].rates.scale === 1 ? "" : `, the load at ${share(results[k].rates.scale)}`);
  console.log(sideBySide(`mixed load, ${DURATION_S} s measured after ${WARMUP_S} s warm-up${scaleNote(kinds[0])}, side by side`, kinds, rows));
  console.log(machineLine());
  for (const k of kinds) {
    const r = results[k];
    const store = storeName(k, r.instances);
    for (const label of FAST)
      summaryLine({
        bench: "load",
        store,
        figure: `${label} p99`,
        value: `${msFmt(p99Of(r.stats, label))} ms`,
        target: `<= ${FAST_P99_MS} ms`,
        ok: verdictOf(label, p99Of(r.stats, label)) === "PASS",
      });
    const w = worst(r.stats);
    summaryLine({ bench: "load", store, figure: `worst p99 (${w.label})`, value: `${msFmt(w.p99)} ms`, target: `< ${ANY_P99_MS} ms`, ok: w.p99 < ANY_P99_MS });
    summaryLine({ bench: "load", store, figure: "errors", value: fmt(errorsOf(r.stats)), target: "0", ok: errorsOf(r.stats) === 0 });
    summaryLine({
      bench: "load",
      store,
      figure: "server RSS growth after warm-up",
      value: `${fmt(rssGrowth(r), 2)} MB/min`,
      ...(flatJudged ? { target: `< ${FLAT_MB_PER_MIN} MB/min`, ok: rssGrowth(r) < FLAT_MB_PER_MIN } : {}),
    });
    summaryLine({
      bench: "load",
      store,
      figure: "acknowledged stored once, none reviewed twice",
      value: r.integrityOk ? "yes" : "NO",
      target: "yes",
      ok: r.integrityOk,
    });
  }
  if (kinds.some((k) => sweeps[k].some((r) => !r.integrityOk))) {
    console.log("A check of what was stored FAILED (see the check: lines above).");
    process.exitCode = 1;
  }
}

await main();
