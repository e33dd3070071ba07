/** Shared bits of the benchmarks: the workload, the server, and how figures are printed. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { openDatabase, runMigrations, sqliteClientOf, transaction, type Db } from "@db/client.server";
import { invoiceType } from "../../tests/support/db";

/**
 * The writer connection of a SQLite store (a handle reads on a read-only one): the benchmarks
 * measure the embedded store and generate their data with raw SQL on it.
 */
export async function sqliteWriter(db: Db): Promise<Database.Database> {
  const client = await transaction(db, async (tx) => sqliteClientOf(tx));
  if (!client) throw new Error("The benchmarks generate their data with SQLite's raw SQL: run them on a SQLite store");
  return client;
}

/** A migrated SQLite store for a benchmark (a new file in a temporary folder unless `file`), with its writer connection. */
export async function sqliteBenchStore(file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-")), "bench.db")) {
  const db = openDatabase(file);
  await runMigrations(db);
  return { db, file, sqlite: await sqliteWriter(db) };
}

export const BENCH_TYPE = "bench-invoice";

/** A numeric option from the environment (BENCH_…): its default when unset or empty; a negative or non-number stops the run. */
export function num(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number >= 0 (got ${raw})`);
  return n;
}

/** The tests' invoice type with a date field added (every decision then goes through a format check too). */
export function benchType(owner: string) {
  const base = invoiceType(owner);
  return {
    ...base,
    key: BENCH_TYPE,
    name: "Benchmark invoices",
    // The benchmarks' workload samples 5% of the automatic lane for QA, as production types do (the tests' type samples none).
    routing: { ...base.routing, qaSampleRate: 0.05 },
    outputSchema: {
      ...base.outputSchema,
      properties: {
        ...base.outputSchema.properties,
        issued: { type: "string", format: "date" },
      },
    },
  };
}

/** A deterministic pseudo-random stream so every run ingests the same workload. */
export function rng(seed = 42) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A realistic decision (~600 bytes of JSON): most are confident enough for the auto lane. */
export function benchDecision(i: number, rand: () => number, prefix = "d") {
  const lines = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, j) => ({
    sku: `SKU-${(i * 7 + j) % 9973}`,
    amount: Math.round(rand() * 50_000) / 100,
  }));
  const total = Math.round(lines.reduce((a, l) => a + l.amount, 0) * 100) / 100;
  const confidence = Math.round((0.86 + rand() * 0.14) * 1000) / 1000;
  return {
    type: BENCH_TYPE,
    externalId: `${prefix}-${i}`,
    model: { name: "invoice-extractor", version: "2.3.1" },
    input: {
      vendor: `Vendor ${i % 500}`,
      document: `s3://invoices/2024/${i}.pdf`,
      pages: 1 + (i % 4),
      language: "de",
      receivedVia: "email",
    },
    output: {
      total,
      currency: rand() < 0.8 ? "EUR" : "USD",
      issued: "2024-05-17",
      lines,
    },
    confidence,
    fieldConfidence: {
      total: Math.round((0.94 + rand() * 0.06) * 1000) / 1000,
      currency: 0.99,
    },
    flags: rand() < 0.03 ? ["policy:high-value"] : [],
  };
}

export function buildApp(): void {
  if (process.env.BENCH_SKIP_BUILD === "1") return;
  execFileSync(process.execPath, ["node_modules/@remix-run/dev/dist/cli.js", "build"], { stdio: "pipe", env: { ...process.env, NODE_ENV: "production" } });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ")).join("\n");
}

/** Figures from a busy machine mean little without this. */
export function machineLine(): string {
  const [one, five] = os.loadavg();
  return `machine: ${os.cpus().length} cores, load average ${one.toFixed(1)} (1 min) / ${five.toFixed(1)} (5 min), node ${process.version}`;
}

/**
 * One headline figure for `npm run bench` (scripts/bench/all.ts): a line `SUMMARY {json}` it collects into its
 * table. `ok` is the target's verdict (PASS/FAIL), when the figure has a target.
 */
export function summaryLine(s: { bench: string; store?: string; figure: string; value: string; target?: string; ok?: boolean }): void {
  const { ok, ...rest } = s;
  console.log(`SUMMARY ${JSON.stringify({ ...rest, ...(ok === undefined ? {} : { verdict: ok ? "PASS" : "FAIL" }) })}`);
}

/** Clock ticks per second of /proc/<pid>/stat times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) and resident set of a process, from /proc/<pid>/stat and /proc/<pid>/status. */
export function procSample(pid: number): { cpuS: number; rssMb: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, utime 14 and stime 15.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const rss = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuS, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
  } catch {
    return null;
  }
}

/** The least-squares slope of y against x (points [x, y]); NaN with fewer than two distinct x. */
export function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return n >= 2 && sxx > 0 ? sxy / sxx : NaN;
}
