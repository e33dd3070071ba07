/**
 * Issue 2's loop in the browser: sign in, claim, correct a field, submit,
 * and read the final output back through the API with an API key.
 */
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

test("a reviewer claims, corrects a field and the final output is served by the API", async ({ page, request, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email);
  const [created] = await api.postDecisions([workbenchInvoice(type.key, 1)]);
  const key = await api.createKey(["read"]);

  await signIn(reviewer);
  await page.goto("/queue");
  const row = page.getByRole("row", { name: new RegExp(type.name) });
  await expect(row.getByRole("cell").nth(0)).toHaveText("1");
  await page.getByRole("button", { name: `Start reviewing ${type.name}` }).click();

  await expect(page.getByRole("heading", { name: /INV-1001/ })).toBeVisible();
  await expect(page.getByText("total confidence 0.62 < 0.95")).toBeVisible();
  await page.getByLabel("Total *").fill("130.5");
  await page.getByRole("button", { name: /^Correct/ }).click();
  const dialog = page.getByRole("dialog", { name: "Submit correction" });
  await expect(dialog.getByRole("table", { name: "Changes to the model output" })).toContainText("total");
  await dialog.getByRole("button", { name: "Submit correction" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("Choose at least one reason code to correct.");
  await dialog.getByLabel("Total misread").check();
  await dialog.getByRole("button", { name: "Submit correction" }).click();

  // Work mode ends on the list it served (this type), saying what happened.
  await expect(page).toHaveURL(new RegExp(`/queue\\?type=${type.key}&notice=`));
  await expect(page.getByRole("status")).toContainText("Corrected INV-1001.");

  const res = await request.get(`/api/v1/decisions/${created.id}`, { headers: { Authorization: `Bearer ${key}` } });
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.status).toBe("corrected");
  expect(body.finalOutput.total).toBe(130.5);
  expect(body.output.total).toBe(120.5);
  expect(body.reviews).toEqual([
    expect.objectContaining({ action: "correct", reviewer: reviewer.email, reasonCodes: ["WRONG_TOTAL"], changedFields: ["total"] }),
  ]);
  expect(errors).toEqual([]);
});
