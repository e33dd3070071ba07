/**
 * How close a stationary simulated store came to a false alarm (issue 15): replays the monitors that decide
 * on a p-value (override_rate, review_share, reviewer) and on a PSI (confidence_psi, input_psi) over every
 * minute of a store written by `lastmile simulate`, with the evaluator's own decision code (findings()) and
 * alert lifecycle (an alert fires once, and again only after it cleared), at the type's p-value bars and at bars
 * 3, 10, 30 and 100 times looser (the PSI monitors keep their minimum PSI, which must be passed too). For rare
 * false alarms the count grows about in proportion to the p-value bar, so the looser bars estimate the rate at the
 * real one from more than the few (or no) alarms a run of days can show at it. At the loosest bars an alert that
 * fires stays open across later excursions, so the counts there grow less than in proportion, or even fall.
 *
 * The counters are read as the evaluator saw them at each minute: those written at ingest (decisions, confidence,
 * inputs) and the reviewers' (keyed by the minute of the verdict) are complete when their minute ends, and the
 * override counters, keyed by the minute the decision occurred but written when a human decides it, are rebuilt
 * from the decisions, each counted from the moment it was finalized. (Read at the end of the run instead, with every
 * review in, the recent windows hold decisions the evaluator had not seen decided yet, and alarm more often.)
 *
 * What it cannot replay: volume, backlog and SLA (they read the queue and earlier weeks, not only counters),
 * the model-version monitor, and QA accuracy.
 *
 *   BENCH_DB=/tmp/stationary.db [BENCH_TYPE=consumer_credit] [BENCH_SKIP_MINUTES=60] npx tsx scripts/bench/drift-margins.ts
 */
import Database from "better-sqlite3";
import type { DecisionStatus } from "~/domain/decisions/statuses";
import { overrideContributions } from "~/domain/monitors/counters";
import { findings, windowsAt, type Counts, type MonitorData, type Window } from "~/domain/monitors/findings";
import { monitorSettings, type MonitorSettings } from "~/domain/monitors/settings";

const MIN = 60_000;
const file = process.env.BENCH_DB;
if (!file) throw new Error("BENCH_DB: the simulated store (a SQLite file written by lastmile simulate)");
const typeKey = process.env.BENCH_TYPE ?? "consumer_credit";
const skip = Number(process.env.BENCH_SKIP_MINUTES ?? 60);
const FACTORS = [1, 3, 10, 30, 100];
const REPLAYED = new Set(["override_rate", "review_share", "reviewer", "confidence_psi", "input_psi"]);

const db = new Database(file, { readonly: true, fileMustExist: true });
const type = db.prepare("SELECT monitors, target_accuracy AS target FROM decision_types WHERE key = ?").get(typeKey) as
  { monitors: string | null; target: number | null } | undefined;
if (!type) throw new Error(`no decision type ${typeKey} in ${file}`);
const base = monitorSettings(type.monitors === null ? undefined : JSON.parse(type.monitors));

console.log(`drift-margins: ${file}, type ${typeKey}; reading the counters…`);
const perMinute = new Map<number, Map<string, number>>();
let first = Infinity;
let last = -Infinity;
for (const r of db
  .prepare(
    "SELECT minute, metric, value FROM monitor_counters WHERE type_key = ? AND metric NOT LIKE 'g:%' AND metric NOT LIKE 'ovr:%' AND metric NOT LIKE 'qa:%'",
  )
  .iterate(typeKey) as Iterable<{ minute: number; metric: string; value: number }>) {
  let c = perMinute.get(r.minute);
  if (!c) perMinute.set(r.minute, (c = new Map()));
  c.set(r.metric, r.value);
  first = Math.min(first, r.minute);
  last = Math.max(last, r.minute);
}
// Hour rows (compacted counters) would make per-minute windows wrong: the simulator never compacts, but check.
const hourRows = [...perMinute.keys()].filter((m) => m % (60 * MIN) === 0 && (perMinute.get(m)!.get("n") ?? 0) > 1_000).length;
if (hourRows > 0) console.log(`  warning: ${hourRows} minutes look like compacted hour rows`);
const minutes = (last - first) / MIN + 1;

/** The review lane's human outcomes, in the order they became known: what the override counters add, and when. */
const decided = (
  db
    .prepare(
      `SELECT occurred_at AS occurredAt, coalesce(finalized_at, updated_at) AS knownAt, status, model_version AS modelVersion, segment
       FROM decisions WHERE type_key = ? AND route = 'review' AND status IN ('approved', 'corrected', 'rejected') ORDER BY knownAt`,
    )
    .all(typeKey) as { occurredAt: number; knownAt: number; status: DecisionStatus; modelVersion: string; segment: string | null }[]
).map((d) => ({ minute: Math.floor(d.occurredAt / MIN) * MIN, knownAt: d.knownAt, counters: overrideContributions(d) }));
console.log(`  ${decided.length} human outcomes in the review lane`);
console.log(`  ${perMinute.size} minutes with counters, ${new Date(first).toISOString()} to ${new Date(last + MIN).toISOString()}`);

/** A window's sums, kept by sliding: each evaluation moves every window one minute on. */
class Sliding {
  sums = new Map<string, number>();
  private from = 0;
  private to = 0;
  move(w: Window): Counts {
    if (w.from >= this.to || w.to - w.from !== this.to - this.from) {
      this.sums = new Map();
      this.from = this.to = w.from;
    }
    for (; this.to < w.to; this.to += MIN) this.add(this.to, 1);
    for (; this.from < w.from; this.from += MIN) this.add(this.from, -1);
    return this.sums;
  }
  /** A counter of `minute` grew after the minute was summed in (an override counted when its decision was finalized). */
  late(minute: number, metric: string, v: number) {
    if (minute >= this.from && minute < this.to) this.sums.set(metric, (this.sums.get(metric) ?? 0) + v);
  }
  private add(minute: number, sign: 1 | -1) {
    const c = perMinute.get(minute);
    if (c) for (const [k, v] of c) this.sums.set(k, (this.sums.get(k) ?? 0) + sign * v);
  }
}

function variant(f: number): MonitorSettings {
  return {
    ...base,
    overrideRate: { ...base.overrideRate, maxP: Math.min(0.5, base.overrideRate.maxP * f) },
    confidence: { ...base.confidence, maxP: Math.min(0.5, base.confidence.maxP * f) },
    inputDrift: { ...base.inputDrift, maxP: Math.min(0.5, base.inputDrift.maxP * f) },
    reviewers: { ...base.reviewers, maxP: Math.min(0.5, base.reviewers.maxP * f) },
    volume: { ...base.volume, enabled: false },
    flow: { ...base.flow, enabled: false },
    modelVersion: { ...base.modelVersion, enabled: false },
    qaAccuracy: { ...base.qaAccuracy, enabled: false },
  };
}

const NO_VOLUME: MonitorData["volume"] = { perMinute: null, source: null, weeks: 0 };
const NO_FLOW: MonitorData["flow"] = { backlog: 0, backlogBefore: null, breaches: 0, newBreaches: 0 };

const days = Math.max(0, minutes - skip) / 1440;
console.log(`  replaying ${days.toFixed(2)} simulated days (the first ${skip} minutes skipped, as bench:drift does)\n`);
console.log("bar       alarms  per 30 days  by monitor");
for (const f of FACTORS) {
  const s = variant(f);
  const slides = new Map<string, Sliding>();
  const slide = (name: string, w: Window) => {
    let x = slides.get(name);
    if (!x) slides.set(name, (x = new Sliding()));
    return x.move(w);
  };
  // The override counters start empty and grow as decisions are finalized, before each evaluation.
  for (const c of perMinute.values()) for (const k of [...c.keys()]) if (k.startsWith("ovr:")) c.delete(k);
  let next = 0;
  const know = (at: number) => {
    for (; next < decided.length && decided[next].knownAt < at; next++) {
      const d = decided[next];
      let c = perMinute.get(d.minute);
      if (!c) perMinute.set(d.minute, (c = new Map()));
      for (const [m, v] of d.counters) {
        c.set(m, (c.get(m) ?? 0) + v);
        for (const x of slides.values()) x.late(d.minute, m, v);
      }
    }
  };
  const open = new Set<string>();
  const fired: { monitor: string; segment: string; at: number; figures: Record<string, unknown> }[] = [];
  for (let at = first + MIN; at <= last + MIN; at += MIN) {
    know(at);
    const w = windowsAt(at, s);
    const data: MonitorData = {
      recent: perMinute,
      overrideBaseline: slide("override", w.overrideBaseline),
      confidenceBaseline: slide("confidence", w.confidenceBaseline),
      inputBaseline: slide("input", w.inputBaseline),
      volume: NO_VOLUME,
      flow: NO_FLOW,
      models: [],
    };
    for (const x of findings(s, type.target, at, w, data)) {
      if (!REPLAYED.has(x.monitor)) continue;
      const k = `${x.monitor}|${x.segment}`;
      if (x.verdict === "fire" && !open.has(k)) {
        open.add(k);
        if (at - first >= skip * MIN) fired.push({ monitor: x.monitor, segment: x.segment, at, figures: x.figures });
      } else if (x.verdict === "clear") open.delete(k);
    }
  }
  const by = new Map<string, number>();
  for (const a of fired) by.set(a.monitor, (by.get(a.monitor) ?? 0) + 1);
  const label = f === 1 ? "as set" : `${f}x looser`;
  console.log(
    `${label.padEnd(10)}${String(fired.length).padStart(6)}  ${(days ? (fired.length / days) * 30 : NaN).toFixed(2).padStart(11)}  ${
      [...by.entries()].map(([m, n]) => `${m} ${n}`).join(", ") || "–"
    }`,
  );
  if (f === 1) for (const a of fired) console.log(`            ${new Date(a.at).toISOString()} ${a.monitor} ${a.segment} ${JSON.stringify(a.figures)}`);
}
