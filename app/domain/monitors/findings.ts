/**
 * What the monitors conclude from a type's counters over their windows (pure; alerts.server.ts reads the
 * windows and keeps the alerts). Each finding says `fire` (a change worth an alert), `clear` (back to
 * normal: an open alert resolves) or `hold` (too little data, or in between: an open alert stays as it is,
 * none is raised). The gap between fire and clear is hysteresis, so a figure hovering at the line does not
 * raise and resolve alerts minute after minute.
 *
 * Scanning: a change that starts now fills a short recent window before a long one, and a small change
 * needs the long one to be seen at all. So the rate and distribution monitors test every window in
 * scanLengths (the longest, its half, third and sixth, none under 5 minutes) against the same baseline, and
 * the p-value bar is split over the windows and segments tested (Bonferroni), so scanning adds speed, not
 * false alarms. The figures kept are those of the window that fired (or of the longest one).
 */
import { wilson } from "../reports/metrics";
import { bucketStart, CONFIDENCE_BINS } from "./counters";
import type { MonitorSettings } from "./settings";
import { chiSquareTail, poissonTest, psi, twoProportionTest } from "./stats";

export const MONITORS = [
  "override_rate",
  "qa_accuracy",
  "confidence_psi",
  "review_share",
  "input_psi",
  "volume",
  "backlog",
  "sla_breaches",
  "reviewer",
  "model_version",
] as const;
export type MonitorName = (typeof MONITORS)[number];

export type Window = { from: number; to: number };
export type Counts = ReadonlyMap<string, number>;
export type Verdict = "fire" | "clear" | "hold";
export type Finding = { monitor: MonitorName; segment: string; verdict: Verdict; figures: Record<string, unknown> };

const MIN = 60_000;
const get = (m: Counts, k: string) => m.get(k) ?? 0;
const iso = (w: Window) => ({ from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() });

/** The recent windows a monitor scans, longest first (minutes). */
export function scanLengths(longest: number): number[] {
  const out = [longest];
  for (const d of [2, 3, 6]) {
    const l = Math.ceil(longest / d);
    if (l >= 5 && !out.includes(l)) out.push(l);
  }
  return out;
}

/** The windows the monitors read, ending at `at` (a minute boundary). */
export function windowsAt(at: number, s: MonitorSettings) {
  const before = (longest: number, baseline: number): Window => ({ from: at - (longest + baseline) * MIN, to: at - longest * MIN });
  return {
    /** Per-minute counts are read for this span: the longest recent window of any monitor. */
    recentMinutes: Math.max(
      s.overrideRate.windowMinutes,
      s.qaAccuracy.windowMinutes,
      s.confidence.windowMinutes,
      s.inputDrift.windowMinutes,
      s.volume.windowMinutes,
      s.flow.windowMinutes,
      s.reviewers.windowMinutes,
    ),
    overrideBaseline: before(s.overrideRate.windowMinutes, s.overrideRate.baselineMinutes),
    confidenceBaseline: before(s.confidence.windowMinutes, s.confidence.baselineMinutes),
    inputBaseline: before(s.inputDrift.windowMinutes, s.inputDrift.baselineMinutes),
  };
}
export type Windows = ReturnType<typeof windowsAt>;

/** What the evaluator read for one type (see alerts.server.ts). */
export type MonitorData = {
  /** Counts per minute (minute start → metric → value) over the last `recentMinutes` minutes. */
  recent: ReadonlyMap<number, Counts>;
  overrideBaseline: Counts;
  confidenceBaseline: Counts;
  inputBaseline: Counts;
  /** The usual decisions a minute around now: the same time of the week in the weeks before, else the day before the window. */
  volume: { perMinute: number | null; source: "same time in earlier weeks" | "the hours before" | null; weeks: number };
  /**
   * Open review tasks now and `flow.windowMinutes` ago (null: not recorded then); open tasks past their SLA now
   * (`breaches`), and of those the ones whose deadline passed within the last `flow.windowMinutes` (`newBreaches`).
   */
  flow: { backlog: number; backlogBefore: number | null; breaches: number; newBreaches: number };
  /** Per model version over the model-version window, newest first. */
  models: { version: string; volume: number; automationRate: number | null; overrideRate: number | null; qaAccuracy: number | null; qaN: number }[];
};

/** Sums the per-minute counts of [at − minutes, at). */
export function sumRecent(recent: ReadonlyMap<number, Counts>, at: number, minutes: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let m = at - minutes * MIN; m < at; m += MIN) {
    const c = recent.get(m);
    if (c) for (const [k, v] of c) out.set(k, (out.get(k) ?? 0) + v);
  }
  return out;
}

export function findings(s: MonitorSettings, targetAccuracy: number | null, at: number, w: Windows, d: MonitorData): Finding[] {
  const out: Finding[] = [];
  const recentWindow = (minutes: number): Window => ({ from: at - minutes * MIN, to: at });
  // Monitors share window lengths (30, 10, 5 minutes by default): each length is summed once per evaluation.
  const sums = new Map<number, Map<string, number>>();
  const recentSum = (len: number) => {
    let c = sums.get(len);
    if (!c) sums.set(len, (c = sumRecent(d.recent, at, len)));
    return c;
  };
  const scans = (longest: number) => scanLengths(longest).map((len) => ({ len, c: recentSum(len) }));

  if (s.overrideRate.enabled) {
    const o = s.overrideRate;
    const windows = scans(o.windowMinutes);
    const longest = windows[0].c;
    let segments = [...longest.keys()].filter((k) => k.startsWith("ovr:n|")).map((k) => k.slice("ovr:n|".length));
    if (!segments.includes("")) segments.unshift("");
    // Per model version only when there is more than one to tell apart: with one, it is the whole type again.
    const models = new Set([...longest.keys(), ...d.overrideBaseline.keys()].filter((k) => k.startsWith("ovr:n|model=")));
    if (models.size < 2) segments = segments.filter((seg) => !seg.startsWith("model="));
    const bar = o.maxP / Math.max(1, segments.length * windows.length);
    for (const seg of segments) {
      const tests = windows.map(({ len, c }) => ({
        len,
        t: twoProportionTest(get(d.overrideBaseline, `ovr:k|${seg}`), get(d.overrideBaseline, `ovr:n|${seg}`), get(c, `ovr:k|${seg}`), get(c, `ovr:n|${seg}`)),
      }));
      const enough = (t: (typeof tests)[number]["t"]) => t.baseline.n >= o.minCount && t.recent.n >= o.minCount && t.effect !== null;
      const firing = strongest(tests.filter(({ t }) => enough(t) && t.effect! >= o.minEffect && t.p! <= bar).map((x) => ({ ...x, p: x.t.p!, z: x.t.z! })));
      const { len, t } = firing ?? tests[0];
      const verdict: Verdict = firing ? "fire" : !enough(t) ? "hold" : t.effect! < o.minEffect / 2 ? "clear" : "hold";
      out.push({
        monitor: "override_rate",
        segment: seg,
        verdict,
        figures: {
          baselineRate: t.baseline.rate,
          recentRate: t.recent.rate,
          baselineN: t.baseline.n,
          recentN: t.recent.n,
          effect: t.effect,
          p: t.p,
          threshold: { minEffect: o.minEffect, maxP: bar, minCount: o.minCount },
          recentWindow: iso(recentWindow(len)),
          baselineWindow: iso(w.overrideBaseline),
        },
      });
    }
  }

  if (s.qaAccuracy.enabled && targetAccuracy !== null) {
    const qa = recentSum(s.qaAccuracy.windowMinutes);
    const n = get(qa, "qa:n");
    const acc = wilson(get(qa, "qa:ok"), n);
    const enough = n >= s.qaAccuracy.minCount && acc.high !== null;
    const verdict: Verdict = !enough ? "hold" : acc.high! < targetAccuracy ? "fire" : acc.estimate! >= targetAccuracy ? "clear" : "hold";
    out.push({
      monitor: "qa_accuracy",
      segment: "",
      verdict,
      figures: { accuracy: acc.estimate, low: acc.low, high: acc.high, n, targetAccuracy, recentWindow: iso(recentWindow(s.qaAccuracy.windowMinutes)) },
    });
  }

  if (s.confidence.enabled) {
    const k = s.confidence;
    const windows = scans(k.windowMinutes);
    const bins = (m: Counts) => Array.from({ length: CONFIDENCE_BINS }, (_, i) => get(m, `conf:${i}`));
    const base = bins(d.confidenceBaseline);
    out.push(
      distributionFinding(
        "confidence_psi",
        "",
        k,
        base,
        windows.map(({ len, c }) => ({ len, recent: bins(c) })),
        recentWindow,
        w.confidenceBaseline,
      ),
    );

    const nBase = get(d.confidenceBaseline, "n");
    const bar = k.maxP / windows.length;
    const tests = windows.map(({ len, c }) => ({ len, t: twoProportionTest(get(d.confidenceBaseline, "review"), nBase, get(c, "review"), get(c, "n")) }));
    const enough = (t: (typeof tests)[number]["t"]) => t.baseline.n >= k.minCount && t.recent.n >= k.minCount && t.effect !== null;
    const firing = strongest(
      tests.filter(({ t }) => enough(t) && t.effect! >= k.reviewShareMinEffect && t.p! <= bar).map((x) => ({ ...x, p: x.t.p!, z: x.t.z! })),
    );
    const { len, t } = firing ?? tests[0];
    out.push({
      monitor: "review_share",
      segment: "",
      verdict: firing ? "fire" : !enough(t) ? "hold" : t.effect! < k.reviewShareMinEffect / 2 ? "clear" : "hold",
      figures: {
        baselineRate: t.baseline.rate,
        recentRate: t.recent.rate,
        baselineN: t.baseline.n,
        recentN: t.recent.n,
        effect: t.effect,
        p: t.p,
        threshold: { minEffect: k.reviewShareMinEffect, maxP: bar, minCount: k.minCount },
        recentWindow: iso(recentWindow(len)),
        baselineWindow: iso(w.confidenceBaseline),
      },
    });
  }

  if (s.inputDrift.enabled) {
    const k = s.inputDrift;
    const windows = scans(k.windowMinutes);
    for (const field of s.inputs) {
      const prefix = `in:${field}|`;
      const baseBuckets = bucketsOf(d.inputBaseline, prefix);
      const recents = windows.map(({ len, c }) => ({ len, buckets: bucketsOf(c, prefix) }));
      const bins = binsFromBaseline(baseBuckets, k.bins);
      out.push(
        distributionFinding(
          "input_psi",
          `field=${field}`,
          k,
          bins.count(baseBuckets),
          recents.map(({ len, buckets }) => ({ len, recent: bins.count(buckets) })),
          recentWindow,
          w.inputBaseline,
          { field, kind: bins.kind, bins: bins.labels, unseenShare: bins.kind === "category" ? unseenShare(baseBuckets, recents[0].buckets) : null },
        ),
      );
    }
  }

  if (s.volume.enabled) {
    const v = s.volume;
    const rate = d.volume.perMinute;
    const windows = scanLengths(v.windowMinutes);
    const bar = v.maxP / windows.length;
    const tests = windows.map((len) => {
      const observed = get(recentSum(len), "n");
      const expected = rate === null ? null : rate * len;
      const t = expected === null ? null : poissonTest(observed, expected);
      return { len, observed, expected, ratio: expected ? observed / expected : null, p: t?.p ?? null, z: t ? Math.abs(t.z) : 0 };
    });
    const enough = (t: (typeof tests)[number]) => t.expected !== null && t.expected >= v.minExpected;
    const firing = strongest(
      tests.filter((t) => enough(t) && t.ratio !== null && (t.ratio <= v.lowRatio || t.ratio >= v.highRatio) && t.p! <= bar).map((t) => ({ ...t, p: t.p! })),
    );
    const t = firing ?? tests[0];
    const near = t.ratio !== null && t.ratio > (1 + v.lowRatio) / 2 && t.ratio < (1 + v.highRatio) / 2;
    out.push({
      monitor: "volume",
      segment: "",
      verdict: firing ? "fire" : !enough(t) ? "hold" : near ? "clear" : "hold",
      figures: {
        observed: t.observed,
        expected: t.expected,
        ratio: t.ratio,
        p: t.p,
        usualFrom: d.volume.source,
        weeks: d.volume.weeks,
        threshold: { lowRatio: v.lowRatio, highRatio: v.highRatio, minExpected: v.minExpected, maxP: bar },
        recentWindow: iso(recentWindow(t.len)),
      },
    });
  }

  if (s.flow.enabled) {
    const f = s.flow;
    const arrivals = get(recentSum(f.windowMinutes), "review");
    const growth = d.flow.backlogBefore === null ? null : d.flow.backlog - d.flow.backlogBefore;
    out.push({
      monitor: "backlog",
      segment: "",
      verdict: growth === null ? "hold" : growth >= f.minGrowth && growth >= f.growthShare * arrivals ? "fire" : growth <= 0 ? "clear" : "hold",
      figures: {
        backlog: d.flow.backlog,
        backlogBefore: d.flow.backlogBefore,
        growth,
        arrivals,
        worked: growth === null ? null : Math.max(0, arrivals - growth),
        threshold: { minGrowth: f.minGrowth, growthShare: f.growthShare },
        recentWindow: iso(recentWindow(f.windowMinutes)),
      },
    });
    // New breaches only: a task that went past its deadline within the window. Tasks overdue for longer (an
    // upgraded store's old queue, a seeded demo) are known already and do not alarm forever; the alert resolves
    // once a window passes with no new breach, whatever is still overdue.
    out.push({
      monitor: "sla_breaches",
      segment: "",
      verdict: d.flow.newBreaches >= f.minBreaches ? "fire" : d.flow.newBreaches === 0 ? "clear" : "hold",
      figures: {
        newBreaches: d.flow.newBreaches,
        breaches: d.flow.breaches,
        threshold: { minBreaches: f.minBreaches },
        at: new Date(at).toISOString(),
        recentWindow: iso(recentWindow(f.windowMinutes)),
      },
    });
  }

  if (s.reviewers.enabled) {
    const r = s.reviewers;
    const c = recentSum(r.windowMinutes);
    const ids = [...c.keys()].filter((k) => k.startsWith("rv:n|")).map((k) => k.slice("rv:n|".length));
    const all = { n: 0, ok: 0, fast: 0 };
    for (const id of ids) {
      all.n += get(c, `rv:n|${id}`);
      all.ok += get(c, `rv:ok|${id}`);
      all.fast += get(c, `rv:fast|${id}`);
    }
    const bar = r.maxP / Math.max(1, ids.length);
    for (const id of ids) {
      const own = { n: get(c, `rv:n|${id}`), ok: get(c, `rv:ok|${id}`), fast: get(c, `rv:fast|${id}`) };
      const peers = { n: all.n - own.n, ok: all.ok - own.ok, fast: all.fast - own.fast };
      // Fast is the rare part (a careful reviewer is almost never done within seconds): is this reviewer fast
      // far more often than the peers (significant), and do they approve clearly more often than the peers?
      const fast = twoProportionTest(peers.fast, peers.n, own.fast, own.n);
      const approvalRate = own.n ? own.ok / own.n : null;
      const peersApprovalRate = peers.n ? peers.ok / peers.n : null;
      const approvalRise = approvalRate === null || peersApprovalRate === null ? null : approvalRate - peersApprovalRate;
      const enough = own.n >= r.minCount && peers.n >= r.minCount && fast.effect !== null && approvalRise !== null;
      const stamping = enough && fast.recent.rate! >= r.minFastShare && fast.p! <= bar && approvalRise! >= r.minApprovalRise;
      out.push({
        monitor: "reviewer",
        segment: `reviewer=${id}`,
        verdict: stamping ? "fire" : !enough ? "hold" : approvalRise! < r.minApprovalRise / 2 || fast.recent.rate! < r.minFastShare / 2 ? "clear" : "hold",
        figures: {
          reviewer: id,
          verdicts: own.n,
          approvalRate,
          fastShare: fast.recent.rate,
          peers: { verdicts: peers.n, approvalRate: peersApprovalRate, fastShare: fast.baseline.rate },
          approvalRise,
          p: fast.p,
          threshold: { minApprovalRise: r.minApprovalRise, minFastShare: r.minFastShare, minCount: r.minCount, maxP: bar },
          recentWindow: iso(recentWindow(r.windowMinutes)),
        },
      });
    }
  }

  if (s.modelVersion.enabled && d.models.length >= 2) {
    const [latest, previous] = d.models;
    out.push({
      monitor: "model_version",
      segment: `model=${latest.version}`,
      // A new version beside the previous one, once it has enough decisions; resolved once the previous one is gone from the window.
      verdict: previous.volume === 0 ? "clear" : latest.volume >= s.modelVersion.minCount ? "fire" : "hold",
      figures: { latest, previous, threshold: { minCount: s.modelVersion.minCount }, recentWindow: iso(recentWindow(s.modelVersion.windowMinutes)) },
    });
  }
  return out;
}

/**
 * Of the scanned windows that fire, the one with the strongest evidence (its figures are kept): the smallest
 * p-value, and where p-values are too small to tell apart, the largest statistic; undefined for none.
 */
function strongest<T extends { p: number; z: number }>(firing: T[]): T | undefined {
  return firing.reduce<T | undefined>((best, x) => (best === undefined || x.p < best.p || (x.p === best.p && x.z > best.z) ? x : best), undefined);
}

type DistributionSettings = { minCount: number; maxPsi: number; maxP: number };

/**
 * PSI of each scanned recent window against the baseline over the same bins. Fires when one window's PSI is at
 * least maxPsi and significant: under no change, n·PSI (n = n₁n₂/(n₁+n₂)) follows a χ² with bins − 1 degrees
 * of freedom, which keeps small windows from firing on sampling noise. Clears below half of maxPsi.
 */
function distributionFinding(
  monitor: "confidence_psi" | "input_psi",
  segment: string,
  k: DistributionSettings,
  baseline: number[],
  windows: { len: number; recent: number[] }[],
  recentWindow: (minutes: number) => Window,
  baselineWindow: Window,
  extra: Record<string, unknown> = {},
): Finding {
  const total = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const nBase = total(baseline);
  const bar = k.maxP / windows.length;
  const tests = windows.map(({ len, recent }) => {
    const nRecent = total(recent);
    const enough = nBase >= k.minCount && nRecent >= k.minCount;
    const index = enough ? psi(baseline, recent) : null;
    const used = baseline.filter((b, i) => b + (recent[i] ?? 0) > 0).length;
    const p = index === null ? null : chiSquareTail((index * nBase * nRecent) / (nBase + nRecent), Math.max(1, used - 1));
    return { len, nRecent, index, p };
  });
  const firing = strongest(
    tests.filter((t) => t.index !== null && t.index >= k.maxPsi && t.p! <= bar).map((t) => ({ ...t, p: t.p!, z: t.index! * t.nRecent })),
  );
  const t = firing ?? tests[0];
  return {
    monitor,
    segment,
    verdict: firing ? "fire" : t.index === null ? "hold" : t.index < k.maxPsi / 2 ? "clear" : "hold",
    figures: {
      ...extra,
      psi: t.index,
      p: t.p,
      baselineN: nBase,
      recentN: t.nRecent,
      threshold: { maxPsi: k.maxPsi, minCount: k.minCount, maxP: bar },
      recentWindow: iso(recentWindow(t.len)),
      baselineWindow: iso(baselineWindow),
    },
  };
}

function bucketsOf(c: Counts, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of c) if (k.startsWith(prefix) && v > 0) out.set(k.slice(prefix.length), v);
  return out;
}

/**
 * The bins of an input field, fixed from the baseline. Numbers: the fine counter buckets merged, in order,
 * into `bins` bins of about equal baseline share (a recent value below the first or above the last bin
 * counts in the end bin). Categories: the `bins − 2` most frequent baseline values, one bin for the other
 * baseline values, and one for values the baseline never saw.
 */
export function binsFromBaseline(baseline: ReadonlyMap<string, number>, bins: number) {
  const numeric = [...baseline.keys()].filter((b) => b.startsWith("n:"));
  const categories = [...baseline.keys()].filter((b) => b.startsWith("c:"));
  if (numeric.length >= categories.length && numeric.length > 0) {
    const ordered = numeric.sort((a, b) => bucketStart(a) - bucketStart(b));
    const total = ordered.reduce((s, b) => s + baseline.get(b)!, 0);
    // Each bin starts at a fine bucket; the first covers everything below too.
    const starts: number[] = [];
    let acc = 0;
    for (const b of ordered) {
      if (starts.length === 0 || acc >= (total * starts.length) / bins) starts.push(bucketStart(b));
      acc += baseline.get(b)!;
    }
    const binOf = (bucket: string) => {
      const x = bucketStart(bucket);
      if (Number.isNaN(x)) return -1;
      let i = 0;
      while (i + 1 < starts.length && starts[i + 1] <= x) i++;
      return i;
    };
    return {
      kind: "number" as const,
      labels: starts.map((x, i) => (i === 0 ? `< ${fmt(starts[1] ?? Infinity)}` : `≥ ${fmt(x)}`)),
      count: (m: ReadonlyMap<string, number>) => {
        const out = starts.map(() => 0);
        for (const [b, v] of m) {
          const i = binOf(b);
          if (i >= 0) out[i] += v;
        }
        return out;
      },
    };
  }
  const top = categories.sort((a, b) => baseline.get(b)! - baseline.get(a)! || a.localeCompare(b)).slice(0, Math.max(1, bins - 2));
  const known = new Set(categories);
  return {
    kind: "category" as const,
    labels: [...top.map((c) => c.slice(2)), "(other)", "(unseen)"],
    count: (m: ReadonlyMap<string, number>) => {
      const out = [...top.map(() => 0), 0, 0];
      for (const [b, v] of m) {
        const i = top.indexOf(b);
        if (i >= 0) out[i] += v;
        else if (known.has(b)) out[top.length] += v;
        else out[top.length + 1] += v;
      }
      return out;
    },
  };
}

function unseenShare(baseline: ReadonlyMap<string, number>, recent: ReadonlyMap<string, number>): number | null {
  let n = 0;
  let unseen = 0;
  for (const [b, v] of recent) {
    n += v;
    if (!baseline.has(b)) unseen += v;
  }
  return n ? unseen / n : null;
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : "∞");
