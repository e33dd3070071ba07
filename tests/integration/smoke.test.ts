import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";
import { claim, getDecision, ingest, review } from "../support/api";

describe("core loop over HTTP", () => {
  let s: TestServer;
  let key: string;
  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "admin");
    await makeType(s.db, invoiceType(owner.email));
    key = await makeKey(s.db, ["ingest", "review", "read"], owner.email);
  });
  afterAll(async () => s?.close());

  it("ingests, claims, corrects and reads the final output", async () => {
    const created = await ingest(s, key, invoiceDecision("smoke-1", { confidence: 0.5 }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ externalId: "smoke-1", status: "pending_review", route: "review" });
    expect(created.body.reasons).toContain("confidence 0.5 < 0.9");

    const claimed = await claim(s, key, {});
    expect(claimed.status).toBe(200);
    expect(claimed.body.decision.id).toBe(created.body.id);

    const corrected = { total: 99, currency: "EUR", lines: [] };
    const verdict = await review(s, key, claimed.body.task.id, { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"] });
    expect(verdict.status).toBe(200);
    expect(verdict.body.decision).toMatchObject({ status: "corrected", finalOutput: corrected });

    const got = await getDecision(s, key, created.body.id);
    expect(got.body.finalOutput).toEqual(corrected);
    expect(got.body.reviews[0]).toMatchObject({ action: "correct", reasonCodes: ["WRONG_TOTAL"] });
  });
});
