/**
 * Reading the audit trail: a decision's entries (and its tasks'), and the latest entries with filters, newest first, paged by
 * sequence number so a page never shifts while new entries arrive.
 */
import { and, asc, desc, eq, gt, gte, lt, not, sql, type SQL, type Column } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@db/client.server";
import { auditLog } from "@db/schema/index";
import { auditTrail, batchItems, BATCH_INGESTED, taskBatchItems } from "./audit.server";
import { redactedAuditEntry, sealedAuditEntry, sealedAuditSeqs, NO_VIEWER, type SealViewer } from "../decisions/sealing.server";

/** An entry as a viewer may read it: a sealed four-eyes entry has no actor, data or hash (see decisions/sealing.server.ts). */
export type AuditRow = {
  seq: number;
  at: number;
  actor: string | null;
  action: string;
  entityType: string;
  entityId: string;
  data: unknown;
  hash: string | null;
  sealed: boolean;
};

function toRow(r: typeof auditLog.$inferSelect, sealed = false): AuditRow {
  if (sealed) return redactedAuditEntry(r);
  let data: unknown = r.data;
  try {
    data = JSON.parse(r.data);
  } catch {
    /* stored as text; show it as it is */
  }
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, entityType: r.entityType, entityId: r.entityId, data, hash: r.hash, sealed: false };
}

/**
 * A decision's whole trail, oldest first: its own entries (including the batch entry
 * that recorded its ingest, via `auditTrail`) and those of its tasks. A batch entry's
 * data is cut down to this decision's item, since it lists every decision in the batch.
 */
export async function decisionAuditTrail(db: DbOrTx, decisionId: string, taskIds: string[], viewer: SealViewer = NO_VIEWER): Promise<AuditRow[]> {
  // One query after another: on a Postgres transaction they share one connection, which runs one query at a time.
  const rows = [...(await auditTrail(db, "decision", decisionId))];
  for (const t of taskIds) rows.push(...(await auditTrail(db, "task", t)));
  rows.sort((a, b) => a.seq - b.seq);
  const sealed = await sealedAuditSeqs(
    db,
    viewer,
    rows.map((r) => r.seq),
  );
  // An entry appears once, however many of the decision's tasks one bulk action listed.
  const seen = new Set<number>();
  return rows.flatMap((r) => {
    if (seen.has(r.seq)) return [];
    seen.add(r.seq);
    const row = toRow(r, sealed.has(r.seq));
    const taskItems = row.sealed ? [] : taskBatchItems(r);
    if (taskItems.length) {
      // A bulk action's entry lists every task it touched: cut down to this decision's tasks, like an ingest batch.
      const rest = Object.fromEntries(Object.entries(row.data as Record<string, unknown>).filter(([k]) => k !== "tasks"));
      return [{ ...row, data: { ...rest, batchSize: taskItems.length, tasks: taskItems.filter((t) => t.decision === decisionId) } }];
    }
    if (r.action !== BATCH_INGESTED) return [row];
    const items = batchItems(r);
    return [{ ...row, data: { batchSize: items.length, ...items.find((i) => i.id === decisionId) } }];
  });
}

/** `column` starts with `prefix` (case-insensitive for ASCII), the user's % and _ taken literally. */
function startsWith(column: Column, prefix: string): SQL {
  const pattern = prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
  return sql`${column} LIKE ${pattern} ESCAPE '\\'`;
}

export const auditQuerySchema = z
  .object({
    action: z.string().max(100).optional(),
    actor: z.string().max(200).optional(),
    entityType: z.string().max(64).optional(),
    entityId: z.string().max(200).optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export type AuditQuery = z.infer<typeof auditQuerySchema>;

/** What any reader may filter on. Actor and action match by prefix; from is inclusive, to exclusive (epoch ms). */
export type AuditFilter = { action?: string; actor?: string; entityType?: string; entityId?: string; from?: number; to?: number };
type Page = { order: "newest" | "oldest"; before?: number; after?: number; limit: number };

/**
 * One page of entries as this viewer may read them. A sealed entry never matches
 * a filter on what sealing hides (actor, action): otherwise filtering by a
 * reviewer's email would show which sealed entries they wrote.
 */
async function readAuditPage(db: DbOrTx, f: AuditFilter, page: Page, viewer: SealViewer): Promise<{ entries: AuditRow[]; more: boolean }> {
  const sealed = sealedAuditEntry(viewer);
  const where: SQL[] = [];
  if (f.action) where.push(startsWith(auditLog.action, f.action));
  if (f.actor) where.push(startsWith(auditLog.actor, f.actor));
  if (f.action || f.actor) where.push(not(sealed));
  if (f.entityType) where.push(eq(auditLog.entityType, f.entityType));
  if (f.entityId) where.push(eq(auditLog.entityId, f.entityId));
  if (f.from !== undefined) where.push(gte(auditLog.at, f.from));
  if (f.to !== undefined) where.push(lt(auditLog.at, f.to));
  if (page.before !== undefined) where.push(lt(auditLog.seq, page.before));
  if (page.after !== undefined) where.push(gt(auditLog.seq, page.after));
  const rows = await db
    .select({ r: auditLog, sealed: sql<number>`${sealed}` })
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(page.order === "newest" ? desc(auditLog.seq) : asc(auditLog.seq))
    .limit(page.limit + 1);
  return { entries: rows.slice(0, page.limit).map(({ r, sealed }) => toRow(r, Boolean(sealed))), more: rows.length > page.limit };
}

/** Latest entries matching the filters, newest first (the audit page). */
export async function listAuditEntries(db: DbOrTx, q: AuditQuery, viewer: SealViewer = NO_VIEWER): Promise<{ entries: AuditRow[]; nextBefore: number | null }> {
  const { entries, more } = await readAuditPage(db, q, { order: "newest", before: q.before, limit: q.limit }, viewer);
  return { entries, nextBefore: more ? entries[entries.length - 1].seq : null };
}

/** Every entry matching the filters, newest first, a page at a time (the audit CSV): memory stays flat however long the trail. */
export async function* allAuditEntries(db: DbOrTx, f: AuditFilter, viewer: SealViewer = NO_VIEWER, pageSize = 1000): AsyncGenerator<AuditRow[]> {
  let before: number | undefined;
  for (;;) {
    const { entries, more } = await readAuditPage(db, f, { order: "newest", before, limit: pageSize }, viewer);
    if (entries.length > 0) yield entries;
    if (!more) return;
    before = entries[entries.length - 1].seq;
  }
}

/** GET /api/v1/audit: oldest first from a cursor (the last seq read), so a monitoring tool tails the trail. Read with requireQuery (lib/query.ts). */
const auditApiFields = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    actor: z.string().max(200).optional(),
    action: z.string().max(100).optional(),
    entityType: z.string().max(64).optional(),
    entityId: z.string().max(200).optional(),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, "cursor must be a value returned as nextCursor")
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const auditApiQuerySchema = auditApiFields.refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
  path: ["to"],
  message: "to must be later than from",
});

export type AuditApiQuery = z.infer<typeof auditApiQuerySchema>;

/** One audit entry as the API shows it (a sealed entry carries no data). */
export const auditEntryJsonSchema = z
  .object({
    seq: z.number().int(),
    at: z.iso.datetime(),
    actor: z.string().nullable(),
    action: z.string(),
    entityType: z.string(),
    entityId: z.string(),
    data: z.unknown(),
    hash: z.string().nullable(),
    sealed: z.boolean(),
  })
  .meta({ id: "AuditEntry" });

/** GET /api/v1/audit: a page of the trail, oldest first; pass nextCursor as cursor to read on. */
export const auditFeedSchema = z.object({ entries: z.array(auditEntryJsonSchema), nextCursor: z.string().nullable() });

export function auditEntryToJson(e: AuditRow): z.output<typeof auditEntryJsonSchema> {
  return {
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    actor: e.actor,
    action: e.action,
    entityType: e.entityType,
    entityId: e.entityId,
    data: e.data,
    hash: e.hash,
    sealed: e.sealed,
  };
}

export async function auditFeed(db: DbOrTx, q: AuditApiQuery, viewer: SealViewer = NO_VIEWER): Promise<z.output<typeof auditFeedSchema>> {
  const f: AuditFilter = { ...q, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined };
  const { entries, more } = await readAuditPage(db, f, { order: "oldest", after: q.cursor ? Number(q.cursor) : undefined, limit: q.limit }, viewer);
  return { entries: entries.map(auditEntryToJson), nextCursor: more ? String(entries[entries.length - 1].seq) : null };
}
