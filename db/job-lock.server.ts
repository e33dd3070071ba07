/**
 * Work once per cluster: background jobs (lease expiry, snapshot recovery, audit
 * checkpoints, later webhook delivery and monitors) take a named lease in the
 * database before they run, so two instances never run the same job at once, and
 * a job whose instance died is picked up by another once its lease lapses.
 * The same statement works on both stores (an upsert that only takes a free or
 * lapsed lease, or renews this instance's own).
 */
import crypto from "node:crypto";
import os from "node:os";
import { and, eq, lt, or } from "drizzle-orm";
import type { DbOrTx } from "./client.server";
import { jobLocks } from "./schema/index";

/** This process, as a lock holder. */
export const INSTANCE_ID = `${os.hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;

/** Takes (or renews) the job's lease for `ttlMs`; false when another live instance holds it. */
export async function acquireJobLock(db: DbOrTx, name: string, ttlMs: number, now = Date.now(), holder = INSTANCE_ID): Promise<boolean> {
  const rows = await db
    .insert(jobLocks)
    .values({ name, holder, expiresAt: now + ttlMs, acquiredAt: now })
    .onConflictDoUpdate({
      target: jobLocks.name,
      set: { holder, expiresAt: now + ttlMs, acquiredAt: now },
      setWhere: or(lt(jobLocks.expiresAt, now), eq(jobLocks.holder, holder)),
    })
    .returning({ holder: jobLocks.holder });
  return rows.length === 1;
}

export async function releaseJobLock(db: DbOrTx, name: string, holder = INSTANCE_ID): Promise<void> {
  await db.delete(jobLocks).where(and(eq(jobLocks.name, name), eq(jobLocks.holder, holder)));
}

/**
 * Runs `fn` if this instance gets the job's lease, renewing it while `fn` runs and
 * releasing it after; returns whether it ran. A crash leaves the lease to lapse.
 */
export async function runExclusive(db: DbOrTx, name: string, fn: () => Promise<unknown>, opts: { ttlMs?: number } = {}): Promise<boolean> {
  const ttlMs = opts.ttlMs ?? 60_000;
  if (!(await acquireJobLock(db, name, ttlMs))) return false;
  const renew = setInterval(() => void acquireJobLock(db, name, ttlMs).catch(() => undefined), Math.max(1000, ttlMs / 3));
  renew.unref();
  try {
    await fn();
  } finally {
    clearInterval(renew);
    await releaseJobLock(db, name).catch(() => undefined);
  }
  return true;
}

/**
 * Runs a job now and then every `everyMs`, each run under its cluster-wide lease (runExclusive);
 * a failed run is reported and the next one goes ahead. A tick that comes while this instance's
 * previous run is still going does not start a second one (it would renew and then release the
 * same lease under the first run's feet): the run goes once more when the first ends.
 * `wake` receives a function that asks for a run now (e.g. right after new work was committed); `due`, a
 * read-only check, skips taking the lease (a write) on ticks with nothing to do (frequent pollers).
 * The first run is awaited, unless `after` is given: then it starts once `after` resolves (the server
 * passes "listening", so no first run, however long, delays the start) and this returns at once.
 * Returns a function that stops it.
 */
export async function scheduleExclusive(
  db: () => DbOrTx,
  job: {
    name: string;
    everyMs: number;
    ttlMs?: number;
    run: (db: DbOrTx) => Promise<unknown>;
    wake?: (runNow: () => void) => void;
    due?: (db: DbOrTx) => Promise<boolean>;
  },
  onError: (e: unknown) => void,
  opts: { after?: PromiseLike<unknown> } = {},
): Promise<() => Promise<void>> {
  const ttlMs = job.ttlMs ?? Math.max(60_000, job.everyMs * 2);
  let running: Promise<void> | null = null;
  let again = false;
  const loop = async () => {
    do {
      again = false;
      if (job.due && !(await job.due(db()).catch((e: unknown) => (onError(e), false)))) continue;
      await runExclusive(db(), job.name, () => job.run(db()), { ttlMs }).catch(onError);
    } while (again && !stopped);
  };
  const tick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    return (running = loop().finally(() => (running = null)));
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const start = async () => {
    job.wake?.(() => void tick());
    await tick();
    if (stopped) return;
    timer = setInterval(() => void tick(), job.everyMs);
    timer.unref();
  };
  if (opts.after) void Promise.resolve(opts.after).then(() => (stopped ? undefined : start()), onError);
  else await start();
  // Stopping lets a run in progress finish (its transaction commits or rolls back) and starts no other:
  // a graceful shutdown awaits it before it closes the store.
  return () => {
    stopped = true;
    clearInterval(timer);
    return running ?? Promise.resolve();
  };
}
