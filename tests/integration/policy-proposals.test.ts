/**
 * Policy changes under approval over HTTP (issue 14): with `policyApproval` on, a direct PUT of a governed field is
 * a 409 proposal_required that changes nothing; a proposal changes nothing until another admin approves it; the
 * proposer cannot decide it, a key without a person can neither propose nor approve; an approved routing change
 * is a new policy version that new decisions carry; rejected and withdrawn proposals change nothing; every step
 * is in the audit trail, and turning approval off is itself a proposal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingest } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { auditEntries } from "../support/reads";
import { startServer, type TestServer } from "../support/server";

type Proposal = {
  id: string;
  status: string;
  change: Record<string, unknown>;
  impact: { replayed: number; after: { automationRate: number | null } } | null;
  proposedBy: string;
  decidedBy: string | null;
  policyVersion: number | null;
  reason: string;
};
type Answer = Proposal & { error?: { code: string; message: string; issues: { path: string }[] } };
type TypeJson = { policyVersion: number; routing: { minConfidence?: number }; policyApproval: boolean; targetAccuracy: number | null };

describe("policy changes under approval", () => {
  let s: TestServer;
  let alice: { email: string; key: string }; // admin, proposes
  let bob: { email: string; key: string }; // admin, approves
  let manager: { email: string; key: string };
  let bareAdminKey: string; // an admin-scope key tied to nobody
  let ingestKey: string;
  let readKey: string;

  const base = (owner: string) => ({ ...invoiceType(owner), routing: { minConfidence: 0.9, qaSampleRate: 0 }, policyApproval: true });
  const typeNow = async () => (await s.request<TypeJson>("/api/v1/decision-types/invoice", { key: readKey })).body;
  const propose = (key: string, body: unknown) => s.request<Answer>("/api/v1/decision-types/invoice/policy-proposals", { method: "POST", key, body });
  const decide = (key: string, id: string, action: string, body?: unknown) =>
    s.request<Answer>(`/api/v1/decision-types/invoice/policy-proposals/${id}/${action}`, { method: "POST", key, ...(body ? { body } : {}) });

  beforeAll(async () => {
    s = await startServer();
    const person = async (role: "admin" | "manager") => {
      const u = await makeUser(s.db, role);
      return { email: u.email, key: await makeKey(s.db, ["admin"], u.email) };
    };
    alice = await person("admin");
    bob = await person("admin");
    manager = await person("manager");
    bareAdminKey = await makeKey(s.db, ["admin"]);
    ingestKey = await makeKey(s.db, ["ingest"]);
    readKey = await makeKey(s.db, ["read"]);
    await makeType(s.db, base(alice.email));
    // A little history, so the proposal's impact has decisions to replay.
    const recent = new Date(Date.now() - 86_400_000).toISOString();
    const batch = Array.from({ length: 20 }, (_, i) => invoiceDecision(`pp-${i}`, { confidence: 0.8 + i * 0.01, occurredAt: recent }));
    expect((await ingest(s, ingestKey, { decisions: batch })).status).toBe(201);
  });
  afterAll(async () => s?.close());

  it("a direct PUT of a governed field is 409 proposal_required and changes nothing; other fields change as before", async () => {
    const before = await typeNow();
    const audit = (await auditEntries(s.db, {})).length;
    const put = await s.request<Answer>("/api/v1/decision-types/invoice", {
      method: "PUT",
      key: alice.key,
      body: { ...base(alice.email), routing: { minConfidence: 0.7, qaSampleRate: 0 } },
    });
    expect(put.status).toBe(409);
    expect(put.body.error).toMatchObject({ code: "proposal_required" });
    expect(put.body.error!.issues.map((i) => i.path)).toEqual(["routing"]);
    // Turning approval off directly is refused the same way.
    const off = await s.request<Answer>("/api/v1/decision-types/invoice", {
      method: "PUT",
      key: alice.key,
      body: { ...base(alice.email), policyApproval: false },
    });
    expect(off.status).toBe(409);
    expect(off.body.error!.issues.map((i) => i.path)).toEqual(["policyApproval"]);
    expect(await typeNow()).toEqual(before);
    expect((await auditEntries(s.db, {})).length).toBe(audit);
    // A field outside governance (the SLA) still changes directly.
    const sla = await s.request<TypeJson>("/api/v1/decision-types/invoice", { method: "PUT", key: alice.key, body: { ...base(alice.email), slaMinutes: 30 } });
    expect(sla.status).toBe(200);
    expect(sla.body.policyVersion).toBe(before.policyVersion);
  });

  it("a proposal changes nothing until another admin approves; then new decisions carry the new version", async () => {
    const before = await typeNow();
    const created = await propose(alice.key, { routing: { minConfidence: 0.85, qaSampleRate: 0 }, reason: "QA shows 0.85 is safe" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "pending", proposedBy: alice.email, decidedBy: null, reason: "QA shows 0.85 is safe" });
    expect(created.body.impact!.replayed).toBe(20);
    expect(created.body.impact!.after.automationRate).toBeCloseTo(15 / 20, 10); // 0.85 … 0.99 of 0.80 … 0.99
    expect(await typeNow()).toEqual(before);

    // The proposer may not decide it; a bare key may not either; a manager may not approve.
    expect((await decide(alice.key, created.body.id, "approve")).status).toBe(403);
    expect((await decide(bareAdminKey, created.body.id, "approve")).status).toBe(403);
    expect((await decide(manager.key, created.body.id, "approve")).status).toBe(403);
    expect(await typeNow()).toEqual(before);

    const approved = await decide(bob.key, created.body.id, "approve", { note: "agreed" });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "approved", decidedBy: bob.email, policyVersion: before.policyVersion + 1 });
    const after = await typeNow();
    expect(after).toMatchObject({ policyVersion: before.policyVersion + 1, routing: { minConfidence: 0.85 }, policyApproval: true });
    // Decided once only.
    expect((await decide(bob.key, created.body.id, "reject")).status).toBe(409);

    const d = await ingest(s, ingestKey, invoiceDecision("pp-after", { confidence: 0.86 }));
    expect(d.status).toBe(201);
    const read = await s.request<{ policyVersion: number; route: string }>(`/api/v1/decisions/${d.body.id}`, { key: readKey });
    expect(read.body).toMatchObject({ policyVersion: before.policyVersion + 1, route: "auto" });

    const trail = (await auditEntries(s.db, { action: "policy_proposal." })).filter((e) => (e.data as { proposal?: string }).proposal === created.body.id);
    // The actor names the person and the key they used.
    expect(trail.map((e) => [e.action, (e.actor ?? "").split(" ")[0]])).toEqual([
      ["policy_proposal.created", alice.email],
      ["policy_proposal.approved", bob.email],
    ]);
  });

  it("rejected and withdrawn proposals leave the version unchanged; only the proposer withdraws", async () => {
    const before = await typeNow();
    const p1 = await propose(alice.key, { targetAccuracy: 0.97, reason: "set a target" });
    expect(p1.status).toBe(201);
    expect(p1.body.impact).toBeNull(); // routing unchanged: nothing to replay
    expect((await decide(bob.key, p1.body.id, "reject", { note: "not yet" })).body).toMatchObject({ status: "rejected", decidedBy: bob.email });
    const p2 = await propose(manager.key, { routing: { minConfidence: 0.5, qaSampleRate: 0 }, reason: "more automation" });
    expect(p2.status).toBe(201);
    expect((await decide(alice.key, p2.body.id, "withdraw")).status).toBe(403);
    expect((await decide(manager.key, p2.body.id, "withdraw")).body).toMatchObject({ status: "withdrawn" });
    expect(await typeNow()).toEqual(before);
    const list = await s.request<{ proposals: Proposal[] }>("/api/v1/decision-types/invoice/policy-proposals", { key: readKey });
    expect(list.body.proposals.slice(0, 2).map((p) => [p.id, p.status])).toEqual([
      [p2.body.id, "withdrawn"],
      [p1.body.id, "rejected"],
    ]);
  });

  it("bad proposals: 400 naming the field, nothing that changes nothing, no person, no approval, a proposal overtaken by another change", async () => {
    expect((await propose(alice.key, { routing: { minConfidence: 2 }, reason: "x" })).body.error!.issues.map((i) => i.path)).toContain("routing.minConfidence");
    expect((await propose(alice.key, { routing: { minConfidence: 0.6 } })).body.error!.issues.map((i) => i.path)).toContain("reason");
    const same = await propose(alice.key, { targetAccuracy: (await typeNow()).targetAccuracy, reason: "no change" });
    expect(same.status).toBe(400);
    expect((await propose(bareAdminKey, { targetAccuracy: 0.9, reason: "a key" })).status).toBe(403);
    expect((await propose(readKey, { targetAccuracy: 0.9, reason: "read only" })).status).toBe(403);
    // Two proposals from the same version: once one is approved, the other is refused and must be made again.
    const a = await propose(alice.key, { targetAccuracy: 0.91, reason: "a" });
    const b = await propose(alice.key, { routing: { minConfidence: 0.8, qaSampleRate: 0 }, reason: "b" });
    expect((await decide(bob.key, b.body.id, "approve")).status).toBe(200);
    const stale = await decide(bob.key, a.body.id, "approve");
    expect(stale.status).toBe(409);
    expect(stale.body.error!.message).toMatch(/propose the change again/);
  });

  it("turning policy approval off is itself a proposal; afterwards PUT changes the policy directly", async () => {
    const off = await propose(alice.key, { policyApproval: false, reason: "the pilot is over" });
    expect((await decide(bob.key, off.body.id, "approve")).body.status).toBe("approved");
    expect((await typeNow()).policyApproval).toBe(false);
    const direct = await s.request<TypeJson>("/api/v1/decision-types/invoice", {
      method: "PUT",
      key: alice.key,
      body: { ...base(alice.email), policyApproval: false, routing: { minConfidence: 0.75, qaSampleRate: 0 } },
    });
    expect(direct.status).toBe(200);
    expect(direct.body.routing.minConfidence).toBe(0.75);
    // Without approval, a proposal is refused: change it directly.
    expect((await propose(alice.key, { targetAccuracy: 0.9, reason: "x" })).status).toBe(409);
  });
});
