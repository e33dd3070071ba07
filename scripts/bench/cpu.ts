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
 *   npm run bench:cpu                                    # SQLite and Postgres
 *   BENCH_STORES=sqlite npm run bench:cpu
 *   BENCH_CPU_REQUESTS=200 BENCH_CPU_ROUNDS=3 npm run bench:cpu
 */
import http from "node:http";
import zlib from "node:zlib";
import { makeKey, makeType, makeUser } from "../../tests/support/db";
import { benchDecision, benchType, BENCH_TYPE, buildApp, fmt, machineLine, num, procSample, rng, summaryLine, table } from "./common";
import { benchStore, closeStore, describeStore, onEachStore, sideBySide, startSharedServer, type StoreKind } from "./stores";

const REQUESTS = num("BENCH_CPU_REQUESTS", 1000);
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

type Answer = { status: number; body: unknown };

/** One request on the one keep-alive connection, its answer read whole (gzip or deflate undone). */
function request(agent: http.Agent, base: URL, method: string, path: string, key: string, body?: unknown): Promise<Answer> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          "accept-encoding": "gzip, deflate",
          ...(data === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(data) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks);
          const enc = res.headers["content-encoding"];
          const text = (enc === "gzip" ? zlib.gunzipSync(raw) : enc === "deflate" ? zlib.inflateSync(raw) : raw).toString();
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : null });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function expectStatus(kind: string, a: Answer, status: number): void {
  if (a.status !== status) throw new Error(`bench:cpu: ${kind} answered ${a.status}, not ${status}: ${JSON.stringify(a.body).slice(0, 300)}`);
}

type Figures = { cpuMs: Record<Kind, number>; wallMs: Record<Kind, number>; requests: number };

async function run(kind: StoreKind): Promise<Figures> {
  console.log(`\n### ${await describeStore(kind)}`);
  const store = await benchStore(kind);
  const server = await startSharedServer({ ...store.env, LOG_LEVEL: "info" });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const db = store.db;
    const owner = await makeUser(db, "admin");
    await makeType(db, benchType(owner.email));
    const ingestKey = await makeKey(db, ["ingest", "read"]);
    const reviewerKey = await makeKey(db, ["review"], (await makeUser(db, "reviewer")).email);
    const base = new URL(server.url);
    const rand = rng(7);
    let n = 0;
    const claimed: string[] = [];
    const send: Record<Kind, () => Promise<void>> = {
      "GET /healthz": async () => expectStatus("GET /healthz", await request(agent, base, "GET", "/healthz", ingestKey), 200),
      "GET /api/v1/decision-types/{key}": async () =>
        expectStatus("GET type", await request(agent, base, "GET", `/api/v1/decision-types/${BENCH_TYPE}`, ingestKey), 200),
      // Every decision goes to review (confidence under the type's threshold), so each claim finds a task.
      "POST /api/v1/decisions": async () =>
        expectStatus(
          "POST /decisions",
          await request(agent, base, "POST", "/api/v1/decisions", ingestKey, { ...benchDecision(++n, rand, "cpu"), confidence: 0.5 }),
          201,
        ),
      "POST /api/v1/tasks/claim": async () => {
        const a = await request(agent, base, "POST", "/api/v1/tasks/claim", reviewerKey, {});
        expectStatus("POST /tasks/claim", a, 200);
        claimed.push((a.body as { task: { id: string } }).task.id);
      },
      "POST /api/v1/tasks/{id}/review": async () =>
        expectStatus("POST review", await request(agent, base, "POST", `/api/v1/tasks/${claimed.shift()}/review`, reviewerKey, { action: "approve" }), 200),
    };
    const writes: Kind[] = ["POST /api/v1/decisions", "POST /api/v1/tasks/claim", "POST /api/v1/tasks/{id}/review"];
    for (let i = 0; i < WARMUP; i++) for (const k of writes) await send[k]();
    for (let i = 0; i < WARMUP; i++) await send["GET /healthz"]();
    for (let i = 0; i < WARMUP; i++) await send["GET /api/v1/decision-types/{key}"]();

    const cpu = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
    const wall = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
    for (let r = 0; r < ROUNDS; r++) {
      // Each round sends every kind in turn; the writes in this order, so every claim has a task and every review a lease.
      for (const k of KINDS) {
        const before = procSample(server.pid)!;
        const started = performance.now();
        for (let i = 0; i < REQUESTS; i++) await send[k]();
        const ms = performance.now() - started;
        const after = procSample(server.pid)!;
        cpu.get(k)!.push(((after.cpuS - before.cpuS) * 1000) / REQUESTS);
        wall.get(k)!.push(ms / REQUESTS);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const cpuMs = Object.fromEntries(KINDS.map((k) => [k, median(cpu.get(k)!)])) as Record<Kind, number>;
    const wallMs = Object.fromEntries(KINDS.map((k) => [k, median(wall.get(k)!)])) as Record<Kind, number>;
    const rows: (string | number)[][] = [["request", "server CPU ms / request", "x baseline", "wall ms / request", "rounds' CPU ms"]];
    for (const k of KINDS) {
      rows.push([
        k,
        fmt(cpuMs[k], 3),
        fmt(cpuMs[k] / cpuMs[BASELINE], 2),
        fmt(wallMs[k], 3),
        cpu
          .get(k)!
          .map((v) => v.toFixed(3))
          .join(" "),
      ]);
    }
    console.log(`${REQUESTS} requests of each kind a round, ${ROUNDS} rounds, one at a time on one connection; medians over the rounds`);
    console.log(table(rows));
    const cycle = cpuMs["POST /api/v1/decisions"] + cpuMs["POST /api/v1/tasks/claim"] + cpuMs["POST /api/v1/tasks/{id}/review"];
    summaryLine({ bench: "cpu", store: kind, figure: "server CPU ms, ingest + claim + review", value: fmt(cycle, 3) });
    summaryLine({ bench: "cpu", store: kind, figure: "ingest + claim + review, x GET /healthz", value: fmt(cycle / cpuMs[BASELINE], 2) });
    return { cpuMs, wallMs, requests: REQUESTS * ROUNDS };
  } finally {
    agent.destroy();
    await server.close();
    await closeStore(store);
  }
}

buildApp();
console.log(machineLine());
const { kinds, column } = await onEachStore(run);
const rows = KINDS.map((k) => ({ label: `${k} CPU ms`, values: column((f) => fmt(f.cpuMs[k], 3)) }));
rows.push({
  label: "ingest + claim + review CPU ms",
  values: column((f) => fmt(f.cpuMs["POST /api/v1/decisions"] + f.cpuMs["POST /api/v1/tasks/claim"] + f.cpuMs["POST /api/v1/tasks/{id}/review"], 3)),
});
console.log(sideBySide("server CPU per request, one at a time, side by side", kinds, rows));
