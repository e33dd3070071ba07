/**
 * Line-item amounts stay fully visible in the review form at the widths
 * reviewers use (1280 and 1024 px): long values, low-confidence badges and
 * the "edited" mark must not clip the number. Screenshots of the model output
 * and the page go to tests/e2e/screenshots/line-items-*<width>.png.
 */
import { fileURLToPath } from "node:url";
import { expect, test, watchConsole, workbenchInvoice, workbenchInvoiceType } from "./fixtures";
import { invoiceType as demoInvoiceType } from "../../scripts/demo/types";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

for (const width of [1280, 1024]) {
  test(`line-item amounts are not clipped at ${width} px`, async ({ api, accounts, newSignedInPage, freshType }) => {
    const owner = await accounts.create("manager");
    const reviewer = await accounts.create("reviewer");
    // Line items as the demo's invoice type has them: five columns, three of them numbers.
    const base = workbenchInvoiceType(owner.email);
    const type = await freshType.workbench(owner.email, {
      outputSchema: {
        ...base.outputSchema,
        properties: { ...base.outputSchema.properties, lines: demoInvoiceType(owner.email).outputSchema.properties.lines },
      },
    });
    const lines = [
      { sku: "BOLT-M8-A4", description: "Steel bolts M8, stainless (box of 500)", quantity: 12.5, unitPrice: 987.65, amount: 12345.67 },
      { sku: "DELIVERY", description: "Delivery", quantity: 1, unitPrice: 797.5, amount: 797.5 },
      { sku: "HANDLING", description: "Handling and insurance", quantity: 1000, unitPrice: 1234.56789, amount: 1234567.89 },
    ];
    await api.postDecisions([
      workbenchInvoice(type.key, 60, {
        output: { invoiceNumber: "INV-1060", issuedOn: "2026-11-02", total: 1247711.06, currency: "EUR", pages: 2, reverseCharge: false, lines },
        fieldConfidence: {
          total: 0.62,
          "lines.0.amount": 0.41,
          "lines.1.amount": 0.55,
          "lines.2.amount": 0.5,
          "lines.0.quantity": 0.97,
          "lines.0.unitPrice": 0.93,
          "lines.1.unitPrice": 0.99,
        },
      }),
    ]);
    const page = await newSignedInPage(reviewer, { viewport: { width, height: 900 } });
    const errors = watchConsole(page);
    await page.goto(`/queue?type=${type.key}`);
    await page
      .getByRole("button", { name: `Start reviewing ${type.name}` })
      .first()
      .click();
    await expect(page.getByRole("heading", { level: 1, name: /INV-1060/ })).toBeVisible();

    // Edit one amount so the row also carries the "edited" mark next to the low-confidence badge.
    const third = page.getByRole("textbox", { name: "Line items row 3 Amount *" });
    await third.fill("98765432.10");
    await page.keyboard.press("Escape");

    const clipped = async () =>
      page
        .locator('[data-field^="lines."]:is([data-field$=".amount"], [data-field$=".quantity"], [data-field$=".unitPrice"]) input, [data-field="total"] input')
        .evaluateAll((els) =>
          els.map((el) => {
            const i = el as HTMLInputElement;
            return { value: i.value, clipped: i.scrollWidth > i.clientWidth };
          }),
        );
    await page.getByRole("region", { name: "Model output" }).screenshot({ path: `${SHOTS}line-items-${width}.png` });
    await page.screenshot({ path: `${SHOTS}line-items-page-${width}.png` });
    const result = await clipped();
    expect(result.map((r) => r.value)).toEqual(["1247711.06", "12.5", "987.65", "12345.67", "1", "797.5", "797.5", "1000", "1234.56789", "98765432.10"]);
    expect(result.filter((r) => r.clipped)).toEqual([]);
    // The row actions stay reachable without horizontal scrolling of the form.
    const table = page.getByRole("region", { name: "Line items" }).locator("div.overflow-x-auto");
    expect(await table.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);

    expect(errors).toEqual([]);
  });
}
