/**
 * Fixtures for browser tests: each test creates exactly the users, types and
 * decisions it needs in the server's database, then drives the UI.
 */
import { expect, type Page } from "@playwright/test";
import { openDatabase, type Db } from "../../db/client.server";
import { makeKey, makeType, makeUser, uniqueEmail, invoiceType, TEST_PASSWORD } from "../support/db";
import type { Role } from "../../app/domain/auth/permissions";

let db: Db | undefined;
export function e2eDb(): Db {
  db ??= openDatabase(process.env.E2E_DATABASE_PATH!);
  return db;
}

export async function createUser(role: Role) {
  return makeUser(e2eDb(), role, uniqueEmail(role));
}

export async function createKey(scopes: Parameters<typeof makeKey>[1], email?: string) {
  return makeKey(e2eDb(), scopes, email);
}

export async function createType(def: Record<string, unknown>) {
  return makeType(e2eDb(), def);
}

export { invoiceType, TEST_PASSWORD };

export async function login(page: Page, user: { email: string; password: string }) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

/**
 * Collects console errors and uncaught page errors. Form actions answer invalid
 * input with 400/409 and an inline message; the browser logs those responses,
 * so they alone are not counted (a missing asset or a 500 still is).
 */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/Failed to load resource: the server responded with a status of (400|409)/.test(m.text())) return;
    errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}
