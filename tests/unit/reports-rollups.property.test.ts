/**
 * Property: after any sequence of ingests, claims, releases, lease expiries,
 * verdicts (approve/correct/reject/escalate), four-eyes second reviews,
 * escalation resolutions and QA checks — run through the real domain functions — the incrementally
 * maintained roll-ups equal a from-scratch aggregate over decisions + reviews,
 * and the automation report agrees with a plain count over the decisions.
 */
import fc from "fast-check";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { closeDatabase } from "@db/client.server";
import { decisions, tasks } from "@db/schema/index";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { releaseTask } from "~/domain/queue/queue.server";
import { automationReport, qualityReport, reportPage } from "~/domain/reports/reports.server";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
import { submitReview } from "~/domain/review/review.server";
import { AppError } from "~/lib/errors";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb } from "../support/db";

const T0 = Date.parse("2026-02-01T00:00:00Z");
const MIN = 60_000;

const ingestOp = fc.record({
  op: fc.constant("ingest" as const),
  n: fc.integer({ min: 1, max: 4 }),
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  totalConfidence: fc.option(fc.double({ min: 0.8, max: 1, noNaN: true }), { nil: undefined }),
  policyFlag: fc.boolean(),
  version: fc.constantFrom("1.0.0", "1.1.0"),
  occurredHoursAgo: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
});
const claimOp = fc.record({ op: fc.constant("claim" as const), who: fc.integer({ min: 0, max: 1 }) });
const releaseOp = fc.record({ op: fc.constant("release" as const), who: fc.integer({ min: 0, max: 1 }) });
const reviewOp = fc.record({
  op: fc.constant("review" as const),
  who: fc.integer({ min: 0, max: 1 }),
  action: fc.constantFrom("approve", "correct", "reject", "escalate", "escalate"),
  total: fc.integer({ min: 0, max: 500 }),
  fixCurrency: fc.boolean(),
});
const resolveOp = fc.record({ op: fc.constant("resolve" as const), action: fc.constantFrom("approve", "correct", "reject") });
const waitOp = fc.record({ op: fc.constant("wait" as const), minutes: fc.integer({ min: 1, max: 40 }) });
const anyOp = fc.oneof(
  { arbitrary: ingestOp, weight: 4 },
  { arbitrary: claimOp, weight: 3 },
  { arbitrary: releaseOp, weight: 1 },
  { arbitrary: reviewOp, weight: 4 },
  { arbitrary: resolveOp, weight: 2 },
  { arbitrary: waitOp, weight: 1 },
);

function verdictBody(action: string, total: number, fixCurrency: boolean) {
  if (action === "approve") return { action };
  if (action === "reject") return { action, reasonCodes: ["NOT_AN_INVOICE"] };
  if (action === "escalate") return { action, note: "not sure" };
  return {
    action,
    output: { total: total + 0.5, currency: fixCurrency ? "USD" : "EUR", lines: [{ sku: "A-1", amount: total }] },
    reasonCodes: ["WRONG_TOTAL"],
  };
}

const expected = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

describe("roll-ups", () => {
  it("always equal a from-scratch aggregate over decisions and reviews", { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyOp, { minLength: 1, maxLength: 40 }), async (ops) => {
        const db = await testDb();
        const owner = await makeUser(db, "manager");
        // Flagged decisions also need four eyes: a second, independent review (disagreement escalates).
        await makeType(
          db,
          invoiceType(owner.email, {
            routing: { minConfidence: 0.6, fieldMinConfidence: { total: 0.9 }, reviewFlags: ["policy:*"], qaSampleRate: 0.5 },
            fourEyes: { flags: ["policy:*"] },
          }),
        );
        const reviewers = [await makeUser(db, "reviewer"), await makeUser(db, "reviewer")];
        let now = T0;
        let seq = 0;
        const tolerate = async (fn: () => Promise<unknown>) => {
          try {
            await fn();
          } catch (e) {
            if (!(e instanceof AppError)) throw e;
          }
        };
        for (const o of ops) {
          now += MIN;
          if (o.op === "ingest") {
            const items = Array.from({ length: o.n }, () =>
              invoiceDecision(`p-${++seq}`, {
                model: { name: "m", version: o.version },
                confidence: o.confidence,
                fieldConfidence: o.totalConfidence === undefined ? {} : { total: o.totalConfidence },
                flags: o.policyFlag ? ["policy:aml"] : [],
                ...(o.occurredHoursAgo === undefined ? {} : { occurredAt: new Date(now - o.occurredHoursAgo * 3_600_000).toISOString() }),
              }),
            );
            await ingestDecisions(db, items, { batch: true, actor: "test", now });
          } else if (o.op === "claim") {
            await tolerate(async () => claim(db, reviewers[o.who], { next: {} }, { now }));
          } else if (o.op === "wait") {
            now += o.minutes * MIN;
          } else if (o.op === "release" || o.op === "review") {
            const r = reviewers[o.who];
            let held: typeof tasks.$inferSelect | undefined = (
              await db
                .select()
                .from(tasks)
                .where(and(eq(tasks.status, "claimed"), eq(tasks.claimedBy, r.id)))
                .limit(1)
            )[0];
            // A reviewer with nothing in hand takes the next task first, so sequences reach verdicts often.
            if (!held && o.op === "review") held = (await claim(db, r, { next: {} }, { now })) ?? undefined;
            if (!held) continue;
            if (o.op === "release") await tolerate(async () => releaseTask(db, r, held.id, { now }));
            else await tolerate(async () => submitReview(db, r, held.id, verdictBody(o.action, o.total, o.fixCurrency), { now }));
          } else if (o.op === "resolve") {
            const esc = (
              await db
                .select()
                .from(tasks)
                .where(and(eq(tasks.status, "open"), eq(tasks.kind, "escalation")))
                .limit(1)
            )[0];
            if (!esc) continue;
            await tolerate(async () => {
              await claim(db, owner, { task: esc.id }, { now });
              await submitReview(db, owner, esc.id, verdictBody(o.action, 42, true), { now });
            });
          }
        }
        expect(expected(await rollupSnapshot(db))).toEqual(expected(await aggregateFromScratch(db)));

        // And the report read from the roll-ups agrees with a plain count over the decisions.
        const report = await automationReport(db, { type: "invoice", from: T0 - 40 * 3_600_000, to: now + 3_600_000, bucket: "day" });
        const plain = (
          await db
            .select({
              volume: sql<number>`count(*)`,
              auto: sql<number>`count(*) filter (where ${decisions.status} = 'auto_approved')`,
              reviewed: sql<number>`count(*) filter (where ${decisions.status} in ('approved','corrected','rejected'))`,
              pending: sql<number>`count(*) filter (where ${decisions.status} in ('pending_review','in_review','escalated'))`,
              corrected: sql<number>`count(*) filter (where ${decisions.status} = 'corrected')`,
              rejected: sql<number>`count(*) filter (where ${decisions.status} = 'rejected')`,
            })
            .from(decisions)
            .limit(1)
        )[0]!;
        expect({
          volume: report.totals.volume,
          auto: report.totals.auto,
          reviewed: report.totals.reviewed,
          pending: report.totals.pending,
          corrected: report.totals.corrected,
          rejected: report.totals.rejected,
        }).toEqual(plain);
        expect(report.buckets.reduce((s, b) => s + b.volume, 0)).toBe(plain.volume);

        // Day and week buckets read whole days from the daily counters and the edges from the hourly
        // ones: for any period they must agree with the hourly buckets summed per day.
        const from = T0 - ((ops.length * 7) % 40) * 3_600_000 - 1;
        const to = now - ((ops.length * 5) % 30) * 3_600_000 + 1;
        if (from < to) {
          const q = { type: "invoice", from, to };
          const hourly = await automationReport(db, { ...q, bucket: "hour" });
          const daily = await automationReport(db, { ...q, bucket: "day" });
          const weekly = await automationReport(db, { ...q, bucket: "week" });
          expect(daily.totals).toEqual(hourly.totals);
          expect(weekly.totals).toEqual(hourly.totals);
          const perDay = new Map<string, number>();
          for (const b of hourly.buckets) perDay.set(b.start.slice(0, 10), (perDay.get(b.start.slice(0, 10)) ?? 0) + b.volume);
          expect(daily.buckets.map((b) => [b.start.slice(0, 10), b.volume])).toEqual([...perDay]);
          // The whole page too: every total and breakdown is the same whichever counters it was read from.
          const { series: _h, query: _hq, ...pageHourly } = await reportPage(db, { ...q, bucket: "hour" });
          const { series: _d, query: _dq, ...pageDaily } = await reportPage(db, { ...q, bucket: "week" });
          expect(pageDaily).toEqual(pageHourly);
          expect(await qualityReport(db, { ...q, bucket: "day" })).toEqual(await qualityReport(db, { ...q, bucket: "hour" }));
        }
        await closeDatabase(db);
      }),
      { numRuns: 60 },
    );
  });
});
