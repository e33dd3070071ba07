import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";

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
    const created = await s.request("/api/v1/decisions", { key, body: invoiceDecision("smoke-1", { confidence: 0.5 }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ externalId: "smoke-1", status: "pending_review", route: "review" });
    expect(created.body.reasons).toContain("confidence 0.5 < 0.9");

    const claim = await s.request("/api/v1/tasks/claim", { key, body: {} });
    expect(claim.status).toBe(200);
    expect(claim.body.decision.id).toBe(created.body.id);

    const corrected = { total: 99, currency: "EUR", lines: [] };
    const review = await s.request(`/api/v1/tasks/${claim.body.task.id}/review`, {
      key,
      body: { action: "correct", output: corrected, reasonCodes: ["WRONG_TOTAL"] },
    });
    expect(review.status).toBe(200);
    expect(review.body.decision).toMatchObject({ status: "corrected", finalOutput: corrected });

    const got = await s.request(`/api/v1/decisions/${created.body.id}`, { key });
    expect(got.body.finalOutput).toEqual(corrected);
    expect(got.body.reviews[0]).toMatchObject({ action: "correct", reasonCodes: ["WRONG_TOTAL"] });
  });
});
