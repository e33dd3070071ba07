import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, users } from "@db/schema/index";
import { parseOidcEnv, passwordSignInAllowed, roleFromClaims, signInWithClaims, SsoError, type OidcSettings } from "~/domain/auth/oidc.server";
import { authenticate, createUser, lookupApiKey, setUserRole } from "~/domain/auth/users.server";
import { makeKey, makeUser, testDb, uniqueEmail } from "../support/db";

const BASE = { OIDC_ISSUER: "https://id.example.com", OIDC_CLIENT_ID: "lastmile", OIDC_CLIENT_SECRET: "s3cret" };

describe("SSO configuration", () => {
  it("is off without OIDC_ISSUER and on with the three required variables", () => {
    expect(parseOidcEnv({})).toBeNull();
    expect(parseOidcEnv(BASE)).toMatchObject({ clientId: "lastmile", scopes: "openid email profile", roleClaim: null, roleMap: null, only: false });
  });

  it("names every bad variable", () => {
    expect(() => parseOidcEnv({ ...BASE, OIDC_ISSUER: "http://id.example.com", OIDC_CLIENT_SECRET: "" })).toThrow(
      /OIDC_ISSUER must be an https URL.*OIDC_CLIENT_SECRET/,
    );
    expect(() => parseOidcEnv({ ...BASE, OIDC_ROLE_CLAIM: "groups", OIDC_ROLE_MAP: "{not json" })).toThrow(/OIDC_ROLE_MAP must be JSON/);
    expect(() => parseOidcEnv({ ...BASE, OIDC_ROLE_CLAIM: "groups", OIDC_ROLE_MAP: '{"ops":"root"}' })).toThrow(
      /OIDC_ROLE_MAP\.ops each value must be one of admin/,
    );
    expect(() => parseOidcEnv({ ...BASE, OIDC_ONLY: "true" })).toThrow(/OIDC_BREAK_GLASS_EMAIL is required with OIDC_ONLY=true/);
    expect(() => parseOidcEnv({ OIDC_ONLY: "true" })).toThrow(/needs OIDC_ISSUER/);
  });

  it("OIDC_ONLY lets only the break-glass admin use a password", () => {
    const only = parseOidcEnv({ ...BASE, OIDC_ONLY: "true", OIDC_BREAK_GLASS_EMAIL: "Root@Example.com" });
    expect(passwordSignInAllowed("root@example.com", only)).toBe(true);
    expect(passwordSignInAllowed(" ROOT@example.com", only)).toBe(true);
    expect(passwordSignInAllowed("someone@example.com", only)).toBe(false);
    expect(passwordSignInAllowed("someone@example.com", parseOidcEnv(BASE))).toBe(true);
    expect(passwordSignInAllowed("someone@example.com", null)).toBe(true);
  });
});

describe("role claim mapping", () => {
  const map = { roleClaim: "groups", roleMap: { "lm-admins": "admin", "lm-review": "reviewer", constructor: "auditor" } as OidcSettings["roleMap"] };

  it("maps a list of groups through OIDC_ROLE_MAP, the strongest role winning", () => {
    expect(roleFromClaims({ groups: ["staff", "lm-review"] }, map)).toBe("reviewer");
    expect(roleFromClaims({ groups: ["lm-review", "lm-admins"] }, map)).toBe("admin");
    expect(roleFromClaims({ groups: ["staff"] }, map)).toBeNull();
    expect(roleFromClaims({}, map)).toBeNull();
    expect(roleFromClaims({ groups: ["toString"] }, map)).toBeNull();
  });

  it("without a map takes role names as they are, and reads nested claims", () => {
    expect(roleFromClaims({ role: "auditor" }, { roleClaim: "role", roleMap: null })).toBe("auditor");
    expect(roleFromClaims({ role: "superuser" }, { roleClaim: "role", roleMap: null })).toBeNull();
    expect(roleFromClaims({ realm_access: { roles: ["manager"] } }, { roleClaim: "realm_access.roles", roleMap: null })).toBe("manager");
    expect(roleFromClaims({ role: "admin" }, { roleClaim: null, roleMap: null })).toBeNull();
  });
});

describe("signing in with the provider's claims", () => {
  const settings = parseOidcEnv({ ...BASE, OIDC_ROLE_CLAIM: "groups", OIDC_ROLE_MAP: '{"lm-review":"reviewer"}' })!;

  it("creates an unknown person once, pending without a role claim, with no password, and audits it", async () => {
    const db = await testDb();
    const email = uniqueEmail("sso");
    const first = await signInWithClaims(db, { sub: "1", email: email.toUpperCase(), email_verified: true }, settings);
    expect(first.created).toBe(true);
    expect(first.user).toMatchObject({ email, role: null, passwordHash: null });
    const again = await signInWithClaims(db, { sub: "1", email, email_verified: true }, settings);
    expect(again).toMatchObject({ created: false, user: { id: first.user.id } });
    const actions = (await db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.entityId, first.user.id))).map((r) => r.action);
    expect(actions).toEqual(["user.created", "auth.sso_login", "auth.sso_login"]);
    // A password can never sign in an SSO user, not even the value used to equalise timing.
    expect(await authenticate(db, email, "not-a-real-password")).toBeNull();
  });

  it("gives a pending person the role their claim maps to later, but never changes an existing role", async () => {
    const db = await testDb();
    const email = uniqueEmail("later");
    await signInWithClaims(db, { sub: "2", email, email_verified: true }, settings);
    expect((await signInWithClaims(db, { sub: "2", email, email_verified: true, groups: ["lm-review"] }, settings)).user.role).toBe("reviewer");
    const manager = await makeUser(db, "manager");
    expect((await signInWithClaims(db, { sub: "3", email: manager.email, email_verified: true, groups: ["lm-review"] }, settings)).user).toMatchObject({
      id: manager.id,
      role: "manager",
    });
  });

  it("refuses a missing or unverified email and a disabled account, creating nobody", async () => {
    const db = await testDb();
    const email = uniqueEmail("nope");
    await expect(signInWithClaims(db, { sub: "4" }, settings)).rejects.toThrow(SsoError);
    await expect(signInWithClaims(db, { sub: "4", email, email_verified: "true" }, settings)).rejects.toThrow(/has not verified/);
    await expect(signInWithClaims(db, { sub: "4", email }, settings)).rejects.toThrow(/has not verified/);
    expect((await db.select().from(users).where(eq(users.email, email)).limit(1))[0]).toBeUndefined();
    expect(
      await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, "auth.sso_refused"), eq(auditLog.actor, email))),
    ).toHaveLength(2);
  });
});

describe("pending users", () => {
  it("their API keys act for nobody until an admin gives a role; the last admin keeps theirs", async () => {
    const db = await testDb();
    const admin = await makeUser(db, "admin");
    const { user } = await signInWithClaims(db, { sub: "5", email: uniqueEmail("pending"), email_verified: true }, parseOidcEnv(BASE)!);
    const key = await makeKey(db, ["read"], user.email);
    expect(await lookupApiKey(db, key)).toBeNull();
    await setUserRole(db, user.id, "auditor", admin.email);
    expect((await lookupApiKey(db, key))?.principal.user?.role).toBe("auditor");
    await expect(setUserRole(db, admin.id, "reviewer", admin.email)).rejects.toThrow(/last active admin/);
    await createUser(db, { email: uniqueEmail("admin2"), role: "admin" }, "test");
    expect((await setUserRole(db, admin.id, "reviewer", admin.email)).role).toBe("reviewer");
  });
});
