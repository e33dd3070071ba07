/**
 * The one test that signs in by typing into the form (every other test gets its session by
 * cookie: see fixtures.ts), under the server's Content-Security-Policy with no violation.
 */
import { expect, test, watchConsole } from "./fixtures";

test("signs in, sees only what the role allows, and signs out", async ({ page, accounts }) => {
  const errors = watchConsole(page);
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const reviewer = await accounts.create("reviewer");
  await page.goto("/queue");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fqueue/);
  await page.getByLabel("Email").fill(reviewer.email);
  await page.getByLabel("Password").fill("wrong password!");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await page.getByLabel("Email").fill(reviewer.email);
  await page.getByLabel("Password").fill(reviewer.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Back where they were going.
  await expect(page).toHaveURL(/\/queue$/);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Queue" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  expect(violations).toEqual([]);
  expect(errors).toEqual([]);
});
