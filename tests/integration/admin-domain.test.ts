/**
 * The domain functions behind the admin and decision pages, on a real
 * (in-memory, migrated) database: API key listing and use tracking, disabling
 * people, audit and outbox reads, the decision browser's search and detail,
 * and the decision-type form → definition → upsertDecisionType path.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Db } from "@db/client.server";
import { apiKeys, auditLog, decisionTypes, sessions } from "@db/schema/index";
import { auditQuerySchema, decisionAuditTrail, listAuditEntries } from "~/domain/audit/audit-read.server";
import { verifyAuditChain } from "~/domain/audit/audit.server";
import {
  authenticate,
  createApiKey,
  createSession,
  disableUser,
  enableUser,
  KEY_USE_RESOLUTION_MS,
  listApiKeys,
  lookupApiKey,
  revokeApiKey,
  touchApiKey,
  userForSession,
} from "~/domain/auth/users.server";
import { getDecisionType, policyHistory, upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import { listTypeOverview } from "~/domain/decision-types/overview.server";
import { saveTypeForm } from "~/domain/decision-types/type-form.server";
import { getDecisionDetail, searchDecisions, searchQuerySchema } from "~/domain/decisions/search.server";
import { requireQuery } from "~/lib/query";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { submitReview } from "~/domain/review/review.server";
import { outputRows } from "~/components/decisions/output-rows";
import { invoiceDecision, invoiceType, makeType, makeUser, testDb, TEST_PASSWORD } from "../support/db";

async function setup() {
  const db = await testDb();
  const admin = await makeUser(db, "admin");
  await makeType(db, invoiceType(admin.email));
  return { db, admin };
}

const auditCount = async (db: Db, action: string) => (await db.select().from(auditLog).where(eq(auditLog.action, action))).length;

describe("API keys", () => {
  it("lists keys with their user and never their hash", async () => {
    const { db, admin } = await setup();
    await createApiKey(db, { name: "system", scopes: ["ingest"] }, "test");
    await createApiKey(db, { name: "personal", scopes: ["review", "read"], user: admin.email }, "test");
    const keys = await listApiKeys(db);
    expect(keys.map((k) => k.name).sort()).toEqual(["personal", "system"]);
    expect(keys.find((k) => k.name === "personal")!.user).toBe(admin.email);
    expect(keys.find((k) => k.name === "system")!.user).toBeNull();
    for (const k of keys) expect(Object.keys(k)).not.toContain("keyHash");
  });

  it("records last use at most once per resolution window", async () => {
    const { db } = await setup();
    const { key, id } = await createApiKey(db, { name: "k", scopes: ["ingest"] }, "test");
    const t0 = 1_800_000_000_000;
    const read = async () => (await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1))[0]!.lastUsedAt;
    expect(await touchApiKey(db, (await lookupApiKey(db, key))!, t0)).toBe(true);
    expect(await read()).toBe(t0);
    expect(await touchApiKey(db, (await lookupApiKey(db, key))!, t0 + KEY_USE_RESOLUTION_MS - 1)).toBe(false);
    expect(await read()).toBe(t0);
    // A caller holding a stale value still cannot move it twice within the window.
    expect(await touchApiKey(db, { id, lastUsedAt: null }, t0 + 10)).toBe(false);
    expect(await touchApiKey(db, (await lookupApiKey(db, key))!, t0 + KEY_USE_RESOLUTION_MS)).toBe(true);
    expect(await read()).toBe(t0 + KEY_USE_RESOLUTION_MS);
  });

  it("a revoked key no longer resolves, and revoking is audited once", async () => {
    const { db } = await setup();
    const { key, id } = await createApiKey(db, { name: "k", scopes: ["read"] }, "test");
    await revokeApiKey(db, id, "admin@example.com");
    expect(await lookupApiKey(db, key)).toBeNull();
    await expect(revokeApiKey(db, id, "admin@example.com")).rejects.toThrow(/not found/);
    expect(await auditCount(db, "apikey.revoked")).toBe(1);
  });
});

describe("disabling people", () => {
  it("ends sessions, blocks sign-in and the user's keys, audits it; enabling restores sign-in", async () => {
    const { db, admin } = await setup();
    const reviewer = await makeUser(db, "reviewer");
    const token = await createSession(db, reviewer);
    const { key } = await createApiKey(db, { name: "rk", scopes: ["review"], user: reviewer.email }, "test");
    expect(await userForSession(db, token)).not.toBeNull();

    await disableUser(db, reviewer.id, admin);
    expect(await userForSession(db, token)).toBeNull();
    expect(await db.select().from(sessions).where(eq(sessions.userId, reviewer.id))).toHaveLength(0);
    expect(await authenticate(db, reviewer.email, TEST_PASSWORD)).toBeNull();
    expect(await lookupApiKey(db, key)).toBeNull();
    expect((await listApiKeys(db)).find((k) => k.name === "rk")).toMatchObject({ userDisabled: true, revokedAt: null });
    const entry = (await db.select().from(auditLog).where(eq(auditLog.action, "user.disabled")).limit(1))[0]!;
    expect(entry).toMatchObject({ actor: admin.email, entityId: reviewer.id });
    expect(JSON.parse(entry.data)).toMatchObject({ email: reviewer.email, sessionsEnded: 1 });

    await expect(disableUser(db, reviewer.id, admin)).rejects.toThrow(/already disabled/);
    await enableUser(db, reviewer.id, admin.email);
    expect((await authenticate(db, reviewer.email, TEST_PASSWORD))?.id).toBe(reviewer.id);
    expect(await auditCount(db, "user.enabled")).toBe(1);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it("refuses to disable yourself or the last active admin, and writes nothing", async () => {
    const { db, admin } = await setup();
    const before = (await db.select().from(auditLog)).length;
    await expect(disableUser(db, admin.id, admin)).rejects.toThrow(/your own account/);
    const other = await makeUser(db, "admin");
    await disableUser(db, admin.id, other); // another admin remains: allowed
    const third = await makeUser(db, "manager");
    await expect(disableUser(db, other.id, third)).rejects.toThrow(/last active admin/);
    expect((await db.select().from(auditLog)).length).toBe(before + 2 /* other + third created */ + 1 /* admin disabled */);
  });
});

describe("audit reads", () => {
  it("filters by prefix (taking % and _ literally) and pages newest first without overlap", async () => {
    const { db } = await setup();
    for (let i = 0; i < 7; i++) await createApiKey(db, { name: `k${i}`, scopes: ["read"] }, i % 2 ? "ops_team@example.com" : "opsXteam@example.com");
    const page1 = await listAuditEntries(db, requireQuery(auditQuerySchema, new URLSearchParams("action=apikey.&limit=3")));
    expect(page1.entries.map((e) => e.action)).toEqual(["apikey.created", "apikey.created", "apikey.created"]);
    expect(page1.nextBefore).not.toBeNull();
    const page2 = await listAuditEntries(db, requireQuery(auditQuerySchema, new URLSearchParams(`action=apikey.&limit=3&before=${page1.nextBefore}`)));
    const page3 = await listAuditEntries(db, requireQuery(auditQuerySchema, new URLSearchParams(`action=apikey.&limit=3&before=${page2.nextBefore}`)));
    const seqs = [...page1.entries, ...page2.entries, ...page3.entries].map((e) => e.seq);
    expect(seqs).toHaveLength(7);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect(page3.nextBefore).toBeNull();
    // "_" must not act as a wildcard: only the three ops_team entries match.
    expect((await listAuditEntries(db, requireQuery(auditQuerySchema, new URLSearchParams("actor=ops_")))).entries).toHaveLength(3);
    expect((await listAuditEntries(db, requireQuery(auditQuerySchema, new URLSearchParams("actor=%")))).entries).toHaveLength(0);
    expect(() => requireQuery(auditQuerySchema, new URLSearchParams("limit=0"))).toThrow();
  });
});

describe("decision search and detail", () => {
  async function withDecisions() {
    const ctx = await setup();
    const reviewer = await makeUser(ctx.db, "reviewer");
    const results = await ingestDecisions(
      ctx.db,
      [
        invoiceDecision("A-1", { confidence: 0.5 }),
        invoiceDecision("A-2"),
        invoiceDecision("A-3", { model: { name: "invoice-extractor", version: "2.0.0" } }),
        invoiceDecision("A-4", { flags: ["policy:aml"] }),
      ],
      { batch: true, actor: "test" },
    );
    return { ...ctx, reviewer, results };
  }

  it("filters by status, route, model version and external id", async () => {
    const { db, results } = await withDecisions();
    const q = async (s: string) => (await searchDecisions(db, requireQuery(searchQuerySchema, new URLSearchParams(s)))).decisions.map((d) => d.externalId);
    expect(await q("")).toEqual(["A-4", "A-3", "A-2", "A-1"]);
    expect(await q("route=review")).toEqual(["A-4", "A-1"]);
    expect(await q("status=auto_approved")).toEqual(["A-3", "A-2"]);
    expect(await q("modelVersion=2.0.0")).toEqual(["A-3"]);
    expect(await q("externalId=A-2&type=invoice")).toEqual(["A-2"]);
    expect(await q("type=other")).toEqual([]);
    expect(results).toHaveLength(4);
    expect(() => requireQuery(searchQuerySchema, new URLSearchParams("status=bogus"))).toThrow(/Invalid query/);
  });

  it("keyset pages stay stable while new decisions arrive", async () => {
    const { db } = await withDecisions();
    const first = await searchDecisions(db, requireQuery(searchQuerySchema, new URLSearchParams("limit=2")));
    expect(first.decisions.map((d) => d.externalId)).toEqual(["A-4", "A-3"]);
    await ingestDecisions(db, [invoiceDecision("A-5")], { batch: false, actor: "test" });
    const second = await searchDecisions(db, requireQuery(searchQuerySchema, new URLSearchParams(`limit=2&before=${first.nextBefore}`)));
    expect(second.decisions.map((d) => d.externalId)).toEqual(["A-2", "A-1"]);
    expect(second.nextBefore).toBeNull();
  });

  it("detail carries tasks, the audit trail of the decision and its tasks, and outbox events", async () => {
    const { db, reviewer, results } = await withDecisions();
    const id = results[0].id;
    const task = (await claim(db, reviewer, { next: {} }))!;
    expect(task.decisionId).toBe(id);
    await submitReview(db, reviewer, task.id, { action: "correct", output: { total: 50, currency: "EUR", lines: [] }, reasonCodes: ["WRONG_TOTAL"] });
    const detail = await getDecisionDetail(db, id);
    expect(detail.decision).toMatchObject({ id, status: "corrected", finalOutput: { total: 50, currency: "EUR", lines: [] } });
    expect(detail.tasks).toMatchObject([{ id: task.id, kind: "review", status: "done", claimedBy: reviewer.email }]);
    // Ingested in a batch: the batch entry is part of the trail, cut down to this decision.
    expect(detail.audit.map((a) => a.action)).toEqual(["decisions.ingested", "task.claimed", "review.correct"]);
    expect(detail.audit[0].data).toMatchObject({ batchSize: 4, id, externalId: "A-1", route: "review" });
    expect(detail.events.map((e) => [e.eventType, e.deliveredAt])).toEqual([["decision.finalized", null]]);
    // Another decision's trail stays out.
    const other = await decisionAuditTrail(db, results[1].id, []);
    expect(other.map((a) => a.action)).toEqual(["decisions.ingested"]);
    expect(other[0].data).toMatchObject({ externalId: "A-2" });
    await expect(getDecisionDetail(db, "dec_missing")).rejects.toThrow(/not found/);

    const rows = outputRows(detail.decision.output, detail.decision.finalOutput, detail.decision.fieldConfidence);
    expect(rows.find((r) => r.path === "total")).toMatchObject({ model: 120.5, final: 50, changed: true, confidence: 0.99 });
    expect(rows.find((r) => r.path === "currency")).toMatchObject({ changed: false });
    expect(rows.find((r) => r.path === "lines.0.sku")).toMatchObject({ model: "A-1", final: undefined, changed: true });
  });

  it("type overview counts open work per kind", async () => {
    const { db } = await withDecisions();
    const [t] = await listTypeOverview(db);
    expect(t).toMatchObject({ key: "invoice", policyVersion: 1, open: { review: 2 }, claimed: 0 });
  });
});

describe("decision-type form", () => {
  function form(fields: Record<string, string>): FormData {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    return f;
  }
  const schema = JSON.stringify(invoiceType("x").outputSchema);
  const base = (owner: string, extra: Record<string, string> = {}) =>
    form({
      name: "Claims",
      owner,
      slaMinutes: "60",
      outputSchema: schema,
      "routing.minConfidence": "0.8",
      "routing.qaSamplePercent": "12.5",
      "routing.reviewFlags": "policy:*\n\nfraud:*\n",
      "routing.fieldMinConfidence.3.path": "total",
      "routing.fieldMinConfidence.3.min": "0.95",
      "reasonCodes.0.code": "WRONG_TOTAL",
      "reasonCodes.0.label": "Total misread",
      "reasonCodes.1.code": "",
      "reasonCodes.1.label": "",
      ...extra,
    });

  it("creates a type with the same definition the API would store", async () => {
    const { db, admin } = await setup();
    const res = await saveTypeForm(db, base(admin.email, { "fourEyes.fieldAbove.0.path": "total", "fourEyes.fieldAbove.0.limit": "10000" }), {
      key: "claims",
      mode: "create",
      actor: admin.email,
    });
    expect(res.ok).toBe(true);
    const t = (await getDecisionType(db, "claims"))!;
    expect(t.routing).toEqual({ minConfidence: 0.8, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*", "fraud:*"], qaSampleRate: 0.125 });
    expect(t.reasonCodes).toEqual([{ code: "WRONG_TOTAL", label: "Total misread" }]);
    expect(t.fourEyes).toEqual({ fieldAbove: { total: 10000 } });
    expect(t.slaMinutes).toBe(60);
  });

  it("the drift monitors section: segment field and monitors on or off, the settings it does not show kept; a bad field answered beside it", async () => {
    const { db, admin } = await setup();
    const stored = { segmentField: null, overrideRate: { windowMinutes: 45, minCount: 12 } };
    const res = await saveTypeForm(
      db,
      base(admin.email, {
        monitorsJson: JSON.stringify(stored),
        monitorSegmentField: "applicant.region",
        monitorInputs: "applicant.income, channel",
        monitorOverrideRate: "on",
        monitorConfidence: "on",
        monitorVolume: "on",
      }),
      { key: "claims", mode: "create", actor: admin.email },
    );
    expect(res.ok).toBe(true);
    const t = (await getDecisionType(db, "claims"))!;
    expect(t.monitors.segmentField).toBe("applicant.region");
    expect(t.monitors.overrideRate).toMatchObject({ enabled: true, windowMinutes: 45, minCount: 12 });
    expect(t.monitors.qaAccuracy.enabled).toBe(false);
    expect(t.monitors.confidence.enabled).toBe(true);
    expect(t.monitors.inputs).toEqual(["applicant.income", "channel"]);
    expect([t.monitors.volume.enabled, t.monitors.reviewers.enabled, t.monitors.inputDrift.enabled]).toEqual([true, false, false]);
    // A form without the section leaves the settings as they are.
    expect((await saveTypeForm(db, base(admin.email), { key: "claims", mode: "update", actor: admin.email })).ok).toBe(true);
    expect((await getDecisionType(db, "claims"))!.monitors).toEqual(t.monitors);
    const bad = await saveTypeForm(db, base(admin.email, { monitorsJson: "{}", monitorSegmentField: "not a path!" }), {
      key: "claims",
      mode: "update",
      actor: admin.email,
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(Object.keys(bad.issues)).toEqual(["monitorSegmentField"]);
    expect((await getDecisionType(db, "claims"))!.monitors).toEqual(t.monitors);
    const twice = await saveTypeForm(db, base(admin.email, { monitorsJson: "{}", monitorInputs: "channel, channel" }), {
      key: "claims",
      mode: "update",
      actor: admin.email,
    });
    expect(twice.ok).toBe(false);
    if (twice.ok) return;
    expect(Object.keys(twice.issues)).toEqual(["monitorInputs"]);
  });

  it("an invalid schema is reported by path next to the editor and nothing is written", async () => {
    const { db, admin } = await setup();
    const bad = JSON.stringify({ type: "object", properties: { total: { type: "money" } }, required: ["nope"] });
    const res = await saveTypeForm(db, base(admin.email, { outputSchema: bad }), { key: "claims", mode: "create", actor: admin.email });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.issues.outputSchema).toEqual([expect.stringMatching(/^outputSchema\.properties\.total: not a supported field/)]);
    expect((await db.select().from(decisionTypes).where(eq(decisionTypes.key, "claims")).limit(1))[0]).toBeUndefined();
    const unknownRequired = JSON.stringify({ type: "object", properties: { total: { type: "number" } }, required: ["nope"] });
    const res2 = await saveTypeForm(db, base(admin.email, { outputSchema: unknownRequired }), { key: "claims", mode: "create", actor: admin.email });
    expect(res2.ok ? [] : res2.issues.outputSchema).toEqual(['outputSchema.required: required field "nope" is not a property']);
    expect((await db.select().from(decisionTypes).where(eq(decisionTypes.key, "claims")).limit(1))[0]).toBeUndefined();
  });

  it("maps issues to the rows and fields that caused them", async () => {
    const { db, admin } = await setup();
    const res = await saveTypeForm(
      db,
      base(admin.email, {
        "reasonCodes.1.code": "lower case",
        "reasonCodes.1.label": "Bad",
        "routing.fieldMinConfidence.3.min": "1.5",
        "routing.fieldMinConfidence.7.path": "currency",
        "routing.fieldMinConfidence.7.min": "abc",
        "routing.qaSamplePercent": "150",
        slaMinutes: "",
        outputSchema: "{ not json",
      }),
      { key: "claims", mode: "create", actor: admin.email },
    );
    if (res.ok) throw new Error("expected issues");
    expect(Object.keys(res.issues).sort()).toEqual(
      [
        "outputSchema",
        "reasonCodes.1.code",
        "routing.fieldMinConfidence.3.min",
        "routing.fieldMinConfidence.7.min",
        "routing.qaSamplePercent",
        "slaMinutes",
      ].sort(),
    );
    expect(res.issues.outputSchema[0]).toMatch(/not valid JSON/);
    expect(res.issues["routing.fieldMinConfidence.7.min"]).toEqual(["enter a number between 0 and 1"]);
  });

  it("rows for fields named like Object.prototype members are kept apart", async () => {
    const { db, admin } = await setup();
    // Output schemas reserve these names, but routing patterns are free text (as in the API).
    const res = await saveTypeForm(
      db,
      base(admin.email, {
        "routing.fieldMinConfidence.3.path": "constructor",
        "routing.fieldMinConfidence.4.path": "toString",
        "routing.fieldMinConfidence.4.min": "0.5",
      }),
      { key: "odd", mode: "create", actor: admin.email },
    );
    expect(res.ok ? null : res.issues).toBeNull();
    expect((await getDecisionType(db, "odd"))!.routing.fieldMinConfidence).toEqual({ constructor: 0.95, toString: 0.5 });
  });

  it("create refuses an existing key; update bumps the policy version only when routing changes", async () => {
    const { db, admin } = await setup();
    const dup = await saveTypeForm(db, base(admin.email), { key: "invoice", mode: "create", actor: admin.email });
    expect(dup.ok ? null : dup.issues.key).toEqual(["already exists"]);
    expect((await getDecisionType(db, "invoice"))!.name).toBe("Invoice extraction");

    const same = await saveTypeForm(db, base(admin.email, { "routing.minConfidence": "0.8" }), { key: "invoice", mode: "update", actor: admin.email });
    expect(same.ok && same.type.policyVersion).toBe(2);
    const again = await saveTypeForm(db, base(admin.email, { name: "Renamed", policyVersion: "2" }), { key: "invoice", mode: "update", actor: admin.email });
    expect(again.ok && [again.type.policyVersion, again.policyChanged, again.type.name]).toEqual([2, false, "Renamed"]);
    expect((await policyHistory(db, "invoice")).map((h) => h.version)).toEqual([2, 1]);
    await expect(upsertDecisionType(db, { ...invoiceType(admin.email), key: "ghost" }, "t", Date.now(), "update")).rejects.toThrow(/not found/);
  });
});
