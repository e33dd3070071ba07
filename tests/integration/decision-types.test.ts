import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyHistory } from "~/domain/decision-types/decision-types.server";
import { invoiceType } from "../support/db";
import { answer, client, counts, getDecisionType, person, putDecisionType, type Person } from "../support/api";
import { startServer, type TestServer } from "../support/server";

describe("PUT/GET /api/v1/decision-types/:key", () => {
  let s: TestServer;
  let admin: Person;
  let reviewer: Person;
  beforeAll(async () => {
    s = await startServer();
    admin = await person(s.db, "admin", ["admin"]);
    reviewer = await person(s.db, "reviewer", ["review", "read"]);
  });
  afterAll(async () => s?.close());

  const put = async (key: string, body: unknown, as = admin.key) => putDecisionType(s, as, key, body);

  it("creates (201), reads back, and updates (200)", async () => {
    const def = invoiceType(admin.email, { key: "dt-create" });
    const created = await put("dt-create", def);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: "dt-create", name: "Invoice extraction", owner: admin.email, policyVersion: 1, slaMinutes: 240 });
    expect(created.body.routing).toEqual(def.routing);
    expect(created.body.outputSchema).toEqual(def.outputSchema);
    expect(created.body.reasonCodes).toEqual(def.reasonCodes);

    const got = await getDecisionType(s, reviewer.key, "dt-create");
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const updated = await put("dt-create", { ...def, name: "Invoices v2", slaMinutes: 60 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: "Invoices v2", slaMinutes: 60, policyVersion: 1 });

    const list = await answer(client(s, reviewer.key).GET("/api/v1/decision-types"));
    expect(list.body.decisionTypes.map((t: { key: string }) => t.key)).toContain("dt-create");
  });

  it("bumps the policy version only when the routing changes", async () => {
    const def = invoiceType(admin.email, {
      key: "dt-version",
      routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0.05 },
    });
    expect((await put("dt-version", def)).body.policyVersion).toBe(1);
    // same routing, other fields changed, key order shuffled: no bump
    const shuffled = {
      ...def,
      name: "renamed",
      routing: { qaSampleRate: 0.05, reviewFlags: ["policy:*"], fieldMinConfidence: { total: 0.95 }, minConfidence: 0.9 },
    };
    expect((await put("dt-version", shuffled)).body.policyVersion).toBe(1);
    const changed = await put("dt-version", { ...def, routing: { ...def.routing, minConfidence: 0.8 } });
    expect(changed.body.policyVersion).toBe(2);
    expect(changed.body.routing.minConfidence).toBe(0.8);
    expect((await put("dt-version", { ...def, routing: { ...def.routing, minConfidence: 0.8 } })).body.policyVersion).toBe(2);
    // going back to the first policy is a new version too: history is append-only
    expect((await put("dt-version", def)).body.policyVersion).toBe(3);
    expect((await policyHistory(s.db, "dt-version")).map((p) => p.version)).toEqual([3, 2, 1]); // newest first
  });

  it("rejects an invalid definition with 400 naming every bad field, and writes nothing", async () => {
    const before = await counts(s.db);
    const bad = {
      ...invoiceType(admin.email, { key: "dt-bad" }),
      name: "",
      slaMinutes: 0,
      routing: { minConfidence: 2, qaSampleRate: -1 },
      reasonCodes: [{ code: "lower case", label: "x" }],
      outputSchema: { type: "object", required: ["nope"], properties: { total: { type: "money" } } },
    };
    const r = await put("dt-bad", bad);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    const paths = r.body.error.issues.map((i: { path: string }) => i.path);
    for (const p of ["name", "slaMinutes", "routing.minConfidence", "routing.qaSampleRate", "reasonCodes.0.code"]) expect(paths).toContain(p);
    expect(paths.some((p: string) => p.startsWith("outputSchema"))).toBe(true);
    expect((await getDecisionType(s, admin.key, "dt-bad")).status).toBe(404);
    expect(await counts(s.db)).toEqual(before);
  });

  it("rejects an unknown owner, a key mismatch, unknown fields and duplicate reason codes", async () => {
    const def = invoiceType(admin.email, { key: "dt-owner" });
    const owner = await put("dt-owner", { ...def, owner: "nobody@example.com" });
    expect(owner.status).toBe(400);
    expect(owner.body.error.issues).toEqual([{ path: "owner", message: expect.stringContaining("nobody@example.com") }]);

    const mismatch = await put("dt-owner", { ...def, key: "other" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.issues[0].path).toBe("key");

    const extra = await put("dt-owner", { ...def, colour: "blue" });
    expect(extra.status).toBe(400);

    const dup = await put("dt-owner", {
      ...def,
      reasonCodes: [
        { code: "A", label: "a" },
        { code: "A", label: "b" },
      ],
    });
    expect(dup.status).toBe(400);
    expect(dup.body.error.issues[0].path).toBe("reasonCodes");

    const badKey = await put("Not%20A%20Key", { ...def, key: undefined });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.issues[0].path).toBe("key");

    const reserved = await put("dt-owner", { ...def, outputSchema: { type: "object", properties: { constructor: { type: "string" } } } });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.issues[0].path).toBe("outputSchema.properties.constructor");
  });

  it("accepts the key only in the URL when the body omits it", async () => {
    const { key: _k, ...def } = invoiceType(admin.email);
    expect((await put("dt-nokey", def)).status).toBe(201);
  });

  it("refuses non-admins (403) and anonymous callers (401)", async () => {
    const def = invoiceType(admin.email, { key: "dt-forbidden" });
    const r = await put("dt-forbidden", def, reviewer.key);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("forbidden");
    // an admin-scoped key tied to a reviewer only gets what the reviewer may do
    const reviewerAdminScope = await person(s.db, "reviewer", ["admin"]);
    expect((await put("dt-forbidden", def, reviewerAdminScope.key)).status).toBe(403);
    const manager = await person(s.db, "manager", ["admin"]);
    expect((await put("dt-forbidden", def, manager.key)).status).toBe(403);
    expect((await putDecisionType(s, undefined, "dt-forbidden", def)).status).toBe(401);
    expect((await getDecisionType(s, admin.key, "dt-forbidden")).status).toBe(404);
  });

  it("answers 404 for an unknown type and 405 for other methods", async () => {
    const r = await getDecisionType(s, admin.key, "missing");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    // Raw on purpose: methods the contract does not have.
    const del = await s.request("/api/v1/decision-types/missing", { method: "DELETE", key: admin.key });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("GET, PUT");
    expect((await s.request("/api/v1/decision-types", { method: "POST", key: admin.key, body: {} })).status).toBe(405);
  });
});
