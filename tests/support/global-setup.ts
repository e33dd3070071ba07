/** Builds the app once so integration tests run against the real production server; on Postgres, migrates the template test databases are cloned from. */
import { execFileSync } from "node:child_process";
import { prepareTemplate } from "./store";

export default async function setup() {
  await prepareTemplate();
  if (process.env.LASTMILE_SKIP_BUILD === "1") return;
  execFileSync(process.execPath, ["node_modules/@remix-run/dev/dist/cli.js", "build"], { stdio: "pipe", env: { ...process.env, NODE_ENV: "production" } });
}
