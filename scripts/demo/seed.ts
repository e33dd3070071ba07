/**
 * `lastmile seed-demo`: fills an EMPTY database with a month of realistic work.
 *
 * Demo users (fixed, demo-only passwords), an API key, the two demo decision
 * types, 4,454 real credit applications scored by the project's own logistic
 * regression (v1 for the first 18 days, a better v2 afterwards) and ~1,500
 * synthetic invoices. Decisions arrive in 10-minute batches over the last 30
 * days through the real `ingestDecisions`; simulated reviewers work the queue
 * in shifts through the real `claim`/`submitReview`; the type owner
 * resolves escalations. Reviewers stop a few hours before "now", which leaves
 * a realistic open backlog (some of it past SLA) for today.
 *
 * The drift monitors need production-sized traffic (tens of decisions a minute) to see anything, which a
 * month of 4,454 applications is not. So the last hours before "now" of a third type, a live feed of credit
 * applications, are written by `lastmile simulate` (scripts/simulate), with the monitors evaluated every
 * simulated minute: part-way through, the model starts going wrong on broker applications, and the
 * override-rate monitor catches it. The alerts page then shows a real alert with its onset.
 *
 * Every write goes through the domain functions, so roll-ups, audit chain,
 * outbox and labelled examples are exactly what production would have written.
 */
import { and, count, eq, lte } from "drizzle-orm";
import { transaction, type Db } from "@db/client.server";
import { apiKeys, decisions, decisionTypes, settings, tasks, users } from "@db/schema/index";
import { appendAudit } from "~/domain/audit/audit.server";
import { createApiKey, createUser } from "~/domain/auth/users.server";
import { upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { queueCounts, type Reviewer } from "~/domain/queue/queue.server";
import { submitReview } from "~/domain/review/review.server";
import { conflict } from "~/lib/errors";
import { DAY, HOUR, MINUTE } from "~/lib/time";
import { buildCreditCase, creditVerdict, outcomeVerdict, CREDIT_MODEL_NAME, type CreditCase, type Verdict } from "./credit";
import { crossFit, loadCreditApplications, MODEL_V1, MODEL_V2, outOfFoldReport, type HoldoutReport } from "./credit-model";
import { InvoiceGenerator, invoiceVerdict, type InvoiceCase } from "./invoices";
import { Rng } from "./random";
import { simulate, type SimulationSummary } from "../simulate/simulate";
import { creditType, INVOICE_TYPE_KEY, invoiceType, LIVE_CREDIT_TYPE } from "./types";

export const DEMO_MARKER = "demo.seeded_at";
export const DEMO_SEED = 20261129;

/** Demo-only credentials: printed, documented, never use them for real data. */
export const DEMO_USERS = [
  { email: "admin@demo.lastmile", name: "Ada Admin", role: "admin", password: "demo-admin-password" },
  { email: "manager@demo.lastmile", name: "Morgan Manager", role: "manager", password: "demo-manager-password" },
  { email: "reviewer@demo.lastmile", name: "Robin Reviewer", role: "reviewer", password: "demo-reviewer-password" },
  { email: "sam.reviewer@demo.lastmile", name: "Sam Okafor", role: "reviewer", password: "demo-reviewer-password" },
  { email: "auditor@demo.lastmile", name: "Avery Auditor", role: "auditor", password: "demo-auditor-password" },
] as const;

export const CREDIT_VERSIONS = { v1: "1.0.0", v2: "2.0.0" } as const;

export type SeedOptions = {
  quiet?: boolean;
  /** The simulated "now" (defaults to the clock); tests pin it. */
  now?: number;
  /** Number of synthetic invoices. */
  invoices?: number;
  /** Only the first N credit applications (tests); all 4,454 by default. */
  creditLimit?: number;
  /**
   * The live feed: `minutes` of simulated traffic ending at "now", `rate` applications a minute, the model
   * going wrong on broker applications from minute `shiftAt` (false: none). Default DEMO_LIVE_FEED.
   */
  live?: LiveFeed | false;
  log?: (line: string) => void;
};

export type SeedResult =
  | { status: "present"; seededAt: string }
  | {
      status: "seeded";
      apiKey: string;
      users: typeof DEMO_USERS;
      decisions: { credit: number; invoice: number };
      reviews: number;
      escalations: number;
      openTasks: number;
      models: HoldoutReport[];
      /** What the live feed's simulation wrote and which alerts it raised (null: no live feed). */
      live: SimulationSummary | null;
      seconds: number;
    };

type Case = CreditCase | InvoiceCase;
type Agent = {
  user: Reviewer;
  kind: "reviewer" | "owner";
  prefer?: string;
  onShift: (t: number) => boolean;
  pace: number;
  nextAt: number;
  pending: { taskId: string; taskKind: string; c: Case; verdict: Verdict } | null;
};

const CREDIT_SWITCH_DAY = 18;

export type LiveFeed = { minutes: number; rate: number; shiftAt: number };
/**
 * Two and a half hours at 60 applications a minute (about 9,000 decisions, worked by 32 simulated
 * reviewers), the shift an hour and a half in: at this rate the override-rate monitor needs 15-25 minutes
 * of broker verdicts to be sure, so the alert fires well before "now".
 */
export const DEMO_LIVE_FEED: LiveFeed = { minutes: 150, rate: 60, shiftAt: 90 };

/** Stateful check first: only an empty database is seeded; a demo database is left alone. */
async function checkDatabase(db: Db): Promise<{ present: string } | null> {
  const marker = (await db.select().from(settings).where(eq(settings.key, DEMO_MARKER)).limit(1))[0];
  if (marker) return { present: marker.value };
  const n = async (t: typeof users | typeof decisionTypes | typeof decisions | typeof apiKeys) => (await db.select({ n: count() }).from(t).limit(1))[0]?.n ?? 0;
  const counts = { users: await n(users), types: await n(decisionTypes), decisions: await n(decisions), keys: await n(apiKeys) };
  if (counts.users + counts.types + counts.decisions + counts.keys === 0) return null;
  const demoAdmin = (await db.select({ id: users.id }).from(users).where(eq(users.email, DEMO_USERS[0].email)).limit(1))[0];
  if (demoAdmin) {
    throw conflict(
      "A previous seed-demo run did not finish; the database holds partial demo data. Delete the database file (or point DATABASE_PATH at a new one) and run seed-demo again.",
    );
  }
  throw conflict(
    `This database already holds data (${counts.users} users, ${counts.types} decision types, ${counts.decisions} decisions, ${counts.keys} API keys); seed-demo only fills an empty database and will not mix demo data into it. Point DATABASE_PATH at a new file to try the demo.`,
  );
}

export async function seedDemo(db: Db, opts: SeedOptions = {}): Promise<SeedResult> {
  const started = Date.now();
  const log = opts.log ?? ((line: string) => (opts.quiet ? undefined : console.log(line)));
  const state = await checkDatabase(db);
  if (state) {
    log(`Demo data is already present (seeded ${state.present}); nothing to do.`);
    return { status: "present", seededAt: state.present };
  }

  return seed(db, opts, log, started);
}

async function seed(db: Db, opts: SeedOptions, log: (line: string) => void, started: number): Promise<SeedResult> {
  const cpuStart = process.cpuUsage();
  const now = opts.now ?? Date.now();
  const start = Math.floor((now - 30 * DAY) / HOUR) * HOUR;
  const setupAt = start - DAY;
  const rng = new Rng(DEMO_SEED);

  // ---- people, key, types ----
  const people = new Map<string, Reviewer>();
  for (const u of DEMO_USERS) {
    const { user } = await createUser(db, { email: u.email, name: u.name, role: u.role, password: u.password }, "seed-demo", setupAt);
    people.set(u.email, { id: user.id, email: user.email });
  }
  const { key: apiKey } = await createApiKey(db, { name: "demo-upstream", scopes: ["ingest", "review", "read"] }, DEMO_USERS[0].email, setupAt);
  const owner = "manager@demo.lastmile";
  await upsertDecisionType(db, creditType(owner), DEMO_USERS[0].email, setupAt);
  await upsertDecisionType(db, invoiceType(owner), DEMO_USERS[0].email, setupAt);

  // ---- the credit model, trained here on the real applications ----
  const t0 = Date.now();
  const allRows = loadCreditApplications();
  const rows = opts.creditLimit ? allRows.slice(0, opts.creditLimit) : allRows;
  const v1 = crossFit(rows, MODEL_V1, CREDIT_VERSIONS.v1, 5, DEMO_SEED);
  const v2 = crossFit(rows, MODEL_V2, CREDIT_VERSIONS.v2, 5, DEMO_SEED);
  const models = [outOfFoldReport(rows, v1.scores, CREDIT_VERSIONS.v1), outOfFoldReport(rows, v2.scores, CREDIT_VERSIONS.v2)];
  log(
    `Trained ${CREDIT_MODEL_NAME} ${CREDIT_VERSIONS.v1} and ${CREDIT_VERSIONS.v2} (5-fold cross-fit) on ${rows.length} applications in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const m of models)
    log(
      `  ${m.version}: out-of-fold AUC ${m.auc.toFixed(3)}, accuracy ${(m.accuracy * 100).toFixed(1)} % (majority class ${(m.baselineAccuracy * 100).toFixed(1)} %)`,
    );

  // ---- when each decision happens ----
  const switchAt = start + CREDIT_SWITCH_DAY * DAY;
  const creditTimes = arrivalTimes(rng, rows.length, start, now, creditLoad);
  // Random order with a seasonal tilt: larger purchases (holiday season) come later in the month,
  // so drift monitors have a real shift in the loan amounts to find.
  const byAmount = rows.map((_, i) => i).sort((a, b) => (rows[a].amount ?? 0) - (rows[b].amount ?? 0) || a - b);
  const amountRank = new Array<number>(rows.length);
  byAmount.forEach((rowIndex, rank) => (amountRank[rowIndex] = rank / rows.length));
  const sortKey = rows.map((_, i) => rng.next() + 0.35 * amountRank[i]);
  const order = rows.map((_, i) => i).sort((a, b) => sortKey[a] - sortKey[b] || a - b);
  const cases: Case[] = order.map((rowIndex, k) => {
    const t = creditTimes[k];
    const fit = t < switchAt ? v1 : v2;
    const model = fit.models[fit.fold[rowIndex]];
    return buildCreditCase(rows[rowIndex], t, fit.scores[rowIndex], model, model.version, rng);
  });
  const invoiceTimes = arrivalTimes(rng, opts.invoices ?? 1500, start, now, invoiceLoad);
  const generator = new InvoiceGenerator(rng);
  invoiceTimes.forEach((t, i) => cases.push(generator.next(t, 1001 + i)));

  // The integration hub posts what happened in the last 30 minutes, both types in one batch.
  const WINDOW = 30 * MINUTE;
  const windows = new Map<number, { postAt: number; items: Case[] }>();
  for (const c of cases) {
    const w = Math.floor(c.occurredAt / WINDOW) * WINDOW;
    const b = windows.get(w) ?? { postAt: Math.min(w + WINDOW, now), items: [] };
    b.items.push(c);
    windows.set(w, b);
  }
  const batches = [...windows.values()].sort((a, b) => a.postAt - b.postAt);

  // ---- the people who work the queue ----
  const cutoff = now - 10 * HOUR;
  const reviewer = (email: string, kind: Agent["kind"], onShift: Agent["onShift"], pace: number, prefer?: string): Agent => ({
    user: people.get(email)!,
    kind,
    prefer,
    onShift,
    pace,
    nextAt: start,
    pending: null,
  });
  const agents: Agent[] = [
    reviewer("reviewer@demo.lastmile", "reviewer", shift({ weekdays: [7, 15.5], saturday: [9, 13] }), 1),
    reviewer("sam.reviewer@demo.lastmile", "reviewer", shift({ weekdays: [11.5, 20], sunday: [10, 14] }), 1.2, INVOICE_TYPE_KEY),
    reviewer(owner, "owner", shift({ weekdays: [9, 17] }), 1),
  ];

  const byDecision = new Map<string, Case>();
  const stats = { reviews: 0, escalations: 0, ingestMs: 0, reviewMs: 0 };
  let bi = 0;
  for (;;) {
    let agent: Agent | null = null;
    // After the cutoff nobody starts a new task, but a task in hand is finished.
    for (const a of agents) if ((a.nextAt < cutoff || a.pending) && (!agent || a.nextAt < agent.nextAt)) agent = a;
    const nextBatch = batches[bi];
    if (!agent && !nextBatch) break;
    if (nextBatch && (!agent || nextBatch.postAt <= agent.nextAt)) {
      const ti = performance.now();
      const results = await ingestDecisions(
        db,
        nextBatch.items.map((c) => c.item),
        { batch: true, actor: "apikey:demo-upstream", now: nextBatch.postAt },
      );
      results.forEach((r, i) => byDecision.set(r.id, nextBatch.items[i]));
      stats.ingestMs += performance.now() - ti;
      bi++;
      continue;
    }
    const ta = performance.now();
    await act(db, agent!, byDecision, rng, stats, nextBatch?.postAt ?? Infinity);
    stats.reviewMs += performance.now() - ta;
  }

  // ---- the live feed: the last hours of production-sized traffic, with a shift the monitors should catch ----
  const feed = opts.live === undefined ? DEMO_LIVE_FEED : opts.live;
  let live: SimulationSummary | null = null;
  if (feed) {
    const tl = performance.now();
    live = await simulate(db, {
      minutes: feed.minutes,
      rate: feed.rate,
      start: Math.floor(now / MINUTE) * MINUTE - feed.minutes * MINUTE,
      shift: { kind: "accuracy", at: feed.shiftAt },
      seed: DEMO_SEED,
      types: ["credit"],
      creditType: { ...LIVE_CREDIT_TYPE, owner },
    });
    log(
      `Live feed (${LIVE_CREDIT_TYPE.key}): ${live.decisions} decisions and ${live.reviews} reviews in the last ${feed.minutes} minutes, ` +
        `${live.alerts.length} alert(s), in ${((performance.now() - tl) / 1000).toFixed(1)} s`,
    );
  }

  // ---- done: mark the database as a demo database ----
  const seededAt = new Date().toISOString();
  await transaction(db, async (tx) => {
    await tx.insert(settings).values({ key: DEMO_MARKER, value: seededAt });
    await appendAudit(tx, {
      actor: "seed-demo",
      action: "demo.seeded",
      entityType: "instance",
      entityId: "demo",
      data: { seed: DEMO_SEED, decisions: cases.length },
    });
  });
  const openTasks = (await db.select({ n: count() }).from(tasks).where(eq(tasks.status, "open")).limit(1))[0]?.n ?? 0;
  const result: SeedResult = {
    status: "seeded",
    apiKey,
    users: DEMO_USERS,
    decisions: { credit: rows.length, invoice: cases.length - rows.length },
    reviews: stats.reviews,
    escalations: stats.escalations,
    openTasks,
    models,
    live,
    seconds: (Date.now() - started) / 1000,
  };
  const cpu = process.cpuUsage(cpuStart);
  log(
    `Timings: ingest ${(stats.ingestMs / 1000).toFixed(1)} s, reviewing ${(stats.reviewMs / 1000).toFixed(1)} s (wall); CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s in all`,
  );
  printSummary(result, log);
  return result;
}

/** One step of a simulated person: submit the task in hand, or take the next one. */
async function act(
  db: Db,
  a: Agent,
  byDecision: Map<string, Case>,
  rng: Rng,
  stats: { reviews: number; escalations: number },
  nextArrival: number,
): Promise<void> {
  const t = a.nextAt;
  if (a.pending) {
    await submitReview(db, a.user, a.pending.taskId, a.pending.verdict, { now: t });
    stats.reviews++;
    if (a.pending.verdict.action === "escalate") stats.escalations++;
    a.pending = null;
    a.nextAt = t + Math.round(rng.logNormal(40_000, 0.6));
    return;
  }
  if (!a.onShift(t)) {
    a.nextAt = nextShiftStart(a, t);
    return;
  }
  if (a.kind === "owner") {
    // The owner looks at escalations that have waited since yesterday.
    const esc = (
      await db
        .select({ id: tasks.id, decisionId: tasks.decisionId })
        .from(tasks)
        .where(and(eq(tasks.kind, "escalation"), eq(tasks.status, "open"), eq(tasks.assigneeId, a.user.id), lte(tasks.createdAt, t - 20 * HOUR)))
        .orderBy(tasks.dueAt)
        .limit(1)
    )[0];
    if (!esc) {
      a.nextAt = t + HOUR;
      return;
    }
    await claim(db, a.user, { task: esc.id }, { now: t });
    const c = byDecision.get(esc.decisionId)!;
    const verdict: Verdict =
      c.kind === "credit"
        ? rng.chance(0.35)
          ? { action: "reject", reasonCodes: ["KYC_FAILED"], note: "Could not reconcile the documents; declined for compliance." }
          : { ...outcomeVerdict(c, rng), note: "Documents checked with the applicant by phone." }
        : { ...invoiceVerdict(c, "escalation", rng), note: "Supplier confirmed and added to master data." };
    a.pending = { taskId: esc.id, taskKind: "escalation", c, verdict };
    a.nextAt = t + Math.round(Math.min(13 * MINUTE, rng.logNormal(6 * MINUTE, 0.4)));
    return;
  }
  // An idle reviewer waits for the next arrivals instead of polling an empty queue.
  const open = (await queueCounts(db)).filter((q) => q.kind !== "escalation" && q.open > 0);
  const task =
    open.length === 0
      ? null
      : ((a.prefer && open.some((q) => q.typeKey === a.prefer) ? await claim(db, a.user, { next: { type: a.prefer } }, { now: t }) : null) ??
        (await claim(db, a.user, { next: {} }, { now: t })));
  if (!task) {
    a.nextAt = Math.max(t + MINUTE, Math.min(nextArrival, t + HOUR));
    return;
  }
  const c = byDecision.get(task.decisionId)!;
  const verdict = c.kind === "credit" ? creditVerdict(c, task.kind, rng) : invoiceVerdict(c, task.kind, rng);
  let median = c.kind === "credit" ? 3 * MINUTE : (1.2 + 0.35 * c.output.lines.length) * MINUTE;
  if (verdict.action === "correct") median += 1.5 * MINUTE;
  if (task.kind === "qa") median *= 0.8;
  // Well inside the 15-minute lease.
  const duration = Math.min(13 * MINUTE, Math.max(20_000, rng.logNormal(median * a.pace, 0.45)));
  a.pending = { taskId: task.id, taskKind: task.kind, c, verdict };
  a.nextAt = t + Math.round(duration);
}

type Window = [number, number];
/** Working hours in UTC: weekday window plus optional weekend windows. */
function shift(s: { weekdays: Window; saturday?: Window; sunday?: Window }): (t: number) => boolean {
  return (t) => {
    const d = new Date(t);
    const h = d.getUTCHours() + d.getUTCMinutes() / 60;
    const day = d.getUTCDay();
    const w = day === 6 ? s.saturday : day === 0 ? s.sunday : s.weekdays;
    return !!w && h >= w[0] && h < w[1];
  };
}

function nextShiftStart(a: Agent, t: number): number {
  let x = Math.floor(t / (15 * MINUTE)) * 15 * MINUTE + 15 * MINUTE;
  for (let i = 0; i < 4 * 24 * 8 && !a.onShift(x); i++) x += 15 * MINUTE;
  return x;
}

/** Credit applications: all week, mostly daytime and evening. */
function creditLoad(t: number): number {
  const d = new Date(t);
  const h = d.getUTCHours();
  const base = h < 6 ? 0.12 : h < 8 ? 0.5 : h < 13 ? 1.2 : h < 18 ? 1 : h < 22 ? 0.85 : 0.35;
  return base * (d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 0.65 : 1);
}

/** Invoices: mostly business hours on weekdays. */
function invoiceLoad(t: number): number {
  const d = new Date(t);
  const h = d.getUTCHours();
  // Vendors' systems e-mail invoices around the clock, people mostly in office hours.
  if (d.getUTCDay() === 0 || d.getUTCDay() === 6) return 0.3;
  return h >= 7 && h < 18 ? 1 : 0.15;
}

/** n arrival times in [start, end), drawn from an hourly load profile, ascending. */
function arrivalTimes(rng: Rng, n: number, start: number, end: number, load: (t: number) => number): number[] {
  const hours: number[] = [];
  const cum: number[] = [];
  let total = 0;
  for (let h = start; h < end; h += HOUR) {
    hours.push(h);
    total += load(h);
    cum.push(total);
  }
  const out: number[] = [];
  while (out.length < n) {
    const r = rng.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > r) hi = mid;
      else lo = mid + 1;
    }
    const t = hours[lo] + Math.floor(rng.next() * HOUR);
    if (t >= start && t < end) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

function printSummary(r: Extract<SeedResult, { status: "seeded" }>, log: (line: string) => void): void {
  const pad = (s: string, n: number) => s.padEnd(n);
  log("");
  log(`Seeded the demo in ${r.seconds.toFixed(1)} s: ${r.decisions.credit} credit decisions, ${r.decisions.invoice} invoice decisions,`);
  log(`${r.reviews} reviews (${r.escalations} escalations), ${r.openTasks} tasks open in the queue.`);
  if (r.live) {
    const onset = r.live.shift ? ` The model started going wrong on broker applications at ${r.live.shift.at};` : "";
    const caught = r.live.detection
      ? ` ${r.live.detection.monitor} (${r.live.detection.segment || "whole type"}) fired on the data of ${r.live.detection.firedAt}, ${r.live.detection.delayMinutes} minutes later.`
      : r.live.shift
        ? " no monitor caught it before now."
        : "";
    log(`Live feed ${LIVE_CREDIT_TYPE.key}: ${r.live.decisions} decisions, ${r.live.reviews} reviews in the last ${r.live.minutes} minutes.${onset}${caught}`);
  }
  log("");
  log("Demo users (DEMO-ONLY passwords — never use these outside the demo):");
  for (const u of r.users) log(`  ${pad(u.role, 9)} ${pad(u.email, 28)} ${u.password}`);
  log("");
  log(`Start the server with \`npm start\` and sign in at http://localhost:${process.env.PORT || 3000}/login.`);
  log("");
  log(`API key "demo-upstream" (scopes ingest, review, read), shown once:`);
  log(r.apiKey);
}
