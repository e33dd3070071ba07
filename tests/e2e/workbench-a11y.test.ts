/**
 * Accessibility (axe-core: no serious or critical violations) on the queue,
 * review and escalations pages, and screenshots of the queue and review screen
 * at 1280 and 768 pixels wide, saved under tests/e2e/screenshots/.
 */
import AxeBuilder from "@axe-core/playwright";
import { type Page } from "@playwright/test";
import { fileURLToPath } from "node:url";
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

test("queue, review and escalations pass axe; screenshots at 1280 and 768 px", async ({ api, accounts, newSignedInPage, freshType }) => {
  // Five axe runs and six full-page screenshots at two widths: close to a minute on a 2-core machine (it timed out at 60 s).
  test.setTimeout(180_000);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  await api.postDecisions([
    ...[1, 2, 3, 4, 5, 6].map((i) => workbenchInvoice(type.key, 30 + i, { priority: i % 3, occurredAt: new Date(Date.now() - i * 3_600_000).toISOString() })),
    workbenchInvoice(type.key, 40, {
      confidence: 0.97,
      fieldConfidence: { total: 0.99, "lines.0.amount": 0.99, "lines.1.amount": 0.99 },
      flags: ["policy:sanctions-hit"],
    }),
  ]);

  for (const width of [1280, 768]) {
    const page = await newSignedInPage(reviewer, { viewport: { width, height: 900 } });
    const errors = watchConsole(page);
    await page.goto("/queue");
    await expect(page.getByRole("heading", { level: 1, name: "Queues" })).toBeVisible();
    await page.screenshot({ path: `${SHOTS}queue-${width}.png`, fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    await page
      .getByRole("button", { name: `Start reviewing ${type.name}` })
      .first()
      .click();
    await expect(page.getByRole("heading", { level: 1, name: /INV-10/ })).toBeVisible();
    await page.screenshot({ path: `${SHOTS}review-${width}.png`, fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.keyboard.press("c");
    await page.getByRole("textbox", { name: "Total *" }).fill("-5");
    await page.keyboard.press("Escape");
    await page.keyboard.press("c");
    await expect(page.locator("#f-total-error")).toBeVisible();
    if (width === 1280) {
      await page.getByRole("textbox", { name: "Total *" }).fill("125");
      await page.keyboard.press("Escape");
      await page.keyboard.press("c");
      await expect(page.getByRole("dialog", { name: "Submit correction" })).toBeVisible();
      await page.screenshot({ path: `${SHOTS}review-correct-dialog-${width}.png` });
      expect(await seriousViolations(page)).toEqual([]);
      await page.keyboard.press("Escape");
      // Escalate one so the owner has something to look at.
      await page.keyboard.press("e");
      await page.keyboard.press("1");
      await page.getByLabel(/Note/).fill("Line items do not add up to the total; please check with the vendor.");
      await page.keyboard.press("Control+Enter");
      await expect(page.getByRole("status")).toContainText("Escalated");
    }
    await page.getByRole("button", { name: "Stop reviewing" }).click();
    await expect(page).toHaveURL(/\/queue/);
    expect(errors).toEqual([]);
    await page.context().close();
  }

  const page = await newSignedInPage(owner, { viewport: { width: 1280, height: 900 } });
  const errors = watchConsole(page);
  await page.goto("/escalations");
  await expect(page.getByText("Line items do not add up")).toBeVisible();
  await page.screenshot({ path: `${SHOTS}escalations-1280.png`, fullPage: true });
  expect(await seriousViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
});
