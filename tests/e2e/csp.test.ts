/**
 * The pages work under the Content-Security-Policy the server sends (issue 9,
 * finding 6): the sign-in page (signing in through it: auth.test.ts), the queue, a review with its lease (renewed and
 * released by the page's own API calls, which pass the same-origin check),
 * reports with their charts, signing out; and the browser reports no blocked
 * script or style.
 */
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

test("pages work under the CSP with no violations, and the lease release beacon is accepted", async ({ page, api, accounts, signIn, freshType }) => {
  const errors = watchConsole(page);
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  const manager = await accounts.create("manager");
  const type = await freshType.workbench(manager.email);
  const [d] = await api.postDecisions([workbenchInvoice(type.key, 31)]);

  const csp = (await page.goto("/login"))!.headers()["content-security-policy"];
  expect(csp).toMatch(/script-src 'self' 'nonce-/);
  // The sign-in page loads under the CSP; signing in through its form is auth.test.ts's (also under the CSP). The session comes by cookie.
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await signIn(manager);
  await page.goto("/");

  await page.getByRole("link", { name: "Queue" }).click();
  await page.getByRole("button", { name: "Review INV-1031" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /INV-1031/ })).toBeVisible();
  await expect(page.getByText(/Lease \d+:\d\d/)).toBeVisible();
  // Claimed: the decision is in review, and the claim is on the record.
  expect((await api.readDecision(d.id)).status).toBe("in_review");
  const [claimed] = await api.auditEntries({ entityType: "task", action: "task.claimed", actor: manager.email });
  expect(claimed!.data.decisionId).toBe(d.id);

  // Leaving the review hands the task back through navigator.sendBeacon with the session cookie.
  await page.getByRole("link", { name: "Reports" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Reports/ })).toBeVisible();
  await expect.poll(async () => (await api.readDecision(d.id)).status).toBe("pending_review");
  expect((await api.auditEntries({ entityType: "task", entityId: claimed!.entityId, action: "task.released" })).map((e) => e.actor)).toEqual([manager.email]);
  // The charts (recharts sets inline styles) of this type's report.
  await page.goto(`/reports?type=${type.key}`);
  await expect(page.getByRole("heading", { level: 1, name: /^Reports · / })).toBeVisible();
  await expect(page.locator("svg.recharts-surface").first()).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

  expect(violations).toEqual([]);
  expect(errors).toEqual([]);
});
