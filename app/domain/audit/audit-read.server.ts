/**
 * Reading the audit trail: the entries about one or more entities (a decision
 * and its tasks), and the latest entries with filters, newest first, paged by
 * sequence number so a page never shifts while new entries arrive.
 */
import { and, desc, eq, inArray, lt, sql, type SQL, type Column } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@db/client.server";
import { auditLog } from "@db/schema/index";
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

/** Every entry about these entities, oldest first (bounded: a decision has a handful). */
export function auditForEntities(db: DbOrTx, entityIds: string[], limit = 1000): AuditRow[] {
  if (entityIds.length === 0) return [];
  return db
    .select()
    .from(auditLog)
    .where(inArray(auditLog.entityId, entityIds))
    .orderBy(auditLog.seq)
    .limit(limit)
    .all()
    .map(toRow);
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
