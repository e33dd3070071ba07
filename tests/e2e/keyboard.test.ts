/**
 * A reviewer works five items with the keyboard only: approve, correct a line
 * item, reject, escalate, skip. Every verdict loads the next task at once.
 */
import { type Page } from "@playwright/test";
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

const heading = (page: Page, ext: string) => page.getByRole("heading", { level: 1, name: new RegExp(ext) });

test("five items, keyboard only", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  // Priorities fix the order in which work mode serves them.
  const ids = (await api.postDecisions([1, 2, 3, 4, 5].map((i) => workbenchInvoice(type.key, i, { priority: 10 - i })))).map((r) => r.id);

  await signIn(reviewer);
  await page.goto(`/queue?type=${type.key}`);
  await page
    .getByRole("button", { name: `Start reviewing ${type.name}` })
    .first()
    .focus();
  await page.keyboard.press("Enter");

  // 1. approve. The lowest-confidence field has focus, so a single key is safe.
  await expect(heading(page, "INV-1001")).toBeVisible();
  await expect(page.locator('[data-field="total"]')).toBeFocused();
  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await page.keyboard.press("a");
  await expect(heading(page, "INV-1002")).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("Approved INV-1001.");

  // 2. correct a line item: j to the second line's amount, Enter to edit, Esc, c.
  await expect(page.locator('[data-field="total"]')).toBeFocused();
  for (let i = 0; i < 20; i++) {
    if (await page.locator('[data-field="lines.1.amount"]').evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press("j");
  }
  await expect(page.locator('[data-field="lines.1.amount"]')).toBeFocused();
  await page.keyboard.press("k");
  await expect(page.locator('[data-field="lines.1.sku"]')).toBeFocused();
  await page.keyboard.press("j");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("textbox", { name: "Line items row 2 Amount *" })).toBeFocused();
  await page.keyboard.type("25");
  await page.keyboard.press("Escape");
  await expect(page.locator('[data-field="lines.1.amount"]')).toBeFocused();
  // "a" with an edit pending does not silently drop it.
  await page.keyboard.press("a");
  await expect(page.getByRole("alert")).toContainText("You edited 1 field");
  await page.keyboard.press("c");
  const correct = page.getByRole("dialog", { name: "Submit correction" });
  await expect(correct.getByRole("table", { name: "Changes to the model output" })).toContainText("lines.1.amount");
  await page.keyboard.press("2");
  await expect(correct.getByLabel("Line item misread")).toBeChecked();
  await page.keyboard.press("Enter");
  await expect(heading(page, "INV-1003")).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("Corrected INV-1002.");

  // 3. reject: the reason code is required.
  await page.keyboard.press("r");
  const reject = page.getByRole("dialog", { name: "Reject decision" });
  await expect(reject).toBeVisible();
  await page.keyboard.press("Enter");
  await expect(reject.getByRole("alert")).toHaveText("Choose at least one reason code to reject.");
  await page.keyboard.press("3");
  await page.keyboard.press("Enter");
  await expect(heading(page, "INV-1004")).toBeVisible();

  // 4. escalate: the note is required (the domain's rule, shown at the field), a reason code optional.
  await page.keyboard.press("e");
  const escalate = page.getByRole("dialog", { name: "Escalate to the type owner" });
  await expect(escalate).toContainText(owner.email);
  await expect(escalate.getByRole("group", { name: "Reason (optional)" })).toBeVisible();
  await page.keyboard.press("1");
  await page.keyboard.press("Enter");
  await expect(escalate.getByRole("alert")).toHaveText("Say why you escalate.");
  await expect(escalate.getByLabel(/Note/)).toBeFocused();
  await expect(escalate.getByLabel(/Note/)).toHaveAttribute("aria-invalid", "true");
  await page.keyboard.type("Vendor VAT id does not match our records.");
  await page.keyboard.press("Control+Enter");
  await expect(heading(page, "INV-1005")).toBeVisible();

  // 5. skip: the task goes back and the queue is empty for this reviewer's session.
  await page.keyboard.press("s");
  await expect(page).toHaveURL(/\/queue/);
  await expect(page.getByRole("status")).toContainText("Skipped");

  expect(await Promise.all(ids.map(async (id) => (await api.readDecision(id)).status))).toEqual([
    "approved",
    "corrected",
    "rejected",
    "escalated",
    "pending_review",
  ]);
  const corrected = await api.readDecision(ids[1]);
  expect(corrected.finalOutput).toMatchObject({
    lines: [
      { sku: "BOLT-M8", amount: 100 },
      { sku: "DELIVERY", amount: 25 },
    ],
  });
  expect(corrected.reviews[0]).toMatchObject({ action: "correct", changedFields: ["lines.1.amount"], reasonCodes: ["WRONG_LINE"] });
  expect((await api.readDecision(ids[2])).reviews[0]).toMatchObject({ action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
  expect((await api.readDecision(ids[3])).reviews[0]).toMatchObject({
    action: "escalate",
    note: "Vendor VAT id does not match our records.",
    reasonCodes: ["WRONG_TOTAL"],
  });
  expect(errors).toEqual([]);
});
