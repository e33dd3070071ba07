import fs from "node:fs";
import { expect, plainInvoiceDecision, test, uniqueKey, watchConsole } from "./fixtures";

/** A correction of a plainInvoiceDecision's output. */
const CORRECTED = { total: 99, currency: "EUR", lines: [{ sku: "A-1", amount: 99 }] };

test("a manager defines a dataset, snapshots it and downloads the examples", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const manager = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = uniqueKey("dsinv");
  await freshType.plain(manager.email, { key: type, name: `Invoices ${type}` });
  // Six decisions in the review lane (confidence below the type's 0.9), each given a verdict through the review API.
  for (let i = 0; i < 6; i++) {
    const verdict = i < 4 ? { action: "correct", output: { ...CORRECTED, total: 10 + i }, reasonCodes: ["WRONG_TOTAL"] } : { action: "approve" };
    const posted = await api.postDecision(plainInvoiceDecision(type, `${type}-${i}`, { confidence: 0.5 }));
    const claim = await api.reviewNext(reviewer, type, verdict);
    expect(claim.task.decisionId).toBe(posted.id);
  }

  await signIn(manager);
  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Datasets" }).click();
  await expect(page.getByRole("heading", { name: "Datasets", level: 1 })).toBeVisible();
  const name = `Corrections ${type}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Decision type").selectOption(type);
  await expect(page.getByRole("status")).toHaveText("6 matching examples right now");
  await page.getByRole("checkbox", { name: "corrected" }).check();
  await expect(page.getByRole("status")).toHaveText("4 matching examples right now");
  await page.screenshot({ path: "tests/e2e/screenshots/datasets-create.png", fullPage: true });
  await page.getByRole("button", { name: "Create dataset" }).click();

  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByText("No snapshots yet.")).toBeVisible();
  await page.getByLabel("Train fraction").fill("0.5");
  await page.getByLabel("Validation fraction").fill("0.25");
  await page.getByLabel("Test fraction").fill("0.25");
  await page.getByRole("button", { name: "Create snapshot" }).click();
  const snapshot = page.getByRole("listitem", { name: "Snapshot 1" });
  await expect(snapshot.getByText("ready")).toBeVisible({ timeout: 15_000 });
  await expect(snapshot.getByText("4 examples")).toBeVisible();
  await page.screenshot({ path: "tests/e2e/screenshots/datasets-snapshot.png", fullPage: true });

  const downloadPromise = page.waitForEvent("download");
  await snapshot.getByRole("link", { name: "Download snapshot 1 All as JSONL" }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/^corrections-dsinv.*-v1\.jsonl$/);
  const lines = fs
    .readFileSync((await download.path())!, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines).toHaveLength(4);
  expect(lines.every((l) => l.action === "corrected" && l.type === type)).toBe(true);
  expect(lines[0].reviewer).toMatch(/^rv_/);

  const csvPromise = page.waitForEvent("download");
  await snapshot.getByRole("link", { name: "Download snapshot 1 All as CSV" }).click();
  expect((await csvPromise).suggestedFilename()).toMatch(/-v1\.csv$/);

  await snapshot.getByRole("link", { name: "Data card" }).click();
  await expect(page.getByRole("heading", { name: `Data card: ${name} — snapshot 1` })).toBeVisible();
  await expect(page.getByRole("table", { name: "Per action" }).getByRole("row", { name: /corrected/ })).toContainText("4");
  await expect(page.getByRole("table", { name: "Field-level corrections" })).toContainText("total");
  await page.screenshot({ path: "tests/e2e/screenshots/datasets-card.png", fullPage: true });
  expect(errors).toEqual([]);
});

test("a reviewer cannot open datasets, an auditor can read but not create", async ({ page, accounts, signIn }) => {
  const errors = watchConsole(page);
  const auditor = await accounts.create("auditor");
  await page.goto("/datasets");
  await expect(page).toHaveURL(/\/login\?redirectTo=%2Fdatasets/);
  await signIn(auditor);
  await page.goto("/datasets");
  await expect(page.getByRole("heading", { name: "Datasets", level: 1 })).toBeVisible();
  await expect(page.getByRole("button", { name: "Create dataset" })).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await signIn(await accounts.create("reviewer"));
  const res = await page.goto("/datasets");
  expect(res?.status()).toBe(403);
  expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
});

test("dataset and snapshot forms show the domain's errors next to the fields", async ({ page, signedInAs, freshType }) => {
  const errors = watchConsole(page);
  const manager = await signedInAs("manager");
  const type = uniqueKey("dserr");
  await freshType.plain(manager.email, { key: type, name: `Invoices ${type}` });
  await page.goto("/datasets");
  await page.getByLabel("Decision type").selectOption(type);
  // No name, and a date range that ends before it starts: both refused, each at its field.
  await page.getByLabel("Reviewed from").fill("2026-11-10");
  await page.getByLabel("Reviewed before").fill("2026-11-01");
  await page.getByRole("button", { name: "Create dataset" }).click();
  await expect(page.locator("#name-error")).toHaveText("name the dataset");
  await expect(page.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#to-error")).toHaveText("to must be after from");

  await page.getByLabel("Name").fill(`Everything ${type}`);
  await page.getByLabel("Reviewed from").fill("");
  await page.getByLabel("Reviewed before").fill("");
  await page.getByRole("button", { name: "Create dataset" }).click();
  await expect(page.getByRole("heading", { name: `Everything ${type}`, level: 1 })).toBeVisible();
  await page.getByLabel("Train fraction").fill("0.5");
  await page.getByLabel("Validation fraction").fill("0.5");
  await page.getByLabel("Test fraction").fill("0.5");
  await page.getByRole("button", { name: "Create snapshot" }).click();
  await expect(page.locator("#train-error")).toHaveText("train + validation + test must add up to 1");
  await expect(page.getByRole("alert")).toHaveText("Invalid snapshot");
  expect(errors).toEqual([]);
});
