/**
 * Policy changes under approval (issue 14). A type with `policyApproval: true` refuses direct changes to its
 * governed fields (routing, fourEyes, targetAccuracy, policyApproval: 409 proposal_required, in
 * decision-types.server.ts). The change goes through a proposal instead: it holds the change, its impact
 * replayed on the last 30 days, who proposed it, why and when. Another person with the admin role approves it
 * (which writes the change, and a new policy version when routing changes, in the same transaction) or rejects
 * it; the proposer may withdraw it. The proposer never decides their own proposal, and both are people: a key
 * not tied to a user can do neither. Every step is one audit entry.
 */
import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { policyProposals, users } from "@db/schema/index";
import { PROPOSAL_STATUSES } from "@db/schema/tables";
import { conflict, forbidden, invalid, notFound, zodIssues } from "~/lib/errors";
import { canonicalJson, newId } from "~/lib/crypto.server";
import type { Principal } from "../auth/permissions";
import { appendAudit } from "../audit/audit.server";
import { fourEyesSchema, decisionTypeSchema } from "../decision-types/definition";
import { GOVERNED_FIELDS, requireDecisionType, typeToJson, upsertApprovedInTx, type DecisionType } from "../decision-types/decision-types.server";
import { routingPolicySchema } from "../routing/policy";
import { impactSchema, replayImpact } from "./impact.server";

export const proposalBodySchema = z
  .object({
    routing: routingPolicySchema.optional().describe("The proposed routing policy (the whole policy)"),
    fourEyes: fourEyesSchema.nullable().optional(),
    targetAccuracy: z.number().gt(0).lt(1).nullable().optional(),
    policyApproval: z.boolean().optional().describe("false turns policy approval off, itself through this proposal"),
    reason: z.string({ error: "reason is required" }).trim().min(1, "say why").max(2000),
  })
  .strict();

const changeSchema = proposalBodySchema.omit({ reason: true });
type Change = z.infer<typeof changeSchema>;

export const proposalJsonSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(PROPOSAL_STATUSES),
    change: changeSchema.describe("The governed fields as proposed"),
    impact: impactSchema.nullable().describe("The routing change replayed on the last 30 days when proposed; null when routing is unchanged"),
    reason: z.string(),
    proposedBy: z.string().describe("The proposer's email"),
    proposedAt: z.iso.datetime(),
    basePolicyVersion: z.number().int(),
    decidedBy: z.string().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    note: z.string().nullable(),
    policyVersion: z.number().int().nullable().describe("The policy version the approval made (routing changed)"),
  })
  .meta({ id: "PolicyProposal" });

export type ProposalJson = z.output<typeof proposalJsonSchema>;
export const proposalListSchema = z.object({ proposals: z.array(proposalJsonSchema) });
export const decideBodySchema = z.object({ note: z.string().trim().max(2000).optional() }).strict();

type Row = typeof policyProposals.$inferSelect;

async function emailOf(db: DbOrTx, id: string | null): Promise<string | null> {
  if (!id) return null;
  return (await db.select({ email: users.email }).from(users).where(eq(users.id, id)).limit(1))[0]?.email ?? null;
}

async function toJson(db: DbOrTx, r: Row): Promise<ProposalJson> {
  return {
    id: r.id,
    type: r.typeKey,
    status: r.status,
    change: r.change as Change,
    impact: (r.impact as ProposalJson["impact"]) ?? null,
    reason: r.reason,
    proposedBy: (await emailOf(db, r.proposedBy))!,
    proposedAt: new Date(r.proposedAt).toISOString(),
    basePolicyVersion: r.basePolicyVersion,
    decidedBy: await emailOf(db, r.decidedBy),
    decidedAt: r.decidedAt === null ? null : new Date(r.decidedAt).toISOString(),
    note: r.note,
    policyVersion: r.policyVersion,
  };
}

/** A person behind the request (a session, or a key tied to a user), or a 403 that says why one is needed. */
function personOf(who: Principal, what: string): { id: string; email: string; role: string } {
  if (!who.user) throw forbidden(`A policy proposal is ${what} by a person: use a session or a key tied to a user`);
  return who.user;
}

/** The type's definition with the change applied: what the approval would write. */
function withChange(t: DecisionType, change: Change) {
  const current = typeToJson(t);
  return decisionTypeSchema.parse({
    key: current.key,
    name: current.name,
    owner: current.owner,
    outputSchema: current.outputSchema,
    routing: change.routing ?? current.routing,
    slaMinutes: current.slaMinutes,
    reasonCodes: current.reasonCodes,
    fourEyes: change.fourEyes !== undefined ? change.fourEyes : current.fourEyes,
    targetAccuracy: change.targetAccuracy !== undefined ? change.targetAccuracy : current.targetAccuracy,
    policyApproval: change.policyApproval ?? current.policyApproval,
    autoAssign: current.autoAssign,
  });
}

/** The governed fields the change actually changes. */
function changedFields(t: DecisionType, change: Change): string[] {
  const now = typeToJson(t);
  const next = withChange(t, change);
  return GOVERNED_FIELDS.filter((f) => canonicalJson(now[f] ?? null) !== canonicalJson(next[f] ?? null));
}

/** POST /api/v1/decision-types/:key/policy-proposals */
export async function proposePolicyChange(db: Db, typeKey: string, body: unknown, who: Principal, now = Date.now()): Promise<ProposalJson> {
  const person = personOf(who, "made");
  const parsed = proposalBodySchema.safeParse(body);
  if (!parsed.success) throw invalid("Invalid proposal", zodIssues(parsed.error));
  const { reason, ...change } = parsed.data;
  const type = await requireDecisionType(db, typeKey);
  if (!type.policyApproval) throw conflict(`Decision type "${typeKey}" is not under policy approval: change it directly (PUT)`);
  if (changedFields(type, change).length === 0)
    throw invalid("Invalid proposal", [{ path: "", message: "the proposal changes nothing: every governed field is as it is now" }]);
  // Replayed before the transaction: a read of the last 30 days, not part of what is written.
  const impact = change.routing ? await replayImpact(db, typeKey, change.routing, { now }) : null;
  return transaction(db, async (tx) => {
    const row = {
      id: newId("pp"),
      typeKey,
      status: "pending" as const,
      change,
      impact,
      reason,
      proposedBy: person.id,
      proposedAt: now,
      basePolicyVersion: type.policyVersion,
    };
    await tx.insert(policyProposals).values(row);
    await appendAudit(tx, {
      actor: who.actor,
      action: "policy_proposal.created",
      entityType: "decision_type",
      entityId: typeKey,
      data: { proposal: row.id, change, reason, basePolicyVersion: type.policyVersion },
      at: now,
    });
    return toJson(tx, { ...row, seq: 0, decidedBy: null, decidedAt: null, note: null, policyVersion: null } as Row);
  });
}

/** GET /api/v1/decision-types/:key/policy-proposals: newest first. */
export async function listPolicyProposals(db: DbOrTx, typeKey: string): Promise<ProposalJson[]> {
  await requireDecisionType(db, typeKey);
  const rows = await db.select().from(policyProposals).where(eq(policyProposals.typeKey, typeKey)).orderBy(desc(policyProposals.seq));
  return Promise.all(rows.map((r) => toJson(db, r)));
}

export type ProposalAction = "approve" | "reject" | "withdraw";

/** POST …/policy-proposals/:id/approve|reject|withdraw (body: an optional note). */
export async function decidePolicyProposal(
  db: Db,
  typeKey: string,
  id: string,
  action: ProposalAction,
  body: unknown,
  who: Principal,
  now = Date.now(),
): Promise<ProposalJson> {
  const person = personOf(who, action === "withdraw" ? "withdrawn" : "decided");
  const parsed = decideBodySchema.safeParse(body ?? {});
  if (!parsed.success) throw invalid("Invalid body", zodIssues(parsed.error));
  const note = parsed.data.note || null;
  return transaction(db, async (tx) => {
    const p = (
      await tx
        .select()
        .from(policyProposals)
        .where(and(eq(policyProposals.id, id), eq(policyProposals.typeKey, typeKey)))
        .limit(1)
    )[0];
    if (!p) throw notFound(`Policy proposal ${id} not found for decision type "${typeKey}"`);
    if (p.status !== "pending") throw conflict(`Policy proposal ${id} is ${p.status} already`);
    if (action === "withdraw") {
      if (p.proposedBy !== person.id) throw forbidden("Only the person who proposed a change may withdraw it");
    } else {
      if (person.role !== "admin") throw forbidden("Only an admin approves or rejects a policy proposal");
      if (p.proposedBy === person.id) throw forbidden("A policy proposal is approved or rejected by another person than its proposer");
    }
    let policyVersion: number | null = null;
    if (action === "approve") {
      const type = await requireDecisionType(tx, typeKey);
      if (type.policyVersion !== p.basePolicyVersion || changedFields(type, p.change as Change).length === 0) {
        throw conflict(`The type's policy changed since this proposal (v${p.basePolicyVersion} → v${type.policyVersion}): propose the change again`);
      }
      const { type: written } = await upsertApprovedInTx(tx, withChange(type, p.change as Change), who.actor, now);
      policyVersion = written.policyVersion !== type.policyVersion ? written.policyVersion : null;
    }
    const status = action === "approve" ? "approved" : action === "reject" ? "rejected" : "withdrawn";
    await tx
      .update(policyProposals)
      .set({ status, decidedBy: person.id, decidedAt: now, note, policyVersion })
      .where(and(eq(policyProposals.id, id), eq(policyProposals.status, "pending")));
    await appendAudit(tx, {
      actor: who.actor,
      action: `policy_proposal.${status}`,
      entityType: "decision_type",
      entityId: typeKey,
      data: { proposal: id, note, policyVersion },
      at: now,
    });
    return toJson(tx, { ...p, status, decidedBy: person.id, decidedAt: now, note, policyVersion });
  });
}
