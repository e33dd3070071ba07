/**
 * Issue 15, drift alerts in the browser: two days ago, reviewers started changing most outputs of one region;
 * `lastmile monitors run --at` raises the override-rate alert for that region. The type's owner (a manager)
 * sees the banner on every page, opens the alerts page, reads the figures and the chart of the onset against
 * the baseline, and acknowledges it; a reviewer sees neither the banner nor the page.
 */
import { fileURLToPath } from "node:url";
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";
import { lastmileCli } from "./lastmile-cli";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));
const MIN = 60_000;

test("an override-rate alert: the banner, the alerts page with its chart, acknowledging it", async ({
  page,
  api,
  accounts,
  signIn,
  newSignedInPage,
  freshType,
}) => {
  const errors = watchConsole(page);
  const owner = await accounts.create("manager");
  const reviewer = await accounts.create("reviewer");
  const type = await freshType.workbench(owner.email, {
    routing: { minConfidence: 0.99, qaSampleRate: 0 },
    monitors: { segmentField: "region", overrideRate: { windowMinutes: 30, baselineMinutes: 240, minCount: 10, maxP: 0.05 }, confidence: { enabled: false } },
  });
  // Two days ago (inside the counters' 8-day retention, far from the server's own minute-by-minute evaluation).
  const at = Math.floor((Date.now() - 2 * 24 * 60 * MIN) / MIN) * MIN;
  const planned = new Map<string, boolean>();
  const send = async (from: number, minutes: number, n: number, changed: (i: number, region: string) => boolean) => {
    const batch = [];
    for (let i = 0; i < n; i++) {
      const region = i % 2 === 0 ? "north" : "south";
      const d = workbenchInvoice(type.key, planned.size, {
        confidence: 0.5,
        input: { region },
        occurredAt: new Date(from + Math.floor((i * minutes * MIN) / n)).toISOString(),
      });
      planned.set(d.externalId, changed(i, region));
      batch.push(d);
    }
    await api.postDecisions(batch);
  };
  // Baseline: one in ten of the north changed (6 of 30); the last half hour: 13 of 20.
  await send(at - 270 * MIN, 240, 60, (i) => i % 10 === 0);
  await send(at - 30 * MIN, 30, 40, (i, region) => (region === "north" ? i % 6 !== 0 : false));
  for (;;) {
    const claim = await api.claimNext(reviewer, { type: type.key });
    if (!claim) break;
    const change = planned.get(claim.decision.externalId)!;
    await api.submitVerdict(
      reviewer,
      claim.task.id,
      change ? { action: "correct", output: { ...workbenchInvoice(type.key, 0).output, total: 99 }, reasonCodes: ["WRONG_TOTAL"] } : { action: "approve" },
    );
  }
  const result = JSON.parse(lastmileCli(["monitors", "run", "--at", new Date(at).toISOString()]).join("\n"));
  const alert = result.fired.find((a: { type: string; segment: string }) => a.type === type.key && a.segment === "segment=north");
  expect(alert).toBeDefined();

  await signIn(owner);
  await page.goto("/queue");
  const banner = page.getByRole("complementary", { name: "Drift alerts" });
  await expect(banner).toContainText(/\d+ drift alerts? firing/);
  await banner.getByRole("link", { name: "Review alerts" }).click();
  await expect(page).toHaveURL(/\/alerts\?state=firing/);
  const card = page.getByTestId(`alert-${alert.id}`);
  await expect(card).toContainText("Override rate rose · segment=north");
  await expect(card).toContainText(type.key);
  await expect(card.getByTestId("alert-summary")).toContainText("65.0% in the last window (20 decisions) against 20.0% before (30)");
  await expect(card.locator("svg.recharts-surface")).toBeVisible();
  await expect(card.getByText("fired", { exact: true })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}alerts-firing.png`, fullPage: true });

  await card.getByRole("button", { name: "Acknowledge" }).click();
  await expect(page.getByRole("status")).toContainText("Acknowledged");
  await page.goto("/alerts?state=acknowledged");
  await expect(page.getByTestId(`alert-${alert.id}`)).toContainText(`acknowledged by ${owner.email}`);
  // The other alerts this test raised (the whole type's) are acknowledged too: no banner for the tests that follow.
  for (const other of result.fired.filter((a: { id: string }) => a.id !== alert.id)) {
    await page.goto(`/alerts?state=firing&type=${type.key}`);
    await page.getByTestId(`alert-${other.id}`).getByRole("button", { name: "Acknowledge" }).click();
    await expect(page.getByRole("status")).toContainText("Acknowledged");
  }
  await page.goto("/queue");
  await expect(page.getByRole("complementary", { name: "Drift alerts" })).toHaveCount(0);
  expect(errors).toEqual([]);

  // A reviewer reads no alerts: no banner, and the page is refused.
  const other = await newSignedInPage(reviewer);
  await other.goto("/queue");
  await expect(other.getByRole("complementary", { name: "Drift alerts" })).toHaveCount(0);
  const refused = await other.goto("/alerts");
  expect(refused?.status()).toBe(403);
});
