/**
 * Queue membership: who may work which decision type's queue. A type with
 * members is worked by its members only; a type without members stays open to
 * every reviewer. A task assigned to someone is theirs whatever the membership
 * (escalations are assigned to the type's owner, who always may work them).
 *
 * Everything that offers or accepts work asks the same rule: excludedTypes()
 * (one small prepared query, once per page or view claim) gives the types a
 * reviewer may not work and queueScope() the condition on tasks that keeps them
 * out; the head claim reads the same rule inside its own statement
 * (inReviewerQueuesOf); queueRefusal()/requireQueueMember() answer 403 for one
 * task of another queue.
 *
 * Membership is changed from either side, always as a whole set: a type's
 * members (PUT /api/v1/decision-types/:key/members, the type's admin page) or a
 * user's queues (the users page); each change is one transaction and one audit
 * entry.
 */
import { and, asc, eq, inArray, isNull, notInArray, or, sql, type Placeholder, type SQL, type SQLWrapper } from "drizzle-orm";
import { z } from "zod";
import { preparedQuery, transaction, type Db, type DbOrTx } from "@db/client.server";
import { forUpdate } from "@db/sql";
import { decisionTypes, tasks, typeMembers, users } from "@db/schema/index";
import { AppError, forbidden, invalid, notFound, zodIssues, type Issue } from "~/lib/errors";
import { appendAudit } from "../audit/audit.server";
import { ROLE_PERMISSIONS, ROLES, type Role } from "../auth/permissions";

/** At most this many members per type, or queues per user, in one request. */
const MAX_SET = 1000;

/** The body of PUT /api/v1/decision-types/:key/members: the whole set of members, by email. */
export const membersBodySchema = z
  .object({
    members: z
      .array(z.email().transform((e) => e.toLowerCase()))
      .max(MAX_SET)
      .describe("Every member's email; an empty list opens the queue to every reviewer again"),
  })
  .strict();

/** What GET and PUT /api/v1/decision-types/:key/members answer. */
export const membersAnswerSchema = z
  .object({
    members: z.array(z.object({ email: z.string(), name: z.string() })).describe("The type's members, by email; empty: open to every reviewer"),
  })
  .meta({ id: "QueueMembers" });

export type Member = { email: string; name: string };

/** People who may work a queue at all: an enabled user whose role reviews tasks. */
export function reviewerCapable(u: { role: Role | null; disabledAt: number | null }): boolean {
  return u.disabledAt === null && u.role !== null && ROLE_PERMISSIONS[u.role].has("tasks:review");
}

function whyNotMember(u: { role: Role | null; disabledAt: number | null }): string | null {
  if (u.disabledAt !== null) return "is disabled";
  if (u.role === null) return "is pending (has no role yet)";
  if (!ROLE_PERMISSIONS[u.role].has("tasks:review")) return `is ${u.role === "auditor" ? "an" : "a"} ${u.role}, who does not review tasks`;
  return null;
}

// ------------------------------------------------------------------ the rule, for claims and pages

/** The types that have members, the user not among them (a query of their keys). */
function closedTo(db: DbOrTx, user: string | Placeholder) {
  return db
    .select({ typeKey: typeMembers.typeKey })
    .from(typeMembers)
    .groupBy(typeMembers.typeKey)
    .having(sql`max(case when ${typeMembers.userId} = ${user} then 1 else 0 end) = 0`);
}

/** closedTo, asked once per claim (or page), so it is prepared once. */
const excludedQuery = preparedQuery("queue_types_excluded", (db) => closedTo(db, sql.placeholder("user")));

/** The decision types whose queues this user may not work (types with members, the user not one of them). */
export async function excludedTypes(db: DbOrTx, userId: string): Promise<string[]> {
  return (await excludedQuery(db, { user: userId })).map((r) => r.typeKey);
}

/** The rule as a condition on tasks: "in a queue the reviewer works (not of a `closed` type), or assigned to them". */
function inReviewerQueues(reviewer: { id: string | Placeholder }, closed: string[] | SQLWrapper): SQL {
  return or(notInArray(tasks.typeKey, closed), eq(tasks.assigneeId, reviewer.id))!;
}

/**
 * inReviewerQueues with the membership read inside the condition (a subquery the database runs once per statement):
 * for a statement that must not wait for a read of its own first (the head claim, one round trip with its lease).
 */
export function inReviewerQueuesOf(db: DbOrTx, reviewer: { id: string | Placeholder }): SQL {
  return inReviewerQueues(reviewer, closedTo(db, reviewer.id));
}

/** What one claim or page asks once: the types closed to the reviewer, and the condition that keeps their tasks out. */
export type QueueScope = { excluded: string[]; where: SQL[] };

export async function queueScope(db: DbOrTx, reviewer: { id: string }): Promise<QueueScope> {
  const excluded = await excludedTypes(db, reviewer.id);
  // No queue closed to them (nearly everyone): no condition, so the query is exactly what it was before membership existed.
  return { excluded, where: excluded.length ? [inReviewerQueues(reviewer, excluded)] : [] };
}

/** The 403 for a task of a queue the reviewer is not a member of (null when they may work it). */
export async function queueRefusal(
  db: DbOrTx,
  reviewer: { id: string },
  task: { typeKey: string; assigneeId: string | null },
  excluded?: readonly string[],
): Promise<AppError | null> {
  if (task.assigneeId === reviewer.id) return null;
  const closed = excluded ?? (await excludedTypes(db, reviewer.id));
  if (!closed.includes(task.typeKey)) return null;
  const type = (await db.select({ name: decisionTypes.name }).from(decisionTypes).where(eq(decisionTypes.key, task.typeKey)).limit(1))[0];
  return forbidden(`You are not a member of the ${type?.name ?? task.typeKey} queue`);
}

/** Throws the 403 of queueRefusal. */
export async function requireQueueMember(db: DbOrTx, reviewer: { id: string }, task: { typeKey: string; assigneeId: string | null }): Promise<void> {
  const refused = await queueRefusal(db, reviewer, task);
  if (refused) throw refused;
}

/** The keys of the types a user may work, out of `typeKeys` (types without members are open to all). */
export async function workableTypes(db: DbOrTx, userId: string, typeKeys: readonly string[]): Promise<string[]> {
  const excluded = new Set(await excludedTypes(db, userId));
  return typeKeys.filter((k) => !excluded.has(k));
}

// ------------------------------------------------------------------ reading

/** A type's members, by email (404 for an unknown type). */
export async function listMembers(db: DbOrTx, typeKey: string): Promise<Member[]> {
  await requireType(db, typeKey);
  return membersOf(db, typeKey);
}

async function membersOf(db: DbOrTx, typeKey: string): Promise<Member[]> {
  return await db
    .select({ email: users.email, name: users.name })
    .from(typeMembers)
    .innerJoin(users, eq(users.id, typeMembers.userId))
    .where(eq(typeMembers.typeKey, typeKey))
    .orderBy(asc(users.email));
}

/** Every membership: user id → the keys of the types they are a member of (the users page). */
export async function queuesByUser(db: DbOrTx): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const r of await db.select({ userId: typeMembers.userId, typeKey: typeMembers.typeKey }).from(typeMembers).orderBy(asc(typeMembers.typeKey))) {
    const list = out.get(r.userId);
    if (list) list.push(r.typeKey);
    else out.set(r.userId, [r.typeKey]);
  }
  return out;
}

/** How many members each type has (types without a row have none: open to every reviewer). */
export async function memberCounts(db: DbOrTx): Promise<Map<string, number>> {
  const rows = await db
    .select({ typeKey: typeMembers.typeKey, n: sql<number>`count(*)` })
    .from(typeMembers)
    .groupBy(typeMembers.typeKey);
  return new Map(rows.map((r) => [r.typeKey, Number(r.n)]));
}

/** The type (404 if none); `lock`: its row locked until the transaction ends, so changes to its members take turns. */
async function requireType(db: DbOrTx, typeKey: string, lock = false): Promise<{ key: string; name: string }> {
  const q = db.select({ key: decisionTypes.key, name: decisionTypes.name }).from(decisionTypes).where(eq(decisionTypes.key, typeKey)).limit(1);
  const t = (await (lock ? forUpdate(db, q) : q))[0];
  if (!t) throw notFound(`Decision type "${typeKey}" not found`);
  return t;
}

// ------------------------------------------------------------------ changing

/**
 * Replaces a type's members with the emails in `input` ({"members": [...]}). Every email must name an enabled user
 * whose role reviews tasks; otherwise 400 naming `members.N`, and nothing changes. One transaction, one audit entry
 * (none when the set is unchanged).
 */
export async function setMembers(db: Db, typeKey: string, input: unknown, actor: string, now = Date.now()): Promise<Member[]> {
  const parsed = membersBodySchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid members", zodIssues(parsed.error));
  const emails = parsed.data.members;
  return transaction(db, async (tx) => {
    const type = await requireType(tx, typeKey, true);
    const found = emails.length
      ? await tx
          .select({ id: users.id, email: users.email, role: users.role, disabledAt: users.disabledAt })
          .from(users)
          .where(inArray(users.email, [...new Set(emails)]))
      : [];
    const byEmail = new Map(found.map((u) => [u.email, u]));
    const issues: Issue[] = [];
    emails.forEach((email, i) => {
      const u = byEmail.get(email);
      const why = u ? whyNotMember(u) : `no user with email ${email}`;
      if (why) issues.push({ path: `members.${i}`, message: u ? `${email} ${why}` : why });
    });
    if (issues.length) throw invalid("Invalid members", issues);
    const current = await tx
      .select({ userId: typeMembers.userId, email: users.email })
      .from(typeMembers)
      .innerJoin(users, eq(users.id, typeMembers.userId))
      .where(eq(typeMembers.typeKey, typeKey));
    const want = new Set(emails);
    const had = new Set(current.map((c) => c.email));
    const removed = current.filter((c) => !want.has(c.email));
    const added = [...want].filter((e) => !had.has(e)).map((e) => byEmail.get(e)!);
    if (removed.length || added.length) {
      if (removed.length)
        await tx.delete(typeMembers).where(
          and(
            eq(typeMembers.typeKey, typeKey),
            inArray(
              typeMembers.userId,
              removed.map((r) => r.userId),
            ),
          ),
        );
      // A change from the user's side (setUserQueues) may have added the same row meanwhile: it is there either way.
      if (added.length)
        await tx
          .insert(typeMembers)
          .values(added.map((u) => ({ typeKey, userId: u.id, addedAt: now })))
          .onConflictDoNothing();
      await appendAudit(tx, {
        actor,
        action: "decision_type.members_changed",
        entityType: "decision_type",
        entityId: type.key,
        data: { added: added.map((u) => u.email).sort(), removed: removed.map((r) => r.email).sort(), members: [...want].sort() },
        at: now,
      });
    }
    return membersOf(tx, typeKey);
  });
}

/** The form of a user's queues: the type keys they are a member of. */
export const userQueuesSchema = z.object({ queues: z.array(z.string().min(1).max(64)).max(MAX_SET) }).strict();

/**
 * Replaces the queues a user is a member of with the type keys in `input` ({"queues": [...]}): 400 naming `queues.N`
 * for an unknown type, `user` when the user cannot review. One transaction, one audit entry (none when unchanged).
 */
export async function setUserQueues(db: Db, userId: string, input: unknown, actor: string, now = Date.now()): Promise<{ email: string; queues: string[] }> {
  const parsed = userQueuesSchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid queues", zodIssues(parsed.error));
  const keys = [...new Set(parsed.data.queues)];
  return transaction(db, async (tx) => {
    const user = (await forUpdate(tx, tx.select().from(users).where(eq(users.id, userId)).limit(1)))[0];
    if (!user) throw notFound(`User ${userId} not found`);
    const known = new Set(
      keys.length ? (await tx.select({ key: decisionTypes.key }).from(decisionTypes).where(inArray(decisionTypes.key, keys))).map((t) => t.key) : [],
    );
    const issues: Issue[] = [];
    parsed.data.queues.forEach((k, i) => {
      if (!known.has(k)) issues.push({ path: `queues.${i}`, message: `no decision type with key ${k}` });
    });
    const why = whyNotMember(user);
    if (why && keys.length) issues.push({ path: "user", message: `${user.email} ${why}` });
    if (issues.length) throw invalid("Invalid queues", issues);
    const current = (await tx.select({ typeKey: typeMembers.typeKey }).from(typeMembers).where(eq(typeMembers.userId, userId))).map((r) => r.typeKey);
    const removed = current.filter((k) => !known.has(k));
    const added = keys.filter((k) => !current.includes(k));
    if (removed.length || added.length) {
      if (removed.length) await tx.delete(typeMembers).where(and(eq(typeMembers.userId, userId), inArray(typeMembers.typeKey, removed)));
      if (added.length)
        await tx
          .insert(typeMembers)
          .values(added.map((typeKey) => ({ typeKey, userId, addedAt: now })))
          .onConflictDoNothing();
      await appendAudit(tx, {
        actor,
        action: "user.queues_changed",
        entityType: "user",
        entityId: userId,
        data: { email: user.email, added: [...added].sort(), removed: [...removed].sort(), queues: [...keys].sort() },
        at: now,
      });
    }
    return { email: user.email, queues: [...keys].sort() };
  });
}

// ------------------------------------------------------------------ automatic assignment

/** Roles whose people review tasks (and so may be assigned them). */
const REVIEWING_ROLES = ROLES.filter((r) => ROLE_PERMISSIONS[r].has("tasks:review"));

export type Assignee = { id: string; email: string };

/**
 * For types with automatic assignment (decision_types.auto_assign): hands each new review task to the type's member
 * (enabled, with a reviewing role) with the fewest open assigned tasks, ties by email, counting the tasks handed out
 * by this picker too. One query for a whole ingest batch, however many tasks it assigns; null for a type without
 * members (its tasks stay in the shared queue).
 */
export async function autoAssigner(db: DbOrTx, typeKeys: readonly string[]): Promise<(typeKey: string) => Assignee | null> {
  const rows = typeKeys.length
    ? await db
        .select({
          typeKey: typeMembers.typeKey,
          id: users.id,
          email: users.email,
          // Index-only on tasks_assignee_idx (assignee_id, status, ...).
          open: sql<number>`(select count(*) from ${tasks} where ${tasks.assigneeId} = ${users.id} and ${tasks.status} in ('open', 'claimed'))`,
        })
        .from(typeMembers)
        .innerJoin(users, eq(users.id, typeMembers.userId))
        .where(and(inArray(typeMembers.typeKey, [...typeKeys]), isNull(users.disabledAt), inArray(users.role, REVIEWING_ROLES)))
    : [];
  const load = new Map<string, number>();
  const byType = new Map<string, Assignee[]>();
  for (const r of rows) {
    load.set(r.id, Number(r.open));
    const list = byType.get(r.typeKey);
    if (list) list.push({ id: r.id, email: r.email });
    else byType.set(r.typeKey, [{ id: r.id, email: r.email }]);
  }
  return (typeKey) => {
    const members = byType.get(typeKey);
    if (!members?.length) return null;
    let best = members[0];
    for (const m of members) {
      const [a, b] = [load.get(m.id)!, load.get(best.id)!];
      if (a < b || (a === b && m.email < best.email)) best = m;
    }
    load.set(best.id, load.get(best.id)! + 1);
    return best;
  };
}
