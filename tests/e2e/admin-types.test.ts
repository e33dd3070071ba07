import { expect, test, uniqueKey, watchConsole } from "./fixtures";

const VALID_SCHEMA = JSON.stringify(
  {
    type: "object",
    required: ["amount", "decision"],
    properties: {
      amount: { type: "number", minimum: 0 },
      decision: { type: "string", enum: ["approve", "decline"] },
      items: { type: "array", items: { type: "object", properties: { sku: { type: "string" }, price: { type: "number" } } } },
    },
  },
  null,
  2,
);

test("an admin creates a decision type in the UI, then edits its routing (policy version bumps)", async ({ page, api: lastmile, signedInAs }) => {
  const errors = watchConsole(page);
  const admin = await signedInAs("admin");
  const key = await lastmile.createKey(["admin"]);
  const typeKey = uniqueKey("loans");
  const typeFromApi = () => page.request.get(`/api/v1/decision-types/${typeKey}`, { headers: { Authorization: `Bearer ${key}` } });

  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await expect(page.getByRole("heading", { name: "Decision types" })).toBeVisible();
  await page.getByRole("link", { name: "New decision type" }).click();

  await page.getByLabel("Name").fill("Loan applications");
  await page.getByLabel("Key").fill(typeKey);
  await page.getByLabel("Accountable owner").selectOption(admin.email);
  await page.getByLabel("SLA (minutes)").fill("90");
  // An invalid schema first: an unknown field type.
  await page.getByLabel("Schema (JSON)").fill(JSON.stringify({ type: "object", properties: { amount: { type: "money" } } }));
  await page.getByRole("button", { name: "Add reason code" }).click();
  await page.getByLabel("Code for reason 1").fill("WRONG_AMOUNT");
  await page.getByLabel("Label for reason 1").fill("Amount misread");
  await page.getByRole("button", { name: "Create decision type" }).click();

  const problems = page.getByRole("group", { name: "Schema problems" });
  await expect(problems).toContainText("outputSchema.properties.amount: not a supported field");
  await expect(page.getByLabel("Schema (JSON)")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("alert")).toContainText("nothing was saved");
  expect((await typeFromApi()).status()).toBe(404);
  // What was typed is still there.
  await expect(page.getByLabel("Code for reason 1")).toHaveValue("WRONG_AMOUNT");

  // Fix the schema; the field rule offers the schema's leaf paths.
  await page.getByLabel("Schema (JSON)").fill(VALID_SCHEMA);
  await expect(page.getByRole("table", { name: "Schema fields preview" })).toContainText("items.*.price");
  await page.getByRole("button", { name: "Add field rule" }).click();
  const fieldSelect = page.getByLabel("Field for rule 1");
  await expect(fieldSelect.locator("option")).toHaveText(["Choose a field…", "amount", "decision", "items.*.sku", "items.*.price"]);
  await fieldSelect.selectOption("amount");
  await page.getByLabel("Minimum confidence for rule 1").fill("0.97");
  await page.getByLabel("Minimum confidence", { exact: true }).fill("0.85");
  await page.getByLabel("QA sample rate (%)").fill("10");
  await page.getByLabel("Flags that force review").fill("policy:*\nfraud:*");
  await page.getByRole("button", { name: "Create decision type" }).click();

  await expect(page).toHaveURL(new RegExp(`/admin/types/${typeKey}\\?created=1$`));
  await expect(page.getByRole("status")).toContainText("created with routing policy v1");
  const created = await (await typeFromApi()).json();
  expect(created).toMatchObject({
    key: typeKey,
    name: "Loan applications",
    owner: admin.email,
    slaMinutes: 90,
    policyVersion: 1,
    routing: { minConfidence: 0.85, fieldMinConfidence: { amount: 0.97 }, reviewFlags: ["policy:*", "fraud:*"], qaSampleRate: 0.1 },
    reasonCodes: [{ code: "WRONG_AMOUNT", label: "Amount misread" }],
  });

  // Edit: a bad per-field minimum is reported on its row; then a valid routing change makes v2.
  await page.getByLabel("Minimum confidence for rule 1").fill("2");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator("#f-routing-fieldMinConfidence-0-min-error")).toContainText("<=1");
  expect((await (await typeFromApi()).json()).policyVersion).toBe(1);

  await page.getByLabel("Minimum confidence for rule 1").fill("0.99");
  await page.getByLabel("Minimum confidence", { exact: true }).fill("0.8");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status")).toContainText("Routing policy is now v2");
  const history = page.getByRole("table", { name: "Routing policy versions" });
  await expect(history.getByRole("row")).toHaveCount(3);
  await expect(history).toContainText("v2 · current");
  await expect(history).toContainText(admin.email);
  expect((await (await typeFromApi()).json()).routing).toMatchObject({ minConfidence: 0.8, fieldMinConfidence: { amount: 0.99 } });

  // A save that leaves routing alone keeps the version.
  await page.getByLabel("Name").fill("Consumer loan applications");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status")).toContainText("Routing policy unchanged (v2)");
  await expect(page.getByRole("heading", { name: "Consumer loan applications" })).toBeVisible();

  await page.getByRole("link", { name: "← All types" }).click();
  const row = page.getByRole("row", { name: /Consumer loan applications/ });
  await expect(row).toContainText(typeKey);
  await expect(row).toContainText("v2");
  await expect(row).toContainText("90 min");
  expect(errors).toEqual([]);
});
