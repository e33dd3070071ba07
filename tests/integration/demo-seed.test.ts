import { count, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@db/client.server";
import { decisions, reviews, rollups, tasks, users } from "@db/schema/index";
import { verifyAuditChain } from "~/domain/audit/audit.server";
import { authenticate } from "~/domain/auth/users.server";
import { listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { DAY } from "~/lib/time";
import { DEMO_LIVE_FEED, DEMO_USERS, seedDemo, type SeedResult } from "../../scripts/demo/seed";
import { CREDIT_TYPE_KEY, INVOICE_TYPE_KEY, LIVE_CREDIT_TYPE } from "../../scripts/demo/types";
import { runCli } from "../support/cli";
import { makeUser, testDb, testStore } from "../support/db";
import { startServer, type TestServer } from "../support/server";

const cli = async (args: string[], env: Record<string, string>) => runCli(args, env);

// Wednesday 15:00 UTC: the simulated "now" is pinned so the test does not depend on the weekday.
const NOW = Date.UTC(2026, 10, 25, 15, 0, 0);

describe("seed-demo", () => {
  let db: Db;
  let env: Record<string, string>;
  let result: SeedResult;
  let server: TestServer | undefined;
  const MONTH_TYPES = [CREDIT_TYPE_KEY, INVOICE_TYPE_KEY];
  const seeded = () => {
    if (result.status !== "seeded") throw new Error(`not seeded: ${result.status}`);
    return result;
  };

  beforeAll(async () => {
    ({ db, env } = await testStore());
    // The month smaller than the demo's, the live feed as shipped (DEMO_LIVE_FEED).
    result = await seedDemo(db, { quiet: true, now: NOW, creditLimit: 1500, invoices: 500 });
  }, 600_000);
  afterAll(() => server?.close());

  const byStatus = async (type: string) =>
    Object.fromEntries(
      (await db.select({ status: decisions.status, n: count() }).from(decisions).where(eq(decisions.typeKey, type)).groupBy(decisions.status)).map((r) => [
        r.status,
        r.n,
      ]),
    ) as Record<string, number>;

  it("creates the demo users with their printed demo-only passwords, and an API key", async () => {
    expect(result.status).toBe("seeded");
    if (result.status !== "seeded") return;
    expect(result.apiKey).toMatch(/^lm_/);
    for (const u of DEMO_USERS) expect((await authenticate(db, u.email, u.password))?.role).toBe(u.role);
    // Besides them, only the live feed's simulated reviewers, who cannot sign in with a demo password.
    const others = (await db.select().from(users)).filter((u) => !DEMO_USERS.some((d) => d.email === u.email));
    expect(others.length).toBe(seeded().live!.reviewers[LIVE_CREDIT_TYPE.key]);
    for (const u of others) {
      expect(u.email).toMatch(/@sim\.lastmile$/);
      expect(u.role).toBe("reviewer");
      expect(await authenticate(db, u.email, "demo-reviewer-password")).toBeNull();
    }
  });

  it("creates the three demo types owned by the demo manager", async () => {
    const types = await listDecisionTypes(db);
    expect(types.map((t) => t.key).sort()).toEqual([CREDIT_TYPE_KEY, INVOICE_TYPE_KEY, LIVE_CREDIT_TYPE.key].sort());
    for (const t of types) expect(t.owner).toBe("manager@demo.lastmile");
    const live = types.find((t) => t.key === LIVE_CREDIT_TYPE.key)!;
    expect(live.name).toBe(LIVE_CREDIT_TYPE.name);
    expect(live.routing).toEqual(types.find((t) => t.key === CREDIT_TYPE_KEY)!.routing);
    const invoice = types.find((t) => t.key === INVOICE_TYPE_KEY)!;
    expect(invoice.routing.fieldMinConfidence).toMatchObject({ total: 0.9, "lines.*.amount": 0.85 });
    expect(types.find((t) => t.key === CREDIT_TYPE_KEY)!.routing.reviewFlags).toEqual(["policy:*", "kyc:*"]);
  });

  it("ingests every application and invoice over the last 30 days", async () => {
    const all = (
      await db
        .select({ n: count(), min: sql<number>`min(${decisions.occurredAt})`, max: sql<number>`max(${decisions.occurredAt})` })
        .from(decisions)
        .where(inArray(decisions.typeKey, MONTH_TYPES))
        .limit(1)
    )[0]!;
    expect(all.n).toBe(2000);
    expect(all.min).toBeGreaterThanOrEqual(NOW - 31 * DAY);
    expect(all.max).toBeLessThan(NOW);
    const credit = await byStatus(CREDIT_TYPE_KEY);
    expect(Object.values(credit).reduce((s, n) => s + n, 0)).toBe(1500);
  });

  it("leaves a realistic mix of statuses: automated, reviewed, corrected, rejected and an open backlog", async () => {
    for (const type of [CREDIT_TYPE_KEY, INVOICE_TYPE_KEY]) {
      const s = await byStatus(type);
      expect(s.auto_approved, type).toBeGreaterThan(0);
      expect(s.approved, type).toBeGreaterThan(0);
      expect(s.corrected, type).toBeGreaterThan(0);
      expect(s.rejected, type).toBeGreaterThan(0);
      expect(s.pending_review, type).toBeGreaterThan(0);
    }
    const open = (await db.select({ n: count() }).from(tasks).where(eq(tasks.status, "open")).limit(1))[0]!.n;
    const done = (await db.select({ n: count() }).from(tasks).where(eq(tasks.status, "done")).limit(1))[0]!.n;
    expect(done).toBeGreaterThan(open * 5);
    const overdue = (
      await db
        .select({ n: count() })
        .from(tasks)
        .where(sql`${tasks.status} = 'open' and ${tasks.dueAt} < ${NOW}`)
        .limit(1)
    )[0]!.n;
    expect(overdue).toBeGreaterThan(0);
  });

  it("records reviews as labelled examples: corrections with changed fields and reason codes, QA checks, escalations", async () => {
    const corrections = await db.select().from(reviews).where(eq(reviews.action, "correct"));
    expect(corrections.length).toBeGreaterThan(50);
    for (const r of corrections) {
      expect(r.changedFields.length).toBeGreaterThan(0);
      expect(r.reasonCodes.length).toBeGreaterThan(0);
    }
    // A credit correction flips the model's decision to the observed outcome.
    const creditFix = (
      await db
        .select({ r: reviews, d: decisions })
        .from(reviews)
        .innerJoin(decisions, eq(decisions.id, reviews.decisionId))
        .where(sql`${reviews.action} = 'correct' and ${decisions.typeKey} = ${CREDIT_TYPE_KEY}`)
        .limit(1)
    )[0]!;
    expect((creditFix.r.output as { decision: string }).decision).not.toBe((creditFix.d.output as { decision: string }).decision);
    expect(creditFix.r.changedFields).toContain("decision");

    expect((await db.select({ n: count() }).from(reviews).where(eq(reviews.taskKind, "qa")).limit(1))[0]!.n).toBeGreaterThan(0);
    expect((await db.select({ n: count() }).from(reviews).where(eq(reviews.action, "escalate")).limit(1))[0]!.n).toBeGreaterThan(0);
    expect((await db.select({ n: count() }).from(reviews).where(eq(reviews.taskKind, "escalation")).limit(1))[0]!.n).toBeGreaterThan(0);
  });

  it("scores credit with two model versions and the reports' roll-ups see both", async () => {
    const versions = await db
      .select({ v: decisions.modelVersion, n: count() })
      .from(decisions)
      .where(eq(decisions.typeKey, CREDIT_TYPE_KEY))
      .groupBy(decisions.modelVersion);
    expect(versions.map((v) => v.v).sort()).toEqual(["1.0.0", "2.0.0"]);
    const rolled = await db.selectDistinct({ v: rollups.modelVersion }).from(rollups).where(eq(rollups.typeKey, CREDIT_TYPE_KEY));
    expect(rolled.map((r) => r.v).sort()).toEqual(["1.0.0", "2.0.0"]);
  });

  it("tells the drift story: the live feed's model goes wrong on broker applications, and the override-rate alert says so", async () => {
    const live = seeded().live!;
    // Production-sized traffic in the last hours before now, worked by enough reviewers to keep up.
    const span = (
      await db
        .select({ n: count(), min: sql<number>`min(${decisions.occurredAt})`, max: sql<number>`max(${decisions.occurredAt})` })
        .from(decisions)
        .where(eq(decisions.typeKey, LIVE_CREDIT_TYPE.key))
    )[0]!;
    expect(span.n).toBe(live.decisions);
    expect(live.decisions).toBeGreaterThan(DEMO_LIVE_FEED.minutes * DEMO_LIVE_FEED.rate * 0.95);
    expect(Number(span.min)).toBeGreaterThanOrEqual(NOW - DEMO_LIVE_FEED.minutes * 60_000);
    expect(Number(span.max)).toBeLessThan(NOW);
    expect(live.reviews).toBeGreaterThan(live.decisions * 0.4);
    expect(live.openTasks).toBeLessThan(150);
    // Nothing fired on the feed before the onset; the broker segment's override rate after it, before now.
    expect(live.alerts.filter((a) => a.type === LIVE_CREDIT_TYPE.key && a.delayMinutes === null)).toEqual([]);
    expect(live.detection).toMatchObject({ monitor: "override_rate", segment: "segment=broker" });
    expect(live.detection!.delayMinutes).toBeLessThanOrEqual(DEMO_LIVE_FEED.minutes - DEMO_LIVE_FEED.shiftAt - 15);
    // A manager opening the demo finds it through the API, firing, with the figures that made it fire.
    server = await startServer({ ...env, MONITOR_EVERY_MS: "off" });
    const res = await server.request<{ alerts: { monitor: string; segment: string; state: string; firedAt: string; figures: Record<string, number> }[] }>(
      `/api/v1/alerts?type=${LIVE_CREDIT_TYPE.key}`,
      { key: seeded().apiKey },
    );
    expect(res.status).toBe(200);
    const broker = res.body.alerts.find((a) => a.monitor === "override_rate" && a.segment === "segment=broker")!;
    expect(broker).toMatchObject({ state: "firing", firedAt: live.detection!.firedAt });
    expect(broker.figures.recentRate - broker.figures.baselineRate).toBeGreaterThanOrEqual(0.08);
  }, 120_000);

  it("writes everything through the domain: the audit chain verifies", async () => {
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it("does nothing the second time, through the function and through the CLI", async () => {
    const before = (await db.select({ n: count() }).from(decisions).limit(1))[0]!.n;
    const people = (await db.select({ n: count() }).from(users).limit(1))[0]!.n;
    const again = await seedDemo(db, { quiet: true });
    expect(again.status).toBe("present");
    const out = await cli(["seed-demo"], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/already present/);
    expect((await db.select({ n: count() }).from(decisions).limit(1))[0]!.n).toBe(before);
    expect((await db.select({ n: count() }).from(users).limit(1))[0]!.n).toBe(people);
  }, 60_000);
});

describe("seed-demo on a database that holds other data", () => {
  it("recognises a seed that did not finish and asks for a fresh database", async () => {
    const db = await testDb();
    await makeUser(db, "admin", "admin@demo.lastmile");
    await expect(seedDemo(db, { quiet: true })).rejects.toThrow(/did not finish/);
  });

  it("refuses with a clear message and writes nothing", async () => {
    const { db, env } = await testStore();
    await makeUser(db, "admin");
    const out = await cli(["seed-demo"], env);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/already holds data \(1 users.*only fills an empty database/);
    expect((await db.select({ n: count() }).from(users).limit(1))[0]!.n).toBe(1);
    expect((await db.select({ n: count() }).from(decisions).limit(1))[0]!.n).toBe(0);
  }, 60_000);
});
