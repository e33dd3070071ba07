/**
 * What tests read back and arrange, on either store.
 *
 * Reads go through the domain's own read functions (tasks, decisions, the audit
 * trail, the outbox), so an assertion checks what the product shows, not how a
 * table is laid out. Arranging what no seam offers (an attacker who drops the
 * append-only triggers) goes through the store's own handle, for both dialects.
 */
import { eq, sql } from "drizzle-orm";
import { dialectOf, sqlRun, type Db, type DbOrTx } from "@db/client.server";
import { tasks } from "@db/schema/index";
import { allAuditEntries, type AuditFilter, type AuditRow } from "~/domain/audit/audit-read.server";
import { getDecisionRow } from "~/domain/decisions/decisions.server";
import { getTask, LEASE_WATCH_MS } from "~/domain/queue/queue.server";

/** A task as the domain reads it; throws when there is none. */
export async function taskRow(db: DbOrTx, taskId: string) {
  const t = await getTask(db, taskId);
  if (!t) throw new Error(`no task ${taskId}`);
  return t;
}

/** The external id of the decision a task is about. */
export async function externalIdOfTask(db: DbOrTx, taskId: string): Promise<string> {
  const t = await taskRow(db, taskId);
  const d = await getDecisionRow(db, t.decisionId);
  if (!d) throw new Error(`no decision ${t.decisionId}`);
  return d.externalId;
}

/**
 * Every audit entry matching the filter, oldest first (the audit reader's filter:
 * `action` and `actor` match by prefix; pass `exact` to keep only that action).
 */
export async function auditEntries(db: DbOrTx, f: AuditFilter & { exact?: boolean } = {}): Promise<AuditRow[]> {
  const { exact, ...filter } = f;
  const out: AuditRow[] = [];
  for await (const page of allAuditEntries(db, filter)) out.push(...page);
  out.reverse();
  return exact && f.action ? out.filter((e) => e.action === f.action) : out;
}

/** Someone with write access to the store: the append-only triggers are theirs to drop. */
export async function dropAuditTriggers(db: Db, which: ("update" | "delete")[] = ["update", "delete"]): Promise<void> {
  for (const w of which) {
    const name = `audit_log_no_${w}`;
    await sqlRun(db, sql.raw(dialectOf(db) === "postgres" ? `DROP TRIGGER ${name} ON audit_log` : `DROP TRIGGER ${name}`));
  }
}

/** An error's message and those of its causes (drizzle wraps a driver error: "Failed query: …", the driver's words in `cause`). */
export function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join("\n");
}

/** What a promise fails with (message and causes); a promise that succeeds fails the test. */
export async function failure(p: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return errorText(e);
  }
  throw new Error("expected a failure, but it succeeded");
}

/**
 * Makes every INSERT into `table` fail with `message` (a write path's late failure), on either store;
 * returns the undo. The servers sharing the store see it at their next statement.
 */
export async function failInserts(db: Db, table: string, message: string): Promise<() => Promise<void>> {
  const name = `fail_${table}_inserts`;
  const quoted = message.replace(/'/g, "''");
  if (dialectOf(db) === "postgres") {
    await sqlRun(db, sql.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${quoted}'; END $$`));
    await sqlRun(db, sql.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`));
    return async () => {
      await sqlRun(db, sql.raw(`DROP TRIGGER ${name} ON ${table}`));
      await sqlRun(db, sql.raw(`DROP FUNCTION ${name}()`));
    };
  }
  await sqlRun(db, sql.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, '${quoted}'); END`));
  return async () => sqlRun(db, sql.raw(`DROP TRIGGER ${name}`));
}

/**
 * Lets `ms` pass for one task's lease instead of sleeping through it: moves its expiry
 * back by `ms`, which is what the server's clock moving `ms` ahead would look like to it.
 * A lease changed by another writer (here: the test) reaches the server's claims within
 * LEASE_WATCH_MS (queue.server.ts), as one handed out by another app instance does: that
 * long is waited for.
 */
export async function ageLease(db: Db, taskId: string, ms: number): Promise<void> {
  const t = await taskRow(db, taskId);
  if (t.leaseExpiresAt == null) throw new Error(`task ${taskId} holds no lease`);
  await db
    .update(tasks)
    .set({ leaseExpiresAt: t.leaseExpiresAt - ms })
    .where(eq(tasks.id, taskId));
  await new Promise((r) => setTimeout(r, LEASE_WATCH_MS));
}
