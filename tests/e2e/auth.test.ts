import { expect, test } from "@playwright/test";
import { createUser, login, watchConsole } from "./utils";

test("signs in, sees only what the role allows, and signs out", async ({ page }) => {
  const errors = watchConsole(page);
  const reviewer = await createUser("reviewer");
  await page.goto("/queue");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fqueue/);
  await page.getByLabel("Email").fill(reviewer.email);
  await page.getByLabel("Password").fill("wrong password!");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await login(page, reviewer);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Queue" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  expect(errors).toEqual([]);
});
