/**
 * Ingest throughput: decisions per second through the real HTTP API (built
 * production server, batches of 1,000 and single requests) against a raw
 * better-sqlite3 insert of the same rows into the same decisions table (same
 * schema, same pragmas, rows prepared beforehand, 1,000 per transaction).
 * The three are interleaved round by round so that a busy machine slows them
 * alike and the ratios stay meaningful.
 *
 *   npm run bench:ingest     (env: BENCH_ROUNDS=6 BENCH_ROUND_ROWS=5000 BENCH_SINGLE=500 BENCH_CONCURRENCY=8)
 *
 * Target: batch ingest at least 25% of the raw insert rate.
 */
import { performance } from "node:perf_hooks";
import { fileDb, makeKey, makeType, makeUser } from "../../tests/support/db";
import { startServer } from "../../tests/support/server";
import { benchDecision, benchType, buildApp, fmt, machineLine, rawRow, rng, table } from "./common";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ROUND_ROWS = Number(process.env.BENCH_ROUND_ROWS ?? 5000);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BATCH = 1000;

function rawInserter() {
  const db = fileDb();
  const owner = makeUser(db, "admin");
  makeType(db, benchType(owner.email));
  const sqlite = db.$client;
  const insert = sqlite.prepare(
    `INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence,
       field_confidence, flags, priority, occurred_at, received_at, route, reasons, policy_version, qa_sampled, status,
       final_output, finalized_at, finalized_by, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 'auto', '[]', 1, 0, 'auto_approved', ?, ?, 'auto', ?)`,
  );
  const writeBatch = sqlite.transaction((rows: ReturnType<typeof rawRow>[]) => {
    for (const r of rows) insert.run(r.id, r.typeKey, r.externalId, r.bodyHash, r.modelName, r.modelVersion, r.input, r.output, r.confidence, r.fieldConfidence, r.flags, r.now, r.now, r.output, r.now, r.now);
  });
  return {
    /** Seconds to insert these rows, 1,000 per IMMEDIATE transaction. */
    insert(rows: ReturnType<typeof rawRow>[]): number {
      const t0 = performance.now();
      for (let i = 0; i < rows.length; i += BATCH) writeBatch.immediate(rows.slice(i, i + BATCH));
      return (performance.now() - t0) / 1000;
    },
    count: () => (sqlite.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n,
    close: () => sqlite.close(),
  };
}

async function main() {
  console.log(`Ingest benchmark: ${ROUNDS} rounds of ${fmt(ROUND_ROWS)} decisions (raw insert vs HTTP batches of ${BATCH}) and ${SINGLE} single requests (${CONCURRENCY} in flight)`);
  buildApp();
  const s = await startServer();
  const raw = rawInserter();
  try {
    const owner = makeUser(s.db, "admin");
    makeType(s.db, benchType(owner.email));
    const key = makeKey(s.db, ["ingest"]);
    const post = async (body: string) => {
      const res = await fetch(`${s.url}/api/v1/decisions`, { method: "POST", headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" }, body });
      if (res.status !== 201) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
      await res.arrayBuffer();
    };
    const rand = rng(1);
    // warm-up: JIT, statement caches, the type cache
    await post(JSON.stringify({ decisions: Array.from({ length: BATCH }, (_, i) => benchDecision(i, rand, "warm")) }));
    raw.insert(Array.from({ length: BATCH }, (_, i) => rawRow(benchDecision(i, rand, "warm"), Date.now())));

    let rawSeconds = 0;
    let batchSeconds = 0;
    let singleSeconds = 0;
    const perRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const decisions = Array.from({ length: ROUND_ROWS }, (_, i) => benchDecision(round * ROUND_ROWS + i, rand, "d"));
      const now = Date.now();
      const rawRows = decisions.map((d) => rawRow(d, now));
      const bodies: string[] = [];
      for (let i = 0; i < decisions.length; i += BATCH) bodies.push(JSON.stringify({ decisions: decisions.slice(i, i + BATCH) }));
      const singles = Array.from({ length: SINGLE }, (_, i) => JSON.stringify(benchDecision(round * SINGLE + i, rand, "single")));

      const r = raw.insert(rawRows);
      let t0 = performance.now();
      for (const b of bodies) await post(b);
      const b = (performance.now() - t0) / 1000;
      t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < singles.length) await post(singles[next++]);
        }),
      );
      singleSeconds += (performance.now() - t0) / 1000;
      rawSeconds += r;
      batchSeconds += b;
      perRound.push(r / b);
    }

    const expected = BATCH + ROUNDS * (ROUND_ROWS + SINGLE);
    const stored = (s.db.$client.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n;
    if (stored !== expected) throw new Error(`server stored ${stored} decisions, expected ${expected}`);
    if (raw.count() !== BATCH + ROUNDS * ROUND_ROWS) throw new Error("raw insert lost rows");
    const lanes = s.db.$client.prepare("SELECT route, count(*) AS n FROM decisions GROUP BY route ORDER BY route").all() as { route: string; n: number }[];

    const rawRate = (ROUNDS * ROUND_ROWS) / rawSeconds;
    const batchRate = (ROUNDS * ROUND_ROWS) / batchSeconds;
    const singleRate = (ROUNDS * SINGLE) / singleSeconds;
    console.log("");
    console.log(
      table([
        ["path", "decisions/s", "vs raw insert"],
        ["raw better-sqlite3 insert (decisions table only)", fmt(rawRate), "100%"],
        [`HTTP POST batches of ${BATCH}`, fmt(batchRate), `${fmt((batchRate / rawRate) * 100, 1)}%`],
        [`HTTP POST single decisions (${CONCURRENCY} in flight)`, fmt(singleRate), `${fmt((singleRate / rawRate) * 100, 1)}%`],
      ]),
    );
    console.log("");
    console.log(`batch/raw per round: ${perRound.map((x) => `${fmt(x * 100, 1)}%`).join(", ")}`);
    console.log(`lanes: ${lanes.map((l) => `${l.route} ${fmt(l.n)}`).join(", ")}. Each HTTP write also stored tasks, roll-ups, audit entries and outbox events.`);
    console.log(machineLine());
    const ratio = batchRate / rawRate;
    console.log(`target: batch >= 25% of raw -> ${ratio >= 0.25 ? "MET" : "MISSED"} (${fmt(ratio * 100, 1)}%)`);
  } finally {
    raw.close();
    await s.close();
  }
}

await main();
