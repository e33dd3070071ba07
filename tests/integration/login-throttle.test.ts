/**
 * The sign-in throttle on an injected clock: per-address limits across
 * accounts, the cap on lock length, forgetting, what a right password resets,
 * and the login action reading the client address from the load context.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, closeDatabase, type Db } from "@db/client.server";
import { loginThrottle } from "@db/schema/index";
import { signIn, type ThrottlePolicy } from "~/domain/auth/login.server";
import { makeUser, openStore, storeEnv, testDb, TEST_PASSWORD, uniqueEmail } from "../support/db";
import { auditEntries } from "../support/reads";

const policy: ThrottlePolicy = { maxPerAccount: 5, maxPerAddress: 20, windowMs: 15 * 60_000, firstLockMs: 60_000, maxLockMs: 15 * 60_000 };
const T0 = Date.parse("2026-06-01T09:00:00Z");

describe("login throttle (domain, injected clock)", () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  const row = async (key: string) => (await db.select().from(loginThrottle).where(eq(loginThrottle.key, key)).limit(1))[0];
  const attempt = async (email: string, password: string, address: string, now: number) => signIn(db, { email, password, address }, now, policy);

  it("20 failures from one address across many accounts lock the address, even for a right password elsewhere", async () => {
    const address = "203.0.113.7";
    let last;
    for (let i = 0; i < 20; i++) last = await attempt(uniqueEmail("spray"), "guess guess guess", address, T0 + i);
    expect(last).toEqual({ ok: false, reason: "throttled", retryAfterSeconds: 60 });
    const real = await makeUser(db, "reviewer");
    expect(await attempt(real.email, TEST_PASSWORD, address, T0 + 1000)).toMatchObject({ ok: false, reason: "throttled" });
    // The same person from another address is not affected.
    expect(await attempt(real.email, TEST_PASSWORD, "198.51.100.1", T0 + 1000)).toMatchObject({ ok: true });
    // Once the lock has passed, the address may sign in again.
    expect(await attempt(real.email, TEST_PASSWORD, address, T0 + 61_000)).toMatchObject({ ok: true });
  });

  it("locks double each time up to the cap, and a bucket idle for a day starts over", async () => {
    const user = await makeUser(db, "reviewer");
    const address = "203.0.113.8";
    let now = T0;
    const waits: number[] = [];
    for (let lock = 0; lock < 6; lock++) {
      let r;
      for (let i = 0; i < 5; i++) r = await attempt(user.email, "wrong wrong wrong", address, now++);
      expect(r).toMatchObject({ ok: false, reason: "throttled" });
      const wait = (r as { retryAfterSeconds: number }).retryAfterSeconds;
      waits.push(wait);
      // During the lock, even the right password is refused and nothing is counted.
      expect(await attempt(user.email, TEST_PASSWORD, address, now + 1000)).toMatchObject({ ok: false, reason: "throttled" });
      now += wait * 1000;
    }
    expect(waits).toEqual([60, 120, 240, 480, 900, 900]);
    expect((await row(`account:${user.email}`))!.locks).toBe(6);

    now += 24 * 60 * 60 * 1000 + 1;
    for (let i = 0; i < 5; i++) await attempt(user.email, "wrong wrong wrong", address, now++);
    expect((await row(`account:${user.email}`))!.locks).toBe(1);
  });

  it("failures outside the window do not add up", async () => {
    const user = await makeUser(db, "reviewer");
    let now = T0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) expect(await attempt(user.email, "wrong wrong wrong", "203.0.113.9", now++)).toEqual({ ok: false, reason: "invalid" });
      now += policy.windowMs;
    }
    expect((await row(`account:${user.email}`))!.locks).toBe(0);
  });

  it("a right password clears the account and the address's failure count, not the address's lock history", async () => {
    const user = await makeUser(db, "reviewer");
    const address = "203.0.113.10";
    for (let i = 0; i < 3; i++) await attempt(user.email, "wrong wrong wrong", address, T0 + i);
    await db
      .update(loginThrottle)
      .set({ locks: 2 })
      .where(eq(loginThrottle.key, `address:${address}`));
    expect(await attempt(user.email, TEST_PASSWORD, address, T0 + 10)).toMatchObject({ ok: true });
    expect(await row(`account:${user.email}`)).toBeUndefined();
    expect(await row(`address:${address}`)).toMatchObject({ failures: 0, locks: 2 });
  });

  it("without a client address only the account is counted (no shared 'unknown' bucket to lock everyone out)", async () => {
    for (let i = 0; i < 25; i++) await attempt(uniqueEmail("noaddr"), "guess guess guess", "", T0 + i);
    expect(await row("address:unknown")).toBeUndefined();
    const user = await makeUser(db, "reviewer");
    expect(await attempt(user.email, TEST_PASSWORD, "", T0 + 30)).toMatchObject({ ok: true });
  });
});

describe("login action reads the client address from the load context", () => {
  // The route reads the process-wide store (getDb()): point it at a store of this test's own.
  let env: Record<string, string>;
  const saved = { ...process.env };
  beforeAll(async () => {
    ({ env } = await storeEnv());
    Object.assign(process.env, { DATABASE_URL: "", DATABASE_PATH: "" }, env);
  });
  afterAll(async () => {
    await closeDb();
    process.env = saved;
  });

  it("audits the address and throttles by it", async () => {
    const { action } = await import("~/routes/login");
    const post = (email: string, password: string) =>
      action({
        request: new Request("http://app.local/login", { method: "POST", body: new URLSearchParams({ email, password, redirectTo: "/" }) }),
        context: { clientAddress: "192.0.2.44" },
        params: {},
      }) as Promise<unknown>;
    const status = async (p: Promise<unknown>) => {
      try {
        const r = (await p) as { init?: { status?: number; headers?: HeadersInit } } | Response;
        return r instanceof Response ? r.status : (r.init?.status ?? 200);
      } catch (e) {
        if (e instanceof Response) return e.status;
        throw e;
      }
    };
    const emails = Array.from({ length: 20 }, () => uniqueEmail("ctx"));
    const statuses = [];
    for (const e of emails) statuses.push(await status(post(e, "guess guess guess")));
    expect(statuses.slice(0, 19).every((s) => s === 400)).toBe(true);
    expect(statuses[19]).toBe(429);
    const db = openStore(env);
    try {
      const entries = await auditEntries(db, { action: "auth.login_failed", actor: emails[0], exact: true });
      expect(entries.map((e) => e.data)).toEqual([{ reason: "unknown_user", address: "192.0.2.44" }]);
    } finally {
      await closeDatabase(db);
    }
  });
});
