import { expect, test, uniqueEmail, watchConsole } from "./fixtures";

test("an admin creates a user (one-time password) and disables them", async ({ page, signedInAs, newSignedInPage }) => {
  const errors = watchConsole(page);
  const admin = await signedInAs("admin");
  const email = uniqueEmail("newhire");
  await page.goto("/admin/users");

  // Invalid first: the message sits next to the field.
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.locator("#user-email-error")).toBeVisible();

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role").selectOption("reviewer");
  await page.getByRole("button", { name: "Create user" }).click();
  const password = (await page.getByTestId("one-time-password").textContent())!.trim();
  expect(password.length).toBeGreaterThanOrEqual(12);
  await expect(page.getByRole("row", { name: new RegExp(email) })).toContainText("reviewer");

  // The password works, once shown; it is not on the page after a reload.
  const them = await newSignedInPage({ email, password });
  await them.goto("/queue");
  await expect(them.getByRole("button", { name: "Sign out" })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("one-time-password")).toHaveCount(0);

  // Disable: asks first, then their session ends.
  const row = page.getByRole("row", { name: new RegExp(email) });
  await row.getByRole("button", { name: "Disable" }).click();
  await row.getByRole("button", { name: `Disable ${email}` }).click();
  await expect(page.getByRole("status")).toContainText(`${email} is disabled`);
  await expect(page.getByRole("row", { name: new RegExp(email) })).toContainText("disabled");
  await them.goto("/decisions");
  await expect(them).toHaveURL(/\/login/);

  // You cannot disable yourself: no control is offered (only the editor of your own queues).
  const own = page.getByRole("row", { name: new RegExp(admin.email) });
  await expect(own.getByRole("button", { name: /disable|enable|end sessions/i })).toHaveCount(0);
  await expect(own.getByRole("button")).toHaveCount(1);
  await expect(own.getByRole("button", { name: `Edit queues of ${admin.email}` })).toBeVisible();
  expect(errors).toEqual([]);
});

test("an admin creates an API key (shown once), it works, and after revoking it gets 401", async ({ page, signedInAs, freshType }) => {
  const errors = watchConsole(page);
  const admin = await signedInAs("admin");
  await freshType.plain(admin.email);
  const name = `erp-${Date.now().toString(36)}`;
  await page.goto("/admin/api-keys");

  await page.getByLabel("Name").fill(name);
  await page.getByRole("checkbox", { name: "ingest", exact: true }).uncheck();
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.locator("#key-scopes-error")).toContainText(/>=1|at least/i);

  await page.getByLabel("Name").fill(name);
  await page.getByRole("checkbox", { name: "read", exact: true }).check();
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key).toMatch(/^lm_/);
  await expect(page.getByRole("button", { name: "Copy key" })).toBeVisible();

  const call = () => page.request.get("/api/v1/decisions", { headers: { Authorization: `Bearer ${key}` } });
  expect((await call()).status()).toBe(200);

  await page.reload();
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText(key.slice(0, 9));
  await expect(row).toContainText("read");
  await expect(row).not.toContainText("never"); // last used is recorded

  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("status")).toContainText(`Key ${name} is revoked`);
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("revoked");
  const denied = await call();
  expect(denied.status()).toBe(401);
  expect((await denied.json()).error.code).toBe("unauthenticated");
  expect(errors).toEqual([]);
});
