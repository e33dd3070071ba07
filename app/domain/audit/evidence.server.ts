/**
 * The evidence pack of one decision: what it was (input, model, policy version),
 * why it was routed, its reviews and reason codes (once final), its outcome, and
 * its audit entries with a proof that a signed checkpoint covers them.
 *
 * A proof is a run of chain links from just before an entry of the decision to
 * the checkpoint that covers it. The decision's own entries carry their content;
 * other entries carry only H(content), which the formula H(prev ‖ H(content))
 * allows (entries written before hash version 2 must carry their content).
 * While a four-eyes pair is sealed (decisions/sealing.server.ts), its first
 * verdict and the entries of its first review task appear as hashes only, for
 * every reader: a pack is a document that travels.
 * `verifyEvidencePack` checks a pack on its own with the public key.
 */
import type { KeyObject } from "node:crypto";
import { and, asc, eq, gte, inArray, lte } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { auditLog, tasks, users } from "@db/schema/index";
import { z } from "zod";
import { decisionJsonSchema, getDecision, getDecisionRow, type DecisionJson } from "../decisions/decisions.server";
import { NO_VIEWER, sealedAuditSeqs, sealedDecisions } from "../decisions/sealing.server";
import { FINAL_STATUSES } from "../decisions/statuses";
import { auditContentHash, auditTrail, legacyEntryHash, linkHash, taskBatchEntries, type AuditRow } from "./audit.server";
import { checkpointCovering, checkpointSignatureValid, writeCheckpoint, type Checkpoint, type CheckpointOptions } from "./checkpoints.server";
import { keyIdOf } from "./signing.server";

export const PACK_FORMAT = "lastmile.evidence-pack/1";

/** Past this many links a proof would be unwieldy (a legacy decision anchored by the very first checkpoint). */
const MAX_LINKS = 200_000;

export type EntryContent = { at: number; actor: string; action: string; entityType: string; entityId: string; data: string };

/** One link of a proof: the entry's content, or its content hash, or (a sealed legacy entry) its hash as given. */
export type ProofLink = { seq: number; v: 1 | 2; own?: true; sealed?: true; entry?: EntryContent; contentHash?: string; hash?: string };
export type Proof = { prevHash: string; links: ProofLink[]; checkpoint: Checkpoint };

export type PackEntry = { seq: number; hash: string; prevHash: string; sealed: boolean; content: EntryContent | null };

export type EvidencePack = {
  format: typeof PACK_FORMAT;
  generatedAt: string;
  /** final: the outcome is decided; sealed: a blind second review is pending, so verdicts are withheld. */
  decision: DecisionJson & { final: boolean; sealed: boolean; finalizedBy: string | null };
  audit: {
    hashFormula: string;
    publicKey: { keyId: string | null; url: string };
    entries: PackEntry[];
    proofs: Proof[];
    unproven: { seqs: number[]; reason: string } | null;
  };
};

/** GET /api/v1/decisions/:id/evidence?format=json (default) or ?format=html (a printable page). */
export const evidenceQuerySchema = z.object({ format: z.enum(["json", "html"]).default("json") });

const entryContentSchema = z.object({
  at: z.number().int(),
  actor: z.string(),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  data: z.string(),
});

/** The JSON evidence pack (see the module header); `verifyEvidencePack` checks one with the public key. */
export const evidencePackSchema = z
  .object({
    format: z.literal(PACK_FORMAT),
    generatedAt: z.iso.datetime(),
    decision: decisionJsonSchema.extend({ final: z.boolean(), sealed: z.boolean(), finalizedBy: z.string().nullable() }),
    audit: z.object({
      hashFormula: z.string(),
      publicKey: z.object({ keyId: z.string().nullable(), url: z.string() }),
      entries: z.array(
        z.object({ seq: z.number().int(), hash: z.string(), prevHash: z.string(), sealed: z.boolean(), content: entryContentSchema.nullable() }),
      ),
      proofs: z.array(
        z.object({
          prevHash: z.string(),
          links: z.array(
            z.object({
              seq: z.number().int(),
              v: z.union([z.literal(1), z.literal(2)]),
              own: z.literal(true).optional(),
              sealed: z.literal(true).optional(),
              entry: entryContentSchema.optional(),
              contentHash: z.string().optional(),
              hash: z.string().optional(),
            }),
          ),
          checkpoint: z.object({ seq: z.number().int(), headHash: z.string(), at: z.number().int(), keyId: z.string(), signature: z.string() }),
        }),
      ),
      unproven: z.object({ seqs: z.array(z.number().int()), reason: z.string() }).nullable(),
    }),
  })
  .meta({ id: "EvidencePack" });

function contentOf(r: AuditRow): EntryContent {
  return { at: r.at, actor: r.actor, action: r.action, entityType: r.entityType, entityId: r.entityId, data: r.data };
}

/** The decision's entries, and its tasks' (claims, releases, lapsed leases, assignments and bulk actions). */
async function ownEntries(db: DbOrTx, decisionId: string): Promise<AuditRow[]> {
  const taskIds = (await db.select({ id: tasks.id }).from(tasks).where(eq(tasks.decisionId, decisionId))).map((t) => t.id);
  const taskEntries = taskIds.length
    ? await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityType, "task"), inArray(auditLog.entityId, taskIds)))
    : [];
  // Bulk actions on its tasks (one task_batch entry may list several of them: kept once).
  const batches = new Map<number, AuditRow>();
  for (const id of taskIds) for (const e of await taskBatchEntries(db, id)) batches.set(e.seq, e);
  return [...(await auditTrail(db, "decision", decisionId)), ...taskEntries, ...batches.values()].sort((a, b) => a.seq - b.seq);
}

export async function buildEvidencePack(
  db: DbOrTx,
  decisionId: string,
  opts: CheckpointOptions & { publicKey?: KeyObject | null } = {},
): Promise<EvidencePack> {
  const decision = await getDecision(db, decisionId);
  const row = (await getDecisionRow(db, decisionId))!;
  const final = FINAL_STATUSES.has(row.status);
  const sealedNow = (await sealedDecisions(db, NO_VIEWER, [decisionId])).has(decisionId);
  const own = await ownEntries(db, decisionId);
  const sealedSeqs = await sealedAuditSeqs(
    db,
    NO_VIEWER,
    own.map((e) => e.seq),
  );
  const sealed = (e: AuditRow) => sealedSeqs.has(e.seq);
  const ownSeqs = new Map(own.map((e) => [e.seq, e]));

  const last = own[own.length - 1];
  let unproven: EvidencePack["audit"]["unproven"] = null;
  if (last && !(await checkpointCovering(db, last.seq))) {
    // Nothing signed covers the newest entry yet: sign the head now rather than wait for the minute.
    try {
      await writeCheckpoint(db, opts);
    } catch (e) {
      const seqs: number[] = [];
      for (const x of own) if (!(await checkpointCovering(db, x.seq))) seqs.push(x.seq);
      unproven = { seqs, reason: `no signed checkpoint covers these entries yet (${(e as Error).message})` };
    }
  }

  const proofs: Proof[] = [];
  let keyId: string | null = null;
  let i = 0;
  while (i < own.length) {
    const cp = await checkpointCovering(db, own[i].seq);
    if (!cp) break;
    keyId ??= cp.keyId;
    const from = own[i].seq;
    if (cp.seq - from > MAX_LINKS) {
      const skipped = own.filter((e) => e.seq >= from && e.seq <= cp.seq).map((e) => e.seq);
      unproven = {
        seqs: [...(unproven?.seqs ?? []), ...skipped],
        reason: `the proof from entry #${from} to checkpoint #${cp.seq} would exceed ${MAX_LINKS} links`,
      };
      while (i < own.length && own[i].seq <= cp.seq) i++;
      continue;
    }
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(gte(auditLog.seq, from), lte(auditLog.seq, cp.seq)))
      .orderBy(asc(auditLog.seq));
    const links: ProofLink[] = rows.map((r) => {
      const v = r.hashVersion === 1 ? 1 : 2;
      const mine = ownSeqs.get(r.seq);
      if (mine && sealed(mine))
        return v === 2
          ? { seq: r.seq, v, own: true, sealed: true, contentHash: auditContentHash(r) }
          : { seq: r.seq, v, own: true, sealed: true, hash: r.hash };
      if (mine) return { seq: r.seq, v, own: true, entry: contentOf(r) };
      return v === 2 ? { seq: r.seq, v, contentHash: auditContentHash(r) } : { seq: r.seq, v, entry: contentOf(r) };
    });
    proofs.push({
      prevHash: rows[0]?.prevHash ?? "",
      links,
      checkpoint: { seq: cp.seq, headHash: cp.headHash, at: cp.at, keyId: cp.keyId, signature: cp.signature },
    });
    while (i < own.length && own[i].seq <= cp.seq) i++;
  }
  if (i < own.length && !unproven) unproven = { seqs: own.slice(i).map((e) => e.seq), reason: "no signed checkpoint covers these entries yet" };

  // Who made it final, as the pack has always said it: the reviewer's email, or "auto" for an automatic release.
  const finalizer = !final
    ? null
    : row.finalizedBy
      ? ((await db.select({ email: users.email }).from(users).where(eq(users.id, row.finalizedBy)).limit(1))[0]?.email ?? row.finalizedBy)
      : "auto";
  return {
    format: PACK_FORMAT,
    generatedAt: new Date(opts.now ?? Date.now()).toISOString(),
    decision: { ...decision, final, sealed: sealedNow, finalizedBy: finalizer },
    audit: {
      hashFormula:
        'hash = SHA-256(prevHash ‖ SHA-256(content)) as lowercase hex, content = canonical JSON of {action, actor, at, data, entityId, entityType}; entries written before hash version 2: SHA-256(prevHash "\\n" content)',
      publicKey: { keyId: opts.publicKey ? keyIdOf(opts.publicKey) : keyId, url: "/api/v1/audit/public-key" },
      entries: own.map((e) => ({ seq: e.seq, hash: e.hash, prevHash: e.prevHash, sealed: sealed(e), content: sealed(e) ? null : contentOf(e) })),
      proofs,
      unproven,
    },
  };
}

export type PackCheck = { ok: true; decisionId: string; entries: number; sealed: number; checkpoints: number } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;

function isContent(x: unknown): x is EntryContent {
  const e = x as EntryContent;
  return (
    !!e &&
    typeof e === "object" &&
    typeof e.at === "number" &&
    typeof e.actor === "string" &&
    typeof e.action === "string" &&
    typeof e.entityType === "string" &&
    typeof e.entityId === "string" &&
    typeof e.data === "string"
  );
}

const sameContent = (a: EntryContent, b: EntryContent) =>
  a.at === b.at && a.actor === b.actor && a.action === b.action && a.entityType === b.entityType && a.entityId === b.entityId && a.data === b.data;

/**
 * Checks a pack with nothing but the public key: every proof recomputes to its
 * checkpoint's head hash, every checkpoint's signature holds, and every entry the
 * pack lists is a link of some proof, with the same content and hash.
 */
export function verifyEvidencePack(input: unknown, publicKey: KeyObject): PackCheck {
  const pack = input as EvidencePack;
  if (!pack || typeof pack !== "object" || pack.format !== PACK_FORMAT) return { ok: false, reason: `not an evidence pack (format must be ${PACK_FORMAT})` };
  const audit = pack.audit;
  if (!audit || !Array.isArray(audit.proofs) || !Array.isArray(audit.entries)) return { ok: false, reason: "the pack has no audit proofs" };
  if (audit.unproven && audit.unproven.seqs?.length)
    return { ok: false, reason: `entries ${audit.unproven.seqs.map((s) => `#${s}`).join(", ")} are not proven: ${audit.unproven.reason}` };
  const proven = new Map<number, { hash: string; prevHash: string; entry?: EntryContent; sealed: boolean }>();
  for (const [n, p] of audit.proofs.entries()) {
    const cp = p?.checkpoint;
    if (!cp || typeof cp.seq !== "number" || typeof cp.headHash !== "string" || typeof cp.at !== "number" || typeof cp.signature !== "string")
      return { ok: false, reason: `proof ${n + 1} has no checkpoint` };
    if (!checkpointSignatureValid(cp, publicKey)) return { ok: false, reason: `checkpoint #${cp.seq} has an invalid signature (or was signed by another key)` };
    if (typeof p.prevHash !== "string" || !HEX64.test(p.prevHash) || !Array.isArray(p.links) || p.links.length === 0)
      return { ok: false, reason: `proof ${n + 1} is malformed` };
    let h = p.prevHash;
    let seq = -Infinity;
    // Own entries before a sealed legacy link (whose hash is taken as given) are not anchored by this proof.
    let pendingOwn: number[] = [];
    for (const l of p.links) {
      if (typeof l?.seq !== "number" || l.seq <= seq) return { ok: false, reason: `proof ${n + 1}: links out of order` };
      seq = l.seq;
      const prev = h;
      if (l.entry !== undefined) {
        if (!isContent(l.entry)) return { ok: false, reason: `entry #${l.seq}: malformed content` };
        h = l.v === 1 ? legacyEntryHash(h, l.entry) : linkHash(h, auditContentHash(l.entry));
      } else if (l.v === 2 && typeof l.contentHash === "string" && HEX64.test(l.contentHash)) {
        h = linkHash(h, l.contentHash);
      } else if (l.v === 1 && l.sealed && typeof l.hash === "string" && HEX64.test(l.hash)) {
        for (const s of pendingOwn) proven.delete(s);
        pendingOwn = [];
        h = l.hash;
      } else return { ok: false, reason: `entry #${l.seq}: a link needs its content or (hash version 2) its content hash` };
      if (l.own) {
        proven.set(l.seq, { hash: h, prevHash: prev, entry: l.entry, sealed: !!l.sealed });
        pendingOwn.push(l.seq);
      }
    }
    if (seq !== cp.seq) return { ok: false, reason: `proof ${n + 1} ends at #${seq}, not at checkpoint #${cp.seq}` };
    if (h !== cp.headHash)
      return {
        ok: false,
        reason: `proof ${n + 1}: the chain from #${p.links[0].seq} does not reach the head hash signed in checkpoint #${cp.seq}; an entry in #${p.links[0].seq}–#${cp.seq} was altered`,
      };
  }
  let sealedCount = 0;
  for (const e of audit.entries) {
    const p = proven.get(e?.seq);
    if (!p) return { ok: false, reason: `entry #${e?.seq} is not anchored by any proof in the pack` };
    if (e.hash !== p.hash || e.prevHash !== p.prevHash) return { ok: false, reason: `entry #${e.seq}: its hash does not match its proof` };
    if (e.sealed) {
      if (e.content !== null || !p.sealed) return { ok: false, reason: `entry #${e.seq}: sealed in the list but not in its proof` };
      sealedCount++;
    } else if (!p.entry || !isContent(e.content) || !sameContent(e.content, p.entry))
      return { ok: false, reason: `entry #${e.seq}: its content differs from its proof` };
  }
  const ownInProofs = [...proven.keys()].filter((s) => !audit.entries.some((e) => e.seq === s));
  if (ownInProofs.length) return { ok: false, reason: `entries ${ownInProofs.map((s) => `#${s}`).join(", ")} are in a proof but missing from the list` };
  if (!pack.decision || typeof pack.decision.id !== "string") return { ok: false, reason: "the pack names no decision" };
  return { ok: true, decisionId: pack.decision.id, entries: audit.entries.length, sealed: sealedCount, checkpoints: audit.proofs.length };
}
