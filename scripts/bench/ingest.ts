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
 * On Postgres the baselines are multi-row INSERTs of the same rows with the pg
 * driver (named prepared statements of 100 and of 1,000 rows; the faster counts),
 * one transaction per 1,000 decisions, into a freshly migrated database of the
 * same cluster.
 *
 * Then ingest throughput with two server instances against one on the same
 * store (HTTP, the same number of clients split across both): batches of 1,000
 * and single decisions. On SQLite both processes write one file (one writer at a
 * time), so ~1x or lower is expected there.
 *
 *   npm run bench:ingest     (env: BENCH_ROUNDS=6 BENCH_ROUND_ROWS=5000 BENCH_SINGLE=500 BENCH_CONCURRENCY=8
 *                             BENCH_SCALE_BATCHES=8 BENCH_SCALE_SINGLE=400 BENCH_SCALE_CONCURRENCY=4; BENCH_STORES, see stores.ts)
 *
 * Target: batch ingest at least 25% of the raw insert rate, on each store.
 */
import { performance } from "node:perf_hooks";
import type Database from "better-sqlite3";
import { makeKey, makeType, makeUser } from "../../tests/support/db";
import { type TestServer } from "../../tests/support/server";
import { BENCH_TYPE, benchDecision, benchType, buildApp, fmt, machineLine, rng, sqliteBenchStore, sqliteWriter, summaryLine, table } from "./common";
import { benchStore, onEachStore, closeStore, describeStore, pgClient, RAW_TEXT, sideBySide, startSharedServer, type StoreKind } from "./stores";
import { createLastmileClient, type LastmileClient } from "../client/index";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ROUND_ROWS = Number(process.env.BENCH_ROUND_ROWS ?? 5000);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SCALE_BATCHES = Number(process.env.BENCH_SCALE_BATCHES ?? 8);
const SCALE_SINGLE = Number(process.env.BENCH_SCALE_SINGLE ?? 400);
const SCALE_CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 4);
const BATCH = 1000;

type Row = Record<string, unknown>;
/** Every row one HTTP batch stored: what the "same rows" baseline inserts. */
type StoredBatch = {
  decisions: Row[];
  tasks: Row[];
  outbox: Row[];
  audit: Row[];
  rollups: Row[];
};
const SEQ_TABLES = ["decisions", "tasks", "outbox", "audit_log"] as const;
const ROLLUP_CONFLICT = ` ON CONFLICT (type_key, hour, model_version, policy_version, metric) DO UPDATE SET value = rollups.value + excluded.value`;

/** Raw SQL on a store, `?` placeholders on both (numbered for Postgres); Postgres values come back as the text it sent. */
type RawSql = {
  all(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
};
const numbered = (text: string) => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};
function sqliteRaw(sqlite: Database.Database): RawSql {
  return {
    all: async (text, params = []) => sqlite.prepare(text).all(...params) as Row[],
    close: async () => undefined,
  };
}
async function pgRaw(url: string): Promise<RawSql> {
  const c = await pgClient(url);
  return {
    all: async (text, params = []) => (await c.query({ text: numbered(text), values: params, types: RAW_TEXT })).rows as Row[],
    close: () => c.end(),
  };
}

type Inserter = {
  insert(batches: StoredBatch[]): Promise<number>;
  count(): Promise<number>;
  close(): Promise<void>;
};

function columns(sqlite: Database.Database, table: string): string[] {
  return (
    sqlite.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as {
      name: string;
    }[]
  )
    .map((c) => c.name)
    .filter((c) => c !== "seq");
}

/**
 * Raw INSERT statements of up to `chunk` rows each into `tables`, in a freshly migrated
 * database. Which shape is faster depends on the table (a statement per row pays a
 * statement journal per row where triggers fire), so each baseline runs both.
 */
async function rawInserter(tables: readonly (keyof StoredBatch)[], chunk: number): Promise<Inserter> {
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
    rollups: table("rollups", ` ON CONFLICT (type_key, hour, model_version, policy_version, metric) DO UPDATE SET value = value + excluded.value`),
  };
  const write = sqlite.transaction((batch: [Database.Statement, unknown[]][]) => {
    for (const [stmt, params] of batch) stmt.run(params);
  });
  return {
    /** Seconds to insert these batches, one IMMEDIATE transaction each (statements and parameters are prepared first). */
    async insert(batches: StoredBatch[]) {
      const plan: Plan = batches.map((b) => tables.flatMap((t) => plans[t](b[t])));
      const t0 = performance.now();
      for (const b of plan) write.immediate(b);
      return (performance.now() - t0) / 1000;
    },
    count: async () =>
      (
        sqlite.prepare("SELECT count(*) AS n FROM decisions").get() as {
          n: number;
        }
      ).n,
    close: async () => {
      sqlite.close();
    },
  };
}

/**
 * The Postgres baseline: multi-row INSERTs of `chunk` rows (named, so the server prepares each
 * shape once) with the pg driver, one transaction per batch of 1,000 decisions, into a freshly
 * migrated database; the rows' values are the text Postgres returned for the server's rows.
 */
async function pgRawInserter(tables: readonly (keyof StoredBatch)[], chunk: number): Promise<Inserter> {
  const store = await benchStore("postgres");
  await makeType(store.db, benchType((await makeUser(store.db, "admin")).email));
  const c = await pgClient(store.target);
  type Query = { name: string; text: string; values: unknown[] };
  const table = async (name: string, suffix = "") => {
    const cols = (
      await c.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        [name],
      )
    ).rows
      .map((r) => r.column_name)
      .filter((col) => col !== "seq");
    const text = (n: number) =>
      `INSERT INTO ${name} (${cols.map((col) => `"${col}"`).join(", ")}) VALUES ${Array.from({ length: n }, (_, r) => `(${cols.map((_, i) => `$${r * cols.length + i + 1}`).join(", ")})`).join(", ")}${suffix}`;
    return (rows: Row[]): Query[] => {
      const out: Query[] = [];
      for (let i = 0; i < rows.length; i += chunk) {
        const part = rows.slice(i, i + chunk);
        out.push({
          name: `raw_${name}_${part.length}`,
          text: text(part.length),
          values: part.flatMap((r) => cols.map((col) => r[col])),
        });
      }
      return out;
    };
  };
  const plans = {
    decisions: await table("decisions"),
    tasks: await table("tasks"),
    outbox: await table("outbox"),
    audit: await table("audit_log"),
    rollups: await table("rollups", ROLLUP_CONFLICT),
  };
  return {
    async insert(batches) {
      const plan = batches.map((b) => tables.flatMap((t) => plans[t](b[t])));
      const t0 = performance.now();
      for (const b of plan) {
        await c.query("BEGIN");
        for (const q of b) await c.query(q);
        await c.query("COMMIT");
      }
      return (performance.now() - t0) / 1000;
    },
    count: async () => Number((await c.query("SELECT count(*) AS n FROM decisions")).rows[0].n),
    close: async () => {
      await c.end();
      await closeStore(store);
    },
  };
}

/** The server's rows written after `since` (max seq per table), grouped by the batch of 1,000 decisions they belong to. */
async function storedSince(raw: RawSql, since: Record<string, number>): Promise<StoredBatch[]> {
  const after = (t: string) => raw.all(`SELECT * FROM ${t} WHERE seq > ? ORDER BY seq`, [since[t]]);
  const decisions = await after("decisions");
  const tasks = await after("tasks");
  const outbox = await after("outbox");
  const audit = (await after("audit_log")).filter((a) => a.entity_type === "decision_batch");
  // Each batch upserted one counter per (hour or day, metric) its decisions touch: the type's counters.
  const rollups = await raw.all("SELECT * FROM rollups WHERE type_key = ?", [BENCH_TYPE]);
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

const clients = new Map<string, LastmileClient>();
const clientFor = (url: string, key: string) => {
  const k = `${url} ${key}`;
  if (!clients.has(k)) clients.set(k, createLastmileClient({ baseUrl: url, apiKey: key }));
  return clients.get(k)!;
};

/** One POST /api/v1/decisions of an already serialized body (sent as is), its answer read but not parsed: the figure is the round trip. */
const post = async (url: string, key: string, body: string) => {
  const { response, error } = await clientFor(url, key).POST("/api/v1/decisions", {
    body: body as never,
    bodySerializer: (b) => b as unknown as string,
    parseAs: "arrayBuffer",
  });
  if (response.status !== 201) throw new Error(`ingest answered ${response.status}: ${JSON.stringify(error).slice(0, 500)}`);
};

/** Sends every body with `clients` requests in flight, client i talking to urls[i % urls.length]; returns seconds. */
async function spread(urls: string[], key: string, bodies: string[], clients: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (next < bodies.length) await post(urls[c % urls.length], key, bodies[next++]);
    }),
  );
  return (performance.now() - t0) / 1000;
}

type Result = {
  batchRate: number;
  singleRate: number;
  sameRate: number;
  onlyRate: number;
  scale: { batch1: number; batch2: number; single1: number; single2: number };
};

async function run(kind: StoreKind): Promise<Result> {
  console.log(`\n### ${await describeStore(kind)}`);
  console.log(
    `Ingest benchmark: ${ROUNDS} rounds of ${fmt(ROUND_ROWS)} decisions (HTTP batches of ${BATCH} vs raw inserts) and ${SINGLE} single requests (${CONCURRENCY} in flight)`,
  );
  const store = await benchStore(kind);
  await closeStore(store);
  const s = await startSharedServer(store.env);
  const ALL = ["decisions", "tasks", "outbox", "audit", "rollups"] as const;
  // SQLite: one row and 100 rows per statement; Postgres: 100 and 1,000 rows per statement.
  const [small, large] = kind === "sqlite" ? [1, 100] : [100, 1000];
  const make = kind === "sqlite" ? rawInserter : pgRawInserter;
  const raws = {
    sameS: await make(ALL, small),
    sameL: await make(ALL, large),
    onlyS: await make(["decisions"], small),
    onlyL: await make(["decisions"], large),
  };
  const rawSeconds = { sameS: 0, sameL: 0, onlyS: 0, onlyL: 0 };
  const rawNames = Object.keys(raws) as (keyof typeof raws)[];
  const server: RawSql = kind === "sqlite" ? sqliteRaw(await sqliteWriter(s.db)) : await pgRaw(s.env.DATABASE_URL);
  try {
    const owner = await makeUser(s.db, "admin");
    await makeType(s.db, benchType(owner.email));
    const key = await makeKey(s.db, ["ingest"]);
    const count = async (text: string, params: unknown[] = []) => Number((await server.all(text, params))[0].n);
    const maxSeq = async () => {
      const out: Record<string, number> = {};
      for (const t of SEQ_TABLES) out[t] = await count(`SELECT coalesce(max(seq), 0) AS n FROM ${t}`);
      return out;
    };
    const rand = rng(1);

    // warm-up: JIT (a few batches, so the hot path is optimised before the clock runs), statement caches
    const WARM = 3;
    let since = await maxSeq();
    for (let w = 0; w < WARM; w++)
      await post(
        s.url,
        key,
        JSON.stringify({
          decisions: Array.from({ length: BATCH }, (_, i) => benchDecision(w * BATCH + i, rand, "warm")),
        }),
      );
    const warmRows = await storedSince(server, since);
    for (const k of rawNames) await raws[k].insert(warmRows);

    let batchSeconds = 0;
    let singleSeconds = 0;
    const perRound: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const decisions = Array.from({ length: ROUND_ROWS }, (_, i) => benchDecision(round * ROUND_ROWS + i, rand, "d"));
      const bodies: string[] = [];
      for (let i = 0; i < decisions.length; i += BATCH) bodies.push(JSON.stringify({ decisions: decisions.slice(i, i + BATCH) }));
      const singles = Array.from({ length: SINGLE }, (_, i) => JSON.stringify(benchDecision(round * SINGLE + i, rand, "single")));

      since = await maxSeq();
      const t0 = performance.now();
      for (const b of bodies) await post(s.url, key, b);
      const b = (performance.now() - t0) / 1000;
      const stored = await storedSince(server, since);
      await settle(); // the server's after-work (GC, a WAL checkpoint) must not land in the raw timings
      for (const k of rawNames) rawSeconds[k] += await raws[k].insert(stored);
      singleSeconds += await spread([s.url], key, singles, CONCURRENCY);
      batchSeconds += b;
      perRound.push(fmt(ROUND_ROWS / b / 1000, 1));
    }

    const expected = WARM * BATCH + ROUNDS * (ROUND_ROWS + SINGLE);
    const storedN = await count("SELECT count(*) AS n FROM decisions");
    if (storedN !== expected) throw new Error(`server stored ${storedN} decisions, expected ${expected}`);
    for (const k of rawNames) if ((await raws[k].count()) !== WARM * BATCH + ROUNDS * ROUND_ROWS) throw new Error("a raw insert lost rows");
    const lanes = await server.all("SELECT route, count(*) AS n FROM decisions GROUP BY route ORDER BY route");
    const perDecision = async (t: string) => (await count(`SELECT count(*) AS n FROM ${t}`)) / storedN;

    const n = ROUNDS * ROUND_ROWS;
    const sameRate = n / Math.min(rawSeconds.sameS, rawSeconds.sameL);
    const onlyRate = n / Math.min(rawSeconds.onlyS, rawSeconds.onlyL);
    const shape = (a: number, b: number) => `${fmt(n / a)}/s ${small === 1 ? "one row" : `${small} rows`} per statement, ${fmt(n / b)}/s ${large}`;
    const batchRate = n / batchSeconds;
    const singleRate = (ROUNDS * SINGLE) / singleSeconds;
    const pct = (x: number, base: number) => `${fmt((x / base) * 100, 1)}%`;
    const driver = kind === "sqlite" ? "better-sqlite3" : "pg";
    console.log("");
    console.log(
      table([
        ["path", "decisions/s", "vs raw, same rows", "vs raw, decisions only"],
        [`raw insert (${driver}): every row the HTTP path stored`, fmt(sameRate), "100%", pct(sameRate, onlyRate)],
        [`raw insert (${driver}): decisions table only`, fmt(onlyRate), pct(onlyRate, sameRate), "100%"],
        [`HTTP POST batches of ${BATCH}`, fmt(batchRate), pct(batchRate, sameRate), pct(batchRate, onlyRate)],
        [`HTTP POST single decisions (${CONCURRENCY} in flight)`, fmt(singleRate), pct(singleRate, sameRate), pct(singleRate, onlyRate)],
      ]),
    );
    console.log("");
    console.log(`raw, every row: ${shape(rawSeconds.sameS, rawSeconds.sameL)}; decisions only: ${shape(rawSeconds.onlyS, rawSeconds.onlyL)}`);
    console.log(`HTTP batches, thousand decisions/s per round: ${perRound.join(", ")}`);
    console.log(
      `lanes: ${lanes.map((l) => `${l.route} ${fmt(Number(l.n))}`).join(", ")}; rows per decision stored: tasks ${fmt(await perDecision("tasks"), 2)}, outbox ${fmt(await perDecision("outbox"), 2)}, audit ${fmt(await perDecision("audit_log"), 3)}, plus roll-up upserts.`,
    );
    console.log(machineLine());
    const ratio = batchRate / sameRate;
    console.log(
      `target: batch >= 25% of the raw insert of the same rows -> ${ratio >= 0.25 ? "MET" : "MISSED"} (${fmt(ratio * 100, 1)}%; against the decisions table alone ${pct(batchRate, onlyRate)})`,
    );

    const scale = await twoInstances(s, key, rand);
    return { batchRate, singleRate, sameRate, onlyRate, scale };
  } finally {
    await server.close();
    for (const k of rawNames) await raws[k].close();
    await s.close();
  }
}

/**
 * Ingest throughput with one server and with two on the same store: the same clients
 * (SCALE_CONCURRENCY in flight) all on one server, or split across both. One, two, one,
 * two: a busy machine's drift lands on both alike.
 */
async function twoInstances(s: TestServer, key: string, rand: () => number) {
  const s2 = await startSharedServer(s.env);
  try {
    const t = { batch1: 0, batch2: 0, single1: 0, single2: 0 };
    let seq = 0;
    const batches = () =>
      Array.from({ length: SCALE_BATCHES }, () =>
        JSON.stringify({
          decisions: Array.from({ length: BATCH }, () => benchDecision(seq++, rand, "scale")),
        }),
      );
    const singles = () => Array.from({ length: SCALE_SINGLE }, () => JSON.stringify(benchDecision(seq++, rand, "scale")));
    // warm the second server (JIT, caches) like the first one is
    for (let w = 0; w < 3; w++) await post(s2.url, key, batches()[0]);
    await spread([s2.url], key, singles().slice(0, 100), 4);
    for (let r = 0; r < 2; r++) {
      t.batch1 += await spread([s.url], key, batches(), SCALE_CONCURRENCY);
      t.batch2 += await spread([s.url, s2.url], key, batches(), SCALE_CONCURRENCY);
      t.single1 += await spread([s.url], key, singles(), SCALE_CONCURRENCY * 2);
      t.single2 += await spread([s.url, s2.url], key, singles(), SCALE_CONCURRENCY * 2);
    }
    const b = (2 * SCALE_BATCHES * BATCH) / 1;
    const rates = {
      batch1: b / t.batch1,
      batch2: b / t.batch2,
      single1: (2 * SCALE_SINGLE) / t.single1,
      single2: (2 * SCALE_SINGLE) / t.single2,
    };
    console.log("");
    console.log(
      table([
        ["two instances vs one (same store, HTTP)", "one server", "two servers", "two/one"],
        [`batches of ${BATCH}, ${SCALE_CONCURRENCY} clients: decisions/s`, fmt(rates.batch1), fmt(rates.batch2), `${fmt(rates.batch2 / rates.batch1, 2)}x`],
        [
          `single decisions, ${SCALE_CONCURRENCY * 2} clients: decisions/s`,
          fmt(rates.single1),
          fmt(rates.single2),
          `${fmt(rates.single2 / rates.single1, 2)}x`,
        ],
      ]),
    );
    return rates;
  } finally {
    await s2.close();
  }
}

async function main() {
  buildApp();
  const { kinds, results, column: v } = await onEachStore(run);
  const share = (r: Result) => r.batchRate / r.sameRate;
  console.log("");
  console.log(
    sideBySide("ingest, side by side", kinds, [
      {
        label: "raw insert of the same rows, decisions/s",
        values: v((r) => fmt(r.sameRate)),
      },
      {
        label: `HTTP batches of ${BATCH}, decisions/s`,
        values: v((r) => fmt(r.batchRate)),
      },
      {
        label: "batch ingest as a share of the raw insert",
        values: v((r) => `${fmt(share(r) * 100, 1)}%`),
        target: (k) => (share(results[k]!) >= 0.25 ? ">= 25% MET" : ">= 25% MISSED"),
      },
      {
        label: `HTTP single decisions (${CONCURRENCY} in flight), decisions/s`,
        values: v((r) => fmt(r.singleRate)),
      },
      {
        label: "two vs one instance: batches, decisions/s",
        values: v((r) => `${fmt(r.scale.batch1)} -> ${fmt(r.scale.batch2)}`),
      },
      {
        label: "two vs one instance: batches, ratio",
        values: v((r) => `${fmt(r.scale.batch2 / r.scale.batch1, 2)}x`),
      },
      {
        label: "two vs one instance: singles, decisions/s",
        values: v((r) => `${fmt(r.scale.single1)} -> ${fmt(r.scale.single2)}`),
      },
      {
        label: "two vs one instance: singles, ratio",
        values: v((r) => `${fmt(r.scale.single2 / r.scale.single1, 2)}x`),
      },
    ]),
  );
  console.log(machineLine());
  if (kinds.includes("sqlite") && kinds.length > 1) console.log("(two instances on SQLite share one file and its single writer: ~1x or lower is expected)");
  for (const k of kinds) {
    const r = results[k];
    summaryLine({
      bench: "ingest",
      store: k,
      figure: "HTTP batches as a share of the raw insert",
      value: `${fmt(share(r) * 100, 1)}%`,
      target: ">= 25%",
      ok: share(r) >= 0.25,
    });
    summaryLine({ bench: "ingest", store: k, figure: `HTTP batches of ${BATCH}, decisions/s`, value: fmt(r.batchRate) });
    summaryLine({ bench: "ingest", store: k, figure: `HTTP single decisions (${CONCURRENCY} in flight), decisions/s`, value: fmt(r.singleRate) });
  }
}

await main();
