import { chromium } from "@playwright/test";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless","--no-sandbox","--disable-gpu","--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run"] });
const page = await browser.newPage();
const errors = [];
page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
await page.goto("http://localhost:3224/login");
await page.getByLabel("Email").fill(process.argv[2] ?? "reviewer@demo.lastmile");
await page.getByLabel("Password").fill(process.argv[3] ?? "demo-reviewer-password");
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("button", { name: "Sign out" }).waitFor();
for (const p of (process.argv[4] ?? "/queue").split(",")) {
  await page.goto("http://localhost:3224" + p);
  await page.screenshot({ path: `/tmp/demo-shot${p.replace(/\//g, "_")}.png`, fullPage: true });
}
console.log("errors", errors);
await browser.close();
