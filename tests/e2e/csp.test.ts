/**
 * The pages work under the Content-Security-Policy the server sends (issue 9,
 * finding 6): signing in, the queue, a review with its lease (renewed and
 * released by the page's own API calls, which pass the same-origin check),
 * reports with their charts, signing out; and the browser reports no blocked
 * script or style.
 */
import { expect, test } from "@playwright/test";
import { eq } from "drizzle-orm";
import { tasks } from "../../db/schema/index";
import { createUser, e2eDb, login, watchConsole } from "./utils";
import { ingest, invoice, workbenchType } from "./workbench-fixtures";

test("pages work under the CSP with no violations, and the lease release beacon is accepted", async ({ page }) => {
  const errors = watchConsole(page);
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const manager = await createUser("manager");
  const type = await workbenchType(manager.email);
  const [d] = await ingest([invoice(type.key, 31)]);

  const csp = (await page.goto("/login"))!.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-/);
  await login(page, manager);

  await page.getByRole("link", { name: "Queue" }).click();
  await page.getByRole("button", { name: "Review INV-1031" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1031/ })).toBeVisible();
  await expect(page.getByText(/Lease \d+:\d\d/)).toBeVisible();
  const taskOf = async () => (await e2eDb().select().from(tasks).where(eq(tasks.decisionId, d.id)).limit(1))[0]!;
  expect((await taskOf()).status).toBe("claimed");

  // Leaving the review hands the task back through navigator.sendBeacon with the session cookie.
  await page.getByRole("link", { name: "Reports" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Reports/ })).toBeVisible();
  await expect.poll(async () => (await taskOf()).status).toBe("open");
  // The charts (recharts sets inline styles) of this type's report.
  await page.goto(`/reports?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: /^Reports · / })).toBeVisible();
  await expect(page.locator("svg.recharts-surface").first()).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

  expect(violations).toEqual([]);
  expect(errors).toEqual([]);
});
