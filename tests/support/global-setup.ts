/** Builds the app once so integration tests run against the real production server. */
import { execFileSync } from "node:child_process";

export default function setup() {
  if (process.env.LASTMILE_SKIP_BUILD === "1") return;
  execFileSync(process.execPath, ["node_modules/@remix-run/dev/dist/cli.js", "build"], { stdio: "pipe", env: { ...process.env, NODE_ENV: "production" } });
}
