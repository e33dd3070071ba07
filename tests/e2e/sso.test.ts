/**
 * Single sign-on end to end: Chromium, the production build on its own port and database (configured
 * for OIDC, with OIDC_ONLY), and a real OpenID provider (oidc-provider) started by this file.
 */
import { type Page } from "@playwright/test";
import { prepareOidcProvider, type TestIdp } from "../support/oidc-provider";
import { expect, test, uniqueEmail, watchConsole } from "./fixtures";
import { cliCreateApiKey, cliCreateUser } from "./lastmile-cli";
import { startOwnServer, type OwnServer } from "./own-server";

let idp: TestIdp;
let app: OwnServer;
/** A read key on the SSO server: its audit feed says who was created, how, and what happened to them. */
let readKey: string;
/** The app as the browser reaches it (localhost, so its Secure session cookie is kept over http). */
let base: string;
const breakGlass = { email: uniqueEmail("break-glass"), password: "" };

test.beforeAll(async () => {
  idp = await prepareOidcProvider();
  app = await startOwnServer({
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_SCOPES: "openid email profile groups",
    OIDC_ROLE_CLAIM: "groups",
    OIDC_ROLE_MAP: JSON.stringify({ "lastmile-reviewers": "reviewer", "lastmile-admins": "admin" }),
    OIDC_ONLY: "true",
    OIDC_BREAK_GLASS_EMAIL: breakGlass.email,
  });
  base = app.url.replace("127.0.0.1", "localhost");
  await idp.listen(`${base}/auth/oidc/callback`);
  breakGlass.password = cliCreateUser(breakGlass.email, "admin", app.store).password;
  readKey = cliCreateApiKey("sso-e2e-audit", ["read"], app.store);
});

test.afterAll(async () => {
  await app?.close();
  await idp?.close();
});

// The provider's development pages import a web font from the internet; answer it locally (and empty).
test.beforeEach(async ({ context }) => {
  await context.route("https://fonts.googleapis.com/**", (route) => route.fulfill({ status: 200, contentType: "text/css", body: "" }));
});

/** Someone the identity provider knows (signs in there with any password). */
function idpIdentity(email: string, extra: { email_verified?: boolean; groups?: string[] } = {}) {
  idp.people.set(email, { email, email_verified: true, name: "Pat Example", ...extra });
  return email;
}

async function signInWithSso(page: Page, login: string) {
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Sign in with SSO" }).click();
  // The provider's own (development) login form.
  await page.getByPlaceholder("Enter any login").fill(login);
  await page.getByPlaceholder("and password").fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

type AuditEntry = { action: string; entityId: string; data: Record<string, unknown> };
/** The SSO server's audit entries about users (GET /api/v1/audit). */
async function userAudit(): Promise<AuditEntry[]> {
  const res = await fetch(`${app.url}/api/v1/audit?entityType=user&limit=500`, { headers: { Authorization: `Bearer ${readKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()).entries;
}
/** How the user with this email came to be: their user.created entries (none, or one). */
async function creationsOf(email: string): Promise<AuditEntry[]> {
  return (await userAudit()).filter((e) => e.action === "user.created" && String(e.data?.email).toLowerCase() === email.toLowerCase());
}

test("a first sign-in without a role claim creates a pending user who waits until an admin gives a role", async ({ page, browser }) => {
  const errors = watchConsole(page);
  const email = idpIdentity(uniqueEmail("newcomer"));
  await signInWithSso(page, email);
  await expect(page).toHaveURL(`${base}/pending`);
  await expect(page.getByRole("heading", { name: "Waiting for an administrator" })).toBeVisible();
  await expect(page.getByText("Your account is waiting for an administrator to give you a role.")).toBeVisible();
  // Created by the sign-in, without a role and without a password (via SSO).
  const [created] = await creationsOf(email);
  expect(created?.data).toMatchObject({ role: null, via: "sso" });

  // No page is open to them, and the API refuses their session too.
  await page.goto(`${base}/decisions`);
  await expect(page).toHaveURL(`${base}/pending`);
  const api = await page.request.get(`${base}/api/v1/decisions`);
  expect(api.status()).toBe(403);
  expect((await api.json()).error.message).toMatch(/waiting for an administrator/);

  // The break-glass admin signs in with a password (allowed under OIDC_ONLY) and gives a role.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await admin.goto(`${base}/login`);
  await admin.getByLabel("Email").fill(breakGlass.email);
  await admin.getByLabel("Password").fill(breakGlass.password);
  await admin.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(admin.getByRole("button", { name: "Sign out" })).toBeVisible();
  await admin.goto(`${base}/admin/users`);
  const row = admin.getByRole("row", { name: new RegExp(email) });
  await expect(row).toContainText("Pat Example");
  await expect(row).toContainText("pending");
  const give = admin.getByRole("form", { name: `Give ${email} a role` });
  await give.getByLabel(`Role for ${email}`).selectOption("reviewer");
  await give.getByRole("button", { name: "Give role" }).click();
  await expect(admin.getByText(`${email} is now reviewer.`)).toBeVisible();
  await adminContext.close();

  await page.reload();
  await expect(page).toHaveURL(`${base}/queue`);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" })).toBeVisible();
  expect(errors).toEqual([]);
});

test("a first sign-in whose role claim maps to a role lands on the queue", async ({ page }) => {
  const email = idpIdentity(uniqueEmail("reviewer-sso"), { groups: ["everyone", "lastmile-reviewers"] });
  await signInWithSso(page, email);
  await expect(page).toHaveURL(`${base}/queue`);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  const creations = await creationsOf(email);
  expect(creations).toHaveLength(1);
  expect(creations[0]!.data).toMatchObject({ role: "reviewer", via: "sso" });
});

test("an existing password user is matched by verified email and signed in through SSO", async ({ page }) => {
  const existing = cliCreateUser(uniqueEmail("existing"), "manager", app.store);
  const [made] = await creationsOf(existing.email);
  // The provider spells the address with capitals; matching ignores case. Its group claim does not change an existing role.
  idpIdentity(existing.email.toUpperCase(), { groups: ["lastmile-admins"] });
  await signInWithSso(page, existing.email.toUpperCase());
  await expect(page).toHaveURL(`${base}/queue`);
  await expect(page.getByRole("banner").getByText(existing.email)).toBeVisible();
  // Still one user, the same one, still a manager: the sign-in is on their record, and nothing else changed them.
  expect(await creationsOf(existing.email)).toEqual([made]);
  expect(made!.data).toMatchObject({ role: "manager" });
  expect(made!.data.via).toBeUndefined();
  const theirs = (await userAudit()).filter((e) => e.entityId === made!.entityId);
  expect(theirs.map((e) => e.action)).toContain("auth.sso_login");
  expect(theirs.map((e) => e.action).filter((a) => !["user.created", "auth.sso_login", "session.created"].includes(a))).toEqual([]);
});

test("an email the provider has not verified is refused and creates no one", async ({ page }) => {
  const email = idpIdentity(uniqueEmail("unverified"), { email_verified: false });
  await signInWithSso(page, email);
  await expect(page.getByRole("heading", { name: "Single sign-on did not sign you in" })).toBeVisible();
  await expect(page.getByRole("alert")).toContainText(`has not verified ${email}`);
  expect(await creationsOf(email)).toEqual([]);
  await page.goto(`${base}/queue`);
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fqueue/);
});

test("OIDC_ONLY refuses a password sign-in on the server, except for the break-glass admin", async () => {
  const manager = cliCreateUser(uniqueEmail("password-user"), "manager", app.store);
  const post = (email: string, password: string) =>
    fetch(`${base}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: base, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ email, password, redirectTo: "/" }).toString(),
    });
  const refused = await post(manager.email, manager.password);
  expect(refused.status).toBe(403);
  expect(refused.headers.get("set-cookie") ?? "").not.toContain("lastmile_session=");
  expect(await refused.text()).toContain("Password sign-in is turned off; use Sign in with SSO.");

  const allowed = await post(breakGlass.email.toUpperCase(), breakGlass.password);
  expect(allowed.status).toBe(302);
  expect(allowed.headers.get("set-cookie")).toContain("lastmile_session=");
});
