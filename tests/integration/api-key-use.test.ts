/** API key bookkeeping through the real server: last use is recorded by requireApi, revoked keys get 401. */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "@db/schema/index";
import { createApiKey, revokeApiKey } from "~/domain/auth/users.server";
import { invoiceType, makeType, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";
import { getDecisionType } from "../support/api";

describe("API key use over HTTP", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
    await makeType(s.db, invoiceType((await makeUser(s.db, "admin")).email));
  });
  afterAll(async () => s?.close());

  it("records last_used_at on first use, not on every request, and a revoked key gets 401", async () => {
    const { key, id } = await createApiKey(s.db, { name: "reader", scopes: ["read"] }, "test");
    const lastUsed = async () => (await s.db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1))[0]!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    const t0 = Date.now();
    expect((await getDecisionType(s, key, "invoice")).status).toBe(200);
    // Recorded beside the answer, not before it.
    await expect.poll(lastUsed).not.toBeNull();
    const first = await lastUsed();
    expect(first!).toBeGreaterThanOrEqual(t0);
    expect((await getDecisionType(s, key, "invoice")).status).toBe(200);
    expect(await lastUsed()).toBe(first);

    await revokeApiKey(s.db, id, "test");
    const denied = await getDecisionType(s, key, "invoice");
    expect(denied.status).toBe(401);
    expect(denied.body.error.code).toBe("unauthenticated");
  });
});
