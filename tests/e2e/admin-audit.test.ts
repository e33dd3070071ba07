import { expect, test, watchConsole } from "./fixtures";
import { tamperWithNewestAuditEntry } from "./tamper";

test("the audit page filters entries and shows whether the hash chain holds", async ({ page, api, signedInAs }) => {
  const errors = watchConsole(page);
  await signedInAs("admin");
  await api.createKey(["read"]);
  await page.goto("/admin/audit");

  await page.getByLabel("Action starts with").fill("apikey.");
  await page.getByRole("button", { name: "Filter" }).click();
  const table = page.getByRole("table", { name: "Audit entries" });
  await expect(table.getByRole("row").nth(1)).toContainText("apikey.created");
  const actions = await table.locator("tbody tr td:nth-child(4)").allTextContents();
  expect(actions.length).toBeGreaterThan(0);
  expect(actions.every((a) => a.startsWith("apikey."))).toBe(true);
  await expect(page.getByLabel("Action starts with")).toHaveValue("apikey.");

  await page.getByRole("button", { name: "Verify hash chain" }).click();
  await expect(page.getByRole("status")).toContainText("Chain intact");

  // Tamper with the newest entry behind the app's back: verification must notice, by entry.
  const tampered = await tamperWithNewestAuditEntry({ tampered: true });
  try {
    await page.reload();
    await expect(page.getByRole("alert")).toContainText(`Chain broken at entry #${tampered.seq}`);
    await expect(page.getByRole("alert")).toContainText("entry content was altered");
  } finally {
    await tampered.restore();
  }
  await page.reload();
  await expect(page.getByRole("status")).toContainText("Chain intact");
  expect(errors).toEqual([]);
});
