import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sqlOne, sqlRun } from "@db/client.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { aggregateFromScratch, rollupSnapshot, splitRollups } from "~/domain/reports/rollups.server";
import { generateReviewedInvoices } from "../../scripts/bench/generate";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb } from "../support/db";

const sorted = (m: Map<string, number>) => [...m].filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : 1));

describe("roll-ups written by a batch ingest", () => {
  it("equal a from-scratch aggregate of the decisions (many decisions share facts; occurredAt varies within hours)", async () => {
    const db = await testDb();
    await makeType(db, invoiceType((await makeUser(db, "admin")).email));
    const base = Date.UTC(2026, 0, 10, 12);
    const items = Array.from({ length: 400 }, (_, i) =>
      invoiceDecision(`r-${i}`, {
        model: { name: "m", version: i % 3 ? "1.0.0" : "2.0.0" },
        confidence: [0.5, 0.95, 0.99, 0.89][i % 4],
        fieldConfidence: { total: [0.99, 0.5][i % 2] },
        flags: i % 7 === 0 ? ["policy:aml"] : [],
        occurredAt: new Date(base - (i % 5) * 3_600_000 - (i % 13) * 60_000 - (i % 30) * 24 * 3_600_000).toISOString(),
      }),
    );
    await ingestDecisions(db, items.slice(0, 250), { batch: true, actor: "t", now: base + 5_000 });
    await ingestDecisions(db, items.slice(250), { batch: true, actor: "t", now: base + 9_000 });
    const snapshot = await rollupSnapshot(db);
    expect(sorted(snapshot)).toEqual(sorted(await aggregateFromScratch(db)));
    expect(new Set([...snapshot.keys()].map((k) => k.split("|")[3])).size).toBeGreaterThan(10);
  });
});

describe("roll-ups of the bench generator (scripts/bench/generate.ts)", () => {
  it("equal a from-scratch aggregate, and so do they after the split rebuilt them from policy version 0 a few decisions at a time", async () => {
    const db = await testDb();
    // Three days of rows with tasks and reviews, then rows without (decisionsOnly), then rows in hours already counted.
    await generateReviewedInvoices(db, 3_000, { spacingMs: 90_000 });
    await generateReviewedInvoices(db, 1_000, { spacingMs: 90_000, first: 3_001, decisionsOnly: true });
    await generateReviewedInvoices(db, 500, { spacingMs: 30_000, first: 4_001 });
    const generated = await rollupSnapshot(db);
    expect(sorted(generated)).toEqual(sorted(await aggregateFromScratch(db)));
    // Every counter of the decisions' roll-up is under the rows' policy version (the reviewer roll-up has none).
    expect(new Set([...generated.keys()].filter((k) => !k.startsWith("reviewer|")).map((k) => k.split("|")[2]))).toEqual(new Set(["1"]));
    expect([...generated.keys()].some((k) => k.startsWith("reviewer|"))).toBe(true);

    // As a store upgraded from a build without the policy version has them: summed over the versions, at 0.
    await sqlRun(
      db,
      sql`INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
          SELECT type_key, model_version, 0, hour, metric, SUM(value) FROM rollups GROUP BY type_key, model_version, hour, metric`,
    );
    await sqlRun(db, sql`DELETE FROM rollups WHERE policy_version <> 0`);
    let days = 0;
    for (let r = { days: 0, done: false }; !r.done; days += r.days) r = await splitRollups(db, { budgetMs: 0, pageRows: 7 });
    // One transaction per UTC day with decisions.
    expect(days).toBe(Number((await sqlOne<{ n: number }>(db, sql`SELECT count(DISTINCT occurred_at / 86400000) AS n FROM decisions`))!.n));
    expect(days).toBeGreaterThan(3);
    expect(await sqlOne(db, sql`SELECT 1 AS x FROM rollups WHERE policy_version = 0`)).toBeUndefined();
    expect(sorted(await rollupSnapshot(db))).toEqual(sorted(generated));
  });
});
