/**
 * Reading the audit trail: a decision's entries (and its tasks'), and the latest entries with filters, newest first, paged by
 * sequence number so a page never shifts while new entries arrive.
 */
import { and, desc, eq, lt, sql, type SQL, type Column } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@db/client.server";
import { auditLog } from "@db/schema/index";
import { auditTrail, batchItems, BATCH_INGESTED } from "./audit.server";
import { invalid, zodIssues } from "~/lib/errors";

export type AuditRow = {
  seq: number;
  at: number;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  data: unknown;
  hash: string;
};

function toRow(r: typeof auditLog.$inferSelect): AuditRow {
  let data: unknown = r.data;
  try {
    data = JSON.parse(r.data);
  } catch {
    /* stored as text; show it as it is */
  }
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, entityType: r.entityType, entityId: r.entityId, data, hash: r.hash };
}

/**
 * A decision's whole trail, oldest first: its own entries (including the batch entry
 * that recorded its ingest, via `auditTrail`) and those of its tasks. A batch entry's
 * data is cut down to this decision's item, since it lists every decision in the batch.
 */
export function decisionAuditTrail(db: DbOrTx, decisionId: string, taskIds: string[]): AuditRow[] {
  const rows = [auditTrail(db, "decision", decisionId), ...taskIds.map((t) => auditTrail(db, "task", t))].flat().sort((a, b) => a.seq - b.seq);
  return rows.map((r) => {
    const row = toRow(r);
    if (r.action !== BATCH_INGESTED) return row;
    const items = batchItems(r);
    return { ...row, data: { batchSize: items.length, ...items.find((i) => i.id === decisionId) } };
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

export function parseAuditQuery(params: URLSearchParams, ignore: string[] = []): AuditQuery {
  const raw: Record<string, string> = {};
  for (const [k, v] of params) if (v.trim() !== "" && !ignore.includes(k)) raw[k] = v.trim();
  const parsed = auditQuerySchema.safeParse(raw);
  if (!parsed.success) throw invalid("Invalid audit filter", zodIssues(parsed.error));
  return parsed.data;
}

/** Latest entries matching the filters (action and actor match by prefix), newest first. */
export function listAuditEntries(db: DbOrTx, q: AuditQuery): { entries: AuditRow[]; nextBefore: number | null } {
  const where: SQL[] = [];
  if (q.action) where.push(startsWith(auditLog.action, q.action));
  if (q.actor) where.push(startsWith(auditLog.actor, q.actor));
  if (q.entityType) where.push(eq(auditLog.entityType, q.entityType));
  if (q.entityId) where.push(eq(auditLog.entityId, q.entityId));
  if (q.before) where.push(lt(auditLog.seq, q.before));
  const rows = db
    .select()
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.seq))
    .limit(q.limit + 1)
    .all();
  const page = rows.slice(0, q.limit).map(toRow);
  return { entries: page, nextBefore: rows.length > q.limit ? page[page.length - 1].seq : null };
}
