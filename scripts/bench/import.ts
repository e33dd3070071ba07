/**
 * Batch import throughput and memory: in one run, on each store,
 *  (a) HTTP batch ingest (the built production server, POST batches of 1,000),
 *  (b) `lastmile import` (the real CLI, a subprocess) of a generated JSONL file of
 *      BENCH_IMPORT_LINES decisions (the same workload as bench:ingest) into a fresh store,
 *  (c) the same import of a file a quarter that size, for the CLI's peak RSS at two sizes.
 * The import rate is the CLI's own clock (reading, validating and writing every line);
 * the wall time with Node and tsx starting is printed beside it.
 *
 *   npm run bench:import     (env: BENCH_IMPORT_LINES=1000000 BENCH_HTTP_LINES=20000; BENCH_STORES, see stores.ts)
 *
 * Targets: import >= 50% of the HTTP batch rate; peak RSS < 300 MB and not growing with the file.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { makeKey, makeType, makeUser } from "../../tests/support/db";
import { createLastmileClient } from "../client/index";
import { BENCH_TYPE, benchDecision, benchType, buildApp, fmt, machineLine, rng, summaryLine, table } from "./common";
import { benchStore, onEachStore, closeStore, describeStore, sideBySide, startSharedServer, type StoreKind } from "./stores";

const LINES = Number(process.env.BENCH_IMPORT_LINES ?? 1_000_000);
const HTTP_LINES = Number(process.env.BENCH_HTTP_LINES ?? 20_000);
const BATCH = 1000;
const RSS_LIMIT = 300 * 1024 * 1024;

type ImportRun = { lines: number; created: number; seconds: number; wall: number; maxRssBytes: number };
type Result = { httpRate: number; importRate: number; big: ImportRun; small: ImportRun };

/** A JSONL file of `n` bench decisions (written in blocks: the generator's memory stays small too). */
function writeJsonl(file: string, n: number): void {
  const fd = fs.openSync(file, "w");
  const rand = rng(7);
  try {
    let block = "";
    for (let i = 0; i < n; i++) {
      block += JSON.stringify(benchDecision(i, rand, "imp")) + "\n";
      if (block.length > 1 << 20) {
        fs.writeSync(fd, block);
        block = "";
      }
    }
    fs.writeSync(fd, block);
  } finally {
    fs.closeSync(fd);
  }
}

async function httpRate(kind: StoreKind): Promise<number> {
  const store = await benchStore(kind);
  const server = await startSharedServer(store.env);
  try {
    await makeType(store.db, benchType((await makeUser(store.db, "admin")).email));
    const key = await makeKey(store.db, ["ingest"]);
    const rand = rng(1);
    const api = createLastmileClient({ baseUrl: server.url, apiKey: key });
    // The answer is read but not parsed (as before the typed client): the figure is the round trip.
    const post = async (decisions: unknown[]) => {
      const { response, error } = await api.POST("/api/v1/decisions", { body: { decisions } as never, parseAs: "arrayBuffer" });
      if (response.status !== 201) throw new Error(`HTTP ${response.status}: ${JSON.stringify(error).slice(0, 300)}`);
    };
    for (let w = 0; w < 3; w++) await post(Array.from({ length: BATCH }, (_, i) => benchDecision(w * BATCH + i, rand, "warm")));
    const bodies = Math.max(1, Math.round(HTTP_LINES / BATCH));
    let seconds = 0;
    for (let b = 0; b < bodies; b++) {
      const decisions = Array.from({ length: BATCH }, (_, i) => benchDecision(b * BATCH + i, rand, "http"));
      const t0 = performance.now();
      await post(decisions);
      seconds += (performance.now() - t0) / 1000;
    }
    return (bodies * BATCH) / seconds;
  } finally {
    await server.close();
    await closeStore(store);
  }
}

async function importRun(kind: StoreKind, file: string, lines: number): Promise<ImportRun> {
  const store = await benchStore(kind);
  try {
    await makeType(store.db, benchType((await makeUser(store.db, "admin")).email));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ["scripts/lastmile.js", "import", file, "--type", BENCH_TYPE, "--json", "--stats", "--no-progress"], {
      env: { ...process.env, DATABASE_URL: "", DATABASE_PATH: "", ...store.env },
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`lastmile import exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    const s = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as ImportRun;
    if (s.lines !== lines || s.created !== lines) throw new Error(`import read ${s.lines} lines and created ${s.created}, expected ${lines}`);
    return { ...s, wall };
  } finally {
    await closeStore(store);
  }
}

async function run(kind: StoreKind): Promise<Result> {
  console.log(`\n== ${await describeStore(kind)} ==`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-import-"));
  try {
    const big = path.join(dir, "big.jsonl");
    const small = path.join(dir, "small.jsonl");
    const smallLines = Math.max(1, Math.round(LINES / 4));
    writeJsonl(big, LINES);
    writeJsonl(small, smallLines);
    console.log(`generated ${fmt(LINES)} lines (${fmt(fs.statSync(big).size / 2 ** 20, 1)} MB) and ${fmt(smallLines)} lines`);

    const http = await httpRate(kind);
    console.log(`HTTP batches of ${BATCH}: ${fmt(http)} decisions/s (${fmt(HTTP_LINES)} decisions after 3 warm-up batches)`);
    const b = await importRun(kind, big, LINES);
    console.log(`import of ${fmt(LINES)} lines: ${fmt(b.seconds, 1)} s (wall ${fmt(b.wall, 1)} s), peak RSS ${fmt(b.maxRssBytes / 2 ** 20)} MB`);
    const s = await importRun(kind, small, smallLines);
    console.log(`import of ${fmt(smallLines)} lines: ${fmt(s.seconds, 1)} s (wall ${fmt(s.wall, 1)} s), peak RSS ${fmt(s.maxRssBytes / 2 ** 20)} MB`);
    const importRate = LINES / b.seconds;
    console.log("");
    console.log(
      table([
        ["path", "decisions/s", "vs HTTP"],
        [`HTTP POST batches of ${BATCH}`, fmt(http), "100%"],
        [`lastmile import, ${fmt(LINES)} lines (CLI clock)`, fmt(importRate), `${fmt((importRate / http) * 100, 1)}%`],
        [`lastmile import, ${fmt(LINES)} lines (wall, with start-up)`, fmt(LINES / b.wall), `${fmt((LINES / b.wall / http) * 100, 1)}%`],
        [`lastmile import, ${fmt(smallLines)} lines (CLI clock)`, fmt(smallLines / s.seconds), `${fmt((smallLines / s.seconds / http) * 100, 1)}%`],
      ]),
    );
    return { httpRate: http, importRate, big: b, small: s };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  buildApp();
  const { kinds, results, column: v } = await onEachStore(run);
  const ratio = (r: Result) => r.importRate / r.httpRate;
  const mb = (n: number) => `${fmt(n / 2 ** 20)} MB`;
  const bounded = (r: Result) => r.big.maxRssBytes < RSS_LIMIT && r.big.maxRssBytes < r.small.maxRssBytes * 1.5;
  console.log("");
  console.log(
    sideBySide("batch import, side by side", kinds, [
      { label: `HTTP batches of ${BATCH}, decisions/s`, values: v((r) => fmt(r.httpRate)) },
      { label: `lastmile import of ${fmt(LINES)} lines, decisions/s`, values: v((r) => fmt(r.importRate)) },
      {
        label: "import / HTTP",
        values: v((r) => `${fmt(ratio(r), 2)}x`),
        target: (k) => (ratio(results[k]!) >= 0.5 ? ">= 0.5x MET" : ">= 0.5x MISSED"),
      },
      {
        label: `peak RSS: ${fmt(Math.round(LINES / 4))} -> ${fmt(LINES)} lines`,
        values: v((r) => `${mb(r.small.maxRssBytes)} -> ${mb(r.big.maxRssBytes)}`),
        target: (k) => (bounded(results[k]!) ? "< 300 MB, flat MET" : "< 300 MB, flat MISSED"),
      },
    ]),
  );
  console.log(machineLine());
  for (const k of kinds) {
    const r = results[k];
    summaryLine({
      bench: "import",
      store: k,
      figure: "lastmile import / HTTP batch rate",
      value: `${fmt(ratio(r), 2)}x`,
      target: ">= 0.5x",
      ok: ratio(r) >= 0.5,
    });
    summaryLine({
      bench: "import",
      store: k,
      figure: `import peak RSS (${fmt(LINES)} lines)`,
      value: mb(r.big.maxRssBytes),
      target: "< 300 MB, flat",
      ok: bounded(r),
    });
  }
}

await main();
