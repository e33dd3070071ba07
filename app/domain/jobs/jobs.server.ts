/**
 * This instance's background work, started once when the server starts (not per
 * request). Every job runs under its cluster-wide lease (db/job-lock.server.ts):
 * with several instances on one Postgres database each tick runs on one of them.
 *
 * - audit-checkpoint: signs the audit chain's head every minute (audit/checkpoints.server.ts)
 * - lease-expiry: returns tasks whose lease lapsed to the queue, even when nobody claims
 * - snapshot-recovery: resumes dataset snapshot builds whose instance died
 * - rollup-split: on a store upgraded from a build without the policy version in the roll-ups, rebuilds the
 *   days whose counters lack it (reports/rollups.server.ts), then stops looking
 * - reviewer-rollup-backfill: on a store that had reviews before the reviewer roll-up existed, counts them into it
 *   (reports/rollups.server.ts, backfillReviewerRollups; the reviewer report reads the reviews until then), then
 *   stops looking
 * - monitor-evaluation: every minute, the drift monitors on the data up to the last whole minute, then
 *   drops per-minute counters past their retention (monitors/alerts.server.ts)
 * - webhook-delivery: sends pending webhook deliveries (webhooks/delivery.server.ts) every WEBHOOK_POLL_MS,
 *   and shortly after a transaction in this process enqueued some
 */
import { getDb, transaction, type Db } from "@db/client.server";
import { scheduleExclusive } from "@db/job-lock.server";
import { startAuditCheckpoints } from "../audit/checkpoints.server";
import { resumeInterruptedBuilds } from "../datasets/snapshot-builder.server";
import { reapExpiredLeases } from "../queue/queue.server";
import { backfillReviewerRollups, splitRollups } from "../reports/rollups.server";
import { evaluateMonitors, pruneMonitorCounters } from "../monitors/alerts.server";
import { errorFields, log } from "~/lib/log.server";
import { deliverPending, deliveriesDue, deliveryConfig } from "../webhooks/delivery.server";
import { onDeliveriesEnqueued } from "../webhooks/outbox.server";

type Job = {
  name: string;
  everyMs: number;
  ttlMs?: number;
  run: (db: Db) => Promise<unknown>;
  wake?: (runNow: () => void) => void;
  due?: (db: Db) => Promise<boolean>;
};

const JOBS: Job[] = [
  { name: "lease-expiry", everyMs: 30_000, run: (db) => transaction(db, (tx) => reapExpiredLeases(tx, Date.now())) },
  { name: "snapshot-recovery", everyMs: 30_000, run: (db) => resumeInterruptedBuilds(db) },
];

/** The drift monitors every MONITOR_EVERY_MS (a minute by default); `MONITOR_EVERY_MS=off` leaves them to `lastmile monitors run`. */
function monitorJob(): Job[] {
  if (process.env.MONITOR_EVERY_MS === "off") return [];
  return [
    {
      name: "monitor-evaluation",
      everyMs: Number(process.env.MONITOR_EVERY_MS) || 60_000,
      run: async (db) => {
        await evaluateMonitors(db);
        await pruneMonitorCounters(db);
      },
    },
  ];
}

function rollupSplitJob(): Job {
  // Once a run finds nothing to split, this process stops looking: new counters always carry their version.
  let done = false;
  return {
    name: "rollup-split",
    everyMs: 2_000,
    run: async (db) => {
      done = (await splitRollups(db, { budgetMs: 1_500 })).done;
    },
    due: async () => !done,
  };
}

function reviewerRollupBackfillJob(): Job {
  // Once a run finds it done, this process stops looking: new reviews always write their roll-up.
  let done = false;
  return {
    name: "reviewer-rollup-backfill",
    everyMs: 2_000,
    run: async (db) => {
      done = (await backfillReviewerRollups(db, { budgetMs: 1_500 })).done;
    },
    due: async () => !done,
  };
}

function webhookJob(): Job {
  const cfg = deliveryConfig();
  return {
    name: "webhook-delivery",
    everyMs: cfg.pollMs,
    ttlMs: cfg.lockTtlMs,
    run: (db) => deliverPending(db, { config: cfg }),
    due: (db) => deliveriesDue(db),
    // Told once the enqueuing transaction has committed (afterCommit), so the new deliveries are visible.
    wake: (runNow) => onDeliveriesEnqueued(runNow),
  };
}

function logError(job: string, e: unknown) {
  log().error({ job, ...errorFields(e) }, `background job ${job} failed`);
}

/**
 * Starts every job (each runs once at start, then on its interval); returns a function that stops them,
 * resolving once the runs in progress have finished (none is cut off inside its transaction). With `after`,
 * the first runs wait for it and this returns at once (the server: they start once it listens).
 */
export async function startJobs(db: () => Db = getDb, opts: { after?: PromiseLike<unknown> } = {}): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [await startAuditCheckpoints({ db, after: opts.after })];
  for (const job of [...JOBS, ...monitorJob(), rollupSplitJob(), reviewerRollupBackfillJob(), webhookJob()])
    stops.push(await scheduleExclusive(db, job, (e) => logError(job.name, e), { after: opts.after }));
  return async () => {
    onDeliveriesEnqueued(null);
    await Promise.all(stops.map((stop) => stop()));
  };
}
