/**
 * The decision page while a four-eyes pair is sealed: a manager (who may yet
 * take the second review) sees that a first verdict exists, not what it was or
 * who gave it; an auditor sees all of it.
 */
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

test("a sealed first verdict on the decision page: hidden from a manager, shown to an auditor", async ({ api, accounts, newSignedInPage, freshType }) => {
  const owner = await accounts.create("manager");
  const first = await accounts.create("reviewer");
  const manager = await accounts.create("manager");
  const auditor = await accounts.create("auditor");
  const type = await freshType.workbench(owner.email, { fourEyes: { fieldAbove: { total: 1000 } } });
  const [d] = await api.postDecisions([workbenchInvoice(type.key, 3, { output: { total: 4800, currency: "EUR", lines: [{ sku: "PRESS-1", amount: 4800 }] } })]);
  // The first of two verdicts, through the review API.
  const claim = await api.reviewNext(first, type.key, { action: "approve", note: "looks right to me" });
  expect(claim.task).toMatchObject({ decisionId: d.id, route: "review" });

  const m = await newSignedInPage(manager);
  const errors = watchConsole(m);
  await m.goto(`/decisions/${d.id}`);
  const tasks = m.getByRole("table", { name: "Tasks" });
  await expect(tasks.getByRole("row").filter({ hasText: "review" }).first()).toContainText("sealed review (hidden until final)");
  await expect(m.getByRole("region", { name: "Audit trail" })).toContainText("sealed review (hidden until final)");
  await expect(m.getByRole("region", { name: "Reviews" })).toContainText("No reviews yet.");
  await expect(m.locator("body")).not.toContainText(first.email);
  await expect(m.locator("body")).not.toContainText("looks right to me");
  // The evidence pack linked from the page keeps the seal too: the first verdict travels only as hashes.
  const packLink = m.getByRole("link", { name: "Evidence pack (JSON)" });
  const pack = await m.request.get((await packLink.getAttribute("href"))!);
  expect(pack.status()).toBe(200);
  const packText = await pack.text();
  expect(JSON.parse(packText).decision.id).toBe(d.id);
  expect(packText).not.toContain(first.email);
  expect(packText).not.toContain("looks right to me");

  const a = await newSignedInPage(auditor);
  await a.goto(`/decisions/${d.id}`);
  await expect(a.getByRole("region", { name: "Reviews" })).toContainText(first.email);
  await expect(a.getByRole("region", { name: "Reviews" })).toContainText("looks right to me");
  await expect(a.getByRole("region", { name: "Audit trail" })).toContainText("review.approve");
  await expect(a.locator("body")).not.toContainText("sealed review (hidden until final)");
  expect(errors).toEqual([]);
});
