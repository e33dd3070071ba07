import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^~\/(.*)$/, replacement: `${root}app/$1` },
      { find: /^@db\/(.*)$/, replacement: `${root}db/$1` },
    ],
  },
  test: {
    include: ["tests/unit/**/*.test.ts", "tests/integration/**/*.test.ts", "app/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // On the Postgres run, in-process domain code must load Postgres's tables (db/schema/index.ts picks them from
    // DATABASE_URL at import); each test still gets its own database from tests/support/store.ts.
    env: process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {},
  },
});
