/**
 * Issue 13, assignment in the browser: a manager selects three tasks in the
 * queue's manager view and assigns them to a reviewer in one bulk action; that
 * reviewer's work mode serves them first, and another reviewer's queue does
 * not show them. A refused bulk action says which tasks and why.
 */
import AxeBuilder from "@axe-core/playwright";
import { fileURLToPath } from "node:url";
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

test("a manager assigns three tasks in bulk; the reviewer gets them first in work mode; another reviewer does not see them", async ({
  page,
  api,
  accounts,
  signIn,
  newSignedInPage,
  freshType,
}) => {
  const errors = watchConsole(page);
  const manager = await accounts.create("manager");
  const alice = await accounts.create("reviewer");
  const bob = await accounts.create("reviewer");
  const type = await freshType.workbench(manager.email);
  // The shared queue would serve 1001 and 1002 first (higher priority); 1003–1005 are the ones assigned.
  const priorities = [9, 8, 3, 2, 1];
  await api.postDecisions(priorities.map((priority, i) => workbenchInvoice(type.key, i + 1, { priority })));

  // The manager: the queue, then its manager view for this type.
  await signIn(manager);
  await page.goto(`/queue?type=${type.key}`);
  await page.getByRole("link", { name: /Manage tasks/ }).click();
  await expect(page).toHaveURL(/manage=1/);
  const list = page.getByRole("table", { name: "Tasks to manage" });
  await expect(list.getByRole("row")).toHaveCount(6); // header + 5
  const bulkForm = page.getByRole("form", { name: "Bulk actions" });
  await expect(bulkForm).toContainText("All 5 tasks matching this filter");
  for (const ext of ["INV-1003", "INV-1004", "INV-1005"]) await list.getByRole("checkbox", { name: `Select ${ext}` }).check();
  await bulkForm.getByLabel("Assign to").selectOption(alice.email);
  await page.screenshot({ path: `${SHOTS}queue-bulk-selected.png`, fullPage: true });
  const axe = await new AxeBuilder({ page }).analyze();
  const serious = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    serious.map((v) => v.id),
    JSON.stringify(serious.map((v) => v.nodes.map((n) => n.target))),
  ).toEqual([]);
  await bulkForm.getByRole("button", { name: "Assign", exact: true }).click();
  await expect(page.getByRole("status")).toContainText(`Assigned 3 tasks to ${alice.email}.`);
  for (const ext of ["INV-1003", "INV-1004", "INV-1005"]) await expect(list.getByRole("row", { name: new RegExp(ext) })).toContainText(alice.email);
  await expect(list.getByRole("row", { name: /INV-1001/ })).toContainText("Shared queue");
  await page.screenshot({ path: `${SHOTS}queue-bulk-assigned.png`, fullPage: true });

  // All or nothing: releasing leases of open tasks is refused, naming each task, and nothing changes.
  await list.getByRole("checkbox", { name: "Select INV-1001" }).check();
  await bulkForm.getByRole("button", { name: "Release leases" }).click();
  const refusal = bulkForm.getByRole("alert");
  // The assignment cleared the selection: only INV-1001 was checked since, and the refusal names it.
  await expect(refusal).toContainText("1 of the 1 selected task cannot be released; nothing was changed");
  await expect(refusal).toContainText("INV-1001: is not claimed: it holds no lease");
  await expect(list.getByRole("checkbox", { name: "Select INV-1001" })).toBeChecked();
  await page.screenshot({ path: `${SHOTS}queue-bulk-refused.png`, fullPage: true });

  // Another reviewer: the assigned tasks are not in their list.
  const bobPage = await newSignedInPage(bob);
  await bobPage.goto(`/queue?type=${type.key}`);
  const bobList = bobPage.getByRole("table", { name: "Open tasks" });
  await expect(bobList.getByRole("row")).toHaveCount(3); // header + 2
  const bobSees = (await bobList.locator("tbody tr td:first-child .font-mono").allTextContents()).map((t) => t.trim());
  expect(bobSees).toEqual(["INV-1001", "INV-1002"]);
  await expect(bobPage.getByRole("link", { name: /Manage tasks/ })).toHaveCount(0);

  // The assignee: work mode serves the three assigned tasks first, then the shared queue.
  const alicePage = await newSignedInPage(alice);
  await alicePage.goto(`/queue?type=${type.key}`);
  await alicePage
    .getByRole("button", { name: /^Start reviewing/ })
    .first()
    .click();
  const served: string[] = [];
  for (let i = 0; i < 4; i++) {
    const heading = alicePage.getByRole("heading", { level: 1, name: /INV-100\d/ });
    await expect(heading).toBeVisible();
    const ext = /INV-100\d/.exec((await heading.textContent()) ?? "")![0];
    served.push(ext);
    await alicePage.keyboard.press("a");
    await expect(alicePage.getByRole("heading", { level: 1, name: ext })).toHaveCount(0);
  }
  expect(served).toEqual(["INV-1003", "INV-1004", "INV-1005", "INV-1001"]);
  expect(errors).toEqual([]);
});
