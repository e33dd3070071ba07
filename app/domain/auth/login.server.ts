/**
 * Signing in with a password, throttled per account and per client address.
 *
 * Failures are counted in login_throttle (shared by every instance on the same
 * database). After LOGIN_MAX_FAILURES_PER_ACCOUNT failures for one email, or
 * LOGIN_MAX_FAILURES_PER_ADDRESS from one address, within the window, that
 * account or address is locked: every attempt is refused with a Retry-After,
 * the right password included, and the password is not even checked. Each lock
 * lasts twice as long as the previous one, capped at LOGIN_LOCK_MAX_SECONDS, so
 * an attacker can delay a real user by at most the cap at a time but never lock
 * them out for good; attempts during a lock neither count nor extend it, and a
 * bucket idle for a day starts over. Unknown emails are counted like real ones,
 * so the throttle does not reveal which accounts exist.
 *
 * Every failed password is one audit entry, written in the same transaction as
 * the counters; refusals during a lock write nothing (they cost no scrypt, so
 * auditing them would let anyone turn cheap requests into writes), but the start
 * of each lock is audited.
 */
import { eq, inArray, lt } from "drizzle-orm";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { loginThrottle } from "@db/schema/index";
import { appendAudit } from "../audit/audit.server";
import { authenticate, findUserByEmail, type UserRow } from "./users.server";

/** What a missing client address is recorded as; it has no address bucket (it would be everyone's). */
export const UNKNOWN_ADDRESS = "unknown";

export type ThrottlePolicy = {
  maxPerAccount: number;
  maxPerAddress: number;
  windowMs: number;
  firstLockMs: number;
  maxLockMs: number;
};

const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Read at each attempt so that tests and operators can tune it through the environment. */
export function throttlePolicy(): ThrottlePolicy {
  return {
    maxPerAccount: envInt("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
    maxPerAddress: envInt("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
    windowMs: envInt("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60) * 1000,
    firstLockMs: envInt("LOGIN_LOCK_SECONDS", 60) * 1000,
    maxLockMs: envInt("LOGIN_LOCK_MAX_SECONDS", 15 * 60) * 1000,
  };
}

export type SignInResult = { ok: true; user: UserRow } | { ok: false; reason: "invalid" } | { ok: false; reason: "throttled"; retryAfterSeconds: number };

type Bucket = { key: string; scope: "account" | "address"; max: number };

function bucketsFor(email: string, address: string, policy: ThrottlePolicy): Bucket[] {
  const out: Bucket[] = [{ key: `account:${email}`, scope: "account", max: policy.maxPerAccount }];
  if (address !== UNKNOWN_ADDRESS)
    out.push({
      key: `address:${address}`,
      scope: "address",
      max: policy.maxPerAddress,
    });
  return out;
}

export function normaliseAddress(address: string | undefined): string {
  const a = (address ?? "").trim().slice(0, 100);
  return a === "" ? UNKNOWN_ADDRESS : a;
}

/** Milliseconds until every bucket of this attempt is unlocked; 0 when none is locked. */
export async function lockRemaining(db: DbOrTx, email: string, address: string, now = Date.now(), policy = throttlePolicy()): Promise<number> {
  const keys = bucketsFor(email, address, policy).map((b) => b.key);
  const rows = await db.select({ lockedUntil: loginThrottle.lockedUntil }).from(loginThrottle).where(inArray(loginThrottle.key, keys));
  return Math.max(0, ...rows.map((r) => (r.lockedUntil ?? 0) - now));
}

/**
 * One sign-in attempt. Synchronous from the lock check to the recorded failure
 * (scrypt and SQLite both block), so attempts within one process cannot slip
 * past a lock in parallel.
 */
export async function signIn(
  db: Db,
  input: { email: string; password: string; address: string },
  now = Date.now(),
  policy = throttlePolicy(),
): Promise<SignInResult> {
  const email = input.email.trim().toLowerCase();
  const address = normaliseAddress(input.address);
  const wait = await lockRemaining(db, email, address, now, policy);
  if (wait > 0)
    return {
      ok: false,
      reason: "throttled",
      retryAfterSeconds: Math.ceil(wait / 1000),
    };

  const user = await authenticate(db, email, input.password);
  if (user) {
    await clearFailures(db, email, address);
    return { ok: true, user };
  }

  const lockedFor = await recordFailure(db, email, address, now, policy);
  return lockedFor > 0
    ? {
        ok: false,
        reason: "throttled",
        retryAfterSeconds: Math.ceil(lockedFor / 1000),
      }
    : { ok: false, reason: "invalid" };
}

/** Counts a failure in each bucket and audits it; returns how long the attempt's longest new lock lasts (0: none). */
async function recordFailure(db: Db, email: string, address: string, now: number, policy: ThrottlePolicy): Promise<number> {
  return transaction(db, async (tx) => {
    const known = await findUserByEmail(tx, email);
    const reason = !known ? "unknown_user" : known.disabledAt ? "user_disabled" : "wrong_password";
    const entity = { entityType: "user", entityId: known?.id ?? email };
    await appendAudit(tx, {
      actor: email,
      action: "auth.login_failed",
      ...entity,
      data: { reason, address },
      at: now,
    });
    let longest = 0;
    for (const b of bucketsFor(email, address, policy)) {
      const row = (await tx.select().from(loginThrottle).where(eq(loginThrottle.key, b.key)).limit(1))[0];
      const fresh = !row || now - row.updatedAt > FORGET_AFTER_MS;
      const inWindow = !fresh && now - row.windowStartedAt < policy.windowMs;
      let failures = (inWindow ? row.failures : 0) + 1;
      let windowStartedAt = inWindow ? row.windowStartedAt : now;
      let locks = fresh ? 0 : row.locks;
      let lockedUntil = fresh ? null : row.lockedUntil;
      if (failures >= b.max) {
        const ms = Math.min(policy.firstLockMs * 2 ** locks, policy.maxLockMs);
        locks += 1;
        lockedUntil = now + ms;
        failures = 0;
        windowStartedAt = now;
        longest = Math.max(longest, ms);
        await appendAudit(tx, {
          actor: email,
          action: "auth.login_locked",
          ...entity,
          data: { scope: b.scope, address, lockedUntil, lockNumber: locks },
          at: now,
        });
      }
      const values = {
        failures,
        windowStartedAt,
        locks,
        lockedUntil,
        updatedAt: now,
      };
      await tx
        .insert(loginThrottle)
        .values({ key: b.key, ...values })
        .onConflictDoUpdate({ target: loginThrottle.key, set: values });
    }
    // Buckets idle for a day are forgotten; the index keeps this to the few that just went stale.
    await tx.delete(loginThrottle).where(lt(loginThrottle.updatedAt, now - FORGET_AFTER_MS));
    return longest;
  });
}

/** A right password ends the account's record, and the address's failure count (not its lock history). */
async function clearFailures(db: Db, email: string, address: string): Promise<void> {
  await transaction(db, async (tx) => {
    await tx.delete(loginThrottle).where(eq(loginThrottle.key, `account:${email}`));
    if (address !== UNKNOWN_ADDRESS) {
      await tx
        .update(loginThrottle)
        .set({ failures: 0 })
        .where(eq(loginThrottle.key, `address:${address}`));
    }
  });
}

/** "about 3 minutes" / "a few seconds": for the message shown with a 429. */
export function waitInWords(seconds: number): string {
  // Under a minute but close to it reads as "a minute": the wait is counted down from the lock, not promised to the second.
  if (seconds < 45) return seconds <= 5 ? "a few seconds" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "a minute" : `about ${minutes} minutes`;
}
