import { describe, expect, it } from "vitest";
import { decisions } from "@db/schema/index";
import { factsOf } from "~/domain/decisions/facts.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { contributions } from "~/domain/reports/contributions";
import { hourStart } from "~/lib/time";
import { invoiceDecision, invoiceType, makeType, makeUser, memoryDb } from "../support/db";

describe("roll-ups written by a batch ingest", () => {
  it("equal the sum of every decision's own contribution", () => {
    const db = memoryDb();
    makeType(db, invoiceType(makeUser(db, "admin").email));
    const base = Date.UTC(2026, 0, 10, 12);
    const items = Array.from({ length: 400 }, (_, i) =>
      invoiceDecision(`r-${i}`, {
        model: { name: "m", version: i % 3 ? "1.0.0" : "2.0.0" },
        confidence: [0.5, 0.95, 0.99, 0.89][i % 4],
        fieldConfidence: { total: [0.99, 0.5][i % 2] },
        flags: i % 7 === 0 ? ["policy:aml"] : [],
        occurredAt: new Date(base - (i % 5) * 3_600_000 - i * 1000).toISOString(),
      }),
    );
    ingestDecisions(db, items.slice(0, 250), { batch: true, actor: "t", now: base + 5_000 });
    ingestDecisions(db, items.slice(250), { batch: true, actor: "t", now: base + 9_000 });

    const expected = new Map<string, number>();
    for (const row of db.select().from(decisions).all()) {
      const f = factsOf(row, null);
      for (const [metric, v] of contributions(f)) {
        const k = `${f.typeKey}|${f.modelVersion}|${hourStart(f.occurredAt)}|${metric}`;
        expected.set(k, (expected.get(k) ?? 0) + v);
      }
    }
    const stored = db.$client.prepare("SELECT type_key, model_version, hour, metric, value FROM rollups").all() as { type_key: string; model_version: string; hour: number; metric: string; value: number }[];
    const actual = new Map(stored.map((r) => [`${r.type_key}|${r.model_version}|${r.hour}|${r.metric}`, r.value]));
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries([...expected].filter(([, v]) => v !== 0)));
    expect(new Set(stored.map((r) => r.hour)).size).toBeGreaterThan(3);
  });
});
