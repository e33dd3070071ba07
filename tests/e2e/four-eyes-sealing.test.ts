/**
 * The decision page while a four-eyes pair is sealed: a manager (who may yet
 * take the second review) sees that a first verdict exists, not what it was or
 * who gave it; an auditor sees all of it.
 */
import { expect, test } from "@playwright/test";
import { claimTask } from "../../app/domain/queue/queue.server";
import { submitReview } from "../../app/domain/review/review.server";
import { createUser, e2eDb, login, watchConsole } from "./utils";
import { ingest, invoice, workbenchType } from "./workbench-fixtures";

test("a sealed first verdict on the decision page: hidden from a manager, shown to an auditor", async ({ browser }) => {
  const owner = await createUser("manager");
  const first = await createUser("reviewer");
  const manager = await createUser("manager");
  const auditor = await createUser("auditor");
  const type = await workbenchType(owner.email, { fourEyes: { fieldAbove: { total: 1000 } } });
  const [d] = await ingest([invoice(type.key, 3, { output: { total: 4800, currency: "EUR", lines: [{ sku: "PRESS-1", amount: 4800 }] } })]);
  const task = e2eDb().$client.prepare("select id from tasks where decision_id = ? and kind = 'review'").get(d.id) as { id: string };
  await claimTask(e2eDb(), first, task.id);
  await submitReview(e2eDb(), first, task.id, { action: "approve", note: "looks right to me" });

  const m = await (await browser.newContext()).newPage();
  const errors = watchConsole(m);
  await login(m, manager);
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

  const a = await (await browser.newContext()).newPage();
  await login(a, auditor);
  await a.goto(`/decisions/${d.id}`);
  await expect(a.getByRole("region", { name: "Reviews" })).toContainText(first.email);
  await expect(a.getByRole("region", { name: "Reviews" })).toContainText("looks right to me");
  await expect(a.getByRole("region", { name: "Audit trail" })).toContainText("review.approve");
  await expect(a.locator("body")).not.toContainText("sealed review (hidden until final)");
  expect(errors).toEqual([]);
});
