/**
 * Conflicts are explained: a lease that ran out (and the task taken by
 * someone else meanwhile) shows a clear message, saves nothing and loads the
 * next task.
 */
import { expect, test } from "@playwright/test";
import { createUser, e2eDb, login, watchConsole } from "./utils";
import { claimWithShortLease, decision, ingest, invoice, workbenchType } from "./workbench-fixtures";

test("an expired lease is explained and the next task loads", async ({ page }) => {
  const errors = watchConsole(page);
  const owner = await createUser("manager");
  const reviewer = await createUser("reviewer");
  const other = await createUser("reviewer");
  const type = await workbenchType(owner.email);
  const [d1, d2] = await ingest([invoice(type.key, 21, { priority: 5 }), invoice(type.key, 22, { priority: 1 })]);
  await login(page, reviewer);

  const task = (await claimWithShortLease(reviewer, type.key, 3_000))!;
  expect(task.decisionId).toBe(d1.id);
  await page.goto(`/review/${task.id}?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: /INV-1021/ })).toBeVisible();
  await expect(page.getByText(/Lease 0:0\d/)).toBeVisible();
  await expect(page.getByRole("alert")).toContainText("Your lease expired", { timeout: 10_000 });

  // Meanwhile a colleague takes the task; approving now must not save anything.
  const theirs = (await claimWithShortLease(other, type.key, 60_000))!;
  expect(theirs.id).toBe(task.id);
  await page.locator('[data-field="total"]').focus();
  await page.keyboard.press("a");
  await expect(page.getByRole("heading", { level: 1, name: /INV-1022/ })).toBeVisible();
  await expect(page.getByRole("status")).toContainText("You do not hold the lease");
  await expect(page.getByRole("status")).toContainText("Nothing was saved");
  expect((await decision(d1.id)).status).toBe("in_review");
  expect((await decision(d1.id)).reviews).toEqual([]);

  // Opening a task held by someone else explains it too.
  await page.goto(`/review/${task.id}?type=${type.key}`);
  await expect(page.getByRole("alert")).toHaveText("Another reviewer is working on this task.");
  await page.getByRole("button", { name: "Load next task" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1022/ })).toBeVisible();
  expect((await decision(d2.id)).status).toBe("in_review");
  expect(errors).toEqual([]);
});

test("the lease renews while the reviewer works and is released on leave", async ({ page }) => {
  const errors = watchConsole(page);
  const owner = await createUser("manager");
  const reviewer = await createUser("reviewer");
  const type = await workbenchType(owner.email);
  await ingest([invoice(type.key, 61)]);
  await login(page, reviewer);
  const task = (await claimWithShortLease(reviewer, type.key, 6_000))!;
  const leaseOf = () => (e2eDb().$client.prepare("select status, lease_expires_at as l from tasks where id = ?").get(task.id) as { status: string; l: number | null });
  const initial = leaseOf().l!;
  await page.goto(`/review/${task.id}?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: /INV-1061/ })).toBeVisible();
  // Work for a while (moving between fields): the page renews the lease.
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press(i % 2 ? "k" : "j");
    await page.waitForTimeout(500);
  }
  await expect.poll(() => leaseOf().l!).toBeGreaterThan(initial + 2_000);
  await expect(page.getByRole("alert")).toHaveCount(0);
  // Leaving the review screen hands the task back.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Queues" })).toBeVisible();
  await expect.poll(() => leaseOf().status).toBe("open");
  expect(errors).toEqual([]);
});

test("opening a task's link takes no lease: the reviewer claims it with the button", async ({ page }) => {
  const errors = watchConsole(page);
  const owner = await createUser("manager");
  const reviewer = await createUser("reviewer");
  const type = await workbenchType(owner.email);
  const [d] = await ingest([invoice(type.key, 71)]);
  const taskOf = () => e2eDb().$client.prepare("select id, status from tasks where decision_id = ?").get(d.id) as { id: string; status: string };
  await login(page, reviewer);
  await page.goto(`/review/${taskOf().id}?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: "Review INV-1071?" })).toBeVisible();
  expect(taskOf().status).toBe("open");
  await page.getByRole("button", { name: "Claim and review" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1071/ })).toBeVisible();
  await expect(page.getByText(/Lease \d+:\d\d/)).toBeVisible();
  expect(taskOf().status).toBe("claimed");
  expect((await decision(d.id)).status).toBe("in_review");
  expect(errors).toEqual([]);
});
