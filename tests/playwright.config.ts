/**
 * End-to-end tests in Debian's Chromium against the production build, on a
 * throw-away database. Tests create the data they need through tests/e2e/fixtures.ts, only
 * through the app's public seams (HTTP API, pages, the lastmile CLI with E2E_DATABASE_PATH, or
 * E2E_DATABASE_URL once the server runs on Postgres), never by opening the database.
 */
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT || 3210);
// On Postgres (E2E_DATABASE_URL, a fresh empty database scripts/test.sh creates) the audit key and the
// checkpoint and snapshot folders are configured, as every Postgres deployment must; on SQLite they sit beside the file.
const onPostgres = Boolean(process.env.E2E_DATABASE_URL);
export const E2E_DB = process.env.E2E_DATABASE_PATH || path.join(os.tmpdir(), `lastmile-e2e-${port}.db`);
if (!onPostgres) process.env.E2E_DATABASE_PATH = E2E_DB;
const files = path.join(os.tmpdir(), `lastmile-e2e-${port}-files`);
if (onPostgres) {
  process.env.AUDIT_SIGNING_KEY ??= crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  process.env.AUDIT_CHECKPOINT_DIR = path.join(files, "audit-checkpoints");
  process.env.SNAPSHOTS_DIR = path.join(files, "snapshots");
}
const store: Record<string, string> = onPostgres
  ? {
      DATABASE_URL: process.env.E2E_DATABASE_URL!,
      AUDIT_SIGNING_KEY: process.env.AUDIT_SIGNING_KEY!,
      AUDIT_CHECKPOINT_DIR: process.env.AUDIT_CHECKPOINT_DIR!,
      SNAPSHOTS_DIR: process.env.SNAPSHOTS_DIR!,
    }
  : { DATABASE_PATH: E2E_DB };
// The audit signing key and checkpoints live beside the database: a fresh database needs fresh ones, or the
// previous run's signed checkpoints (rightly) no longer match the new chain.
const fresh = onPostgres ? `rm -rf "${files}"` : `rm -rf "${E2E_DB}" "${E2E_DB}-wal" "${E2E_DB}-shm" "${E2E_DB}.audit-key.pem" "${E2E_DB}.audit-checkpoints"`;

export default defineConfig({
  testDir: "./e2e",
  outputDir: "../test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `${fresh} && node node_modules/@remix-run/dev/dist/cli.js build && node scripts/lastmile.js migrate && node scripts/server.js`,
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    url: `http://localhost:${port}/login`,
    reuseExistingServer: false,
    timeout: 120_000,
    // All browser tests sign in from one address: see tests/support/server.ts.
    env: { NODE_ENV: "production", PORT: String(port), ...store, LOGIN_MAX_FAILURES_PER_ADDRESS: "100000" },
  },
});
