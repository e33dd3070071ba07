import { desc, eq } from "drizzle-orm";
import { expect, test } from "@playwright/test";
import { auditLog } from "../../db/schema/index";
import { createKey, createUser, e2eDb, login, watchConsole } from "./utils";

test("the audit page filters entries and shows whether the hash chain holds", async ({ page }) => {
  const errors = watchConsole(page);
  const admin = await createUser("admin");
  await createKey(["read"]);
  await login(page, admin);
  await page.goto("/admin/audit");

  await page.getByLabel("Action starts with").fill("apikey.");
  await page.getByRole("button", { name: "Filter" }).click();
  const table = page.getByRole("table", { name: "Audit entries" });
  await expect(table.getByRole("row").nth(1)).toContainText("apikey.created");
  const actions = await table.locator("tbody tr td:nth-child(4)").allTextContents();
  expect(actions.length).toBeGreaterThan(0);
  expect(actions.every((a) => a.startsWith("apikey."))).toBe(true);
  await expect(page.getByLabel("Action starts with")).toHaveValue("apikey.");

  await page.getByRole("button", { name: "Verify hash chain" }).click();
  await expect(page.getByRole("status")).toContainText("Chain intact");

  // Tamper with the newest entry behind the app's back: verification must notice, by entry.
  const db = e2eDb();
  const last = (await db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1))[0]!;
  // The table refuses UPDATE; someone with write access to the file drops the trigger first.
  const trigger = (db.$client.prepare("SELECT sql FROM sqlite_master WHERE name = 'audit_log_no_update'").get() as { sql: string }).sql;
  db.$client.exec("DROP TRIGGER audit_log_no_update");
  await db.update(auditLog).set({ data: JSON.stringify({ tampered: true }) }).where(eq(auditLog.seq, last.seq));
  try {
    await page.reload();
    await expect(page.getByRole("alert")).toContainText(`Chain broken at entry #${last.seq}`);
    await expect(page.getByRole("alert")).toContainText("entry content was altered");
  } finally {
    await db.update(auditLog).set({ data: last.data }).where(eq(auditLog.seq, last.seq));
    db.$client.exec(trigger);
  }
  await page.reload();
  await expect(page.getByRole("status")).toContainText("Chain intact");
  expect(errors).toEqual([]);
});
