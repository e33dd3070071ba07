import fs from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { parse } from "csv-parse/sync";
import { expect, plainInvoiceType, test, uniqueKey, watchConsole, type Account, type LastmileApi } from "./fixtures";

const HOUR = 3_600_000;

/**
 * Ten days of invoices, a model update four days ago, reviewed the way a team would, all through
 * the API: decisions carry their occurredAt (reports bucket by it); everything older than the last
 * few hours is reviewed, the last hours stay in the backlog. Returns the type's key.
 */
async function seed(api: LastmileApi, ownerEmail: string, reviewer: Account): Promise<string> {
  const type = await api.putType({
    ...plainInvoiceType(ownerEmail),
    key: uniqueKey("invoice-r"),
    name: "Invoice extraction (reports)",
    routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0.3 },
  });
  const now = Date.now();
  let n = 0;
  const batch = (h: number) => {
    const v2 = h < 96;
    return Array.from({ length: 4 }, (_, i) => {
      n++;
      const x = (n * 37) % 100;
      return {
        type: type.key,
        externalId: `rep-${n}`,
        model: { name: "invoice-extractor", version: v2 ? "1.1.0" : "1.0.0" },
        input: { vendor: "ACME" },
        output: { total: 100 + n, currency: "EUR", lines: [{ sku: "A-1", amount: 100 + n }] },
        confidence: x < (v2 ? 80 : 55) ? 0.97 : 0.7,
        fieldConfidence: { total: x % 7 === 0 ? 0.9 : 0.99, currency: 0.99 },
        flags: i === 3 && x % 3 === 0 ? ["policy:kyc"] : [],
        occurredAt: new Date(now - h * HOUR).toISOString(),
      };
    });
  };
  const hours: number[] = [];
  for (let h = 240; h >= 2; h -= 3) hours.push(h);
  // Everything that happened before the last eight hours is reviewed...
  for (const h of hours.filter((h) => h >= 8)) await api.postDecisions(batch(h));
  for (let i = 0; ; i++) {
    const claim = await api.claimNext(reviewer, { type: type.key });
    if (!claim) break;
    expect(i, "the seed's review loop ends").toBeLessThan(1000);
    const k = i % 10;
    const verdict =
      claim.task.route === "qa"
        ? k < 8
          ? { action: "approve" }
          : { action: "correct", output: { total: 1, currency: "USD", lines: [] }, reasonCodes: ["WRONG_TOTAL"] }
        : k < 6
          ? { action: "approve" }
          : k < 8
            ? { action: "correct", output: { total: 5, currency: k === 7 ? "USD" : "EUR", lines: [{ sku: "A-1", amount: 5 }] }, reasonCodes: ["WRONG_TOTAL"] }
            : { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] };
    await api.submitVerdict(reviewer, claim.task.id, verdict);
  }
  // ...the last hours stay in the backlog.
  for (const h of hours.filter((h) => h < 8)) await api.postDecisions(batch(h));
  return type.key;
}

test("reports: filters, figures that match the API, CSV download, definitions", async ({ page, browser, api, accounts, signIn }) => {
  // Seeds a month of decisions and reviews through the API, then walks every view: ~50 s on a 2-core machine.
  test.setTimeout(150_000);
  const errors = watchConsole(page);
  const manager = await accounts.create("manager");
  const typeKey = await seed(api, manager.email, await accounts.create("reviewer"));
  await signIn(manager);
  await page.goto(`/reports?type=${typeKey}&period=30d&bucket=day`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Reports · Invoice extraction (reports)");

  // The headline figures match the JSON API for the same query.
  const csvHref = await page.getByRole("link", { name: "Download Model versions side by side as CSV" }).getAttribute("href");
  const qs = new URLSearchParams(csvHref!.split("?")[1]);
  qs.delete("table");
  const automation = await (await page.request.get(`/api/v1/reports/automation?${qs}`)).json();
  expect(automation.totals.volume).toBe(320);
  await expect(page.getByTestId("kpi-volume-value")).toHaveText(automation.totals.volume.toLocaleString("en-US"));
  await expect(page.getByTestId("kpi-automation-rate-value")).toHaveText(`${(automation.totals.automationRate * 100).toFixed(1)}%`);
  await expect(page.getByTestId("kpi-override-rate-value")).toHaveText(`${(automation.totals.overrideRate * 100).toFixed(1)}%`);
  const quality = await (await page.request.get(`/api/v1/reports/quality?${qs}`)).json();
  await expect(page.getByTestId("kpi-auto-lane-accuracy-value")).toHaveText(`${(quality.autoLaneAccuracy.estimate * 100).toFixed(1)}%`);
  await expect(page.getByTestId("kpi-auto-lane-accuracy")).toContainText(`n = ${quality.autoLaneAccuracy.n}`);

  // Charts are drawn at their reserved size.
  await expect(page.locator("figure svg.recharts-surface").first()).toBeVisible();
  await page.screenshot({ path: "test-results/reports-day.png", fullPage: true });

  // The charts are in the server-rendered HTML: with JavaScript off, the page has
  // every chart's SVG with its series, axis ticks and axis titles...
  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: page.viewportSize() });
  await noJs.addCookies(await page.context().cookies());
  const ssr = await noJs.newPage();
  await ssr.goto(`/reports?type=${typeKey}&period=30d&bucket=day`);
  await expect(ssr.locator("figure svg.recharts-surface")).toHaveCount(8);
  const rate = ssr.locator("#chart-automation-rate").locator("xpath=ancestor::div[@role='img']");
  await expect(rate).toHaveAttribute("aria-label", /^Automation rate/);
  expect(await rate.locator("path.recharts-line-curve").count()).toBe(3); // all versions + two model versions
  expect(await rate.locator("path.recharts-line-curve").first().getAttribute("d")).toMatch(/^M[\d.]+,[\d.]+C/);
  await expect(rate.locator(".recharts-yAxis .recharts-cartesian-axis-tick-value")).toHaveText(["0%", "25%", "50%", "75%", "100%"]);
  await expect(rate.locator(".recharts-xAxis .recharts-cartesian-axis-tick-value").first()).toHaveText(/^[A-Z][a-z]{2} \d{1,2}$/);
  await expect(rate.locator(".recharts-yAxis")).toContainText("% automated");
  await expect(ssr.locator("figure", { hasText: "Automation rate" }).getByRole("list", { name: "Legend" })).toContainText("v1.1.0");
  const volume = ssr.locator("figure", { hasText: "Volume by route" });
  expect(await volume.locator("path.recharts-rectangle").count()).toBeGreaterThan(10);
  await expect(volume.locator(".recharts-yAxis")).toContainText("decisions");
  await expect(ssr.locator("figure", { hasText: "Reason codes" }).locator(".recharts-xAxis")).toContainText("WRONG_TOTAL");
  // ...at the same place and size as after hydration (no layout jump).
  for (const id of ["#chart-automation-rate", "#chart-volume", "#chart-fields", "#chart-reasons"]) {
    const before = await ssr
      .locator(`${id} svg.recharts-surface, svg.recharts-surface:has(#${id.slice(1)}-clip)`)
      .first()
      .boundingBox();
    const after = await page
      .locator(`${id} svg.recharts-surface, svg.recharts-surface:has(#${id.slice(1)}-clip)`)
      .first()
      .boundingBox();
    expect(before, id).not.toBeNull();
    expect(after, id).toEqual(before);
  }
  await noJs.close();

  // Filters: weekly buckets, then only the new model version.
  await page.getByLabel("Bucket", { exact: true }).selectOption("week");
  await expect(page).toHaveURL(/bucket=week/);
  await expect(page.getByTestId("report-range")).toContainText("by week");
  await page.getByLabel("Model version", { exact: true }).selectOption("1.1.0");
  await expect(page).toHaveURL(/modelVersion=1\.1\.0/);
  await expect(page.getByTestId("report-range")).toContainText("model version 1.1.0");
  const v2Href = await page.getByRole("link", { name: "Download Model versions side by side as CSV" }).getAttribute("href");
  const v2qs = new URLSearchParams(v2Href!.split("?")[1]);
  v2qs.delete("table");
  expect(v2qs.get("bucket")).toBe("week");
  const v2 = await (await page.request.get(`/api/v1/reports/automation?${v2qs}`)).json();
  expect(v2.totals.volume).toBeGreaterThan(0);
  expect(v2.totals.volume).toBeLessThan(automation.totals.volume);
  await expect(page.getByTestId("kpi-volume-value")).toHaveText(v2.totals.volume.toLocaleString("en-US"));
  await expect(page.getByTestId("kpi-automation-rate-value")).toHaveText(`${(v2.totals.automationRate * 100).toFixed(1)}%`);

  // The per-bucket table downloads as CSV with the API's numbers.
  await page.getByText("Figures per week").click();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download Automation per bucket as CSV" }).click()]);
  expect(download.suggestedFilename()).toBe(`lastmile-${typeKey}-automation.csv`);
  const rows = parse(fs.readFileSync(await download.path()), { columns: true }) as Record<string, string>[];
  expect(rows.map((r) => r.start)).toEqual(v2.buckets.map((b: { start: string }) => b.start));
  expect(rows.map((r) => Number(r.volume))).toEqual(v2.buckets.map((b: { volume: number }) => b.volume));
  expect(rows.map((r) => Number(r.auto))).toEqual(v2.buckets.map((b: { auto: number }) => b.auto));
  expect(rows.map((r) => (r.automation_rate === "" ? null : Number(r.automation_rate)))).toEqual(
    v2.buckets.map((b: { automationRate: number | null }) => b.automationRate),
  );

  // Where automation breaks: the field humans change most, and reason codes.
  await expect(page.getByTestId("table-fields")).toContainText("total");
  await expect(page.getByTestId("table-reasons")).toContainText("WRONG_TOTAL");
  await expect(page.getByTestId("table-backlog-owners")).toContainText(manager.email);

  // Definitions in a dialog.
  await page.getByRole("button", { name: "Definitions" }).click();
  const dialog = page.getByRole("dialog", { name: "How these figures are defined" });
  await expect(dialog).toContainText("auto ÷ (auto + reviewed)");
  await page.screenshot({ path: "test-results/reports-definitions.png" });
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  await page.goto(`/reports?type=${typeKey}&period=90d&bucket=day`);
  await expect(page.locator("figure svg.recharts-surface").first()).toBeVisible();
  await page.screenshot({ path: "test-results/reports-90d.png", fullPage: true });

  // No accessibility violations on the page (WCAG 2 A/AA rules).
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  expect(
    axe.violations.map(
      (v) =>
        `${v.id}: ${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")}`,
    ),
  ).toEqual([]);

  // A bad filter is answered inline, not with an error page.
  await page.goto(`/reports?type=${typeKey}&bucket=month`);
  await expect(page.getByRole("alert")).toContainText("bucket");
  expect(errors).toEqual([]);
});

test("reports: a type whose data falls in one bucket still draws its rates", async ({ page, api, accounts, signIn }) => {
  // A new type's first hours in a report by day: one point per series, which a line alone would not draw.
  const manager = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await api.putType({
    ...plainInvoiceType(manager.email),
    key: uniqueKey("invoice-one"),
    name: "Invoice extraction (first day)",
    routing: { minConfidence: 0.9, qaSampleRate: 0 },
  });
  const now = Date.now();
  await api.postDecisions(
    Array.from({ length: 6 }, (_, i) => ({
      type: type.key,
      externalId: `one-${i}`,
      model: { name: "invoice-extractor", version: "1.0.0" },
      input: { vendor: "ACME" },
      output: { total: 100 + i, currency: "EUR", lines: [{ sku: "A-1", amount: 100 + i }] },
      confidence: i < 3 ? 0.97 : 0.7,
      occurredAt: new Date(now - 60_000 * (i + 1)).toISOString(),
    })),
  );
  for (let i = 0; i < 3; i++) await api.reviewNext(reviewer, type.key, i === 0 ? { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] } : { action: "approve" });
  await signIn(manager);
  await page.goto(`/reports?type=${type.key}&period=30d&bucket=day`);
  await expect(page.getByTestId("kpi-automation-rate-value")).toHaveText("50.0%");
  for (const id of ["#chart-automation-rate", "#chart-override-rate"]) {
    const chart = page.locator(id).locator("xpath=ancestor::div[@role='img']");
    await expect(chart.locator(".recharts-line-dots circle"), id).toHaveCount(1);
  }

  // By the hour over a week, the axis labels carry a time of day: fewer of them, none running into the next.
  await page.goto(`/reports?type=${type.key}&period=7d&bucket=hour`);
  const ticks = page
    .locator("#chart-automation-rate")
    .locator("xpath=ancestor::div[@role='img']")
    .locator(".recharts-xAxis .recharts-cartesian-axis-tick-value");
  await expect(ticks.first()).toHaveText(/^[A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}$/);
  const boxes = await ticks.evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right })));
  expect(boxes.length).toBeGreaterThan(2);
  for (let i = 1; i < boxes.length; i++) expect(boxes[i].left, `label ${i} starts after label ${i - 1} ends`).toBeGreaterThan(boxes[i - 1].right);
});
