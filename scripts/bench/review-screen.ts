/**
 * Benchmark: server time to render the queue page and the review screen with
 * 1,000,000 decisions (all waiting for review: the worst case for the queue).
 *
 *   npm run bench:review            (BENCH_DECISIONS=200000 for a quicker run)
 *
 * Prints p50/p95 of (1) the route loaders called in-process and (2) full HTTP
 * renders (loader + React SSR) from the built production server, plus the
 * naive queries the workbench avoids (count(*) of the backlog, OFFSET paging)
 * measured in the same run as a baseline.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LoaderFunctionArgs } from "@remix-run/node";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const N = Number(process.env.BENCH_DECISIONS || 1_000_000);
const ITER = Number(process.env.BENCH_ITERATIONS || 200);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-review-"));
const dbPath = path.join(dir, "bench.db");
process.env.DATABASE_PATH = dbPath;
// Production React (the development build renders several times slower).
process.env.NODE_ENV = "production";

const { closeDatabase, getDb } = await import("../../db/client.server");
const { createUser } = await import("../../app/domain/auth/users.server");
const { upsertDecisionType } = await import("../../app/domain/decision-types/decision-types.server");
const { BENCH_TYPE, benchType, sqliteWriter, summaryLine } = await import("./common");
const { claim } = await import("../../app/domain/queue/claim.server");
const { startSession } = await import("../../app/domain/auth/session.server");

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmt = (ms: number) => `${ms.toFixed(2).padStart(8)} ms`;
const results: { name: string; p50: number; p95: number }[] = [];

async function measure(name: string, fn: (i: number) => unknown | Promise<unknown>, iterations = ITER) {
  for (let i = 0; i < 20; i++) await fn(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  const r = { name, p50: pct(times, 50), p95: pct(times, 95) };
  results.push(r);
  console.log(`${name.padEnd(58)} p50 ${fmt(r.p50)}   p95 ${fmt(r.p95)}`);
  return r;
}

// ---- data -------------------------------------------------------------------
const db = getDb();
const sqlite = await sqliteWriter(db);
const admin = (
  await createUser(
    db,
    {
      email: "owner@bench.example",
      role: "manager",
      password: "bench password 123",
    },
    "bench",
  )
).user;
const reviewer = (
  await createUser(
    db,
    {
      email: "reviewer@bench.example",
      role: "reviewer",
      password: "bench password 123",
    },
    "bench",
  )
).user;
await upsertDecisionType(
  db,
  {
    ...benchType(admin.email),
    routing: { ...benchType(admin.email).routing, qaSampleRate: 0 },
  },
  "bench",
);

const t0 = Date.now();
const t = performance.now();
sqlite.pragma("synchronous = OFF");
sqlite.exec(`
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${N})
INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence, field_confidence,
  flags, priority, occurred_at, received_at, route, reasons, policy_version, qa_sampled, status, updated_at)
SELECT printf('dec_bench_%08d', i), '${BENCH_TYPE}', printf('INV-%08d', i), printf('%064d', i), 'invoice-extractor',
  CASE WHEN i % 3 = 0 THEN '2.0.0' ELSE '1.4.2' END,
  json_object('vendor', json_object('name', 'ACME GmbH', 'vatId', 'DE811907980'), 'pages', i % 5 + 1,
    'lines', json_array(json_object('description', 'Bolts', 'quantity', 4, 'unitPrice', 25), json_object('description', 'Delivery', 'quantity', 1, 'unitPrice', 20.5))),
  json_object('total', (i % 1000) + 0.5, 'currency', 'EUR', 'issued', '2026-11-02',
    'lines', json_array(json_object('sku', 'BOLT', 'amount', 100), json_object('sku', 'DELIVERY', 'amount', 20.5))),
  0.5 + (i % 40) / 100.0, json_object('total', 0.6, 'currency', 0.99),
  CASE WHEN i % 50 = 0 THEN '["policy:pep"]' ELSE '[]' END, i % 3,
  ${t0} - (${N} - i) * 2000, ${t0} - (${N} - i) * 2000, 'review', '["confidence 0.5 < 0.9","field total confidence 0.6 < 0.95"]', 1, 0, 'pending_review', ${t0}
FROM s;
INSERT INTO tasks (id, decision_id, type_key, kind, status, priority, due_at, created_at)
SELECT 'tsk_bench_' || substr(id, 11), id, type_key, 'review', 'open', priority, received_at + 240 * 60000, received_at FROM decisions;
INSERT INTO rollups (type_key, model_version, hour, metric, value)
SELECT type_key, model_version, (occurred_at / 3600000) * 3600000, 'volume', count(*) FROM decisions GROUP BY 1, 2, 3;
`);
sqlite.pragma("synchronous = NORMAL");
console.log(`generated ${N.toLocaleString("en-US")} decisions and open tasks with raw SQL in ${((performance.now() - t) / 1000).toFixed(1)} s (${dbPath})`);

// Tasks the reviewer holds, to open review screens.
const held: string[] = [];
for (let i = 0; i < 50; i++) held.push((await claim(db, reviewer, { next: {} }, { leaseMs: 3_600_000 }))!.id);
const cookie = (await startSession(reviewer)).split(";")[0];
const farCursor = (() => {
  const row = sqlite
    .prepare(`select priority, due_at, seq from tasks where status = 'open' order by priority desc, due_at, seq limit 1 offset ${Math.floor(N / 2)}`)
    .get() as { priority: number; due_at: number; seq: number };
  return `${row.priority}_${row.due_at}_${row.seq}`;
})();

// ---- loaders in-process ----------------------------------------------------
const queueRoute = await import("../../app/routes/queue");
const reviewRoute = await import("../../app/routes/review.$taskId");
const base = "http://bench.local";
const req = (p: string) => new Request(base + p, { headers: { Cookie: cookie } });
const call = (route: { loader: (a: LoaderFunctionArgs) => unknown }, p: string, params: Record<string, string> = {}) =>
  route.loader({ request: req(p), params, context: {} });

console.log(`\nloaders (in-process), ${ITER} iterations each`);
await measure("queue loader: default view", () => call(queueRoute, "/queue"));
await measure("queue loader: type + flag + model filter", () => call(queueRoute, `/queue?type=${BENCH_TYPE}&flag=policy:pep&model=2.0.0`));
await measure("queue loader: overdue, oldest first", () => call(queueRoute, "/queue?sla=overdue&sort=oldest"));
await measure(`queue loader: deep page (keyset cursor at row ${(N / 2).toLocaleString("en-US")})`, () => call(queueRoute, `/queue?cursor=${farCursor}`));
await measure("review loader: claimed task", (i) =>
  call(reviewRoute, `/review/${held[i % held.length]}`, {
    taskId: held[i % held.length],
  }),
);

console.log("\nbaseline: what the workbench avoids (same data, same run)");
const naiveCount = sqlite.prepare(`select count(*) as n from tasks where status = 'open' and type_key = '${BENCH_TYPE}'`);
const naiveSla = sqlite.prepare(`select count(*) as n from tasks where status = 'open' and type_key = '${BENCH_TYPE}' and due_at < ?`);
const offsetPage = sqlite.prepare(
  `select t.*, d.external_id from tasks t join decisions d on d.id = t.decision_id where t.status = 'open' order by t.priority desc, t.due_at, t.seq limit 50 offset ${Math.floor(N / 2)}`,
);
const baseCount = await measure("count(*) of the open backlog (per queue)", () => naiveCount.get(), 30);
await measure("count(*) past SLA, uncapped", () => naiveSla.get(Date.now()), 30);
const baseOffset = await measure(`OFFSET ${(N / 2).toLocaleString("en-US")} page`, () => offsetPage.all(), 30);

// ---- full HTTP renders from the built server --------------------------------
if (!fs.existsSync(path.join(ROOT, "build/index.js"))) {
  console.log("\nbuilding the app for the HTTP measurement…");
  await new Promise<void>((res, rej) =>
    spawn(process.execPath, ["node_modules/@remix-run/dev/dist/cli.js", "build"], {
      cwd: ROOT,
      stdio: "ignore",
      env: { ...process.env, NODE_ENV: "production" },
    }).on("exit", (c) => (c === 0 ? res() : rej(new Error("build failed")))),
  );
}
// In-process render through the production build's request handler: loader + React SSR, no socket.
const { createRequestHandler } = await import("@remix-run/node");
const build = await import(path.join(ROOT, "build/index.js"));
const handle = createRequestHandler(build, "production");
const render = async (p: string) => {
  const res = await handle(req(p));
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${p}: ${res.status} ${body.slice(0, 200)}`);
};
console.log(`\nrender in-process (production build handler: loader + React SSR), ${ITER} iterations each`);
await measure("render /queue", async () => render("/queue"));
await measure("render /queue?flag=policy:pep&sort=oldest", async () => render("/queue?flag=policy:pep&sort=oldest"));
await measure("render /review/:taskId", async (i) => render(`/review/${held[i % held.length]}`));

const port = await new Promise<number>((res) => {
  const srv = net.createServer().listen(0, "127.0.0.1", () => {
    const p = (srv.address() as net.AddressInfo).port;
    srv.close(() => res(p));
  });
});
const server = spawn(process.execPath, ["scripts/server.js"], {
  cwd: ROOT,
  env: {
    ...process.env,
    NODE_ENV: "production",
    DATABASE_PATH: dbPath,
    PORT: String(port),
    HOST: "127.0.0.1",
  },
  stdio: "ignore",
});
try {
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/login`)).status < 500) break;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const get = async (p: string) => {
    const res = await fetch(url + p, {
      headers: { Cookie: cookie },
      redirect: "manual",
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${p}: ${res.status} ${body.slice(0, 200)}`);
  };
  console.log(`\nHTTP (built server, loader + React SSR), ${ITER} iterations each`);
  await measure("GET /queue", async () => get("/queue"));
  await measure("GET /queue?flag=policy:pep&sort=oldest", async () => get("/queue?flag=policy:pep&sort=oldest"));
  await measure("GET /review/:taskId", async (i) => get(`/review/${held[i % held.length]}`));
} finally {
  server.kill("SIGTERM");
}

const queueDefault = results.find((r) => r.name === "queue loader: default view")!;
const far = results.find((r) => r.name.startsWith("queue loader: deep page"))!;
console.log("\nsummary");
console.log(`  queue counts: counters+capped SLA (whole loader) vs a single count(*): ${(baseCount.p50 / queueDefault.p50).toFixed(1)}x faster at p50`);
console.log(`  deep page: keyset vs OFFSET: ${(baseOffset.p50 / far.p50).toFixed(1)}x faster at p50`);
const worst = (prefix: string) => Math.max(...results.filter((r) => r.name.startsWith(prefix) || r.name.includes(prefix)).map((r) => r.p95));
for (const what of ["loader", "render", "GET"])
  summaryLine({
    bench: "review",
    store: "sqlite",
    figure: `worst p95, ${what === "GET" ? "HTTP" : `${what}s`}`,
    value: `${worst(what).toFixed(2)} ms`,
    target: "< 50 ms",
    ok: worst(what) < 50,
  });
console.log(
  `  worst p95: loaders ${worst("loader").toFixed(2)} ms, in-process renders ${worst("render").toFixed(2)} ms, HTTP ${worst("GET").toFixed(2)} ms (target < 50 ms)`,
);
console.log(
  `  machine load average during the run: ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${os.cpus().length} cores`,
);
await closeDatabase(db);
if (process.env.BENCH_KEEP) console.log(`kept ${dbPath}`);
else fs.rmSync(dir, { recursive: true, force: true });
