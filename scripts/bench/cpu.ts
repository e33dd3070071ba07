/**
 * The server's CPU per request, one request at a time (issue 16). On this project's machines bench:load's latency
 * varies from run to run by more than most changes to the request path make (the same build took 69-110% of a core
 * for the same load on different days), and its tail is queueing on a busy thread: what a change to the request
 * path buys is first a change in CPU per request. This measures that directly, on a quiet server.
 *
 * One client, one keep-alive connection, each request sent when the last one was answered, to the built production
 * server (scripts/server.js) on its own store. The server's CPU (user + system, every thread of the process, from
 * /proc) is read before and after each run of BENCH_CPU_REQUESTS (1000) requests of one kind:
 *
 *   GET /healthz                        the baseline: Node's HTTP server and the Express middleware every request passes
 *   GET /api/v1/decision-types/{key}    an API read: the API key, the type (both kept per process), a small JSON answer
 *   POST /api/v1/decisions              a single decision that goes to review (a decision, its task, audit, roll-ups)
 *   POST /api/v1/tasks/claim            the head of the queue, leased, with its decision in the answer
 *   POST /api/v1/tasks/{id}/review      an approval: the verdict, roll-ups, the event and the decision in the answer
 *
 * after 200 warm-up requests of each kind, in BENCH_CPU_ROUNDS (5) rounds of every kind in turn; printed: each
 * kind's median over the rounds of CPU ms per request, its ratio to the baseline's, and the wall time per request.
 * On Postgres the database's own CPU is in its processes, not counted here: the figures are the app server's.
 *
 * The same build measured minutes apart can differ by 10% on a shared machine, more than many changes to the request path
 * make. To compare two builds, BENCH_CPU_AGAINST=DIR names another checkout (built, with its node_modules): its server
 * runs on a store of its own beside this checkout's, the two take turns round by round (each going first every other
 * round), and a table of both and their ratio follows.
 *
 *   npm run bench:cpu                                    # SQLite and Postgres
 *   BENCH_STORES=sqlite npm run bench:cpu
 *   BENCH_CPU_REQUESTS=200 BENCH_CPU_ROUNDS=3 npm run bench:cpu
 *   git worktree add /tmp/base main && (cd /tmp/base && npm ci && npm run build)
 *   BENCH_STORES=sqlite BENCH_CPU_AGAINST=/tmp/base BENCH_CPU_ROUNDS=8 npm run bench:cpu
 */
import fs from "node:fs";
import path from "node:path";
import { makeKey, makeType, makeUser } from "../../tests/support/db";
import type { TestServer } from "../../tests/support/server";
import { createLastmileClient } from "../client/index";
import { benchDecision, benchType, BENCH_TYPE, buildApp, fmt, machineLine, num, percentile, procSample, rng, summaryLine, table } from "./common";
import { benchStore, closeStore, describeStore, onEachStore, sideBySide, startSharedServer, type StoreKind } from "./stores";

const REQUESTS = num("BENCH_CPU_REQUESTS", 1000);
/** Another checkout (built) to measure in the same run, its rounds interleaved with this one's. */
const AGAINST = process.env.BENCH_CPU_AGAINST?.trim() ? path.resolve(process.env.BENCH_CPU_AGAINST.trim()) : undefined;
if (AGAINST && !fs.existsSync(path.join(AGAINST, "build/index.js")))
  throw new Error(`bench:cpu: BENCH_CPU_AGAINST=${AGAINST} has no build/index.js: run npm ci and npm run build in that checkout first`);
const ROUNDS = num("BENCH_CPU_ROUNDS", 5);
const WARMUP = 200;

const KINDS = [
  "GET /healthz",
  "GET /api/v1/decision-types/{key}",
  "POST /api/v1/decisions",
  "POST /api/v1/tasks/claim",
  "POST /api/v1/tasks/{id}/review",
] as const;
type Kind = (typeof KINDS)[number];
const BASELINE: Kind = "GET /healthz";
const CYCLE: Kind[] = ["POST /api/v1/decisions", "POST /api/v1/tasks/claim", "POST /api/v1/tasks/{id}/review"];

function expectStatus(kind: Kind, response: Response, status: number, body?: unknown): void {
  if (response.status !== status)
    throw new Error(`bench:cpu: ${kind} answered ${response.status}, not ${status}: ${JSON.stringify(body ?? null).slice(0, 300)}`);
}

type Figures = { cpuMs: Record<Kind, number>; cycleMs: number };

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** One server under measurement: a checkout's built server on a store of its own, and what its requests need. */
type Target = { label: string; server: TestServer; close: () => Promise<void>; send: Record<Kind, () => Promise<void>> };

async function startTarget(kind: StoreKind, label: string, root: string | undefined): Promise<Target> {
  const store = await benchStore(kind);
  const server = await startSharedServer({ ...store.env, LOG_LEVEL: "info" }, { root });
  const close = async () => {
    await server.close();
    await closeStore(store);
  };
  try {
    const db = store.db;
    const owner = await makeUser(db, "admin");
    await makeType(db, benchType(owner.email));
    // The project's typed client (fetch): one request at a time, so one kept-alive connection.
    const ingest = createLastmileClient({ baseUrl: server.url, apiKey: await makeKey(db, ["ingest", "read"]) });
    const reviewer = createLastmileClient({ baseUrl: server.url, apiKey: await makeKey(db, ["review"], (await makeUser(db, "reviewer")).email) });
    const rand = rng(7);
    let n = 0;
    const claimed: string[] = [];
    const send: Record<Kind, () => Promise<void>> = {
      "GET /healthz": async () => {
        const response = await fetch(`${server.url}/healthz`);
        expectStatus("GET /healthz", response, 200, await response.json());
      },
      "GET /api/v1/decision-types/{key}": async () => {
        const { response, error } = await ingest.GET("/api/v1/decision-types/{key}", { params: { path: { key: BENCH_TYPE } } });
        expectStatus("GET /api/v1/decision-types/{key}", response, 200, error);
      },
      // Every decision goes to review (confidence under the type's threshold), so each claim finds a task.
      "POST /api/v1/decisions": async () => {
        const body = { ...benchDecision(++n, rand, "cpu"), confidence: 0.5 };
        const { response, error } = await ingest.POST("/api/v1/decisions", { body: body as never });
        expectStatus("POST /api/v1/decisions", response, 201, error);
      },
      "POST /api/v1/tasks/claim": async () => {
        const { data, response, error } = await reviewer.POST("/api/v1/tasks/claim", { body: {} });
        expectStatus("POST /api/v1/tasks/claim", response, 200, error);
        claimed.push((data as { task: { id: string } }).task.id);
      },
      "POST /api/v1/tasks/{id}/review": async () => {
        const { response, error } = await reviewer.POST("/api/v1/tasks/{id}/review", {
          params: { path: { id: claimed.shift()! } },
          body: { action: "approve" },
        });
        expectStatus("POST /api/v1/tasks/{id}/review", response, 200, error);
      },
    };
    for (let i = 0; i < WARMUP; i++) for (const k of CYCLE) await send[k]();
    for (let i = 0; i < WARMUP; i++) await send["GET /healthz"]();
    for (let i = 0; i < WARMUP; i++) await send["GET /api/v1/decision-types/{key}"]();
    return { label, server, close, send };
  } catch (e) {
    await close();
    throw e;
  }
}

function figuresOf(cpu: Map<Kind, number[]>): Figures {
  const cpuMs = Object.fromEntries(KINDS.map((k) => [k, median(cpu.get(k)!)])) as Record<Kind, number>;
  return { cpuMs, cycleMs: CYCLE.reduce((sum, k) => sum + cpuMs[k], 0) };
}

async function run(kind: StoreKind): Promise<Figures> {
  console.log(`\n### ${await describeStore(kind)}`);
  const targets: Target[] = [];
  try {
    targets.push(await startTarget(kind, "this checkout", undefined));
    if (AGAINST) targets.push(await startTarget(kind, AGAINST, AGAINST));
    const cpu = targets.map(() => new Map<Kind, number[]>(KINDS.map((k) => [k, []])));
    const wall = targets.map(() => new Map<Kind, number[]>(KINDS.map((k) => [k, []])));
    for (let r = 0; r < ROUNDS; r++) {
      // Compared checkouts take turns, each going first every other round, so a drift in the machine's speed
      // during the run falls on both alike.
      const order = targets.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const t of order) {
        const { server, send } = targets[t];
        // Each round sends every kind in turn; the writes in this order, so every claim has a task and every review a lease.
        for (const k of KINDS) {
          const before = procSample(server.pid)!;
          const started = performance.now();
          for (let i = 0; i < REQUESTS; i++) await send[k]();
          const ms = performance.now() - started;
          const after = procSample(server.pid)!;
          cpu[t].get(k)!.push(((after.cpuS - before.cpuS) * 1000) / REQUESTS);
          wall[t].get(k)!.push(ms / REQUESTS);
        }
      }
    }
    const figures = cpu.map(figuresOf);
    console.log(`${REQUESTS} requests of each kind a round, ${ROUNDS} rounds, one at a time on one connection; medians over the rounds`);
    targets.forEach((target, t) => {
      const { cpuMs } = figures[t];
      const rows: (string | number)[][] = [["request", "server CPU ms / request", "x baseline", "wall ms / request", "rounds' CPU ms"]];
      for (const k of KINDS) {
        const rounds = cpu[t].get(k)!.map((v) => v.toFixed(3));
        rows.push([k, fmt(cpuMs[k], 3), fmt(cpuMs[k] / cpuMs[BASELINE], 2), fmt(median(wall[t].get(k)!), 3), rounds.join(" ")]);
      }
      if (AGAINST) console.log(`\n${target.label}:`);
      console.log(table(rows));
    });
    const [own, other] = figures;
    summaryLine({ bench: "cpu", store: kind, figure: "server CPU ms, ingest + claim + review", value: fmt(own.cycleMs, 3) });
    summaryLine({ bench: "cpu", store: kind, figure: "ingest + claim + review, x GET /healthz", value: fmt(own.cycleMs / own.cpuMs[BASELINE], 2) });
    if (other) {
      const rows: (string | number)[][] = [["request", "this checkout CPU ms", "other CPU ms", "this / other"]];
      for (const k of KINDS) rows.push([k, fmt(own.cpuMs[k], 3), fmt(other.cpuMs[k], 3), fmt(own.cpuMs[k] / other.cpuMs[k], 3)]);
      rows.push(["ingest + claim + review", fmt(own.cycleMs, 3), fmt(other.cycleMs, 3), fmt(own.cycleMs / other.cycleMs, 3)]);
      console.log(`\nthis checkout against ${AGAINST}, rounds interleaved:`);
      console.log(table(rows));
      summaryLine({ bench: "cpu", store: kind, figure: "ingest + claim + review, this checkout / other", value: fmt(own.cycleMs / other.cycleMs, 3) });
    }
    return own;
  } finally {
    for (const t of targets) await t.close();
  }
}

buildApp();
console.log(machineLine());
const { kinds, column } = await onEachStore(run);
const rows = KINDS.map((k) => ({ label: `${k} CPU ms`, values: column((f) => fmt(f.cpuMs[k], 3)) }));
rows.push({ label: "ingest + claim + review CPU ms", values: column((f) => fmt(f.cycleMs, 3)) });
console.log(sideBySide("server CPU per request, one at a time, side by side", kinds, rows));
