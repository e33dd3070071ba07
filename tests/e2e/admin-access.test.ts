import AxeBuilder from "@axe-core/playwright";
import { type Page } from "@playwright/test";
import { expect, test, uniqueEmail, watchConsole, type LastmileApi } from "./fixtures";

const ADMIN_PAGES = ["/admin", "/admin/types", "/admin/types/new", "/admin/users", "/admin/api-keys", "/admin/audit"];

/** One low-confidence decision of `typeKey`, through an ingest key of its own (as a source system would). */
async function postOneWithIngestKey(page: Page, api: LastmileApi, typeKey: string, externalId: string) {
  const key = await api.createKey(["ingest"]);
  const res = await page.request.post("/api/v1/decisions", {
    headers: { Authorization: `Bearer ${key}` },
    data: {
      type: typeKey,
      externalId,
      model: { name: "m", version: "1" },
      input: { vendor: "ACME" },
      output: { total: 10, currency: "EUR" },
      confidence: 0.4,
      flags: [],
    },
  });
  expect(res.status()).toBe(201);
  return (await res.json()) as { id: string };
}

/** Forms that change something (POST), apart from signing out. */
const writeForms = (page: Page) => page.locator('form[method="post"]:not([action="/logout"])');

test("a reviewer cannot open any admin page (403)", async ({ page, signedInAs }) => {
  const errors = watchConsole(page);
  await signedInAs("reviewer");
  await page.goto("/queue");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" })).toHaveCount(0);
  for (const path of ADMIN_PAGES) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    await expect(page.getByRole("heading", { name: "403 · Not allowed" })).toBeVisible();
  }
  const post = await page.request.post("/admin/users", { form: { intent: "create", email: uniqueEmail("sneaky"), role: "admin" } });
  expect(post.status()).toBe(403);
  expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
});

test("an auditor reads decisions and the audit trail, sees no edit controls, and admin writes are refused on the server", async ({
  page,
  api,
  accounts,
  signIn,
  newSignedInPage,
  freshType,
}) => {
  const errors = watchConsole(page);
  const admin = await accounts.create("admin");
  const { key: typeKey } = await freshType.plain(admin.email, { name: "Audited invoices" });
  const decision = await postOneWithIngestKey(page, api, typeKey, "AUD-1");
  const auditor = await accounts.create("auditor");
  await signIn(auditor);
  await page.goto("/decisions");
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await page.getByLabel("Type").selectOption(typeKey);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("link", { name: "AUD-1" }).click();
  await expect(page).toHaveURL(`/decisions/${decision.id}`);
  await expect(page.getByRole("heading", { name: /AUD-1/ })).toBeVisible();
  await expect(page.getByText("confidence 0.4 < 0.9", { exact: true })).toBeVisible();
  await expect(writeForms(page)).toHaveCount(0);

  await nav.getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("navigation", { name: "Admin" }).getByRole("link")).toHaveText(["Audit trail"]);
  await page.getByRole("button", { name: "Verify hash chain" }).click();
  await expect(page.getByRole("status")).toContainText("Chain intact");
  await expect(page.getByRole("table", { name: "Audit entries" })).toContainText("decision.ingested");
  await expect(writeForms(page)).toHaveCount(0);

  for (const path of ["/admin/types", "/admin/users", "/admin/api-keys", `/admin/types/${typeKey}`]) {
    expect((await page.goto(path))?.status(), path).toBe(403);
  }

  // Straight POSTs to every admin action are refused, and nothing changes.
  const startedAt = new Date(Date.now() - 1000).toISOString();
  const sneaky = uniqueEmail("sneaky");
  const attempts: [string, Record<string, string>][] = [
    ["/admin/users", { intent: "create", email: sneaky, role: "admin" }],
    ["/admin/users", { intent: "disable", id: admin.id }],
    ["/admin/api-keys", { intent: "create", name: "sneaky", scopes: "admin" }],
    [
      "/admin/types/new",
      { key: "sneaky", name: "Sneaky", owner: auditor.email, slaMinutes: "5", outputSchema: '{"type":"object","properties":{"a":{"type":"string"}}}' },
    ],
    [
      `/admin/types/${typeKey}`,
      { name: "Renamed", owner: auditor.email, slaMinutes: "5", outputSchema: '{"type":"object","properties":{"a":{"type":"string"}}}' },
    ],
  ];
  for (const [path, form] of attempts) {
    const res = await page.request.post(path, { form });
    expect(res.status(), path).toBe(403);
  }
  // Nobody was created and the admin is not disabled: the audit trail has neither, and the admin still signs in.
  const since = await api.auditEntries({ entityType: "user", from: startedAt });
  expect(since.filter((e) => e.action === "user.created" && e.data?.email === sneaky)).toEqual([]);
  expect(since.filter((e) => e.entityId === admin.id && e.action !== "user.created")).toEqual([]);
  await newSignedInPage(admin);
  const key = await api.createKey(["read"]);
  const type = await (await page.request.get(`/api/v1/decision-types/${typeKey}`, { headers: { Authorization: `Bearer ${key}` } })).json();
  expect(type.name).toBe("Audited invoices");
  expect((await page.request.get("/api/v1/decision-types/sneaky", { headers: { Authorization: `Bearer ${key}` } })).status()).toBe(404);
  expect(errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
});

test("admin and decision pages have no serious accessibility violations", async ({ page, api, signedInAs, freshType }) => {
  // axe scans eight pages: about a minute on a 2-core machine, more when it is busy.
  test.setTimeout(180_000);
  const admin = await signedInAs("admin");
  const { key: typeKey } = await freshType.plain(admin.email);
  const decision = await postOneWithIngestKey(page, api, typeKey, "A11Y-1");
  for (const path of [
    "/admin/types",
    "/admin/types/new",
    `/admin/types/${typeKey}`,
    "/admin/users",
    "/admin/api-keys",
    "/admin/audit?verify=1",
    "/decisions",
    `/decisions/${decision.id}`,
  ]) {
    await page.goto(path);
    const { violations } = await new AxeBuilder({ page }).analyze();
    const serious = violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map(
        (v) =>
          `${v.id}: ${v.nodes
            .map((n) => n.target.join(" "))
            .slice(0, 3)
            .join(", ")}`,
      );
    expect(serious, path).toEqual([]);
  }
});
