/**
 * Export benchmark: 1,000,000 labelled examples (generated with raw SQL in a
 * temporary database) exported to JSONL, CSV and Parquet, each in its own child
 * process so that each peak RSS is its own. The baseline is the same examples
 * read through the same reader without writing anything: each format's ratio to
 * it shows what the writer costs.
 *
 *   npm run bench:export [-- --rows 1000000]
 *
 * Targets: JSONL and Parquet >= 50,000 rows/s, peak RSS < 300 MB.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { closeDatabase, openDatabase } from "@db/client.server";
import { sqliteBenchStore, summaryLine } from "./common";
import { iterateExamples } from "~/domain/datasets/examples.server";
import { exportToFile } from "~/domain/datasets/export.server";
import { exampleFilterSchema, type ExportFormat } from "~/domain/datasets/filter";
import { generateReviewedInvoices } from "./generate";

const HERE = fileURLToPath(import.meta.url);

type Result = {
  mode: string;
  rows: number;
  secs: number;
  cpuSecs: number;
  rowsPerSec: number;
  rowsPerCpuSec: number;
  peakRssMb: number;
  bytes: number;
};

async function generate(file: string, rows: number): Promise<void> {
  const { db, sqlite } = await sqliteBenchStore(file);
  const started = Date.now();
  await generateReviewedInvoices(db, rows);
  sqlite.exec("ANALYZE");
  console.log(`generated ${rows.toLocaleString("en")} decisions + tasks + reviews in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await closeDatabase(db);
}

async function child(mode: string, file: string, outDir: string): Promise<void> {
  const db = openDatabase(file);
  const filter = exampleFilterSchema.parse({ type: "invoice" });
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let rows = 0;
  let bytes = 0;
  if (mode === "read") {
    for await (const r of iterateExamples(db, filter, { scan: true })) if (r.exampleId) rows++;
  } else {
    const info = await exportToFile(db, filter, {
      format: mode as ExportFormat,
      out: path.join(outDir, `bench.${mode}`),
    });
    rows = info.rows;
    bytes = info.bytes;
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const result: Result = {
    mode,
    rows,
    secs,
    cpuSecs,
    rowsPerSec: rows / secs,
    rowsPerCpuSec: rows / cpuSecs,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    bytes,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1], args[2], args[3]);
  const rowsArg = args.indexOf("--rows");
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-export-"));
  const file = path.join(dir, "bench.db");
  try {
    await generate(file, rows);
    const results: Result[] = [];
    for (const mode of ["read", "jsonl", "csv", "parquet"]) {
      const res = spawnSync(process.execPath, [...process.execArgv, HERE, "--child", mode, file, dir], { encoding: "utf8", maxBuffer: 1 << 20 });
      if (res.status !== 0) throw new Error(`${mode} failed:\n${res.stderr}`);
      const r = JSON.parse(res.stdout.trim().split("\n").pop()!) as Result;
      results.push(r);
      console.log(
        `${mode.padEnd(8)} ${r.rows.toLocaleString("en").padStart(10)} rows  ${r.secs.toFixed(1).padStart(6)} s wall ${r.cpuSecs.toFixed(1).padStart(6)} s CPU  ` +
          `${Math.round(r.rowsPerSec).toLocaleString("en").padStart(8)} rows/s  ${Math.round(r.rowsPerCpuSec).toLocaleString("en").padStart(8)} rows/CPU-s  ` +
          `peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB  ${(r.bytes / 1e6).toFixed(0).padStart(5)} MB written  (load ${os.loadavg()[0].toFixed(1)})`,
      );
    }
    const base = results[0];
    // Wall-clock rates depend on what else the machine runs (the 1-minute load average is printed
    // per line); rows per CPU-second is what one idle core would do.
    console.log(`\nbaseline: read ${Math.round(base.rowsPerCpuSec).toLocaleString("en")} rows/CPU-s without writing (${os.cpus().length} cores)`);
    for (const r of results.slice(1)) {
      const target =
        r.mode === "csv"
          ? ""
          : `  >= 50,000 rows/s: wall ${r.rowsPerSec >= 50_000 ? "met" : "missed"}, per CPU-s ${r.rowsPerCpuSec >= 50_000 ? "met" : "missed"}`;
      console.log(
        `${r.mode.padEnd(8)} ${(r.rowsPerCpuSec / base.rowsPerCpuSec).toFixed(2)}x the read rate (CPU)${target}  peak < 300 MB: ${r.peakRssMb < 300 ? "met" : "MISSED"}`,
      );
      const rate = Math.round(r.rowsPerSec).toLocaleString("en");
      if (r.mode === "csv") summaryLine({ bench: "export", store: "sqlite", figure: "csv rows/s", value: rate });
      else summaryLine({ bench: "export", store: "sqlite", figure: `${r.mode} rows/s`, value: rate, target: ">= 50,000", ok: r.rowsPerSec >= 50_000 });
      summaryLine({
        bench: "export",
        store: "sqlite",
        figure: `${r.mode} peak RSS`,
        value: `${r.peakRssMb.toFixed(0)} MB`,
        target: "< 300 MB",
        ok: r.peakRssMb < 300,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_GENERATE_ONLY) await generate(process.env.BENCH_GENERATE_ONLY, Number(process.env.BENCH_ROWS));
else await main();
