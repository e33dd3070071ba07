/**
 * The generated correction form: every field kind, line items added, moved and
 * removed, and validation messages next to the field before anything is sent.
 */
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

test("edits every field kind, with rows added, reordered and removed", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  const [d] = await api.postDecisions([workbenchInvoice(type.key, 50)]);
  await signIn(reviewer);
  await page.goto(`/queue?type=${type.key}`);
  await page.getByRole("button", { name: `Review INV-1050` }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1050/ })).toBeVisible();

  await page.getByRole("button", { name: "+ Add line items row" }).click();
  await page.getByRole("button", { name: /^Correct/ }).click();
  await expect(page.locator('[id="f-lines.2.amount-error"]')).toHaveText("Required");
  await expect(page.locator('[data-field="lines.2.amount"]')).toBeFocused();
  await expect(page.getByRole("dialog")).toHaveCount(0);

  await page.getByRole("textbox", { name: "Line items row 3 SKU *" }).fill("EXTRA");
  await page.getByRole("textbox", { name: "Line items row 3 Amount *" }).fill("7.25");
  await page.getByRole("button", { name: "Move Line items row 3 up" }).click();
  await expect(page.getByRole("textbox", { name: "Line items row 2 SKU *" })).toHaveValue("EXTRA");
  await page.getByRole("button", { name: "Remove Line items row 1" }).click();
  await expect(page.getByRole("textbox", { name: "Line items row 1 SKU *" })).toHaveValue("EXTRA");

  await page.getByLabel("Currency *").selectOption("USD");
  await page.getByRole("checkbox", { name: "Reverse charge" }).check();
  await page.locator("#f-issuedOn").fill("2026-11-03");
  await page.getByRole("textbox", { name: "Pages" }).fill("2.5");
  await page.getByRole("textbox", { name: "Total *" }).fill("-1");
  await page.getByRole("button", { name: /^Correct/ }).click();
  await expect(page.locator('[id="f-pages-error"]')).toHaveText("Enter a whole number");
  await expect(page.locator('[id="f-total-error"]')).toHaveText("Must be at least 0");
  await page.getByRole("textbox", { name: "Pages" }).fill("3");
  await page.getByRole("textbox", { name: "Total *" }).fill("27.75");

  await page.getByRole("button", { name: /^Correct/ }).click();
  const dialog = page.getByRole("dialog", { name: "Submit correction" });
  const diff = dialog.getByRole("table", { name: "Changes to the model output" });
  for (const path of ["total", "currency", "issuedOn", "pages", "reverseCharge", "lines.0.sku", "lines.0.amount"]) await expect(diff).toContainText(path);
  await expect(diff).not.toContainText("lines.1");
  await dialog.getByLabel("Line item misread").check();
  await dialog.getByRole("button", { name: "Submit correction" }).click();
  await expect(page.getByRole("status")).toContainText("Corrected INV-1050.");

  expect((await api.readDecision(d.id)).finalOutput).toEqual({
    invoiceNumber: "INV-1050",
    issuedOn: "2026-11-03",
    total: 27.75,
    currency: "USD",
    pages: 3,
    reverseCharge: true,
    lines: [
      { sku: "EXTRA", amount: 7.25 },
      { sku: "DELIVERY", amount: 20.5 },
    ],
  });
  expect(errors).toEqual([]);
});
