/** Runs the real `lastmile` CLI (scripts/lastmile.js) against a test store (its env, see store.ts). */
import { spawnSync } from "node:child_process";

export type CliResult = { code: number | null; stdout: string; stderr: string; lines: string[] };

export function runCli(args: string[], storeEnv: Record<string, string>, opts: { timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ["scripts/lastmile.js", ...args], {
    env: { ...process.env, DATABASE_URL: "", DATABASE_PATH: "", ...storeEnv },
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trimEnd().split("\n") };
}
