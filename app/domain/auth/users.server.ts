/**
 * People and their credentials: users with scrypt-hashed passwords, API keys
 * stored as SHA-256 hashes (shown once at creation), server-side sessions.
 */
import crypto from "node:crypto";
import { and, desc, eq, gt, isNull, lt, ne, or, sql } from "drizzle-orm";
import { z } from "zod";
import { preparedQuery, transaction, type Db, type DbOrTx } from "@db/client.server";
import { configCached } from "@db/config-cache.server";
import { apiKeys, sessions, users } from "@db/schema/index";
import { newId, randomToken, sha256 } from "~/lib/crypto.server";
import { conflict, invalid, notFound, zodIssues } from "~/lib/errors";
import { DAY } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { returnAssignedTasks } from "../teams/assignment.server";
import { keyPermissions, ROLES, SCOPES, type Principal, type Role, type Scope, ROLE_PERMISSIONS } from "./permissions";

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

export function hashPassword(password: string): string {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export function verifyPassword(password: string, stored: string): boolean {
  const [alg, N, r, p, salt, hash] = stored.split("$");
  if (alg !== "scrypt" || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = crypto.scryptSync(password, Buffer.from(salt, "base64"), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(actual, expected);
}

export const createUserSchema = z
  .object({
    email: z.email().transform((e) => e.toLowerCase()),
    name: z.string().min(1).max(200).optional(),
    role: z.enum(ROLES),
    password: z.string().min(12, "passwords have at least 12 characters").max(200).optional(),
  })
  .strict();

export type UserRow = typeof users.$inferSelect;
/** A user an admin (or the identity provider's role claim) has given a role; pending users have none. */
export type RoledUserRow = UserRow & { role: Role };

export function hasRole(u: UserRow): u is RoledUserRow {
  return u.role !== null;
}

export async function createUser(db: Db, input: unknown, actor: string, now = Date.now()): Promise<{ user: RoledUserRow; password: string }> {
  const parsed = createUserSchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid user", zodIssues(parsed.error));
  const { email, role } = parsed.data;
  const password = parsed.data.password ?? randomToken(12);
  return transaction(db, async (tx) => {
    if ((await tx.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1))[0]) {
      throw conflict(`A user with email ${email} already exists`, [{ path: "email", message: "already exists" }]);
    }
    const user: RoledUserRow = {
      id: newId("usr", now),
      email,
      name: parsed.data.name ?? email.split("@")[0],
      role,
      passwordHash: hashPassword(password),
      createdAt: now,
      disabledAt: null,
    };
    await tx.insert(users).values(user);
    await appendAudit(tx, { actor, action: "user.created", entityType: "user", entityId: user.id, data: { email, role }, at: now });
    return { user, password };
  });
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.email, email.toLowerCase())).limit(1))[0];
}

export async function listUsers(db: DbOrTx): Promise<UserRow[]> {
  return await db.select().from(users).orderBy(users.email);
}

/** People who can act (enabled, with a role): the choices for a type's owner or a key's user. */
export async function listActiveUsers(db: DbOrTx): Promise<RoledUserRow[]> {
  return (await listUsers(db)).filter((u): u is RoledUserRow => !u.disabledAt && hasRole(u));
}

export async function authenticate(db: DbOrTx, email: string, password: string): Promise<UserRow | null> {
  const user = await findUserByEmail(db, email);
  // Hash anyway when the user is unknown (or signs in only through SSO) so timing does not reveal which emails exist.
  const ok = verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  return user && user.passwordHash && ok && !user.disabledAt ? user : null;
}
const DUMMY_HASH = hashPassword("not-a-real-password");

// ---- sessions ----
export const SESSION_TTL_MS = 7 * DAY;

export async function createSession(db: Db, user: UserRow, now = Date.now()): Promise<string> {
  const token = randomToken(32);
  await transaction(db, async (tx) => {
    await tx.insert(sessions).values({ id: sha256(token), userId: user.id, createdAt: now, expiresAt: now + SESSION_TTL_MS });
    await appendAudit(tx, { actor: user.email, action: "session.created", entityType: "user", entityId: user.id, at: now });
  });
  return token;
}

export async function userForSession(db: DbOrTx, token: string, now = Date.now()): Promise<UserRow | null> {
  const row = (
    await db
      .select({ u: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, sha256(token)), gt(sessions.expiresAt, now), isNull(users.disabledAt)))
      .limit(1)
  )[0];
  return row?.u ?? null;
}

export async function deleteSession(db: DbOrTx, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, sha256(token)));
}

export function userPrincipal(u: RoledUserRow): Principal {
  return { kind: "user", user: { id: u.id, email: u.email, name: u.name, role: u.role }, actor: u.email, permissions: ROLE_PERMISSIONS[u.role] };
}

// ---- API keys ----
export const createApiKeySchema = z
  .object({
    name: z.string().min(1).max(200),
    scopes: z.array(z.enum(SCOPES)).min(1),
    user: z.email().optional(),
    /** When the key stops working: a date (YYYY-MM-DD, midnight UTC) or an ISO date-time. */
    expiresAt: z
      .string()
      .trim()
      .optional()
      .transform((v, ctx) => {
        if (!v) return undefined;
        const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
        const ms = dateOnly ? Date.parse(`${v}T00:00:00Z`) : z.iso.datetime({ offset: true }).safeParse(v).success ? Date.parse(v) : NaN;
        // Date.parse rolls 2027-02-30 over into March; a date that does not exist is refused instead.
        if (!Number.isFinite(ms) || (dateOnly && new Date(ms).toISOString().slice(0, 10) !== v)) {
          ctx.addIssue({ code: "custom", message: "expected a date (YYYY-MM-DD) or an ISO date-time such as 2027-01-31T18:00:00Z" });
          return z.NEVER;
        }
        return ms;
      }),
  })
  .strict();

export async function createApiKey(db: Db, input: unknown, actor: string, now = Date.now()): Promise<{ key: string; id: string; expiresAt: number | null }> {
  const parsed = createApiKeySchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid API key", zodIssues(parsed.error));
  const expiresAt = parsed.data.expiresAt ?? null;
  if (expiresAt !== null && expiresAt <= now) throw invalid("Invalid API key", [{ path: "expiresAt", message: "must be in the future" }]);
  return transaction(db, async (tx) => {
    let userId: string | null = null;
    if (parsed.data.user) {
      const u = await findUserByEmail(tx, parsed.data.user);
      if (!u) throw invalid("Invalid API key", [{ path: "user", message: `no user with email ${parsed.data.user}` }]);
      userId = u.id;
    }
    const secret = randomToken(24);
    const prefix = secret.slice(0, 6);
    const key = `lm_${secret}`;
    const id = newId("key", now);
    await tx
      .insert(apiKeys)
      .values({ id, name: parsed.data.name, prefix, keyHash: sha256(key), scopes: [...new Set(parsed.data.scopes)], userId, createdAt: now, expiresAt });
    await appendAudit(tx, {
      actor,
      action: "apikey.created",
      entityType: "apikey",
      entityId: id,
      data: { name: parsed.data.name, scopes: parsed.data.scopes, userId, expiresAt },
      at: now,
    });
    return { key, id, expiresAt };
  });
}

/** A live key and its user by the key's hash: every API request asks it, so it is prepared once. */
const keyByHash = preparedQuery("api_key_by_hash", (db) =>
  db
    .select({ k: apiKeys, u: users })
    .from(apiKeys)
    .leftJoin(users, eq(users.id, apiKeys.userId))
    .where(and(eq(apiKeys.keyHash, sql.placeholder("hash")), isNull(apiKeys.revokedAt)))
    .limit(1),
);

type FoundKey = { id: string; name: string; lastUsedAt: number | null; expiresAt: number | null; principal: Principal };

/** A live key by its hash, with the principal it acts as; null when unknown or revoked, or its user is disabled or pending. */
const keyByHashCached = configCached(async (db: DbOrTx, hash: string): Promise<FoundKey | null> => {
  const row = (await keyByHash(db, { hash }))[0];
  if (!row) return null;
  // A pending user's keys act for nobody until an admin gives the user a role.
  if (row.u?.disabledAt || (row.u && !row.u.role)) return null;
  const user = row.u ? { id: row.u.id, email: row.u.email, name: row.u.name, role: row.u.role as Role } : null;
  return {
    id: row.k.id,
    name: row.k.name,
    lastUsedAt: row.k.lastUsedAt,
    expiresAt: row.k.expiresAt,
    principal: {
      kind: "apikey",
      user,
      actor: user ? `${user.email} (key ${row.k.name})` : `apikey:${row.k.name}`,
      permissions: keyPermissions(row.k.scopes as Scope[], user?.role ?? null),
    },
  };
});

/**
 * The key's row id, last use and expiry, with the principal it acts as; null when unknown, revoked
 * or its user is disabled. An expired key is returned (with expiresAt) so the caller can say so.
 * Kept by this process between requests while the store's config epoch stands (config-cache.server.ts).
 */
export async function lookupApiKey(db: DbOrTx, key: string): Promise<FoundKey | null> {
  if (!key.startsWith("lm_") || key.length > 200) return null;
  return keyByHashCached(db, sha256(key));
}

export function isExpired(key: { expiresAt: number | null }, now = Date.now()): boolean {
  return key.expiresAt !== null && key.expiresAt <= now;
}

/** How stale `last_used_at` may get: recording every request would turn each read into a write. */
export const KEY_USE_RESOLUTION_MS = 60_000;

/**
 * Records that a key was used, at most once per KEY_USE_RESOLUTION_MS: the caller passes the
 * value it already read, so a fresh key costs no write at all. Bookkeeping, not a state change: no audit entry.
 */
export async function touchApiKey(db: DbOrTx, key: { id: string; lastUsedAt: number | null }, now = Date.now()): Promise<boolean> {
  if (key.lastUsedAt !== null && now - key.lastUsedAt < KEY_USE_RESOLUTION_MS) return false;
  // The key as this process keeps it (lookupApiKey) now knows its last use, so its next requests do not write again.
  key.lastUsedAt = now;
  const res = await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, key.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - KEY_USE_RESOLUTION_MS + 1))))
    .returning({ id: apiKeys.id });
  return res.length > 0;
}

export type ApiKeySummary = {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  user: string | null;
  /** The key's user is disabled, so the key is refused although not revoked. */
  userDisabled: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  expiresAt: number | null;
};

/** Every key, newest first, without its hash. */
export async function listApiKeys(db: DbOrTx): Promise<ApiKeySummary[]> {
  return (
    await db
      .select({
        id: apiKeys.id,
        name: apiKeys.name,
        prefix: apiKeys.prefix,
        scopes: apiKeys.scopes,
        user: users.email,
        userDisabledAt: users.disabledAt,
        createdAt: apiKeys.createdAt,
        lastUsedAt: apiKeys.lastUsedAt,
        revokedAt: apiKeys.revokedAt,
        expiresAt: apiKeys.expiresAt,
      })
      .from(apiKeys)
      .leftJoin(users, eq(users.id, apiKeys.userId))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
  ).map(({ userDisabledAt, ...k }) => ({ ...k, userDisabled: userDisabledAt != null }));
}

export async function revokeApiKey(db: Db, id: string, actor: string, now = Date.now()): Promise<{ name: string }> {
  return transaction(db, async (tx) => {
    const row = (
      await tx
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ name: apiKeys.name })
    )[0];
    if (!row) throw notFound(`API key ${id} not found`);
    await appendAudit(tx, { actor, action: "apikey.revoked", entityType: "apikey", entityId: id, at: now });
    return row;
  });
}

// ---- disabling people ----

/**
 * Disables a user: they can no longer sign in, their sessions end at once and
 * their API keys stop working. Refused for oneself and for the last active admin,
 * so an instance can never lock out its administrators.
 */
export async function disableUser(db: Db, id: string, actor: { id: string; email: string }, now = Date.now()): Promise<UserRow> {
  return transaction(db, async (tx) => {
    const user = (await tx.select().from(users).where(eq(users.id, id)).limit(1))[0];
    if (!user) throw notFound(`User ${id} not found`);
    if (user.disabledAt) throw conflict(`${user.email} is already disabled`);
    if (user.id === actor.id) throw conflict("You cannot disable your own account");
    if (user.role === "admin") {
      const other = (
        await tx
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.role, "admin"), isNull(users.disabledAt), ne(users.id, user.id)))
          .limit(1)
      )[0];
      if (!other) throw conflict("This is the last active admin; make someone else admin first");
    }
    await tx.update(users).set({ disabledAt: now }).where(eq(users.id, id));
    const ended = (await tx.delete(sessions).where(eq(sessions.userId, id)).returning({ id: sessions.id })).length;
    await appendAudit(tx, {
      actor: actor.email,
      action: "user.disabled",
      entityType: "user",
      entityId: id,
      data: { email: user.email, sessionsEnded: ended },
      at: now,
    });
    // Work assigned to them goes back to the shared queue with them (teams/assignment.server.ts).
    await returnAssignedTasks(tx, user, { actor: actor.email, now, reason: "user disabled" });
    return { ...user, disabledAt: now };
  });
}

/** Signs a user out everywhere: every session of theirs ends now (their API keys are untouched). */
export async function endUserSessions(db: Db, id: string, actor: string, now = Date.now()): Promise<{ user: UserRow; ended: number }> {
  return transaction(db, async (tx) => {
    const user = (await tx.select().from(users).where(eq(users.id, id)).limit(1))[0];
    if (!user) throw notFound(`User ${id} not found`);
    const ended = (await tx.delete(sessions).where(eq(sessions.userId, id)).returning({ id: sessions.id })).length;
    await appendAudit(tx, {
      actor,
      action: "user.sessions_ended",
      entityType: "user",
      entityId: id,
      data: { email: user.email, sessionsEnded: ended },
      at: now,
    });
    return { user, ended };
  });
}

/** Unexpired sessions per user id, for the users page. */
export async function activeSessionCounts(db: DbOrTx, now = Date.now()): Promise<Map<string, number>> {
  const rows = await db
    .select({ userId: sessions.userId, n: sql<number>`count(*)` })
    .from(sessions)
    .where(gt(sessions.expiresAt, now))
    .groupBy(sessions.userId);
  return new Map(rows.map((r) => [r.userId, r.n]));
}

/** Lets a disabled user sign in again (their old sessions stay gone). */
export async function enableUser(db: Db, id: string, actor: string, now = Date.now()): Promise<UserRow> {
  return transaction(db, async (tx) => {
    const user = (await tx.select().from(users).where(eq(users.id, id)).limit(1))[0];
    if (!user) throw notFound(`User ${id} not found`);
    if (!user.disabledAt) throw conflict(`${user.email} is not disabled`);
    await tx.update(users).set({ disabledAt: null }).where(eq(users.id, id));
    await appendAudit(tx, { actor, action: "user.enabled", entityType: "user", entityId: id, data: { email: user.email }, at: now });
    return { ...user, disabledAt: null };
  });
}

// ---- roles ----

/**
 * Gives a user a role: how a pending SSO user gets access, or how an admin changes someone's role.
 * Refused when it would leave the instance without an active admin.
 */
export async function setUserRole(db: Db, id: string, role: Role, actor: string, now = Date.now()): Promise<UserRow> {
  return transaction(db, async (tx) => {
    const user = (await tx.select().from(users).where(eq(users.id, id)).limit(1))[0];
    if (!user) throw notFound(`User ${id} not found`);
    if (user.role === role) return user;
    if (user.role === "admin" && !user.disabledAt) {
      const other = (
        await tx
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.role, "admin"), isNull(users.disabledAt), ne(users.id, user.id)))
          .limit(1)
      )[0];
      if (!other) throw conflict("This is the last active admin; make someone else admin first");
    }
    await tx.update(users).set({ role }).where(eq(users.id, id));
    await appendAudit(tx, {
      actor,
      action: "user.role_changed",
      entityType: "user",
      entityId: id,
      data: { email: user.email, from: user.role, to: role },
      at: now,
    });
    // A role that no longer reviews hands its assigned tasks back to the shared queue.
    if (!ROLE_PERMISSIONS[role].has("tasks:review")) await returnAssignedTasks(tx, user, { actor, now, reason: `role changed to ${role}` });
    return { ...user, role };
  });
}
