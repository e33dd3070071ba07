import { expect, test, watchConsole } from "./fixtures";

test("an admin adds a webhook (secret shown once), disables it, rotates its secret, sees its deliveries and deletes it", async ({ page, signedInAs }) => {
  const errors = watchConsole(page);
  await signedInAs("admin");
  const url = `http://127.0.0.1:9/hooks/e2e-${Date.now().toString(36)}`;
  await page.goto("/admin");
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Webhooks" }).click();
  await expect(page).toHaveURL(/\/admin\/webhooks$/);

  // Invalid first: the message sits next to the field.
  await page.getByLabel("URL").fill("http://169.254.169.254/latest");
  await page.getByRole("button", { name: "Add webhook" }).click();
  await expect(page.locator("#webhook-url-error")).toContainText(/may not receive webhooks/);

  await page.getByLabel("URL").fill(url);
  await page.getByRole("checkbox", { name: "decision.escalated" }).check();
  await page.getByRole("button", { name: "Add webhook" }).click();
  const secret = (await page.getByTestId("webhook-secret").textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);
  const row = page.getByRole("row", { name: new RegExp(url) });
  await expect(row).toContainText("decision.escalated");
  await expect(row).toContainText("enabled");
  await page.reload();
  await expect(page.getByTestId("webhook-secret")).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(secret);

  await row.getByRole("button", { name: "Disable" }).click();
  await expect(page.getByRole("status")).toContainText(`${url} is disabled`);
  await expect(row).toContainText("disabled");

  await row.getByRole("button", { name: "Rotate secret" }).click();
  await row.getByRole("button", { name: "Rotate", exact: true }).click();
  const rotated = (await page.getByTestId("webhook-secret").textContent())!.trim();
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(secret);
  await expect(row).toContainText("old secret signs until");

  await row.getByRole("link", { name: url }).click();
  await expect(page.getByRole("table", { name: "Deliveries" })).toContainText("No deliveries.");
  await page.getByRole("navigation", { name: "Delivery status" }).getByRole("link", { name: "dead" }).click();
  await expect(page).toHaveURL(/status=dead/);

  await row.getByRole("button", { name: "Delete" }).click();
  await row.getByRole("button", { name: `Delete ${url}` }).click();
  await expect(page.getByRole("status")).toContainText("deleted");
  await expect(page.getByRole("row", { name: new RegExp(url) })).toHaveCount(0);
  expect(errors).toEqual([]);
});
