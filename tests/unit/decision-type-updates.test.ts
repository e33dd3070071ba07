import { describe, expect, it } from "vitest";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import { AppError } from "~/lib/errors";
import { invoiceDecision, invoiceType, makeUser, testDb } from "../support/db";

describe("decision type updates take effect at once", () => {
  it("validates against the new output schema even when the update lands in the same millisecond", async () => {
    const db = await testDb();
    const owner = await makeUser(db, "admin");
    const now = Date.now();
    await upsertDecisionType(db, invoiceType(owner.email), "test", now);
    await ingestDecisions(db, [invoiceDecision("before")], { batch: false, actor: "test", now });
    const stricter = invoiceType(owner.email);
    stricter.outputSchema = { ...stricter.outputSchema, properties: { ...stricter.outputSchema.properties, total: { type: "number", minimum: 1000 } } };
    await upsertDecisionType(db, stricter, "test", now);
    let error: unknown;
    try {
      await ingestDecisions(db, [invoiceDecision("after")], { batch: false, actor: "test", now });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).issues.map((i) => i.path)).toEqual(["output.total"]);
  });
});
