/** Issue 9 for operators, in the browser: end a user's sessions; give an API key an expiry date; a throttled sign-in says so. */
import { expect, test, watchConsole } from "./fixtures";

test("an admin ends a user's sessions: their browser is signed out, the admin's is not", async ({ page, accounts, newSignedInPage, signedInAs }) => {
  const errors = watchConsole(page);
  const user = await accounts.create("reviewer");
  const them = await newSignedInPage(user);
  await them.goto("/queue");
  await expect(them.getByRole("button", { name: "Sign out" })).toBeVisible();
  await signedInAs("admin");
  await page.goto("/admin/users");

  const row = page.getByRole("row", { name: new RegExp(user.email) });
  // The Sessions column (after Name, Role, Queues, Created and Status).
  await expect(row.getByRole("cell").nth(6)).toHaveText("1");
  await row.getByRole("button", { name: "End sessions" }).click();
  await row.getByRole("button", { name: `Sign ${user.email} out everywhere` }).click();
  await expect(page.getByRole("status")).toContainText(`${user.email} is signed out everywhere (1 session ended)`);
  await expect(row.getByRole("button", { name: "End sessions" })).toHaveCount(0);

  await them.goto("/queue");
  await expect(them).toHaveURL(/\/login/);
  await page.goto("/queue");
  await expect(page).toHaveURL(/\/queue/);
  expect(errors).toEqual([]);
});

test("an API key created with an expiry date lists it", async ({ page, signedInAs }) => {
  const errors = watchConsole(page);
  await signedInAs("admin");
  await page.goto("/admin/api-keys");
  const name = `expiring-${Date.now().toString(36)}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Expires on").fill("2099-03-15");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-api-key")).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText("2099");
  await expect(row).toContainText("never"); // not used yet
  await expect(row).toContainText("active");
  expect(errors).toEqual([]);
});

test("the sixth wrong password shows that sign-in is paused", async ({ page, accounts }) => {
  const user = await accounts.create("reviewer");
  await page.goto("/login");
  for (let i = 0; i < 6; i++) {
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill("not the password");
    await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.getByRole("button", { name: "Sign in" }).click()]);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  }
  await expect(page.getByRole("alert")).toContainText("Too many failed sign-ins");
  await expect(page.getByRole("alert")).toContainText("try again in a minute");
});
