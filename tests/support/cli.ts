/** Runs the real `lastmile` CLI (scripts/lastmile.js) against a test store (its env, see store.ts). */
import { spawn, spawnSync } from "node:child_process";

export type CliResult = { code: number | null; stdout: string; stderr: string; lines: string[] };

const cliEnv = (storeEnv: Record<string, string>) => ({ ...process.env, DATABASE_URL: "", DATABASE_PATH: "", ...storeEnv });

export function runCli(args: string[], storeEnv: Record<string, string>, opts: { timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ["scripts/lastmile.js", ...args], {
    env: cliEnv(storeEnv),
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.trimEnd().split("\n") };
}

/** The same, without blocking this process: work it drives (a load over HTTP) goes on while the command runs. */
export function runCliAsync(args: string[], storeEnv: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["scripts/lastmile.js", ...args], { env: cliEnv(storeEnv) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr, lines: stdout.trimEnd().split("\n") }));
  });
}
