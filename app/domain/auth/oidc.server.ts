/**
 * Single sign-on with the company's identity provider: OpenID Connect, authorization code flow with
 * PKCE, through openid-client. People are matched by verified email; someone unknown is created on
 * first sign-in with the role their role claim maps to, or pending (no role, no access) until an admin
 * gives one. SSO-created users have no password. With OIDC_ONLY=true passwords are refused for everyone
 * but the break-glass admin.
 *
 * Configuration (environment, validated with zod on first use):
 *   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   turn SSO on
 *   OIDC_SCOPES            default "openid email profile"
 *   OIDC_ROLE_CLAIM        claim holding a role name or a list of group names (dots reach nested claims)
 *   OIDC_ROLE_MAP          JSON object claim value → role; without it, values that are role names count
 *   OIDC_ONLY              "true" turns password sign-in off ...
 *   OIDC_BREAK_GLASS_EMAIL ... except for this one account (required with OIDC_ONLY)
 */
import { createCookie } from "@remix-run/node";
import { eq } from "drizzle-orm";
import * as client from "openid-client";
import { z } from "zod";
import { transaction, type Db } from "@db/client.server";
import { users } from "@db/schema/index";
import { newId } from "~/lib/crypto.server";
import { errorFields, log } from "~/lib/log.server";
import { appendAudit } from "../audit/audit.server";
import { ROLES, type Role } from "./permissions";
import { findUserByEmail, type UserRow } from "./users.server";
import { safeRedirectPath } from "~/lib/safe-redirect";

// ---- configuration ----

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

const roleMapSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be JSON, e.g. {"lastmile-admins":"admin"}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.enum(ROLES, { error: `each value must be one of ${ROLES.join(", ")}` })));

const envSchema = z
  .object({
    OIDC_ISSUER: z.url().refine((u) => {
      const url = new URL(u);
      return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
    }, "must be an https URL (http only for localhost)"),
    OIDC_CLIENT_ID: z.string().min(1),
    OIDC_CLIENT_SECRET: z.string().min(1),
    OIDC_SCOPES: z
      .string()
      .default("openid email profile")
      .refine((s) => s.split(/\s+/).includes("openid") && s.split(/\s+/).includes("email"), "must include openid and email"),
    OIDC_ROLE_CLAIM: z.string().min(1).optional(),
    OIDC_ROLE_MAP: roleMapSchema.optional(),
    OIDC_ONLY: z.enum(["true", "false"], { error: 'must be "true" or "false"' }).default("false"),
    OIDC_BREAK_GLASS_EMAIL: z
      .email()
      .transform((e) => e.toLowerCase())
      .optional(),
  })
  .refine((e) => e.OIDC_ONLY === "false" || e.OIDC_BREAK_GLASS_EMAIL, {
    path: ["OIDC_BREAK_GLASS_EMAIL"],
    message: "is required with OIDC_ONLY=true, so an admin can still sign in when the identity provider is down",
  })
  .refine((e) => !e.OIDC_ROLE_MAP || e.OIDC_ROLE_CLAIM, { path: ["OIDC_ROLE_MAP"], message: "needs OIDC_ROLE_CLAIM" });

export type OidcSettings = {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  scopes: string;
  roleClaim: string | null;
  roleMap: Record<string, Role> | null;
  only: boolean;
  breakGlassEmail: string | null;
};

/** SSO settings from the environment: null when OIDC_ISSUER is unset; throws naming every bad variable. */
export function parseOidcEnv(env: Record<string, string | undefined>): OidcSettings | null {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("OIDC_") && v !== undefined && v !== ""));
  if (!present.OIDC_ISSUER) {
    if (present.OIDC_ONLY === "true") throw new Error("OIDC_ONLY=true needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET");
    return null;
  }
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new Error(`Invalid single sign-on configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  }
  const e = parsed.data;
  return {
    issuer: new URL(e.OIDC_ISSUER),
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    scopes: e.OIDC_SCOPES,
    roleClaim: e.OIDC_ROLE_CLAIM ?? null,
    roleMap: e.OIDC_ROLE_MAP ?? null,
    only: e.OIDC_ONLY === "true",
    breakGlassEmail: e.OIDC_BREAK_GLASS_EMAIL ?? null,
  };
}

let cached: { key: string; settings: OidcSettings | null } | undefined;

/** The process's SSO settings (re-read when the environment changes, which only tests do). */
export function oidcSettings(): OidcSettings | null {
  const key = JSON.stringify(Object.entries(process.env).filter(([k]) => k.startsWith("OIDC_")));
  if (!cached || cached.key !== key) cached = { key, settings: parseOidcEnv(process.env) };
  return cached.settings;
}

/** Whether the password form may sign this email in: always, unless OIDC_ONLY (then only the break-glass admin). */
export function passwordSignInAllowed(email: string, settings = oidcSettings()): boolean {
  if (!settings?.only) return true;
  return settings.breakGlassEmail !== null && email.trim().toLowerCase() === settings.breakGlassEmail;
}

// ---- role mapping ----

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let v: unknown = claims;
  for (const part of path.split(".")) {
    if (!v || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * The role the identity provider's claim gives, or null. The claim may be one string or a list;
 * each value maps through OIDC_ROLE_MAP (or counts when it is itself a role name, without a map).
 * When several values map, the first of admin, manager, reviewer, auditor wins.
 */
export function roleFromClaims(claims: Record<string, unknown>, settings: Pick<OidcSettings, "roleClaim" | "roleMap">): Role | null {
  if (!settings.roleClaim) return null;
  const raw = claimAt(claims, settings.roleClaim);
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === "string");
  const mapped = new Set<Role>();
  for (const v of values) {
    const role = settings.roleMap
      ? Object.hasOwn(settings.roleMap, v)
        ? settings.roleMap[v]
        : undefined
      : (ROLES as readonly string[]).includes(v)
        ? (v as Role)
        : undefined;
    if (role) mapped.add(role);
  }
  return ROLES.find((r) => mapped.has(r)) ?? null;
}

// ---- who signs in ----

/** A sign-in the app refuses, shown to the person as a page with this status and message. */
export class SsoError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const identitySchema = z.object({
  sub: z.string().min(1),
  email: z.email().optional(),
  email_verified: z.unknown().optional(),
  name: z.string().optional(),
});

/**
 * Finds or creates the person the identity provider vouches for, in one transaction with its audit
 * entries. Refused (and audited) when the email is missing or not verified, or the account is disabled.
 * A pending user whose claim now maps to a role gets it; an existing role is never changed here.
 */
export async function signInWithClaims(
  db: Db,
  claims: Record<string, unknown>,
  settings: OidcSettings,
  now = Date.now(),
): Promise<{ user: UserRow; created: boolean }> {
  const id = identitySchema.safeParse(claims);
  if (!id.success || !id.data.email)
    throw new SsoError(403, "Your identity provider did not share an email address, so you cannot be matched to a Lastmile account.");
  const email = id.data.email.toLowerCase();
  const issuer = settings.issuer.href;
  const refuse = async (reason: string, message: string): Promise<never> => {
    await transaction(db, async (tx) =>
      appendAudit(tx, { actor: email, action: "auth.sso_refused", entityType: "user", entityId: email, data: { reason, issuer, sub: id.data.sub }, at: now }),
    );
    throw new SsoError(403, message);
  };
  // Only a verified email may claim an account: anyone can type an unverified one at some providers.
  if (id.data.email_verified !== true)
    await refuse("email_not_verified", `Your identity provider has not verified ${email}, so it cannot be used to sign in. Verify it there and try again.`);
  const existing = await findUserByEmail(db, email);
  if (existing?.disabledAt) await refuse("user_disabled", "Your Lastmile account is disabled. Ask an administrator.");
  const role = roleFromClaims(claims, settings);
  return transaction(db, async (tx) => {
    // Read again inside the transaction: a second tab finishing its first sign-in at the same moment.
    let user = await findUserByEmail(tx, email);
    if (user?.disabledAt) throw new SsoError(403, "Your Lastmile account is disabled. Ask an administrator.");
    let created = false;
    if (!user) {
      user = { id: newId("usr", now), email, name: id.data.name?.trim() || email.split("@")[0], role, passwordHash: null, createdAt: now, disabledAt: null };
      await tx.insert(users).values(user);
      created = true;
      await appendAudit(tx, {
        actor: email,
        action: "user.created",
        entityType: "user",
        entityId: user.id,
        data: { email, role, via: "sso", issuer },
        at: now,
      });
    } else if (!user.role && role) {
      await tx.update(users).set({ role }).where(eq(users.id, user.id));
      await appendAudit(tx, {
        actor: email,
        action: "user.role_changed",
        entityType: "user",
        entityId: user.id,
        data: { email, from: null, to: role, via: "sso" },
        at: now,
      });
      user = { ...user, role };
    }
    await appendAudit(tx, {
      actor: email,
      action: "auth.sso_login",
      entityType: "user",
      entityId: user.id,
      data: { issuer, sub: id.data.sub, pending: !user.role },
      at: now,
    });
    return { user, created };
  });
}

// ---- the protocol ----

let discovered: { key: string; config: Promise<client.Configuration> } | undefined;

/** The provider's metadata, discovered once per process (again after a failure). */
function providerConfig(settings: OidcSettings): Promise<client.Configuration> {
  const key = `${settings.issuer.href}|${settings.clientId}|${settings.clientSecret}`;
  if (!discovered || discovered.key !== key) {
    // Plain http only for a provider on this machine (tests, local development); the schema refuses it elsewhere.
    const insecure = settings.issuer.protocol === "http:" && LOOPBACK.has(settings.issuer.hostname);
    const config = client.discovery(
      settings.issuer,
      settings.clientId,
      settings.clientSecret,
      undefined,
      insecure ? { execute: [client.allowInsecureRequests] } : undefined,
    );
    const entry = { key, config };
    discovered = entry;
    config.catch(() => {
      if (discovered === entry) discovered = undefined;
    });
  }
  return discovered.config;
}

/** The only place the provider may send people back to; registered at the provider as the redirect URI. */
export function redirectUri(request: Request): string {
  const base = process.env.PUBLIC_URL || new URL(request.url).origin;
  return new URL("/auth/oidc/callback", base).href;
}

const flowSchema = z.object({ state: z.string().min(1), nonce: z.string().min(1), verifier: z.string().min(1), redirectTo: z.string() });

// State, nonce and PKCE verifier live only in this short-lived signed cookie, bound to the browser that started.
function flowCookie(secret: string) {
  return createCookie("lastmile_oidc", {
    httpOnly: true,
    // Lax: the provider's redirect back is a top-level GET navigation, which carries it.
    sameSite: "lax",
    path: "/auth/oidc",
    secure: process.env.COOKIE_SECURE !== "false",
    secrets: [secret],
    maxAge: 10 * 60,
  });
}

/** Where to send the browser to sign in at the provider, and the cookie that remembers this attempt. */
export async function startSignIn(
  request: Request,
  settings: OidcSettings,
  secret: string,
  redirectTo: string | null,
): Promise<{ url: string; cookie: string }> {
  let config: client.Configuration;
  try {
    config = await providerConfig(settings);
  } catch (e) {
    log().error({ issuer: settings.issuer.href, ...errorFields(e) }, "oidc: discovery failed");
    throw new SsoError(502, "The identity provider cannot be reached right now. Try again in a moment.");
  }
  const verifier = client.randomPKCECodeVerifier();
  const flow = { state: client.randomState(), nonce: client.randomNonce(), verifier, redirectTo: safeRedirectPath(redirectTo) };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(request),
    scope: settings.scopes,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: flow.state,
    nonce: flow.nonce,
  });
  return { url: url.href, cookie: await flowCookie(secret).serialize(flow) };
}

/** Clears the attempt's cookie (used or not). */
export function clearFlowCookie(secret: string): Promise<string> {
  return flowCookie(secret).serialize("", { maxAge: 0 });
}

/**
 * Completes the provider's redirect back: checks state, exchanges the code with the PKCE verifier,
 * checks the ID token (signature, issuer, audience, nonce), reads userinfo, then finds or creates the user.
 */
export async function finishSignIn(
  db: Db,
  request: Request,
  settings: OidcSettings,
  secret: string,
): Promise<{ user: UserRow; created: boolean; redirectTo: string }> {
  const flow = flowSchema.safeParse(await flowCookie(secret).parse(request.headers.get("Cookie")));
  if (!flow.success) throw new SsoError(400, "This sign-in expired or was started in another browser. Start again from the sign-in page.");
  const params = new URL(request.url).searchParams;
  if (params.get("error")) {
    const reason =
      params.get("error") === "access_denied" ? "You cancelled, or the identity provider denied, the sign-in." : "The identity provider refused the sign-in.";
    throw new SsoError(403, reason);
  }
  const config = await providerConfig(settings).catch(() => {
    throw new SsoError(502, "The identity provider cannot be reached right now. Try again in a moment.");
  });
  // Behind a proxy the request's own URL may differ from the registered redirect URI: use that, with the provider's parameters.
  const current = new URL(redirectUri(request));
  current.search = params.toString();
  let claims: Record<string, unknown>;
  try {
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: flow.data.verifier,
      expectedState: flow.data.state,
      expectedNonce: flow.data.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    claims = { ...idClaims };
    if (config.serverMetadata().userinfo_endpoint) {
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      // The ID token's own claims win over userinfo's for what identifies the person.
      claims = { ...info, ...idClaims };
    }
  } catch (e) {
    log().error(errorFields(e), "oidc: code exchange failed");
    throw new SsoError(400, "The sign-in could not be completed with the identity provider. Start again from the sign-in page.");
  }
  return { ...(await signInWithClaims(db, claims, settings)), redirectTo: flow.data.redirectTo };
}
