/**
 * npm run bench:drift — detection delay and false alarms of the drift monitors (issue 15).
 *
 * For each shift kind and each of 10 seeds, `lastmile simulate` runs on a new SQLite file at 100 credit
 * applications a minute with the shift injected at a random minute (60–100, after a stationary stretch
 * long enough for the baselines), until 20 minutes after it. Printed per kind: the matching monitor's
 * detection delay per seed, the median, and how many seeds fired within 15 minutes. Every alert that
 * fired before an onset is a false alarm: printed per simulated day over all the stationary minutes.
 *
 * Targets (issue 15): median delay ≤ 10 simulated minutes and ≤ 15 in at least 9 of 10 seeds, for every
 * kind; at most one false alarm per 30 simulated days.
 *
 * The shift runs hold less than a stationary simulated day in all, far too little for that last target:
 * BENCH_STATIONARY_DAYS=30 adds stationary runs (no shift) of BENCH_STATIONARY_CHUNK_DAYS (7.5) each, with their
 * own seeds and starts, until they add up to that many days; their alarms count with the others'. At about a
 * quarter of a CPU-second a simulated minute, 30 days cost about 3 CPU-hours (1.5 hours on 2 cores).
 * BENCH_KINDS=none runs only those.
 *
 * Environment: BENCH_SEEDS (10), BENCH_KINDS (all), BENCH_RATE (100), BENCH_JOBS (CPUs), BENCH_DIR (a temp dir),
 * BENCH_STATIONARY_DAYS (0), BENCH_STATIONARY_CHUNK_DAYS (7.5),
 * BENCH_KEEP=1 keeps each run's database and writes the summaries to BENCH_DIR/summaries.json (for analysis).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { MATCHING_MONITOR, SHIFT_KINDS, type ShiftKind, type SimulationSummary } from "../simulate/simulate";
import { summaryLine } from "./common";
import { Rng } from "../demo/random";

const run = promisify(execFile);
const seeds = Number(process.env.BENCH_SEEDS ?? 10);
const kinds = (process.env.BENCH_KINDS === "none" ? [] : process.env.BENCH_KINDS ? process.env.BENCH_KINDS.split(",") : [...SHIFT_KINDS]) as ShiftKind[];
const stationaryDays = Number(process.env.BENCH_STATIONARY_DAYS ?? 0);
const chunkDays = Number(process.env.BENCH_STATIONARY_CHUNK_DAYS ?? 7.5);
const rate = Number(process.env.BENCH_RATE ?? 100);
const jobs = Number(process.env.BENCH_JOBS ?? os.cpus().length);
const dir = process.env.BENCH_DIR ?? fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "lastmile-drift-"));
const keep = process.env.BENCH_KEEP === "1";
const AFTER = 20;
const START = Date.UTC(2026, 10, 30, 6, 0);

/** A shift run (the onset at minute `at`), or a stationary run of `minutes` (kind "stationary"). */
type Job = { kind: ShiftKind; seed: number; at: number } | { kind: "stationary"; seed: number; minutes: number; start: number };
const rng = new Rng(20261202);
const plan: Job[] = [];
// The long stationary runs first, so that the short shift runs fill the gaps at the end.
for (let i = 0, left = Math.round(stationaryDays * 1440); left > 0; i++, left -= Math.round(chunkDays * 1440))
  plan.push({ kind: "stationary", seed: 1000 + i, minutes: Math.min(left, Math.round(chunkDays * 1440)), start: START - (i + 1) * 35 * 1440 * 60_000 });
for (const kind of kinds) for (let seed = 1; seed <= seeds; seed++) plan.push({ kind, seed, at: rng.int(60, 100) });

async function simulateOne(j: Job): Promise<SimulationSummary> {
  const file = path.join(dir, `${j.kind}-${j.seed}.db`);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  const args = ["scripts/lastmile.js", "simulate", "--quiet", "--types", "credit", "--rate", String(rate), "--seed", String(j.seed)];
  if (j.kind === "stationary") args.push("--minutes", String(j.minutes), "--start", new Date(j.start).toISOString());
  else args.push("--minutes", String(j.at + AFTER), "--start", new Date(START).toISOString(), "--shift", j.kind, "--shift-at", String(j.at));
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, DATABASE_PATH: file, DATABASE_URL: "" }, maxBuffer: 64 << 20 });
  if (!keep) for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  return JSON.parse(stdout) as SimulationSummary;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const extra = stationaryDays > 0 ? ` and ${stationaryDays} stationary days in runs of ${chunkDays}` : "";
  console.log(`bench:drift — ${kinds.length} shift kinds × ${seeds} seeds${extra}, at ${rate} decisions a minute, ${jobs} at a time, in ${dir}`);
  const started = Date.now();
  const results: { job: Job; summary: SimulationSummary }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, jobs) }, async () => {
      while (next < plan.length) {
        const job = plan[next++];
        const summary = await simulateOne(job);
        results.push({ job, summary });
        const d = summary.detection;
        const what =
          job.kind === "stationary"
            ? `${(job.minutes / 1440).toFixed(1)} stationary days from ${new Date(job.start).toISOString().slice(0, 10)}`
            : `onset minute ${job.at}: ${d ? `${d.monitor} fired after ${d.delayMinutes} min` : "not detected"}`;
        console.log(
          `  ${job.kind.padEnd(12)} seed ${String(job.seed).padStart(2)} ${what}; ${summary.falseAlarms} false alarm(s) (${summary.seconds.toFixed(0)} s)`,
        );
      }
    }),
  );

  if (keep) fs.writeFileSync(path.join(dir, "summaries.json"), JSON.stringify(results, null, 1));
  console.log("\nDetection delay (simulated minutes from the onset to the data that made the matching monitor fire):");
  let pass = true;
  for (const kind of kinds) {
    const mine = results.filter((r) => r.job.kind === kind).sort((a, b) => a.job.seed - b.job.seed);
    const delays = mine.map((r) => r.summary.detection?.delayMinutes ?? null);
    const found = delays.filter((d): d is number => d !== null);
    // A missed detection counts as later than any: the median over all seeds.
    const med = median(delays.map((d) => d ?? Infinity));
    const within15 = found.filter((d) => d <= 15).length;
    const ok = med !== null && med <= 10 && within15 >= Math.ceil(0.9 * mine.length);
    pass &&= ok;
    summaryLine({
      bench: "drift",
      store: "sqlite",
      figure: `${kind}: median delay, within 15 min`,
      value: `${med === Infinity ? "∞" : med} min, ${within15}/${mine.length}`,
      target: "<= 10 min, 9 in 10",
      ok,
    });
    console.log(
      `  ${kind.padEnd(12)} → ${MATCHING_MONITOR[kind].padEnd(15)} median ${med === Infinity ? "∞" : med} min; within 15 min in ${within15}/${mine.length}; per seed [${delays.map((d) => d ?? "–").join(", ")}]  ${ok ? "PASS" : "FAIL"}`,
    );
  }
  // Stationary time counts after the first hour of each run (until then the baselines are too thin for a
  // verdict, so the monitors hold); an alarm in that hour still counts.
  const quietDays = results.reduce((s, r) => s + Math.max(0, r.summary.stationaryMinutes - 60), 0) / 1440;
  const alarms = results.flatMap((r) =>
    r.summary.alerts.filter((a) => a.delayMinutes === null).map((a) => `${r.job.kind}#${r.job.seed} ${a.monitor} ${a.segment} at minute ${a.minute}`),
  );
  const perDay = alarms.length / quietDays;
  const quiet = perDay <= 1 / 30;
  pass &&= quiet;
  console.log(
    `\nFalse alarms: ${alarms.length} over ${quietDays.toFixed(2)} stationary simulated days = ${perDay.toFixed(3)} a day (target ≤ ${(1 / 30).toFixed(3)})  ${quiet ? "PASS" : "FAIL"}`,
  );
  for (const a of alarms) console.log(`  ${a}`);
  summaryLine({
    bench: "drift",
    store: "sqlite",
    figure: "false alarms a simulated day",
    value: perDay.toFixed(3),
    target: `<= ${(1 / 30).toFixed(3)}`,
    ok: quiet,
  });
  console.log(`\n${pass ? "All targets met" : "Some targets missed"} in ${((Date.now() - started) / 60_000).toFixed(1)} min of wall time.`);
}

await main();
