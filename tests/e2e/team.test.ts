/**
 * The team page in the browser: a manager sees each reviewer's figures per queue (a table axe
 * accepts), narrows it to one queue and a period; the reviewer sees their own figures on the queue page.
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, plainInvoiceDecision, test, uniqueSuffix, watchConsole } from "./fixtures";

test("a manager reads the team page; the reviewer sees their own figures on the queue page", async ({ api, accounts, newSignedInPage, freshType }) => {
  const manager = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.plain(manager.email);
  const run = uniqueSuffix();
  await api.postDecisions([1, 2, 3].map((i) => plainInvoiceDecision(type.key, `T-${run}-${i}`, { confidence: 0.5 })));
  await api.reviewNext(reviewer, type.key, { action: "approve" });
  await api.reviewNext(reviewer, type.key, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });

  const page = await newSignedInPage(manager);
  const errors = watchConsole(page);
  await page.goto("/queue");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Team" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Team" })).toBeVisible();
  await page.getByLabel("Queue", { exact: true }).selectOption(type.key);
  await page.getByLabel("Period", { exact: true }).selectOption("30d");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`type=${type.key}`));
  const table = page.getByRole("table", { name: "Reviewer progress per queue" });
  const row = table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: new RegExp(reviewer.email) }) });
  await expect(row).toHaveCount(1);
  // Cells after the reviewer: queue, today, this week, in the period (the two verdicts just given), approves (one of
  // the two; nobody else reviewed on this queue), median time per item.
  await expect(row.getByRole("cell").nth(0)).toHaveText(type.name);
  await expect(row.getByRole("cell").nth(3)).toHaveText("2");
  await expect(row.getByRole("cell").nth(4)).toHaveText(/^50%\s*no peers$/);
  await expect(row.getByRole("cell").nth(5)).not.toHaveText(/^–/);
  await expect(row).not.toHaveAttribute("data-flagged");
  await expect(page.getByTestId("team-flag-rule")).toContainText("at least 97% of at least 20 verdicts");
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  expect(errors).toEqual([]);

  const own = await newSignedInPage(reviewer);
  await own.goto("/queue");
  const card = own.getByRole("region", { name: /Your progress/ });
  await expect(card.getByTestId("my-progress-median")).not.toContainText("–");
  await expect(own.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Team" })).toHaveCount(0);
});
