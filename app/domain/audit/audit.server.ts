/**
 * The append-only, hash-chained audit trail. Every state change calls
 * `appendAudit` inside the transaction that makes it, so the entry commits
 * with the change or not at all. Each entry's hash covers the previous hash
 * and the entry's canonical content; `verifyAuditChain` recomputes the chain.
 */
import { and, asc, desc, eq, gt } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { auditLog, decisions } from "@db/schema/index";
import { insertRows } from "~/lib/bulk-insert.server";
import { canonicalJson, sha256 } from "~/lib/crypto.server";

export type AuditEntry = {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  data?: unknown;
  at?: number;
};

export type AuditRow = typeof auditLog.$inferSelect;

const GENESIS = "0".repeat(64);

/** A request that creates one decision: one entry on that decision. */
export const DECISION_INGESTED = "decision.ingested";
/**
 * A request that creates several decisions (a batch): one entry (entity type decision_batch)
 * whose data lists every decision as [id, type, externalId, bodyHash, route, status];
 * the body hash covers the decision's content. Its `at` is the decisions' receivedAt.
 */
export const BATCH_INGESTED = "decisions.ingested";
export const BATCH_FIELDS = ["id", "type", "externalId", "bodyHash", "route", "status"] as const;
export type BatchItem = Record<(typeof BATCH_FIELDS)[number], string>;

/** The decisions a batch entry covers (empty for any other entry). */
export function batchItems(entry: Pick<AuditRow, "action" | "data">): BatchItem[] {
  if (entry.action !== BATCH_INGESTED) return [];
  const data = JSON.parse(entry.data) as { decisions: string[][]; fields: string[] };
  return data.decisions.map((d) => Object.fromEntries(data.fields.map((f, i) => [f, d[i]])) as BatchItem);
}

/**
 * An entity's audit trail, oldest first: its own entries and, for a decision,
 * the batch entry that recorded its ingest (found through its receivedAt).
 */
export function auditTrail(db: DbOrTx, entityType: string, entityId: string): AuditRow[] {
  const own = db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))
    .orderBy(asc(auditLog.seq))
    .all();
  if (entityType !== "decision") return own;
  const decision = db.select({ receivedAt: decisions.receivedAt }).from(decisions).where(eq(decisions.id, entityId)).get();
  if (!decision) return own;
  const needle = JSON.stringify(entityId);
  const batches = db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, BATCH_INGESTED), eq(auditLog.at, decision.receivedAt)))
    .all()
    .filter((e) => e.data.includes(needle) && batchItems(e).some((d) => d.id === entityId));
  if (batches.length === 0) return own;
  return [...batches, ...own].sort((a, b) => a.seq - b.seq);
}

function entryHash(prevHash: string, e: { at: number; actor: string; action: string; entityType: string; entityId: string; data: string }): string {
  // canonicalJson of {at, actor, action, entityType, entityId, data}, written out in its (sorted) key order.
  const s = JSON.stringify;
  return sha256(`${prevHash}\n{"action":${s(e.action)},"actor":${s(e.actor)},"at":${s(e.at)},"data":${s(e.data)},"entityId":${s(e.entityId)},"entityType":${s(e.entityType)}}`);
}

export function appendAudit(tx: DbOrTx, entries: AuditEntry | AuditEntry[]): void {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  const last = tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1).get();
  let prev = last?.hash ?? GENESIS;
  const rows = list.map((e) => {
    const row = {
      at: e.at ?? Date.now(),
      actor: e.actor,
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId,
      data: canonicalJson(e.data ?? {}),
    };
    const hash = entryHash(prev, row);
    const out = { at: row.at, actor: row.actor, action: row.action, entityType: row.entityType, entityId: row.entityId, data: row.data, prevHash: prev, hash };
    prev = hash;
    return out;
  });
  insertRows(tx, auditLog, rows);
}

export type ChainCheck = { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number; reason: string };

export function verifyAuditChain(db: DbOrTx): ChainCheck {
  let prev = GENESIS;
  let count = 0;
  let after = 0;
  for (;;) {
    const page = db.select().from(auditLog).where(gt(auditLog.seq, after)).orderBy(asc(auditLog.seq)).limit(5000).all();
    if (page.length === 0) return { ok: true, entries: count };
    for (const row of page) {
      if (row.prevHash !== prev) return { ok: false, entries: count, brokenAt: row.seq, reason: "previous hash does not match" };
      if (entryHash(prev, row) !== row.hash) return { ok: false, entries: count, brokenAt: row.seq, reason: "entry content was altered" };
      prev = row.hash;
      count++;
      after = row.seq;
    }
  }
}
