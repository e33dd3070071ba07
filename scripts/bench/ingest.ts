/**
 * Ingest throughput: decisions per second through the real HTTP API (built
 * production server, batches of 1,000 and single requests) against raw
 * better-sqlite3 inserts into the same schema (same migrations, indexes,
 * triggers and pragmas), measured in the same run, round by round, so that a
 * busy machine slows every path alike and the ratios stay meaningful.
 *
 * Two raw baselines, prepared INSERTs of one row and of 100 rows per
 * statement (the faster counts), 1,000 decisions per IMMEDIATE transaction, of
 * rows read back from the server's database before the clock starts:
 *  - "same rows": every row the HTTP path stored for those decisions
 *    (decisions, their review/QA tasks, outbox events, the batch's audit
 *    entry, roll-up upserts).
 *    The ratio against it is the cost of the API itself: HTTP, validation,
 *    idempotency, routing, hashing. The target is judged on it.
 *  - "decisions table only": just the decision rows; the stricter ratio,
 *    which also charges the API for the bookkeeping rows it must write.
 *
 *   npm run bench:ingest     (env: BENCH_ROUNDS=6 BENCH_ROUND_ROWS=5000 BENCH_SINGLE=500 BENCH_CONCURRENCY=8)
 *
 * Target: batch ingest at least 25% of the raw insert rate.
 */
import { performance } from "node:perf_hooks";
import type Database from "better-sqlite3";
import { makeKey, makeType, makeUser } from "../../tests/support/db";
import { startServer } from "../../tests/support/server";
import { BENCH_TYPE, benchDecision, benchType, buildApp, fmt, machineLine, rng, sqliteBenchStore, sqliteWriter, table } from "./common";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ROUND_ROWS = Number(process.env.BENCH_ROUND_ROWS ?? 5000);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BATCH = 1000;

type Row = Record<string, unknown>;
/** Every row one HTTP batch stored: what the "same rows" baseline inserts. */
type StoredBatch = { decisions: Row[]; tasks: Row[]; outbox: Row[]; audit: Row[]; rollups: Row[] };
const SEQ_TABLES = ["decisions", "tasks", "outbox", "audit_log"] as const;

function columns(sqlite: Database.Database, table: string): string[] {
  return (sqlite.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((c) => c.name).filter((c) => c !== "seq");
}

/**
 * Raw INSERT statements of up to `chunk` rows each into `tables`, in a freshly migrated
 * database. Which shape is faster depends on the table (a statement per row pays a
 * statement journal per row where triggers fire), so each baseline runs both.
 */
async function rawInserter(tables: readonly (keyof StoredBatch)[], chunk: number) {
  const { db, sqlite } = await sqliteBenchStore();
  await makeType(db, benchType((await makeUser(db, "admin")).email));
  /** Statement and parameters for each INSERT, all built before the clock starts. */
  type Plan = [Database.Statement, unknown[]][][];
  const table = (name: string, suffix = "") => {
    const cols = columns(sqlite, name);
    const tuple = `(${cols.map(() => "?").join(", ")})`;
    const stmts = new Map<number, Database.Statement>();
    const stmt = (n: number): Database.Statement => {
      const known = stmts.get(n);
      if (known) return known;
      const st = sqlite.prepare(`INSERT INTO ${name} (${cols.map((c) => `"${c}"`).join(", ")}) VALUES ${Array(n).fill(tuple).join(", ")}${suffix}`);
      stmts.set(n, st);
      return st;
    };
    return (rows: Row[]) => {
      const out: [Database.Statement, unknown[]][] = [];
      for (let i = 0; i < rows.length; i += chunk) {
        const part = rows.slice(i, i + chunk);
        out.push([stmt(part.length), part.flatMap((r) => cols.map((c) => r[c]))]);
      }
      return out;
    };
  };
  const plans = {
    decisions: table("decisions"),
    tasks: table("tasks"),
    outbox: table("outbox"),
    audit: table("audit_log"),
    rollups: table("rollups", ` ON CONFLICT (type_key, hour, model_version, metric) DO UPDATE SET value = value + excluded.value`),
  };
  const write = sqlite.transaction((batch: [Database.Statement, unknown[]][]) => {
    for (const [stmt, params] of batch) stmt.run(params);
  });
  return {
    /** Seconds to insert these batches, one IMMEDIATE transaction each (statements and parameters are prepared first). */
    insert(batches: StoredBatch[]): number {
      const plan: Plan = batches.map((b) => tables.flatMap((t) => plans[t](b[t])));
      const t0 = performance.now();
      for (const b of plan) write.immediate(b);
      return (performance.now() - t0) / 1000;
    },
    count: () => (sqlite.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n,
    close: () => sqlite.close(),
  };
}

/** The server's rows written after `since` (max seq per table), grouped by the batch of 1,000 decisions they belong to. */
function storedSince(sqlite: Database.Database, since: Record<string, number>): StoredBatch[] {
  const after = (t: string) => sqlite.prepare(`SELECT * FROM ${t} WHERE seq > ? ORDER BY seq`).all(since[t]) as Row[];
  const decisions = after("decisions");
  const tasks = after("tasks");
  const outbox = after("outbox");
  const audit = after("audit_log").filter((a) => a.entity_type === "decision_batch");
  // Each batch upserted one counter per (hour or day, metric) its decisions touch: the type's counters.
  const rollups = sqlite.prepare("SELECT * FROM rollups WHERE type_key = ?").all(BENCH_TYPE) as Row[];
  const batches: StoredBatch[] = [];
  for (let i = 0; i < decisions.length; i += BATCH) {
    const ds = decisions.slice(i, i + BATCH);
    const ids = new Set(ds.map((d) => d.id));
    batches.push({
      decisions: ds,
      tasks: tasks.filter((t) => ids.has(t.decision_id)),
      outbox: outbox.filter((e) => ids.has(e.entity_id)),
      audit: [audit[batches.length]],
      rollups,
    });
  }
  return batches;
}

const settle = () => new Promise((r) => setTimeout(r, 300));

async function main() {
  console.log(`Ingest benchmark: ${ROUNDS} rounds of ${fmt(ROUND_ROWS)} decisions (HTTP batches of ${BATCH} vs raw inserts) and ${SINGLE} single requests (${CONCURRENCY} in flight)`);
  buildApp();
  const s = await startServer();
  const ALL = ["decisions", "tasks", "outbox", "audit", "rollups"] as const;
  const raws = { same1: await rawInserter(ALL, 1), same100: await rawInserter(ALL, 100), only1: await rawInserter(["decisions"], 1), only100: await rawInserter(["decisions"], 100) };
  const rawSeconds = { same1: 0, same100: 0, only1: 0, only100: 0 };
  const rawNames = Object.keys(raws) as (keyof typeof raws)[];
  try {
    const owner = await makeUser(s.db, "admin");
    await makeType(s.db, benchType(owner.email));
    const key = await makeKey(s.db, ["ingest"]);
    const post = async (body: string) => {
      const res = await fetch(`${s.url}/api/v1/decisions`, { method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body });
      if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
      await res.arrayBuffer();
    };
    const server = await sqliteWriter(s.db);
    const maxSeq = () => Object.fromEntries(SEQ_TABLES.map((t) => [t, (server.prepare(`SELECT coalesce(max(seq), 0) AS n FROM ${t}`).get() as { n: number }).n]));
    const rand = rng(1);

    // warm-up: JIT (a few batches, so the hot path is optimised before the clock runs), statement caches
    const WARM = 3;
    let since = maxSeq();
    for (let w = 0; w < WARM; w++) await post(JSON.stringify({ decisions: Array.from({ length: BATCH }, (_, i) => benchDecision(w * BATCH + i, rand, "warm")) }));
    const warmRows = storedSince(server, since);
    for (const k of rawNames) raws[k].insert(warmRows);

    let batchSeconds = 0;
    let singleSeconds = 0;
    const perRound: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const decisions = Array.from({ length: ROUND_ROWS }, (_, i) => benchDecision(round * ROUND_ROWS + i, rand, "d"));
      const bodies: string[] = [];
      for (let i = 0; i < decisions.length; i += BATCH) bodies.push(JSON.stringify({ decisions: decisions.slice(i, i + BATCH) }));
      const singles = Array.from({ length: SINGLE }, (_, i) => JSON.stringify(benchDecision(round * SINGLE + i, rand, "single")));

      since = maxSeq();
      let t0 = performance.now();
      for (const b of bodies) await post(b);
      const b = (performance.now() - t0) / 1000;
      const stored = storedSince(server, since);
      await settle(); // the server's after-work (GC, a WAL checkpoint) must not land in the raw timings
      for (const k of rawNames) rawSeconds[k] += raws[k].insert(stored);
      t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < singles.length) await post(singles[next++]);
        }),
      );
      singleSeconds += (performance.now() - t0) / 1000;
      batchSeconds += b;
      perRound.push(fmt((ROUND_ROWS / b) / 1000, 1));
    }

    const expected = WARM * BATCH + ROUNDS * (ROUND_ROWS + SINGLE);
    const storedN = (server.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n;
    if (storedN !== expected) throw new Error(`server stored ${storedN} decisions, expected ${expected}`);
    if (rawNames.some((k) => raws[k].count() !== WARM * BATCH + ROUNDS * ROUND_ROWS)) throw new Error("a raw insert lost rows");
    const lanes = server.prepare("SELECT route, count(*) AS n FROM decisions GROUP BY route ORDER BY route").all() as { route: string; n: number }[];
    const perDecision = (t: string) => (server.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n / storedN;

    const n = ROUNDS * ROUND_ROWS;
    const sameRate = n / Math.min(rawSeconds.same1, rawSeconds.same100);
    const onlyRate = n / Math.min(rawSeconds.only1, rawSeconds.only100);
    const shape = (a: number, b: number) => `${fmt(n / a)}/s one row per statement, ${fmt(n / b)}/s 100`;
    const batchRate = n / batchSeconds;
    const singleRate = (ROUNDS * SINGLE) / singleSeconds;
    const pct = (x: number, base: number) => `${fmt((x / base) * 100, 1)}%`;
    console.log("");
    console.log(
      table([
        ["path", "decisions/s", "vs raw, same rows", "vs raw, decisions only"],
        ["raw insert: every row the HTTP path stored", fmt(sameRate), "100%", pct(sameRate, onlyRate)],
        ["raw insert: decisions table only", fmt(onlyRate), pct(onlyRate, sameRate), "100%"],
        [`HTTP POST batches of ${BATCH}`, fmt(batchRate), pct(batchRate, sameRate), pct(batchRate, onlyRate)],
        [`HTTP POST single decisions (${CONCURRENCY} in flight)`, fmt(singleRate), pct(singleRate, sameRate), pct(singleRate, onlyRate)],
      ]),
    );
    console.log("");
    console.log(`raw, every row: ${shape(rawSeconds.same1, rawSeconds.same100)}; decisions only: ${shape(rawSeconds.only1, rawSeconds.only100)}`);
    console.log(`HTTP batches, thousand decisions/s per round: ${perRound.join(", ")}`);
    console.log(
      `lanes: ${lanes.map((l) => `${l.route} ${fmt(l.n)}`).join(", ")}; rows per decision stored: tasks ${fmt(perDecision("tasks"), 2)}, outbox ${fmt(perDecision("outbox"), 2)}, audit ${fmt(perDecision("audit_log"), 3)}, plus roll-up upserts.`,
    );
    console.log(machineLine());
    const ratio = batchRate / sameRate;
    console.log(`target: batch >= 25% of the raw insert of the same rows -> ${ratio >= 0.25 ? "MET" : "MISSED"} (${fmt(ratio * 100, 1)}%; against the decisions table alone ${pct(batchRate, onlyRate)})`);
  } finally {
    for (const k of rawNames) raws[k].close();
    await s.close();
  }
}

await main();
