/**
 * Four-eyes in the browser: a second, different reviewer answers without
 * seeing the first answer; they disagree, so the owner resolves it from the
 * escalations view on the same review screen.
 */
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

test("a four-eyes disagreement ends in the owner's escalations view", async ({ api, accounts, newSignedInPage, freshType }) => {
  const owner = await accounts.create("manager");
  const first = await accounts.create("reviewer");
  const second = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email, { fourEyes: { fieldAbove: { total: 1000 } } });
  const [d] = await api.postDecisions([workbenchInvoice(type.key, 7, { output: { total: 4800, currency: "EUR", lines: [{ sku: "PRESS-1", amount: 4800 }] } })]);

  // First reviewer approves; the decision waits for a second review.
  const a = await newSignedInPage(first);
  const errorsA = watchConsole(a);
  await a.goto(`/queue?type=${type.key}`);
  await a
    .getByRole("button", { name: `Start reviewing ${type.name}` })
    .first()
    .click();
  await expect(a.getByRole("heading", { level: 1, name: /INV-1007/ })).toBeVisible();
  await a.keyboard.press("a");
  await expect(a).toHaveURL(/\/queue/);
  await expect(a.getByRole("status")).toContainText("Recorded (awaiting a second review) INV-1007.");
  // The first reviewer cannot take the second review themselves.
  await a.goto(`/queue?type=${type.key}`);
  await expect(a.getByText("No open tasks match these filters.")).toBeVisible();
  expect((await api.readDecision(d.id)).status).toBe("pending_review");
  expect((await api.readDecision(d.id)).reviews).toEqual([]);

  // Second reviewer: sees the notice, not the first answer; corrects the total.
  const b = await newSignedInPage(second);
  const errorsB = watchConsole(b);
  await b.goto(`/queue?type=${type.key}`);
  await b
    .getByRole("button", { name: `Start reviewing ${type.name}` })
    .first()
    .click();
  await expect(b.getByRole("heading", { level: 1, name: /INV-1007/ })).toBeVisible();
  await expect(b.getByText(/Independent second review/)).toBeVisible();
  await expect(b.getByRole("region", { name: "History" })).not.toContainText(first.email);
  await b.getByRole("textbox", { name: "Total *" }).fill("480");
  await b.getByRole("button", { name: /^Correct/ }).click();
  const dialog = b.getByRole("dialog", { name: "Submit correction" });
  await dialog.getByLabel("Total misread").check();
  await dialog.getByRole("button", { name: "Submit correction" }).click();
  await expect(b.getByRole("status")).toContainText("Escalated INV-1007.");
  expect((await api.readDecision(d.id)).status).toBe("escalated");

  // The owner sees the disagreement and resolves it.
  const o = await newSignedInPage(owner);
  const errorsO = watchConsole(o);
  await o.goto("/escalations");
  const item = o.getByRole("listitem").filter({ hasText: "INV-1007" });
  await expect(item).toContainText(`Four-eyes disagreement: ${first.email} approved; ${second.email} corrected total.`);
  await item.getByRole("button", { name: "Resolve INV-1007" }).click();
  await expect(o.getByRole("heading", { level: 1, name: /INV-1007/ })).toBeVisible();
  await expect(o.getByRole("region", { name: "History" })).toContainText(first.email);
  await expect(o.getByRole("region", { name: "History" })).toContainText(second.email);
  await o.getByRole("textbox", { name: "Total *" }).fill("480");
  await o.keyboard.press("Escape");
  await o.keyboard.press("c");
  await o.keyboard.press("1");
  await o.keyboard.press("Enter");
  await expect(o).toHaveURL(/\/escalations/);
  await expect(o.getByRole("status")).toContainText("Corrected INV-1007.");
  await expect(o.getByText("Nothing is escalated to you.")).toBeVisible();

  const final = await api.readDecision(d.id);
  expect(final.status).toBe("corrected");
  expect(final.finalOutput).toMatchObject({ total: 480 });
  expect(final.reviews.map((r: { kind: string; action: string; reviewer: string }) => [r.kind, r.action, r.reviewer])).toEqual([
    ["review", "approve", first.email],
    ["second", "correct", second.email],
    ["escalation", "correct", owner.email],
  ]);
  expect([...errorsA, ...errorsB, ...errorsO]).toEqual([]);
});
