/**
 * Issue 14, policy approval in the browser: on a type under policy approval, an admin proposes a lower threshold
 * with a reason in the type editor and reads its replayed impact; she cannot approve it herself; another admin
 * approves it, and the type's policy history shows the new version beside the approved proposal.
 */
import { fileURLToPath } from "node:url";
import { expect, test, watchConsole, workbenchInvoice } from "./fixtures";

const SHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

test("propose a policy change, read its impact, approve it as another admin, see the history", async ({
  page,
  api,
  accounts,
  signIn,
  newSignedInPage,
  freshType,
}) => {
  const errors = watchConsole(page);
  const alice = await accounts.create("admin");
  const bob = await accounts.create("admin");
  const type = await freshType.workbench(alice.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 }, policyApproval: true });
  // Recent decisions at confidences 0.80 … 0.89: all reviewed today, all automated at 0.8.
  await api.postDecisions(Array.from({ length: 10 }, (_, i) => workbenchInvoice(type.key, i + 1, { confidence: 0.8 + i / 100 })));

  await signIn(alice);
  await page.goto(`/admin/types/${type.key}`);
  await page
    .getByRole("textbox", { name: /overall/i })
    .or(page.locator('input[name="routing.minConfidence"]'))
    .first()
    .fill("0.8");
  await page.getByLabel("Why this change").fill("QA over the last month supports 0.8");
  await page.getByRole("button", { name: "Propose policy change" }).click();
  await expect(page.getByText("Proposed: another admin approves it.")).toBeVisible();
  const pending = page.getByTestId("proposal-pending");
  await expect(pending).toContainText("QA over the last month supports 0.8");
  await expect(pending.getByTestId("proposal-impact")).toContainText("Replayed on 10 decisions: automation 0.0% → 100.0%");
  // Her own proposal: she may withdraw it, not approve it. The type is unchanged.
  await expect(pending.getByRole("button", { name: "Approve" })).toHaveCount(0);
  await expect(pending.getByRole("button", { name: "Withdraw" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Routing policy versions" }).getByRole("row")).toHaveCount(2); // header + v1
  await page.screenshot({ path: `${SHOTS}policy-proposal-pending.png`, fullPage: true });

  const other = await newSignedInPage(bob);
  await other.goto(`/admin/types/${type.key}#proposals`);
  await other.getByTestId("proposal-pending").getByRole("button", { name: "Approve" }).click();
  await expect(other.getByText("Approved.")).toBeVisible();
  const approved = other.getByTestId("proposal-approved");
  await expect(approved).toContainText(`approved by ${bob.email}`);
  await expect(approved).toContainText("made v2");
  const history = other.getByRole("table", { name: "Routing policy versions" });
  await expect(history.getByRole("row")).toHaveCount(3);
  await expect(history).toContainText("overall ≥ 0.8");
  // The new version names its proposal: the reason, who proposed and who approved it, the replayed impact.
  const v2 = history.getByTestId("version-proposal-2");
  await expect(v2).toContainText("QA over the last month supports 0.8");
  await expect(v2).toContainText(`Proposed by ${alice.email}, approved by ${bob.email}`);
  await expect(v2).toContainText("Replayed impact: automation 0.0% → 100.0%");
  await expect(history.getByRole("row").nth(2)).toContainText("Changed directly");
  await other.screenshot({ path: `${SHOTS}policy-proposal-approved.png`, fullPage: true });
  expect(errors).toEqual([]);
});
