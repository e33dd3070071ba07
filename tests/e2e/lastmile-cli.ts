/**
 * The `lastmile` operator CLI (scripts/lastmile.js) as the browser tests use it: against the
 * store the e2e server runs on, found the way the server finds it (DATABASE_URL when the suite
 * runs on Postgres, else DATABASE_PATH). It is the one way in before anyone can sign in: the
 * first admin of a test worker is made here; everything after goes through the app's HTTP seams.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The environment that points the CLI at a store: the e2e server's unless another is given. */
export function e2eStoreEnv(): Record<string, string> {
  if (process.env.E2E_DATABASE_URL) return { DATABASE_URL: process.env.E2E_DATABASE_URL };
  if (process.env.E2E_DATABASE_PATH) return { DATABASE_PATH: process.env.E2E_DATABASE_PATH };
  throw new Error("E2E_DATABASE_PATH (or E2E_DATABASE_URL) is not set: run the suite through tests/playwright.config.ts");
}

export function lastmileCli(args: string[], store: Record<string, string> = e2eStoreEnv()): string[] {
  const r = spawnSync(process.execPath, ["scripts/lastmile.js", ...args], { cwd: ROOT, env: { ...process.env, ...store }, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`lastmile ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trimEnd().split("\n");
}

/** `lastmile user create`: the one-time password is the last line it prints. */
export function cliCreateUser(email: string, role: string, store?: Record<string, string>): { email: string; password: string } {
  const lines = lastmileCli(["user", "create", "--email", email, "--role", role], store);
  return { email, password: lines[lines.length - 1]!.trim() };
}

/** `lastmile apikey create`: the key is the last line it prints. */
export function cliCreateApiKey(name: string, scopes: string[], store?: Record<string, string>): string {
  const lines = lastmileCli(["apikey", "create", "--name", name, "--scopes", scopes.join(",")], store);
  return lines[lines.length - 1]!.trim();
}
