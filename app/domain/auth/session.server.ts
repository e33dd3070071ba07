/**
 * Who is asking. One function per surface, both ending in the same permission
 * check: `requireUser` for pages and form actions (session cookie), and
 * `requireApi` for /api routes (Bearer API key, or the browser session).
 * Both throw: a redirect to login, or a 401/403 with a clear message.
 */
import { instanceSecret } from "./secrets.server";
import { createCookie, redirect } from "@remix-run/node";
import { getDb, type Db } from "@db/client.server";
import { AppError } from "~/lib/errors";
import { errorFields, log, noteRequestUser } from "~/lib/log.server";
import { can, type Permission, type Principal } from "./permissions";
import {
  createSession,
  deleteSession,
  hasRole,
  isExpired,
  lookupApiKey,
  SESSION_TTL_MS,
  touchApiKey,
  userForSession,
  userPrincipal,
  type UserRow,
} from "./users.server";

/** Where a signed-in user without a role (pending, after a first SSO sign-in) is sent: no page or action is open to them. */
export const PENDING_PATH = "/pending";
export const PENDING_MESSAGE = "Your account is waiting for an administrator to give you a role.";

/** SESSION_SECRET from the environment, else one generated on first start and kept in the database. */
export async function sessionSecret(db: Db): Promise<string> {
  return process.env.SESSION_SECRET || instanceSecret(db, "session_secret");
}

let cookieCache: { secret: string; cookie: ReturnType<typeof createCookie> } | undefined;

async function sessionCookie() {
  const secret = await sessionSecret(getDb());
  if (!cookieCache || cookieCache.secret !== secret) {
    cookieCache = {
      secret,
      cookie: createCookie("lastmile_session", {
        httpOnly: true,
        sameSite: "lax",
        path: "/",
        // Secure by default; browsers treat http://localhost as secure. Set COOKIE_SECURE=false
        // only to reach a plain-http instance through another host name.
        secure: process.env.COOKIE_SECURE !== "false",
        secrets: [secret],
        maxAge: SESSION_TTL_MS / 1000,
      }),
    };
  }
  return cookieCache.cookie;
}

async function sessionToken(request: Request): Promise<string | null> {
  const value = await (await sessionCookie()).parse(request.headers.get("Cookie"));
  return typeof value === "string" ? value : null;
}

export async function getOptionalUser(request: Request): Promise<UserRow | null> {
  const token = await sessionToken(request);
  return token ? await userForSession(getDb(), token) : null;
}

/** For pages and form actions: the signed-in user holding `permission` (or one of a list), or a redirect/403. */
export async function requireUser(
  request: Request,
  permission?: Permission | readonly Permission[],
): Promise<Principal & { user: NonNullable<Principal["user"]> }> {
  const user = await getOptionalUser(request);
  if (!user) {
    const url = new URL(request.url);
    throw redirect(`/login?redirectTo=${encodeURIComponent(url.pathname + url.search)}`);
  }
  if (!hasRole(user)) throw redirect(PENDING_PATH);
  const principal = userPrincipal(user) as Principal & { user: NonNullable<Principal["user"]> };
  noteRequestUser(user.id);
  const anyOf: readonly Permission[] = permission === undefined ? [] : typeof permission === "string" ? [permission] : permission;
  if (anyOf.length > 0 && !anyOf.some((p) => can(principal, p))) {
    throw new Response(`Your role (${user.role}) does not allow this (${anyOf.join(" or ")}).`, { status: 403, statusText: "Forbidden" });
  }
  return principal;
}

/** For /api routes: a Bearer API key, or the browser's session; then the permission check. */
export async function requireApi(request: Request, permission: Permission): Promise<Principal> {
  const header = request.headers.get("Authorization");
  let principal: Principal | null = null;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new AppError("unauthenticated", "Authorization must be 'Bearer <API key>'");
    const db = getDb();
    const found = await lookupApiKey(db, m[1]);
    if (!found) throw new AppError("unauthenticated", "Unknown or revoked API key");
    if (isExpired(found))
      throw new AppError("unauthenticated", `API key ${found.name} expired on ${new Date(found.expiresAt!).toISOString()}; ask an admin for a new one`);
    // Bookkeeping, not part of the answer: not awaited, so a read never waits for the write lock for it
    // (another process may hold it for a while: an import, a backup).
    touchApiKey(db, found).catch((e: unknown) => log().warn({ ...errorFields(e), key: found.id }, "could not record the API key's last use"));
    principal = found.principal;
  } else {
    const user = await getOptionalUser(request);
    if (!user) throw new AppError("unauthenticated", "Send an API key as 'Authorization: Bearer <key>'");
    if (!hasRole(user)) throw new AppError("forbidden", PENDING_MESSAGE);
    principal = userPrincipal(user);
  }
  noteRequestUser(principal.user?.id);
  if (!can(principal, permission)) throw new AppError("forbidden", `This ${principal.kind === "apikey" ? "key's scopes" : "role"} do not allow ${permission}`);
  return principal;
}

/** The principal as a reviewer; review actions need a person behind them. */
export function asReviewer(p: Principal): { id: string; email: string } {
  if (!p.user) throw new AppError("forbidden", "Review actions need an API key tied to a user (apikey create --user EMAIL)");
  return { id: p.user.id, email: p.user.email };
}

export async function startSession(user: UserRow): Promise<string> {
  const token = await createSession(getDb(), user);
  return (await sessionCookie()).serialize(token);
}

export async function endSession(request: Request): Promise<string> {
  const token = await sessionToken(request);
  if (token) await deleteSession(getDb(), token);
  return (await sessionCookie()).serialize("", { maxAge: 0 });
}
