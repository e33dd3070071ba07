/**
 * Work mode follows the list the reviewer filtered: filter the queue by flag
 * and order, start reviewing, and the review screen serves exactly the listed
 * tasks in the listed order; when none is left the queue says so and offers
 * to clear the filters.
 */
import AxeBuilder from "@axe-core/playwright";
import { fileURLToPath } from "node:url";
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

test("start reviewing a flag-filtered, oldest-first list: exactly those tasks, in list order, then 'nothing left'", async ({
  page,
  api,
  accounts,
  signIn,
  freshType,
}) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  const t0 = Date.now();
  // Flagged and unflagged items; priorities would serve them in another order than arrival.
  const spec = [
    { i: 1, priority: 1, flags: ["policy:pep"] },
    { i: 2, priority: 9, flags: ["policy:new-vendor"] },
    { i: 3, priority: 8, flags: ["policy:pep"] },
    { i: 4, priority: 0, flags: ["policy:new-vendor"] },
    { i: 5, priority: 5, flags: ["policy:pep", "policy:new-vendor"] },
  ];
  const created = await api.postDecisions(
    spec.map((s) => workbenchInvoice(type.key, s.i, { priority: s.priority, flags: s.flags, occurredAt: new Date(t0 - (10 - s.i) * 60_000).toISOString() })),
  );

  await signIn(reviewer);
  await page.goto(`/queue?type=${type.key}`);
  const filters = page.getByRole("form", { name: "Filter open tasks" });
  await filters.getByLabel("Flag").fill("policy:pep");
  await filters.getByLabel("Sort").selectOption("oldest");
  await filters.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/flag=policy%3Apep/);

  const list = page.getByRole("table", { name: "Open tasks" });
  await expect(list.getByRole("row")).toHaveCount(4); // header + 3
  const listed = (await list.locator("tbody tr td:first-child .font-mono").allTextContents()).map((t) => t.trim());
  expect(listed).toEqual(["INV-1001", "INV-1003", "INV-1005"]);

  await page.getByRole("button", { name: /^Start reviewing .*\(filtered list\)$/ }).click();
  const served: string[] = [];
  for (const ext of listed) {
    await expect(page.getByRole("heading", { level: 1, name: new RegExp(ext) })).toBeVisible();
    // The list's filters stay with work mode from task to task.
    expect(new URL(page.url()).searchParams.get("flag")).toBe("policy:pep");
    expect(new URL(page.url()).searchParams.get("sort")).toBe("oldest");
    served.push(ext);
    await page.keyboard.press("a");
  }
  expect(served).toEqual(listed);

  // Nothing matching is left: back on the same filtered list, said plainly, with a way out.
  await expect(page).toHaveURL(/\/queue\?.*empty=all/);
  const ended = page.getByRole("status", { name: "Work mode ended" });
  await expect(ended).toContainText("Nothing left to review that matches these filters.");
  await expect(ended).toContainText("Approved INV-1005.");
  await expect(page.getByLabel("Flag")).toHaveValue("policy:pep");
  await page.screenshot({ path: `${SHOTS}queue-work-mode-ended.png`, fullPage: true });
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  await ended.getByRole("link", { name: "Clear filters" }).click();
  await expect(page).toHaveURL(/\/queue$/);
  await expect(page.getByRole("status", { name: "Work mode ended" })).toHaveCount(0);

  const status = await Promise.all(created.map(async (c) => (await api.readDecision(c.id)).status));
  expect(status).toEqual(["approved", "pending_review", "approved", "pending_review", "approved"]);
  expect(errors).toEqual([]);
});

test("an empty filtered list cannot be started; stop reviewing returns to the filtered list; a route filter is honoured", async ({
  page,
  api,
  accounts,
  signIn,
  freshType,
}) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  await api.postDecisions([workbenchInvoice(type.key, 21, { priority: 3 }), workbenchInvoice(type.key, 22, { priority: 4 })]);

  await signIn(reviewer);
  await page.goto(`/queue?type=${type.key}&route=qa`);
  await expect(page.getByRole("table", { name: "Open tasks" })).toContainText("No open tasks match these filters.");
  // an empty list has nothing to start on
  await expect(page.getByRole("button", { name: /^Start reviewing .*\(filtered list\)$/ })).toBeDisabled();

  await page.goto(`/queue?type=${type.key}&route=review`);
  await page.getByRole("button", { name: /^Start reviewing .*\(filtered list\)$/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1022/ })).toBeVisible();
  await page.getByRole("button", { name: "Stop reviewing" }).click();
  await expect(page).toHaveURL(new RegExp(`/queue\\?type=${type.key}&route=review$`));
  await expect(page.getByLabel("Route")).toHaveValue("review");
  expect(errors).toEqual([]);
});
