/**
 * This instance's background work, started once when the server starts (not per
 * request). Every job runs under its cluster-wide lease (db/job-lock.server.ts):
 * with several instances on one Postgres database each tick runs on one of them.
 *
 * - audit-checkpoint: signs the audit chain's head every minute (audit/checkpoints.server.ts)
 * - lease-expiry: returns tasks whose lease lapsed to the queue, even when nobody claims
 * - snapshot-recovery: resumes dataset snapshot builds whose instance died
 */
import { getDb, transaction, type Db } from "@db/client.server";
import { scheduleExclusive } from "@db/job-lock.server";
import { startAuditCheckpoints } from "../audit/checkpoints.server";
import { resumeInterruptedBuilds } from "../datasets/snapshot-builder.server";
import { reapExpiredLeases } from "../queue/queue.server";
import { errorFields, log } from "~/lib/log.server";

type Job = { name: string; everyMs: number; run: (db: Db) => Promise<unknown> };

const JOBS: Job[] = [
  { name: "lease-expiry", everyMs: 30_000, run: (db) => transaction(db, (tx) => reapExpiredLeases(tx, Date.now())) },
  { name: "snapshot-recovery", everyMs: 30_000, run: (db) => resumeInterruptedBuilds(db) },
];

function logError(job: string, e: unknown) {
  log().error({ job, ...errorFields(e) }, `background job ${job} failed`);
}

/** Starts every job (each runs once at start, then on its interval); returns a function that stops them. */
export async function startJobs(db: () => Db = getDb): Promise<() => void> {
  const stops: (() => void)[] = [await startAuditCheckpoints({ db })];
  for (const job of JOBS) stops.push(await scheduleExclusive(db, job, (e) => logError(job.name, e)));
  return () => stops.forEach((stop) => stop());
}
