import { expect, test, watchConsole } from "./fixtures";

test("decisions: filter, page, and read one in full (outputs diff, reviews, audit, events)", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("admin");
  const reviewer = await accounts.create("reviewer");
  const { key: typeKey } = await freshType.plain(owner.email, { name: "Browsed invoices" });
  const ingestKey = await api.createKey(["ingest"]);
  const reviewKey = await api.createKey(["review"], reviewer);
  const invoiceItem = (externalId: string, o: Record<string, unknown> = {}) => ({
    type: typeKey,
    externalId,
    model: { name: "invoice-extractor", version: "1.0.0" },
    input: { vendor: "ACME GmbH", address: { city: "Lyon" } },
    output: { total: 120.5, currency: "EUR" },
    confidence: 0.97,
    fieldConfidence: { total: 0.99, currency: 0.98 },
    flags: [],
    ...o,
  });
  const batchResponse = await page.request.post("/api/v1/decisions", {
    headers: { Authorization: `Bearer ${ingestKey}` },
    data: {
      decisions: [
        invoiceItem("D-1", { confidence: 0.55 }),
        invoiceItem("D-2"),
        invoiceItem("D-3", { model: { name: "invoice-extractor", version: "2.0.0" } }),
        invoiceItem("D-4", { flags: ["policy:kyc"] }),
      ],
    },
  });
  expect(batchResponse.status()).toBe(201);
  const ids = (await batchResponse.json()).decisions.map((d: { id: string }) => d.id) as string[];
  const claim = await (await page.request.post("/api/v1/tasks/claim", { headers: { Authorization: `Bearer ${reviewKey}` }, data: { type: typeKey } })).json();
  expect(claim.decision.externalId).toBe("D-1");
  const verdictResponse = await page.request.post(`/api/v1/tasks/${claim.task.id}/review`, {
    headers: { Authorization: `Bearer ${reviewKey}` },
    data: { action: "correct", output: { total: 99, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"], note: "Stamp covered the total" },
  });
  expect(verdictResponse.status()).toBe(200);

  await signIn(reviewer); // reviewers may read decisions too
  await page.goto("/decisions");
  await page.getByLabel("Type").selectOption(typeKey);
  await page.getByRole("button", { name: "Filter" }).click();
  const table = page.getByRole("table", { name: "Decisions" });
  await expect(table.getByRole("link")).toHaveText(["D-4", "D-3", "D-2", "D-1"]);

  await page.getByLabel("Route").selectOption("review");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(table.getByRole("link")).toHaveText(["D-4", "D-1"]);
  await page.getByLabel("Route").selectOption("");
  await page.getByLabel("Model version").fill("2.0.0");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(table.getByRole("link")).toHaveText(["D-3"]);
  await page.getByLabel("Model version").fill("");
  await page.getByLabel("Status").selectOption("corrected");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(table.getByRole("link")).toHaveText(["D-1"]);
  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page).toHaveURL("/decisions");
  await expect(page.getByLabel("Status")).toHaveValue("");
  await page.getByLabel("External id").fill("D-2");
  await page.getByLabel("Type").selectOption(typeKey);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(table.getByRole("link")).toHaveText(["D-2"]);

  // Keyset paging: two pages of two, unaffected by a decision arriving in between.
  await page.goto(`/decisions?type=${typeKey}&limit=2`);
  await expect(table.getByRole("link")).toHaveText(["D-4", "D-3"]);
  await page.request.post("/api/v1/decisions", { headers: { Authorization: `Bearer ${ingestKey}` }, data: invoiceItem("D-5") });
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(table.getByRole("link")).toHaveText(["D-2", "D-1"]);
  await expect(page.getByRole("link", { name: "Older →" })).toHaveCount(0);
  await page.getByRole("link", { name: "← Newest" }).click();
  await expect(table.getByRole("link")).toHaveText(["D-5", "D-4"]);

  // A bad filter is a message, not an error page.
  await page.goto("/decisions?status=bogus");
  await expect(page.getByRole("alert")).toContainText("Invalid filter: status");

  // The corrected decision in full.
  await page.goto(`/decisions?type=${typeKey}`);
  await table.getByRole("link", { name: "D-1" }).click();
  await expect(page).toHaveURL(`/decisions/${ids[0]}`);
  await expect(page.getByText("confidence 0.55 < 0.9", { exact: true })).toBeVisible();
  const outputs = page.getByRole("table", { name: "Model output and final output by field" });
  await expect(outputs.getByRole("row", { name: /total/ })).toContainText("changed");
  await expect(outputs.getByRole("row", { name: /total/ })).toContainText("120.5");
  await expect(outputs.getByRole("row", { name: /total/ })).toContainText("99");
  await expect(outputs.getByRole("row", { name: /currency/ })).not.toContainText("changed");
  await expect(page.getByText("1 field(s) changed by a reviewer.")).toBeVisible();
  const reviews = page.getByRole("table", { name: "Reviews" });
  await expect(reviews).toContainText(reviewer.email);
  await expect(reviews).toContainText("WRONG_TOTAL · Total misread");
  await expect(reviews).toContainText("Stamp covered the total");
  const audit = page.getByRole("region", { name: "Audit trail" });
  // D-1 came in a batch: the batch's entry is in its trail, showing this decision's item.
  await expect(audit.locator("code")).toHaveText(["decisions.ingested", "task.claimed", "review.correct"]);
  await expect(audit).toContainText("batchSize: 4");
  const events = page.getByRole("table", { name: "Outbox events" });
  await expect(events).toContainText("decision.finalized");
  await expect(events).toContainText("pending");
  await expect(page.getByRole("region", { name: "Input" })).toContainText("Lyon");

  // An auto-released decision explains itself.
  await page.goto(`/decisions/${ids[1]}`);
  await expect(page.getByText(/No rule fired: released automatically/)).toBeVisible();
  await expect(page.getByRole("table", { name: "Tasks" })).toContainText("No tasks");

  const missing = await page.goto("/decisions/dec_nope");
  expect(missing?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "404 · Not found" })).toBeVisible();
  expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
});
