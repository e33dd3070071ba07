import { expect, test } from "@playwright/test";
import { createKey, createType, createUser, invoiceType, login, watchConsole } from "./utils";

test("screens", async ({ page }) => {
  const errors = watchConsole(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  const admin = createUser("admin");
  const reviewer = createUser("reviewer");
  createType(invoiceType(admin.email, { fourEyes: { fieldAbove: { total: 10000 } } }));
  const ikey = createKey(["ingest"]);
  const key = createKey(["review", "read"], reviewer.email);
  const dec = (id: string, o: Record<string, unknown> = {}) => ({
    type: "invoice", externalId: id, model: { name: "invoice-extractor", version: "1.0.0" },
    input: { vendor: "ACME GmbH", pages: 2, address: { city: "Berlin", zip: "10115" }, lines: [{ text: "Widget", qty: 2 }] },
    output: { total: 120.5, currency: "EUR", lines: [{ sku: "A-1", amount: 100 }, { sku: "B-2", amount: 20.5 }] },
    confidence: 0.97, fieldConfidence: { total: 0.99, currency: 0.99 }, flags: [], ...o,
  });
  const r1 = await page.request.post("/api/v1/decisions", { headers: { Authorization: `Bearer ${ikey}` }, data: { decisions: [dec("INV-1", { confidence: 0.5, flags: ["policy:kyc"] }), dec("INV-2"), dec("INV-3", { fieldConfidence: { total: 0.6, currency: 0.99 } })] } });
  const body = await r1.json(); console.log(r1.status(), JSON.stringify(body).slice(0,600));
  const claim = await page.request.post("/api/v1/tasks/claim", { headers: { Authorization: `Bearer ${key}` }, data: {} });
  const c = await claim.json();
  await page.request.post(`/api/v1/tasks/${c.task.id}/review`, { headers: { Authorization: `Bearer ${key}` }, data: { action: "correct", output: { total: 99, currency: "EUR", lines: [{ sku: "A-1", amount: 99 }] }, reasonCodes: ["WRONG_TOTAL"], note: "Total was misread" } });
  await login(page, admin);
  for (const [name, url] of [["types", "/admin/types"], ["type-new", "/admin/types/new"], ["type-edit", "/admin/types/invoice"], ["users", "/admin/users"], ["keys", "/admin/api-keys"], ["audit", "/admin/audit?verify=1"], ["decisions", "/decisions"], ["decision", `/decisions/${body.decisions[0].id}`]]) {
    const before = errors.length;
    await page.goto(url);
    await page.waitForLoadState("networkidle");
    if (errors.length > before) console.log("ERRORS on", url, errors.slice(before).map((e) => e.slice(0, 300)));
    await page.screenshot({ path: `/tmp/shots/${name}.png`, fullPage: true });
  }
  expect(errors).toEqual([]);
});
