/**
 * A server keeps every request's API key and decision type between requests (db/config-cache.server.ts). What
 * another process changes (this test's own connection to the store stands for a second instance, the CLI or an
 * admin's server) holds from the server's very next request: a revoked key, a disabled user, a new role, a new
 * routing policy, a new output schema. The server has answered with each of them just before, so each would be
 * served from its copy if the copy were not checked against the store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, disableUser, revokeApiKey, setUserRole } from "~/domain/auth/users.server";
import { invoiceDecision, invoiceType, makeType, makeUser } from "../support/db";
import { client, freshType, ingest, person, answer, type Person } from "../support/api";
import { startServer, type TestServer } from "../support/server";

describe("what a server keeps between requests follows the store", () => {
  let s: TestServer;
  let admin: Person;
  beforeAll(async () => {
    s = await startServer();
    admin = await person(s.db, "admin", ["ingest", "read", "admin"]);
  });
  afterAll(async () => s?.close());

  const typesWith = (key: string) => answer(client(s, key).GET("/api/v1/decision-types"));

  it("refuses a key revoked elsewhere on its next request", async () => {
    const { key, id } = await createApiKey(s.db, { name: "revoked-elsewhere", scopes: ["read"] }, "test");
    expect((await typesWith(key)).status).toBe(200);
    expect((await typesWith(key)).status).toBe(200);
    await revokeApiKey(s.db, id, "test");
    const after = await typesWith(key);
    expect(after.status).toBe(401);
  });

  it("refuses the key of a user disabled elsewhere, and takes a role change elsewhere at once", async () => {
    const manager = await makeUser(s.db, "manager");
    const { key } = await createApiKey(s.db, { name: "personal", scopes: ["read"], user: manager.email }, "test");
    const type = await freshType(s.db, admin.email);
    const report = () => answer(client(s, key).GET("/api/v1/reports/automation", { params: { query: { type } } }));
    expect((await report()).status).toBe(200);
    await setUserRole(s.db, manager.id, "reviewer", "test");
    expect((await report()).status).toBe(403);
    await setUserRole(s.db, manager.id, "manager", "test");
    expect((await report()).status).toBe(200);
    await disableUser(s.db, manager.id, { id: admin.id, email: admin.email });
    expect((await report()).status).toBe(401);
  });

  it("routes with a policy and validates with a schema changed elsewhere from the next decision on", async () => {
    const type = await freshType(s.db, admin.email);
    const at80 = (n: number) => invoiceDecision(`cfg-${n}`, { type, confidence: 0.8, fieldConfidence: { total: 0.99 } });
    const first = await ingest(s, admin.key, at80(1));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ route: "review" }); // 0.8 < minConfidence 0.9

    await makeType(
      s.db,
      invoiceType(admin.email, { key: type, routing: { minConfidence: 0.7, fieldMinConfidence: { total: 0.95 }, reviewFlags: [], qaSampleRate: 0 } }),
    );
    const second = await ingest(s, admin.key, at80(2));
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ route: "auto", status: "auto_approved" });

    // A schema that no longer allows EUR: the next decision in EUR is refused, naming the field.
    const usdOnly = invoiceType(admin.email, { key: type }).outputSchema as { properties: Record<string, unknown> };
    usdOnly.properties.currency = { type: "string", enum: ["USD"] };
    await makeType(s.db, invoiceType(admin.email, { key: type, outputSchema: usdOnly }));
    const third = await ingest(s, admin.key, at80(3));
    expect(third.status).toBe(400);
    expect(JSON.stringify(third.body)).toContain("currency");
  });
});
