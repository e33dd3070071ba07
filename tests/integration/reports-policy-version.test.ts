/**
 * The routing policy version as a report dimension (issue 14): decisions routed under two versions of a type's
 * policy, in the same hours, some reviewed. The automation and quality APIs filter by `policyVersion`, the
 * /reports page lists the versions side by side (and in its CSV), each against figures this test works out
 * from what it sent and decided. Then the roll-ups are put back as an upgraded store has them (counters
 * without the version, policy_version 0): totals stay right, and the split rebuilds the per-version figures.
 */
import { parse } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import { decode } from "turbo-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlOne, sqlRun } from "@db/client.server";
import { aggregateFromScratch, rollupSnapshot, splitRollups } from "~/domain/reports/rollups.server";
import { automationReport, claim, ingest, putDecisionType, qualityReport, review } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { signIn } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

type Sent = { externalId: string; version: 1 | 2; confidence: number; verdict: "approve" | "correct" | null };
type Figures = { volume: number; auto: number; reviewed: number; pending: number; corrected: number };

const THRESHOLD = { 1: 0.9, 2: 0.6 } as const;
const period = { from: "2026-11-10T00:00:00Z", to: "2026-11-11T00:00:00Z" };

describe("reports split by routing policy version", () => {
  let s: TestServer;
  let readKey: string;
  let managerCookie: string;
  const sent: Sent[] = [];
  const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

  /** From scratch: what the decisions routed under `version` (all versions when omitted) add up to. */
  function expected(version?: 1 | 2): Figures {
    const mine = sent.filter((d) => version === undefined || d.version === version);
    const auto = mine.filter((d) => d.confidence >= THRESHOLD[d.version]);
    const review = mine.filter((d) => d.confidence < THRESHOLD[d.version]);
    return {
      volume: mine.length,
      auto: auto.length,
      reviewed: review.filter((d) => d.verdict).length,
      pending: review.filter((d) => !d.verdict).length,
      corrected: review.filter((d) => d.verdict === "correct").length,
    };
  }
  const figures = (t: Figures) => ({ volume: t.volume, auto: t.auto, reviewed: t.reviewed, pending: t.pending, corrected: t.corrected });

  async function pageData(query: Record<string, string>) {
    const res = await fetch(`${s.url}/reports.data?${new URLSearchParams(query)}`, { headers: { Cookie: managerCookie } });
    expect(res.status).toBe(200);
    const decoded = await decode(res.body!);
    await decoded.done;
    type Report = {
      query: { policyVersion: number | null };
      policyVersions: { version: number; since: string }[];
      totals: Figures;
      byPolicy: (Figures & { policyVersion: number; since: string | null })[];
    };
    return (decoded.value as Record<string, { data: { report: Report; error: { issues: { path: string }[] } | null } }>)["routes/reports"].data;
  }

  beforeAll(async () => {
    s = await startServer();
    const manager = await makeUser(s.db, "manager");
    const admin = await makeUser(s.db, "admin");
    const reviewer = await makeUser(s.db, "reviewer");
    managerCookie = await signIn(s.url, manager.email, manager.password);
    readKey = await makeKey(s.db, ["read"]);
    const ingestKey = await makeKey(s.db, ["ingest"]);
    const adminKey = await makeKey(s.db, ["admin"], admin.email);
    const workKey = await makeKey(s.db, ["review"], reviewer.email);
    const def = (minConfidence: number) => invoiceType(manager.email, { routing: { minConfidence, qaSampleRate: 0 } });
    await makeType(s.db, def(THRESHOLD[1]));

    // The same hours of one day under both versions, so that counters of one hour hold both.
    const send = async (version: 1 | 2) => {
      const batch = [];
      for (let i = 0; i < 20; i++) {
        const one: Sent = { externalId: `pv${version}-${i}`, version, confidence: 0.5 + i * 0.025, verdict: null };
        sent.push(one);
        batch.push(invoiceDecision(one.externalId, { confidence: one.confidence, occurredAt: `2026-11-10T${String(i % 6).padStart(2, "0")}:30:00Z` }));
      }
      expect((await ingest(s, ingestKey, { decisions: batch })).status).toBe(201);
    };
    await send(1);
    const put = await putDecisionType(s, adminKey, "invoice", def(THRESHOLD[2]));
    expect(put.status).toBe(200);
    expect(put.body.policyVersion).toBe(2);
    await send(2);

    // Work 18 of the 20 review tasks (16 under version 1, 4 under 2), oldest first: approve, correct, approve…; two stay pending.
    for (let n = 0; n < 18; n++) {
      const c = await claim(s, workKey, { type: "invoice" });
      expect(c.status).toBe(200);
      const one = sent.find((d) => d.externalId === c.body.decision.externalId)!;
      one.verdict = n % 3 === 1 ? "correct" : "approve";
      const body =
        one.verdict === "correct" ? { action: "correct", output: { total: 1, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] } : { action: "approve" };
      expect((await review(s, workKey, c.body.task.id, body)).status).toBe(200);
    }
    expect(new Set(sent.filter((d) => d.verdict).map((d) => d.version))).toEqual(new Set([1, 2]));
  });
  afterAll(async () => s?.close());

  it("the automation and quality APIs filter by policyVersion; the versions add up to the whole", async () => {
    for (const version of [1, 2] as const) {
      const res = await automationReport(s, readKey, { type: "invoice", ...period, policyVersion: version });
      expect(res.status).toBe(200);
      expect(figures(res.body.totals), `policy version ${version}`).toEqual(expected(version));
      const q = await qualityReport(s, readKey, { type: "invoice", ...period, policyVersion: version });
      expect(q.status).toBe(200);
    }
    const all = await automationReport(s, readKey, { type: "invoice", ...period });
    expect(figures(all.body.totals)).toEqual(expected());
    // A version the type never had: nothing, not an error.
    expect((await automationReport(s, readKey, { type: "invoice", ...period, policyVersion: 9 })).body.totals.volume).toBe(0);
    for (const bad of ["abc", "0", "1.5"]) {
      const res = await s.request<{ error: { issues: { path: string }[] } }>(
        `/api/v1/reports/automation?${new URLSearchParams({ type: "invoice", ...period, policyVersion: bad })}`,
        { key: readKey },
      );
      expect(res.status, bad).toBe(400);
      expect(res.body.error.issues.map((i) => i.path)).toEqual(["policyVersion"]);
    }
  });

  it("the page lists the policy versions side by side with when each took effect, filters by one, and its CSV says the same", async () => {
    const page = await pageData({ type: "invoice", ...period });
    const r = page.report;
    expect(r.policyVersions.map((p) => p.version)).toEqual([2, 1]);
    expect(r.byPolicy.map((p) => p.policyVersion)).toEqual([2, 1]);
    for (const row of r.byPolicy) {
      expect(figures(row), `v${row.policyVersion}`).toEqual(expected(row.policyVersion as 1 | 2));
      expect(row.since).toBe(r.policyVersions.find((p) => p.version === row.policyVersion)!.since);
    }
    expect(Date.parse(r.byPolicy[0].since!)).toBeGreaterThanOrEqual(Date.parse(r.byPolicy[1].since!));

    const one = await pageData({ type: "invoice", ...period, policyVersion: "1" });
    expect(one.report.query.policyVersion).toBe(1);
    expect(figures(one.report.totals)).toEqual(expected(1));
    // The side-by-side table still lists every version.
    expect(one.report.byPolicy.map((p) => p.policyVersion)).toEqual([2, 1]);
    const bad = await pageData({ type: "invoice", ...period, policyVersion: "zero" });
    expect(bad.error!.issues.map((i) => i.path)).toEqual(["policyVersion"]);

    const csv = await fetch(`${s.url}/reports/csv?${new URLSearchParams({ table: "policies", type: "invoice", ...period })}`, {
      headers: { Cookie: managerCookie },
    });
    expect(csv.status).toBe(200);
    const rows: Record<string, string>[] = parse(await csv.text(), { columns: true });
    expect(rows.map((x) => [x.policy_version, Number(x.volume), Number(x.auto), Number(x.reviewed)])).toEqual(
      ([2, 1] as const).map((v) => [String(v), expected(v).volume, expected(v).auto, expected(v).reviewed]),
    );
  });

  it("counters from before the split (policy version 0) keep the totals right, and the split rebuilds the versions exactly", async () => {
    const before = await rollupSnapshot(s.db);
    // As an upgraded store has them: every counter of the type summed over the versions, at policy_version 0.
    await sqlRun(
      s.db,
      sql`INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
          SELECT type_key, model_version, 0, hour, metric, SUM(value) FROM rollups WHERE type_key = 'invoice'
          GROUP BY type_key, model_version, hour, metric`,
    );
    await sqlRun(s.db, sql`DELETE FROM rollups WHERE type_key = 'invoice' AND policy_version <> 0`);

    expect(figures((await automationReport(s, readKey, { type: "invoice", ...period })).body.totals)).toEqual(expected());
    expect((await automationReport(s, readKey, { type: "invoice", ...period, policyVersion: 1 })).body.totals.volume).toBe(0);
    const unsplit = await pageData({ type: "invoice", ...period });
    expect(unsplit.report.byPolicy.map((p) => [p.policyVersion, p.volume])).toEqual([[0, expected().volume]]);

    let result = { days: 0, done: false };
    let days = 0;
    while (!result.done) {
      // A few decisions a page: the day is read in several keyset pages.
      result = await splitRollups(s.db, { budgetMs: 50, pageRows: 3 });
      days += result.days;
    }
    expect(days).toBe(1);
    expect(await sqlOne(s.db, sql`SELECT 1 AS x FROM rollups WHERE policy_version = 0`)).toBeUndefined();
    expect(sorted(await rollupSnapshot(s.db))).toEqual(sorted(before));
    expect(sorted(await rollupSnapshot(s.db))).toEqual(sorted(await aggregateFromScratch(s.db)));
    for (const version of [1, 2] as const) {
      expect(figures((await automationReport(s, readKey, { type: "invoice", ...period, policyVersion: version })).body.totals)).toEqual(expected(version));
    }
    // Nothing left: a second run finds nothing to do.
    expect(await splitRollups(s.db)).toEqual({ days: 0, done: true });
  });
});
