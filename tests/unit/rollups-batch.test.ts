import { describe, expect, it } from "vitest";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
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
