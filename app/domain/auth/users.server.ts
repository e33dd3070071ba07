/**
 * People and their credentials: users with scrypt-hashed passwords, API keys
 * stored as SHA-256 hashes (shown once at creation), server-side sessions.
 */
import crypto from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { apiKeys, sessions, users } from "@db/schema/index";
import { newId, randomToken, sha256 } from "~/lib/crypto.server";
import { conflict, invalid, notFound, zodIssues } from "~/lib/errors";
import { DAY } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
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

export function createUser(db: Db, input: unknown, actor: string, now = Date.now()): { user: UserRow; password: string } {
  const parsed = createUserSchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid user", zodIssues(parsed.error));
  const { email, role } = parsed.data;
  const password = parsed.data.password ?? randomToken(12);
  return transaction(db, (tx) => {
    if (tx.select({ id: users.id }).from(users).where(eq(users.email, email)).get()) {
      throw conflict(`A user with email ${email} already exists`, [{ path: "email", message: "already exists" }]);
    }
    const user: UserRow = {
      id: newId("usr", now),
      email,
      name: parsed.data.name ?? email.split("@")[0],
      role,
      passwordHash: hashPassword(password),
      createdAt: now,
      disabledAt: null,
    };
    tx.insert(users).values(user).run();
    appendAudit(tx, { actor, action: "user.created", entityType: "user", entityId: user.id, data: { email, role }, at: now });
    return { user, password };
  });
}

export function findUserByEmail(db: DbOrTx, email: string): UserRow | undefined {
  return db.select().from(users).where(eq(users.email, email.toLowerCase())).get();
}

export function listUsers(db: DbOrTx): UserRow[] {
  return db.select().from(users).orderBy(users.email).all();
}

export function authenticate(db: DbOrTx, email: string, password: string): UserRow | null {
  const user = findUserByEmail(db, email);
  // Hash anyway when the user is unknown so timing does not reveal which emails exist.
  const ok = verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  return user && ok && !user.disabledAt ? user : null;
}
const DUMMY_HASH = hashPassword("not-a-real-password");

// ---- sessions ----
export const SESSION_TTL_MS = 7 * DAY;

export function createSession(db: Db, user: UserRow, now = Date.now()): string {
  const token = randomToken(32);
  transaction(db, (tx) => {
    tx.insert(sessions).values({ id: sha256(token), userId: user.id, createdAt: now, expiresAt: now + SESSION_TTL_MS }).run();
    appendAudit(tx, { actor: user.email, action: "session.created", entityType: "user", entityId: user.id, at: now });
  });
  return token;
}

export function userForSession(db: DbOrTx, token: string, now = Date.now()): UserRow | null {
  const row = db
    .select({ u: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sha256(token)), gt(sessions.expiresAt, now), isNull(users.disabledAt)))
    .get();
  return row?.u ?? null;
}

export function deleteSession(db: DbOrTx, token: string): void {
  db.delete(sessions).where(eq(sessions.id, sha256(token))).run();
}

export function userPrincipal(u: UserRow): Principal {
  return { kind: "user", user: { id: u.id, email: u.email, name: u.name, role: u.role }, actor: u.email, permissions: ROLE_PERMISSIONS[u.role] };
}

// ---- API keys ----
export const createApiKeySchema = z
  .object({
    name: z.string().min(1).max(200),
    scopes: z.array(z.enum(SCOPES)).min(1),
    user: z.email().optional(),
  })
  .strict();

export function createApiKey(db: Db, input: unknown, actor: string, now = Date.now()): { key: string; id: string } {
  const parsed = createApiKeySchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid API key", zodIssues(parsed.error));
  return transaction(db, (tx) => {
    let userId: string | null = null;
    if (parsed.data.user) {
      const u = findUserByEmail(tx, parsed.data.user);
      if (!u) throw invalid("Invalid API key", [{ path: "user", message: `no user with email ${parsed.data.user}` }]);
      userId = u.id;
    }
    const secret = randomToken(24);
    const prefix = secret.slice(0, 6);
    const key = `lm_${secret}`;
    const id = newId("key", now);
    tx.insert(apiKeys)
      .values({ id, name: parsed.data.name, prefix, keyHash: sha256(key), scopes: [...new Set(parsed.data.scopes)], userId, createdAt: now })
      .run();
    appendAudit(tx, { actor, action: "apikey.created", entityType: "apikey", entityId: id, data: { name: parsed.data.name, scopes: parsed.data.scopes, userId }, at: now });
    return { key, id };
  });
}

export function principalForApiKey(db: DbOrTx, key: string): Principal | null {
  if (!key.startsWith("lm_") || key.length > 200) return null;
  const row = db
    .select({ k: apiKeys, u: users })
    .from(apiKeys)
    .leftJoin(users, eq(users.id, apiKeys.userId))
    .where(and(eq(apiKeys.keyHash, sha256(key)), isNull(apiKeys.revokedAt)))
    .get();
  if (!row) return null;
  if (row.u?.disabledAt) return null;
  const user = row.u ? { id: row.u.id, email: row.u.email, name: row.u.name, role: row.u.role as Role } : null;
  return {
    kind: "apikey",
    user,
    actor: user ? `${user.email} (key ${row.k.name})` : `apikey:${row.k.name}`,
    permissions: keyPermissions(row.k.scopes as Scope[], user?.role ?? null),
  };
}

export function revokeApiKey(db: Db, id: string, actor: string, now = Date.now()): void {
  transaction(db, (tx) => {
    const res = tx.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).run();
    if (res.changes === 0) throw notFound(`API key ${id} not found`);
    appendAudit(tx, { actor, action: "apikey.revoked", entityType: "apikey", entityId: id, at: now });
  });
}
