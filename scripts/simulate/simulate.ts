/**
 * `lastmile simulate`: realistic traffic for the demo decision types on a simulated clock, worked by
 * simulated reviewers, with the drift monitors evaluated every simulated minute (issue 15).
 *
 * - Credit applications are the real applications of data/credit_data.csv, drawn at random, scored by the
 *   project's own logistic regression (out-of-fold), with the observed outcome as the hidden truth the
 *   reviewers answer from. Their channel is web (47%), branch (20%) or broker (33%: the segment a third of
 *   the traffic). Invoices (half the credit rate) come from the demo's invoice generator.
 * - Arrivals are Poisson, posted by the source system at the end of every minute through the real
 *   `ingestDecisions`; reviewers claim and decide through the real `claim` and `submitReview`, with
 *   log-normal handling times (a median of 30 s to keep an answer, 60 s to correct one), and there are as
 *   many of them per queue as keep up with it at about 85% busy (at least five), so a stationary run has no
 *   growing backlog.
 * - Shifts, from minute `shift-at` on, sized as a real team cares about:
 *     accuracy      the error rate of the broker channel (a third of the traffic) rises by 20 points, at
 *                   every confidence level (so in the review lane too, where humans see it)
 *     confidence    the model's confidence drops by 0.05
 *     input         monthly income (a monitored input) moves up by half a standard deviation
 *     volume        traffic halves
 *     rubber-stamp  one reviewer of the credit queue starts approving everything in 1–3 seconds
 * Every write goes through the domain functions, so counters, roll-ups, audit and outbox are what
 * production would have written. The summary says which alerts fired when, and the detection delay.
 */
import { parseArgs } from "node:util";
import { count, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@db/client.server";
import { tasks, users } from "@db/schema/index";
import { createUser } from "~/domain/auth/users.server";
import { getDecisionType, upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { evaluateMonitors, type AlertJson } from "~/domain/monitors/alerts.server";
import type { MonitorName } from "~/domain/monitors/findings";
import { claim } from "~/domain/queue/claim.server";
import type { Reviewer } from "~/domain/queue/queue.server";
import { submitReview } from "~/domain/review/review.server";
import { MINUTE } from "~/lib/time";
import { buildCreditCase, outcomeVerdict, type CreditCase, type Verdict } from "../demo/credit";
import { crossFit, loadCreditApplications, MODEL_V2, type CreditApplication, type CreditModel } from "../demo/credit-model";
import { InvoiceGenerator, invoiceVerdict, type InvoiceCase } from "../demo/invoices";
import { Rng } from "../demo/random";
import { CREDIT_TYPE_KEY, creditType, INVOICE_TYPE_KEY, invoiceType } from "../demo/types";

export const SHIFT_KINDS = ["accuracy", "confidence", "input", "volume", "rubber-stamp"] as const;
export type ShiftKind = (typeof SHIFT_KINDS)[number];

/** The monitor that should catch each shift. */
export const MATCHING_MONITOR: Record<ShiftKind, MonitorName> = {
  accuracy: "override_rate",
  confidence: "confidence_psi",
  input: "input_psi",
  volume: "volume",
  "rubber-stamp": "reviewer",
};

export type SimulateOptions = {
  minutes: number;
  /** Credit applications per minute (invoices arrive at half this rate). */
  rate: number;
  start: number;
  shift: { kind: ShiftKind; at: number } | null;
  seed: number;
  types: ("credit" | "invoice")[];
  /**
   * The credit applications go to this type (created, like the invoice type, when missing): the demo's live
   * feed runs under its own key, beside the demo's month of real applications. Default: the demo's credit type.
   */
  creditType?: { key: string; name: string; owner?: string };
  log?: (line: string) => void;
};

export type SimulatedAlert = { monitor: string; type: string; segment: string; firedAt: string; minute: number; delayMinutes: number | null };

export type SimulationSummary = {
  start: string;
  end: string;
  minutes: number;
  rate: number;
  seed: number;
  shift: { kind: ShiftKind; minute: number; at: string; monitor: MonitorName } | null;
  decisions: number;
  reviews: number;
  reviewers: Record<string, number>;
  openTasks: number;
  alerts: SimulatedAlert[];
  /** The first alert of the shift's monitor on the credit type at or after the onset: minutes from the onset to the data that made it fire. */
  detection: { monitor: MonitorName; segment: string; firedAt: string; delayMinutes: number } | null;
  /** Alerts that fired before the onset (all of them in a run without a shift). */
  falseAlarms: number;
  stationaryMinutes: number;
  seconds: number;
};

const SIM_DOMAIN = "sim.lastmile";
const CHANNELS = [
  ["web", 47],
  ["branch", 20],
  ["broker", 33],
] as const;
const MEDIAN_KEEP_MS = 30_000;
const MEDIAN_CORRECT_MS = 60_000;
const HANDLING_SIGMA = 0.45;

type Case = CreditCase | InvoiceCase;
type Agent = { user: Reviewer; typeKey: string; nextAt: number; pending: { taskId: string; verdict: Verdict } | null; stamper: boolean };

type Scored = { app: CreditApplication; pGood: number; model: CreditModel };
let scoredCache: { scored: Scored[]; incomeSd: number } | null = null;

/** The real applications, each with its out-of-fold score (trained once per process). */
function scoredApplications() {
  if (scoredCache) return scoredCache;
  const rows = loadCreditApplications();
  const fit = crossFit(rows, MODEL_V2, "2.0.0", 5, 20261129);
  const scored = rows.map((app, i) => ({ app, pGood: fit.scores[i], model: fit.models[fit.fold[i]] }));
  const incomes = rows.map((r) => r.income).filter((v): v is number => v != null);
  const mean = incomes.reduce((a, b) => a + b, 0) / incomes.length;
  const incomeSd = Math.sqrt(incomes.reduce((a, b) => a + (b - mean) ** 2, 0) / incomes.length);
  scoredCache = { scored, incomeSd };
  return scoredCache;
}

function poisson(rng: Rng, mean: number): number {
  // Normal approximation above 50 (rates here are tens to hundreds a minute), Knuth below.
  if (mean > 50) return Math.max(0, Math.round(rng.normal(mean, Math.sqrt(mean))));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.next();
  } while (p > l);
  return k - 1;
}

async function ensureUser(db: Db, email: string, role: "reviewer" | "manager", at: number): Promise<Reviewer> {
  const found = (await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.email, email)).limit(1))[0];
  if (found) return found;
  const { user } = await createUser(db, { email, role, name: email.split("@")[0] }, "simulate", at);
  return { id: user.id, email: user.email };
}

/** The demo types, created when missing (their demo settings name the monitored segment and inputs). */
async function ensureTypes(db: Db, o: SimulateOptions, creditKey: string, at: number): Promise<void> {
  for (const kind of o.types) {
    const key = kind === "credit" ? creditKey : INVOICE_TYPE_KEY;
    if (await getDecisionType(db, key)) continue;
    const owner = kind === "credit" && o.creditType?.owner ? o.creditType.owner : (await ensureUser(db, `owner@${SIM_DOMAIN}`, "manager", at)).email;
    const type = kind === "credit" ? { ...creditType(owner), ...(o.creditType ? { key, name: o.creditType.name } : {}) } : invoiceType(owner);
    await upsertDecisionType(db, type, "simulate", at);
  }
}

export async function simulate(db: Db, o: SimulateOptions): Promise<SimulationSummary> {
  const started = Date.now();
  const log = o.log ?? (() => undefined);
  const rng = new Rng(o.seed);
  const creditKey = o.creditType?.key ?? CREDIT_TYPE_KEY;
  const typeKeys = o.types.map((t) => (t === "credit" ? creditKey : INVOICE_TYPE_KEY));
  await ensureTypes(db, o, creditKey, o.start - MINUTE);
  const { scored, incomeSd } = scoredApplications();
  const invoices = new InvoiceGenerator(rng);
  const shiftAt = o.shift ? o.start + o.shift.at * MINUTE : Infinity;
  const shifted = (t: number, kind: ShiftKind) => o.shift?.kind === kind && t >= shiftAt;

  // ---- the reviewers: enough to keep up with each queue (tasks a minute × about 0.75 minutes a task, at 85% busy) ----
  const agents: Agent[] = [];
  const reviewers: Record<string, number> = {};
  for (const key of typeKeys) {
    const perMinute = key === creditKey ? o.rate * 0.6 : (o.rate / 2) * 0.4;
    const n = Math.max(5, Math.ceil((perMinute * 0.75) / 0.85));
    reviewers[key] = n;
    for (let i = 1; i <= n; i++) {
      const user = await ensureUser(db, `${key.split("_")[0]}-${String(i).padStart(2, "0")}@${SIM_DOMAIN}`, "reviewer", o.start - MINUTE);
      agents.push({ user, typeKey: key, nextAt: o.start + rng.int(0, 59_999), pending: null, stamper: false });
    }
  }
  log(`${agents.length} reviewers ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const stamper = agents.find((a) => a.typeKey === creditKey);
  if (stamper && o.shift?.kind === "rubber-stamp") stamper.stamper = true;

  // The hidden truth of each decision, for the reviewers who will work it. The simulated reviewers keep up within
  // minutes, so a case is kept CASE_RETENTION_MS of simulated time and then dropped (a task older than that would be
  // approved without its truth; `openTasks` in the summary says whether the reviewers kept up). Keeping every case of
  // the run took each simulation past 2.3 GB after five simulated days.
  const CASE_RETENTION_MS = 12 * 60 * MINUTE;
  const byDecision = new Map<string, Case>();
  const keptSince: { at: number; ids: string[] }[] = [];
  let n = 0;
  let reviews = 0;
  let seq = 0;
  const alerts: AlertJson[] = [];

  const creditCase = (t: number): CreditCase => {
    const s = scored[rng.int(0, scored.length - 1)];
    const app = shifted(t, "input") && s.app.income != null ? { ...s.app, income: Math.round(s.app.income + 0.5 * incomeSd) } : s.app;
    const c = buildCreditCase(app, t, s.pGood, s.model, "2.0.0", rng);
    const channel = rng.weighted(CHANNELS);
    const externalId = `SIM-${o.seed}-${t}-${seq++}`;
    const item = {
      ...c.item,
      type: creditKey,
      externalId,
      input: { ...(c.item.input as Record<string, unknown>), channel, applicationId: externalId },
    } as Record<string, unknown>;
    let output = c.output;
    // The model is calibrated (it is right with probability `confidence`): flipping a right answer with
    // probability 0.2 / confidence raises the chance of a wrong one by 20 points at every confidence level.
    if (shifted(t, "accuracy") && channel === "broker" && output.decision === c.truth && rng.chance(Math.min(1, 0.2 / (c.item.confidence as number)))) {
      output =
        output.decision === "approve"
          ? { decision: "decline", riskGrade: "E", approvedAmount: 0, declineReason: "RISK_SCORE" }
          : { decision: "approve", riskGrade: "C", approvedAmount: app.amount ?? 0 };
      item.output = output;
    }
    if (shifted(t, "confidence")) item.confidence = Math.max(0.5, Math.round(((item.confidence as number) - 0.05) * 10_000) / 10_000);
    return { ...c, externalId, output, item };
  };

  const spent = { ingest: 0, evaluate: 0, claim: 0, submit: 0 };
  const timed = async <T>(k: keyof typeof spent, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      spent[k] += performance.now() - t0;
    }
  };
  const act = async (a: Agent) => {
    const t = a.nextAt;
    if (a.pending) {
      const { taskId, verdict } = a.pending;
      await timed("submit", () => submitReview(db, a.user, taskId, verdict, { now: t }));
      reviews++;
      a.pending = null;
      a.nextAt = t + rng.int(1_000, 4_000);
      return;
    }
    const task = await timed("claim", () => claim(db, a.user, { next: { type: a.typeKey } }, { now: t }));
    if (!task || !("decisionId" in task)) {
      // Nothing to take: look again after the next arrivals.
      a.nextAt = (Math.floor(t / MINUTE) + 1) * MINUTE + rng.int(1_000, 20_000);
      return;
    }
    const c = byDecision.get(task.decisionId);
    let verdict: Verdict;
    let ms: number;
    if (a.stamper && t >= shiftAt) {
      verdict = { action: "approve", reasonCodes: [] };
      ms = rng.int(1_000, 2_900);
    } else {
      verdict = !c ? { action: "approve", reasonCodes: [] } : c.kind === "credit" ? outcomeVerdict(c, rng) : invoiceVerdict(c, task.kind, rng);
      if (verdict.action === "escalate") verdict = c && c.kind === "credit" ? outcomeVerdict(c, rng) : { action: "approve", reasonCodes: [] };
      ms = Math.min(10 * MINUTE, Math.max(4_000, rng.logNormal(verdict.action === "approve" ? MEDIAN_KEEP_MS : MEDIAN_CORRECT_MS, HANDLING_SIGMA)));
    }
    a.pending = { taskId: task.id, verdict };
    a.nextAt = t + Math.round(ms);
  };

  for (let m = 0; m < o.minutes; m++) {
    const from = o.start + m * MINUTE;
    const to = from + MINUTE;
    // ---- the source system posts the minute's decisions at its end ----
    const items: Case[] = [];
    if (typeKeys.includes(creditKey)) {
      const k = poisson(rng, shifted(from, "volume") ? o.rate / 2 : o.rate);
      for (let i = 0; i < k; i++) items.push(creditCase(from + rng.int(0, MINUTE - 1)));
    }
    if (typeKeys.includes(INVOICE_TYPE_KEY)) {
      const k = poisson(rng, shifted(from, "volume") ? o.rate / 4 : o.rate / 2);
      for (let i = 0; i < k; i++) items.push(invoices.next(from + rng.int(0, MINUTE - 1), 100_000 + seq++));
    }
    if (items.length) {
      const results = await timed("ingest", () =>
        ingestDecisions(
          db,
          items.map((c) => c.item),
          { batch: true, actor: "simulate", now: to },
        ),
      );
      results.forEach((r, i) => byDecision.set(r.id, items[i]));
      keptSince.push({ at: to, ids: results.map((r) => r.id) });
      n += items.length;
    }
    while (keptSince.length && keptSince[0].at < to - CASE_RETENTION_MS) for (const id of keptSince.shift()!.ids) byDecision.delete(id);
    // ---- the monitors see the data up to this minute ----
    const result = await timed("evaluate", () => evaluateMonitors(db, to, to));
    alerts.push(...result.fired);
    for (const a of result.fired) log(`${a.firedAt} ${a.type} ${a.monitor}${a.segment ? ` ${a.segment}` : ""} fired`);
    // ---- the reviewers work until the next minute ----
    for (;;) {
      let next: Agent | null = null;
      for (const a of agents) if (a.nextAt < to + MINUTE && (!next || a.nextAt < next.nextAt)) next = a;
      if (!next) break;
      if (next.nextAt < to) next.nextAt = to + rng.int(0, 999);
      await act(next);
    }
    if ((m + 1) % 10 === 0)
      log(
        `minute ${m + 1}/${o.minutes}: ${n} decisions, ${reviews} reviews, ${alerts.length} alerts; ms spent ${Object.entries(spent)
          .map(([k, v]) => `${k} ${Math.round(v)}`)
          .join(", ")}`,
      );
  }

  const end = o.start + o.minutes * MINUTE;
  const openTasks = Number(
    (
      await db
        .select({ n: count() })
        .from(tasks)
        .where(inArray(tasks.status, ["open", "claimed"]))
    )[0]?.n ?? 0,
  );
  const simulated: SimulatedAlert[] = alerts.map((a) => {
    const at = Date.parse(a.firedAt);
    return {
      monitor: a.monitor,
      type: a.type,
      segment: a.segment,
      firedAt: a.firedAt,
      minute: Math.round((at - o.start) / MINUTE),
      delayMinutes: at >= shiftAt ? Math.round((at - shiftAt) / MINUTE) : null,
    };
  });
  const match = o.shift ? MATCHING_MONITOR[o.shift.kind] : null;
  const hit = simulated.find((a) => a.monitor === match && a.type === creditKey && a.delayMinutes !== null);
  const stationaryMinutes = o.shift ? o.shift.at : o.minutes;
  return {
    start: new Date(o.start).toISOString(),
    end: new Date(end).toISOString(),
    minutes: o.minutes,
    rate: o.rate,
    seed: o.seed,
    shift: o.shift ? { kind: o.shift.kind, minute: o.shift.at, at: new Date(shiftAt).toISOString(), monitor: match! } : null,
    decisions: n,
    reviews,
    reviewers,
    openTasks,
    alerts: simulated,
    detection: hit ? { monitor: match!, segment: hit.segment, firedAt: hit.firedAt, delayMinutes: hit.delayMinutes! } : null,
    falseAlarms: simulated.filter((a) => a.delayMinutes === null).length,
    stationaryMinutes,
    seconds: (Date.now() - started) / 1000,
  };
}

const argsSchema = z
  .object({
    minutes: z.coerce
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 30),
    rate: z.coerce.number().gt(0).max(10_000),
    start: z.iso.datetime({ offset: true }).optional(),
    shift: z.enum(SHIFT_KINDS).optional(),
    "shift-at": z.coerce.number().int().min(0).optional(),
    seed: z.coerce.number().int().default(1),
    types: z
      .string()
      .default("credit,invoice")
      .transform((s) => s.split(",").map((t) => t.trim()))
      .pipe(z.array(z.enum(["credit", "invoice"])).min(1)),
    quiet: z.boolean().default(false),
  })
  .refine((a) => (a.shift === undefined) === (a["shift-at"] === undefined), { message: "--shift and --shift-at go together", path: ["shift"] })
  .refine((a) => a["shift-at"] === undefined || a["shift-at"] < a.minutes, { message: "--shift-at must be a minute of the run", path: ["shift-at"] });

/** The command line → options (a message naming the flag when it is wrong). By default the run ends now. */
export function parseSimulateArgs(args: string[], now: number): { options: SimulateOptions; quiet: boolean } | string {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        minutes: { type: "string" },
        rate: { type: "string" },
        start: { type: "string" },
        shift: { type: "string" },
        "shift-at": { type: "string" },
        seed: { type: "string" },
        types: { type: "string" },
        quiet: { type: "boolean" },
      },
      strict: true,
    }).values;
  } catch (e) {
    return (e as Error).message;
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) return parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n");
  const a = parsed.data;
  const minutes = a.minutes;
  const start = a.start ? Math.floor(Date.parse(a.start) / MINUTE) * MINUTE : Math.floor(now / MINUTE) * MINUTE - minutes * MINUTE;
  return {
    options: { minutes, rate: a.rate, start, shift: a.shift ? { kind: a.shift, at: a["shift-at"]! } : null, seed: a.seed, types: a.types },
    quiet: a.quiet,
  };
}
