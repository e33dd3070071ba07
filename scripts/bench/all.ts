/**
 * npm run bench: every `bench:*` script of package.json, one after the other (in package.json's order),
 * each as `npm run bench:NAME` with this environment (BENCH_STORES and the others pass through), its output
 * shown as it runs; then one table of the headline figures they printed as `SUMMARY {json}` lines
 * (summaryLine in common.ts), with each benchmark's exit code and wall time.
 *
 *   npm run bench                          # all of them: hours (10M-row reports and monitors, drift over 10 seeds)
 *   npm run bench -- load claim            # only these (also BENCH_ONLY=load,claim)
 *   BENCH_SKIP=drift,reports npm run bench # all but these
 *   npm run bench -- --list                # which would run, and stop
 *
 * The app is built once first (BENCH_SKIP_BUILD=1 to use the build there is); the benchmarks then skip
 * their own build. The exit code is 1 when a benchmark exited non-zero (a missed latency or throughput
 * target does not do that; a failed check of stored data does).
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import readline from "node:readline";
import { fmt, machineLine, table } from "./common";

type Summary = { bench: string; store?: string; figure: string; value: string; target?: string; verdict?: "PASS" | "FAIL" };
type Ran = { name: string; code: number | null; seconds: number; summaries: Summary[] };

const pkg = JSON.parse(fs.readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
const all = Object.keys(pkg.scripts)
  .filter((s) => s.startsWith("bench:"))
  .map((s) => s.slice("bench:".length));
const args = process.argv.slice(2);
const list = args.includes("--list");
const listed = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim().replace(/^bench:/, ""))
    .filter(Boolean);
const only = [...args.filter((a) => !a.startsWith("--")).map((a) => a.replace(/^bench:/, "")), ...listed(process.env.BENCH_ONLY)];
const skip = listed(process.env.BENCH_SKIP);
for (const n of [...only, ...skip]) if (!all.includes(n)) throw new Error(`npm run bench: no script bench:${n} (there are ${all.join(", ")})`);
const chosen = all.filter((n) => (only.length === 0 || only.includes(n)) && !skip.includes(n));

console.log(`npm run bench: ${chosen.map((n) => `bench:${n}`).join(", ")}`);
if (list) process.exit(0);
console.log(machineLine());

if (process.env.BENCH_SKIP_BUILD !== "1") {
  console.log("building the app once (npm run build)");
  const b = spawnSync("npm", ["run", "build"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NODE_ENV: "production" } });
  if (b.status !== 0) throw new Error("npm run build failed");
}

/** Runs one benchmark, passing its output through, and keeps its SUMMARY lines. */
function runOne(name: string): Promise<Ran> {
  const t0 = Date.now();
  const summaries: Summary[] = [];
  console.log(`\n======== npm run bench:${name} (${new Date().toISOString()}) ========`);
  const child = spawn("npm", ["run", `bench:${name}`], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BENCH_SKIP_BUILD: "1" } });
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    console.log(line);
    if (!line.startsWith("SUMMARY ")) return;
    try {
      summaries.push(JSON.parse(line.slice("SUMMARY ".length)) as Summary);
    } catch {
      summaries.push({ bench: name, figure: "(unreadable SUMMARY line)", value: line.slice(8, 80) });
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ name, code, seconds: (Date.now() - t0) / 1000, summaries })));
}

// Ctrl-C stops the benchmark running (npm passes the signal on to it) and then this.
const ran: Ran[] = [];
for (const name of chosen) ran.push(await runOne(name));

const duration = (s: number) => (s < 120 ? `${fmt(s)} s` : `${fmt(s / 60, 1)} min`);
const rows: string[][] = [["bench", "store", "figure", "value", "target", "verdict"]];
for (const r of ran) {
  if (r.summaries.length === 0) rows.push([r.name, "", "(no SUMMARY line)", "", "", ""]);
  for (const s of r.summaries) rows.push([s.bench, s.store ?? "", s.figure, s.value, s.target ?? "", s.verdict ?? ""]);
}
console.log(`\n======== npm run bench: summary (${os.hostname()}, ${new Date().toISOString()}) ========`);
// Left-aligned text columns (table() right-aligns all but the first).
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c])).join("  "));
console.log("");
console.log(
  table([
    ["bench", "exit code", "wall time", "summary lines"],
    ...ran.map((r) => [`bench:${r.name}`, String(r.code), duration(r.seconds), String(r.summaries.length)]),
  ]),
);
console.log(machineLine());
const failed = ran.filter((r) => r.code !== 0);
const missed = ran.flatMap((r) => r.summaries).filter((s) => s.verdict === "FAIL").length;
console.log(
  `${ran.length - failed.length} of ${ran.length} benchmarks exited 0${failed.length ? ` (not: ${failed.map((r) => `bench:${r.name}`).join(", ")})` : ""}; ${missed} target(s) FAIL`,
);
if (failed.length) process.exitCode = 1;
