/**
 * The append-only, hash-chained audit trail. Every state change calls
 * `appendAudit` inside the transaction that makes it, so the entry commits
 * with the change or not at all. Each entry's hash covers the previous hash
 * and the entry's canonical content; `verifyAuditChain` recomputes the chain and
 * checks it against the signed checkpoints (checkpoints.server.ts).
 */
import { lockSingleton } from "@db/sql";
import type { KeyObject } from "node:crypto";
import { and, asc, desc, eq, gt, gte, inArray, lte } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { auditLog, decisions, tasks } from "@db/schema/index";
import { insertRows } from "@db/bulk-insert.server";
import { canonicalJson, sha256 } from "~/lib/crypto.server";
import { checkpointSignatureValid, readCheckpoints, type FoundCheckpoint } from "./checkpoints.server";
import { databaseFileOf, preparedQuery, writeAtCommit } from "@db/client.server";
import { checkpointDir, signingKey } from "./signing.server";

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
 * A manager's action on many tasks at once (the queue's bulk actions, or a disabled person's tasks handed back):
 * one entry (entity type task_batch, its id the batch's own) whose data lists every task as [task, decision, before]
 * (`before`: the assignee's email, the priority or the lease holder before the change). Written after the tasks
 * existed and before they were done, which is how a task's trail finds it (see auditTrail).
 */
export const TASK_BATCH = "task_batch";
export const TASK_BATCH_ACTIONS = ["tasks.assigned", "tasks.unassigned", "tasks.reprioritized", "tasks.leases_released"] as const;
export type TaskBatchAction = (typeof TASK_BATCH_ACTIONS)[number];
export const TASK_BATCH_FIELDS = ["task", "decision", "before"] as const;
export type TaskBatchItem = { task: string; decision: string; before: string | number | null };

/** The tasks a task-batch entry covers (empty for any other entry). */
export function taskBatchItems(entry: Pick<AuditRow, "action" | "data">): TaskBatchItem[] {
  if (!(TASK_BATCH_ACTIONS as readonly string[]).includes(entry.action)) return [];
  const data = JSON.parse(entry.data) as { tasks?: [string, string, string | number | null][] };
  return (data.tasks ?? []).map(([task, decision, before]) => ({ task, decision, before }));
}

/**
 * An entity's audit trail, oldest first: its own entries and, for a decision,
 * the batch entry that recorded its ingest (found through its receivedAt); for
 * a task, the task-batch entries (bulk actions) that list it, found through the
 * action and time index within the task's lifetime.
 */
export async function auditTrail(db: DbOrTx, entityType: string, entityId: string): Promise<AuditRow[]> {
  const own = await db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))
    .orderBy(asc(auditLog.seq));
  if (entityType === "task") {
    const batches = await taskBatchEntries(db, entityId);
    return batches.length ? [...batches, ...own].sort((a, b) => a.seq - b.seq) : own;
  }
  if (entityType !== "decision") return own;
  const decision = (await db.select({ receivedAt: decisions.receivedAt }).from(decisions).where(eq(decisions.id, entityId)).limit(1))[0];
  if (!decision) return own;
  const needle = JSON.stringify(entityId);
  const batches = (
    await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, BATCH_INGESTED), eq(auditLog.at, decision.receivedAt)))
  ).filter((e) => e.data.includes(needle) && batchItems(e).some((d) => d.id === entityId));
  if (batches.length === 0) return own;
  return [...batches, ...own].sort((a, b) => a.seq - b.seq);
}

/** The task-batch entries that list this task: bulk actions between its creation and its completion. */
export async function taskBatchEntries(db: DbOrTx, taskId: string): Promise<AuditRow[]> {
  const task = (await db.select({ createdAt: tasks.createdAt, completedAt: tasks.completedAt }).from(tasks).where(eq(tasks.id, taskId)).limit(1))[0];
  if (!task) return [];
  const needle = JSON.stringify(taskId);
  const during = [gte(auditLog.at, task.createdAt), ...(task.completedAt === null ? [] : [lte(auditLog.at, task.completedAt)])];
  return (
    await db
      .select()
      .from(auditLog)
      .where(and(inArray(auditLog.action, [...TASK_BATCH_ACTIONS]), ...during))
      .orderBy(asc(auditLog.seq))
  ).filter((e) => e.data.includes(needle) && taskBatchItems(e).some((t) => t.task === taskId));
}

type Content = { at: number; actor: string; action: string; entityType: string; entityId: string; data: string };

// canonicalJson of {at, actor, action, entityType, entityId, data}, written out in its (sorted) key order.
function contentText(e: Content): string {
  const s = JSON.stringify;
  return `{"action":${s(e.action)},"actor":${s(e.actor)},"at":${s(e.at)},"data":${s(e.data)},"entityId":${s(e.entityId)},"entityType":${s(e.entityType)}}`;
}

/** H(content): what a proof carries for an entry whose content it leaves out. */
export function auditContentHash(e: Content): string {
  return sha256(contentText(e));
}

/** The current formula (hash version 2): H(previous hash ‖ H(content)), both as hex. */
export function linkHash(prevHash: string, contentHash: string): string {
  return sha256(prevHash + contentHash);
}

/** Version 1, for entries written before checkpoints existed: H(previous hash "\n" content). */
export function legacyEntryHash(prevHash: string, e: Content): string {
  return sha256(`${prevHash}\n${contentText(e)}`);
}

export const HASH_VERSION = 2;

export function entryHash(prevHash: string, e: Content, version: number): string {
  return version === 1 ? legacyEntryHash(prevHash, e) : linkHash(prevHash, auditContentHash(e));
}

/** The advisory lock that serialises appends to the chain (Postgres). */
const AUDIT_HEAD_LOCK = 7_246_318_002;

/** The newest entry's hash: every audited write reads it, so it is prepared once. */
const auditHead = preparedQuery("audit_head", (db) => db.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1));

/**
 * Appends entries to the chain, in the caller's transaction. One chain under concurrent writers: the head is read
 * and extended by one transaction at a time. On SQLite (one writer) that is now; on Postgres it is while the
 * transaction commits (writeAtCommit), under an advisory lock, so the chain's head is never held across a round
 * trip to the application: the entries' content hashes are computed here, and the commit links them with
 * linkHash in SQL (schema/extras.ts).
 */
export async function appendAudit(tx: DbOrTx, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  const contents = list.map((e) => {
    const row = {
      at: e.at ?? Date.now(),
      actor: e.actor,
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId,
      data: canonicalJson(e.data ?? {}),
    };
    return { ...row, contentHash: auditContentHash(row) };
  });
  await writeAtCommit(tx, "audit", contents, async (db) => {
    await lockSingleton(db, AUDIT_HEAD_LOCK);
    const last = (await auditHead(db, {}))[0];
    let prev = last?.hash ?? GENESIS;
    const rows = contents.map(({ contentHash, ...row }) => {
      const hash = linkHash(prev, contentHash);
      const out = { ...row, prevHash: prev, hash, hashVersion: HASH_VERSION };
      prev = hash;
      return out;
    });
    await insertRows(db, auditLog, rows);
  });
}

export type ChainCheck =
  | { ok: true; entries: number; checkpoints: number; anchoredThrough: number | null; anchoredAt: number | null }
  | { ok: false; entries: number; brokenAt: number; reason: string };

export type VerifyOptions = {
  /** The key checkpoints are checked with; default: the public half of the configured signing key. */
  publicKey?: KeyObject | null;
  /** Default: AUDIT_CHECKPOINT_DIR, or beside the database file. */
  checkpointDir?: string | null;
};

/**
 * Checks the whole chain against the signed checkpoints: every link and entry
 * hash, every checkpoint's signature, that each checkpoint's entry carries the
 * head hash that was signed, and that no signed entry is missing at the end.
 * A chain rewritten with recomputed hashes is consistent on its own; the first
 * checkpoint after the rewrite is what catches it.
 */
export async function verifyAuditChain(db: DbOrTx, opts: VerifyOptions = {}): Promise<ChainCheck> {
  const file = databaseFileOf(db);
  const dir = opts.checkpointDir !== undefined ? opts.checkpointDir : checkpointDir(file);
  const publicKey = opts.publicKey !== undefined ? opts.publicKey : (signingKey({ create: false, dbFile: file })?.publicKey ?? null);
  const { found, unreadable } = await readCheckpoints(db, dir);
  const fail = (brokenAt: number, reason: string, entries = 0): ChainCheck => ({ ok: false, entries, brokenAt, reason });
  if (unreadable.length > 0) return fail(Number(/(\d+)\.json$/.exec(unreadable[0])?.[1] ?? 0), `checkpoint file ${unreadable[0]} cannot be read`);
  if (found.length > 0 && !publicKey) return fail(found[0].seq, "signed checkpoints exist but no signing key is configured to check them");
  const signed = new Map<number, FoundCheckpoint>();
  for (const c of found) {
    if (!checkpointSignatureValid(c, publicKey!)) return fail(c.seq, `checkpoint #${c.seq} (${c.source}) has an invalid signature`);
    const other = signed.get(c.seq);
    if (other && other.headHash !== c.headHash) return fail(c.seq, `two signed checkpoints for entry #${c.seq} disagree`);
    signed.set(c.seq, c);
  }
  const pending = [...signed.values()].sort((a, b) => a.seq - b.seq);
  let next = 0; // index of the next checkpoint to reach
  let holdsThrough = 0; // the last checkpoint seq that held
  let prev = GENESIS;
  let version = 1;
  let count = 0;
  let after = 0;
  for (;;) {
    const page = await db.select().from(auditLog).where(gt(auditLog.seq, after)).orderBy(asc(auditLog.seq)).limit(5000);
    if (page.length === 0) break;
    for (const row of page) {
      if (next < pending.length && pending[next].seq < row.seq) {
        return fail(pending[next].seq, `entry #${pending[next].seq} is missing, but signed checkpoint #${pending[next].seq} covers it`, count);
      }
      if (row.prevHash !== prev) return fail(row.seq, "previous hash does not match", count);
      if (row.hashVersion !== 1 && row.hashVersion !== HASH_VERSION) return fail(row.seq, `unknown hash version ${row.hashVersion}`, count);
      if (row.hashVersion < version) return fail(row.seq, `hash version ${row.hashVersion} after version ${version}`, count);
      if (entryHash(prev, row, row.hashVersion) !== row.hash) return fail(row.seq, "entry content was altered", count);
      if (next < pending.length && pending[next].seq === row.seq) {
        if (pending[next].headHash !== row.hash) {
          const from = holdsThrough + 1;
          return fail(
            from,
            `entries #${from}–#${row.seq} were rewritten: entry #${row.seq} does not carry the hash of signed checkpoint #${row.seq} (${new Date(pending[next].at).toISOString()})`,
            count,
          );
        }
        holdsThrough = row.seq;
        next++;
      }
      version = row.hashVersion;
      prev = row.hash;
      count++;
      after = row.seq;
    }
  }
  if (next < pending.length) {
    const last = pending[pending.length - 1];
    return fail(
      after + 1,
      `missing tail: entries #${after + 1}–#${last.seq} were deleted (signed checkpoint #${last.seq} of ${new Date(last.at).toISOString()} covers them)`,
      count,
    );
  }
  const anchor = pending[pending.length - 1];
  return { ok: true, entries: count, checkpoints: pending.length, anchoredThrough: anchor?.seq ?? null, anchoredAt: anchor?.at ?? null };
}
