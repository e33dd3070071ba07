/**
 * Four-eyes sealing, the one place that decides what of a first verdict a
 * viewer may read (who may: `seesSealedVerdict` in review/four-eyes.ts).
 *
 * A pair is sealed while its second task is open or claimed: that task exists
 * only after a first-of-two verdict, names the first reviewer (excludedUserId),
 * and is done once the second verdict is in (the decision is then final, or
 * escalated to the type owner with both verdicts on the record). While sealed,
 * hidden from the viewer are: the first verdict in the decision's reviews, the
 * `review.*` audit entries on the decision, every audit entry on its first
 * review task (claims, releases and expiries name who held it) and who claimed
 * that task. Every reader (decision API, decision page, audit page, audit API,
 * audit CSV) goes through this module.
 */
import { inArray, sql, type SQL } from "drizzle-orm";
import { sqlAll, type DbOrTx } from "@db/client.server";
import { auditLog } from "@db/schema/index";
import type { Principal } from "../auth/permissions";
import { NO_VIEWER, SEALED_LABEL, seesEverySealedVerdict, type SealViewer } from "../review/four-eyes";

export { NO_VIEWER, SEALED_LABEL, type SealViewer };

/** The viewer a principal is: a session's user, or the user a key is tied to; a key of nobody sees nothing sealed. */
export function viewerOf(p: Pick<Principal, "user"> | null | undefined): SealViewer {
  return p?.user ? { userId: p.user.id, role: p.user.role } : NO_VIEWER;
}

/**
 * The rule, as SQL over a `tasks` row aliased `s`: a second task still waiting,
 * whose first verdict this viewer may not read. Every query below asks it of
 * the decision in question through tasks_decision_idx, never of all open tasks.
 */
function waitingSecondTask(viewer: SealViewer): SQL {
  const notFirst = viewer.userId === null ? sql`` : sql` and s.excluded_user_id <> ${viewer.userId}`;
  return sql`s.kind = 'second' and s.status in ('open', 'claimed')${notFirst}`;
}

/** Of these decisions, those whose four-eyes pair is sealed for this viewer. */
export async function sealedDecisions(db: DbOrTx, viewer: SealViewer, decisionIds: string[]): Promise<Set<string>> {
  if (seesEverySealedVerdict(viewer) || decisionIds.length === 0) return new Set();
  const rows = await sqlAll<{ id: string }>(
    db,
    sql`select s.decision_id as id from tasks s where s.decision_id in (${sql.join(
      decisionIds.map((id) => sql`${id}`),
      sql`, `,
    )}) and ${waitingSecondTask(viewer)}`,
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Whether an audit_log row is sealed for this viewer (SQL, over `audit_log`):
 * a verdict entry on a sealed decision, or any entry on its first review task.
 */
export function sealedAuditEntry(viewer: SealViewer): SQL {
  if (seesEverySealedVerdict(viewer)) return sql`(1 = 0)`;
  const waiting = waitingSecondTask(viewer);
  return sql`((${auditLog.entityType} = 'decision' and ${auditLog.action} like 'review.%'
      and exists (select 1 from tasks s where s.decision_id = ${auditLog.entityId} and ${waiting}))
    or (${auditLog.entityType} = 'task'
      and exists (select 1 from tasks f join tasks s on s.decision_id = f.decision_id where f.id = ${auditLog.entityId} and f.kind = 'review' and ${waiting})))`;
}

/** Of these audit entries (by seq), those sealed for this viewer. */
export async function sealedAuditSeqs(db: DbOrTx, viewer: SealViewer, seqs: number[]): Promise<Set<number>> {
  if (seesEverySealedVerdict(viewer) || seqs.length === 0) return new Set();
  const rows = await db
    .select({ seq: auditLog.seq })
    .from(auditLog)
    .where(sql`${inArray(auditLog.seq, seqs)} and ${sealedAuditEntry(viewer)}`);
  return new Set(rows.map((r) => r.seq));
}

/**
 * An audit entry as shown while sealed: when and about what, nothing of who or
 * which verdict. The hash goes too: with the actor, action and data guessable
 * from a handful of values, it would let anyone test guesses against it.
 */
export function redactedAuditEntry<T extends { seq: number; at: number; entityType: string; entityId: string }>(row: T) {
  return {
    seq: row.seq,
    at: row.at,
    actor: null,
    action: "sealed",
    entityType: row.entityType,
    entityId: row.entityId,
    data: null,
    hash: null,
    sealed: true,
  };
}
