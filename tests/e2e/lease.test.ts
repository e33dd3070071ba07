/**
 * Conflicts are explained: a lease that ran out (and the task taken by
 * someone else meanwhile) shows a clear message, saves nothing and loads the
 * next task.
 *
 * Time: the page's lease arithmetic (the countdown, "Your lease expired", when to renew)
 * runs on the browser's clock, which these tests drive with `page.clock` instead of
 * sleeping. The server's lease is real time: where a test needs it to have lapsed
 * (a colleague may take the task), it claims with the API's shortest lease
 * (leaseSeconds: 1) and waits only for what is left of that second.
 */
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

test("an expired lease is explained and the next task loads", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const other = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  const [d1, d2] = await api.postDecisions([workbenchInvoice(type.key, 21, { priority: 5 }), workbenchInvoice(type.key, 22, { priority: 1 })]);
  await signIn(reviewer);
  await api.reviewKeyOf(reviewer); // made now, so the claim below is all that runs on its one second
  await api.reviewKeyOf(other);

  // The browser's clock stands still from here until the test moves it.
  await page.clock.install();
  await page.clock.pauseAt(Date.now() + 100);
  const claim = (await api.claimNext(reviewer, { type: type.key, leaseSeconds: 1 }))!;
  expect(claim.task.decisionId).toBe(d1.id);
  const task = claim.task;
  await page.goto(`/review/${task.id}?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: /INV-1021/ })).toBeVisible();
  await expect(page.getByText(/Lease 0:0\d/)).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
  // Two seconds later on the page's clock, the one-second lease is over.
  await page.clock.runFor(2_000);
  await expect(page.getByRole("alert")).toContainText("Your lease expired");
  await page.clock.resume();

  // On the server the lease lapses in real time: wait out what is left of its second.
  const lapse = Date.parse(task.leaseExpiresAt!) + 50 - Date.now();
  if (lapse > 0) await page.waitForTimeout(lapse);

  // Meanwhile a colleague takes the task; approving now must not save anything.
  const theirs = (await api.claimNext(other, { type: type.key, leaseSeconds: 60 }))!;
  expect(theirs.task.id).toBe(task.id);
  await page.locator('[data-field="total"]').focus();
  await page.keyboard.press("a");
  await expect(page.getByRole("heading", { level: 1, name: /INV-1022/ })).toBeVisible();
  await expect(page.getByRole("status")).toContainText("You do not hold the lease");
  await expect(page.getByRole("status")).toContainText("Nothing was saved");
  expect((await api.readDecision(d1.id)).status).toBe("in_review");
  expect((await api.readDecision(d1.id)).reviews).toEqual([]);

  // Opening a task held by someone else explains it too.
  await page.goto(`/review/${task.id}?type=${type.key}`);
  await expect(page.getByRole("alert")).toHaveText("Another reviewer is working on this task.");
  await page.getByRole("button", { name: "Load next task" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1022/ })).toBeVisible();
  expect((await api.readDecision(d2.id)).status).toBe("in_review");
  expect(errors).toEqual([]);
});

test("the lease renews while the reviewer works and is released on leave", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  const [d] = await api.postDecisions([workbenchInvoice(type.key, 61)]);
  await signIn(reviewer);
  const { task } = (await api.claimNext(reviewer, { type: type.key, leaseSeconds: 6 }))!;
  const initial = Date.parse(task.leaseExpiresAt!);

  await page.clock.install();
  await page.clock.pauseAt(Date.now() + 100);
  await page.goto(`/review/${task.id}?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: /INV-1061/ })).toBeVisible();
  // Work for a while on the page's clock (moving between fields): the page renews the lease
  // once a third of it has passed, and the server answers with the new expiry.
  const renewal = page.waitForResponse((r) => r.url().endsWith(`/api/v1/tasks/${task.id}/renew`) && r.request().method() === "POST");
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press(i % 2 ? "k" : "j");
    await page.clock.runFor(500);
  }
  const renewed = await renewal;
  expect(renewed.status()).toBe(200);
  expect(Date.parse((await renewed.json()).task.leaseExpiresAt)).toBeGreaterThan(initial + 2_000);
  await page.clock.runFor(8_000); // past the first lease: the page counts from the renewed one
  await expect(page.getByRole("alert")).toHaveCount(0);
  await expect(page.getByText(/Lease \d+:\d\d/)).toBeVisible();
  await page.clock.resume();

  // Leaving the review screen hands the task back.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Queue" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Queues" })).toBeVisible();
  await expect.poll(async () => (await api.readDecision(d.id)).status).toBe("pending_review");
  const released = await api.auditEntries({ entityType: "task", entityId: task.id, action: "task.released" });
  expect(released.map((e) => e.actor)).toEqual([reviewer.email]);
  expect(errors).toEqual([]);
});

test("opening a task's link takes no lease: the reviewer claims it with the button", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  const [d] = await api.postDecisions([workbenchInvoice(type.key, 71)]);
  await signIn(reviewer);
  // The task's id, as the queue page carries it.
  await page.goto(`/queue?type=${type.key}`);
  const taskId = await page
    .getByRole("row", { name: /INV-1071/ })
    .locator('input[name="taskId"]')
    .inputValue();
  const claims = async () => (await api.auditEntries({ entityType: "task", entityId: taskId, action: "task.claimed" })).length;

  await page.goto(`/review/${taskId}?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: "Review INV-1071?" })).toBeVisible();
  expect(await claims()).toBe(0);
  expect((await api.readDecision(d.id)).status).toBe("pending_review");
  await page.getByRole("button", { name: "Claim and review" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1071/ })).toBeVisible();
  await expect(page.getByText(/Lease \d+:\d\d/)).toBeVisible();
  expect(await claims()).toBe(1);
  expect((await api.readDecision(d.id)).status).toBe("in_review");
  expect(errors).toEqual([]);
});
