/**
 * A second app server for browser tests that need other settings than the suite's (SSO): the built
 * production server (scripts/server.js) on a free loopback port with a store of its own, made ready
 * with the `lastmile` CLI. Tests reach it like the main one: pages, the HTTP API, the CLI.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { lastmileCli } from "./lastmile-cli";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type OwnServer = {
  url: string;
  /** The environment that points the CLI at this server's store. */
  store: Record<string, string>;
  close: () => Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export async function startOwnServer(env: Record<string, string>): Promise<OwnServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-e2e-own-"));
  const store = { DATABASE_PATH: path.join(dir, "lastmile.db") };
  lastmileCli(["migrate"], store);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["scripts/server.js"], {
    cwd: ROOT,
    // All browser tests sign in from one address: the per-address sign-in limit stays out of the way.
    env: { ...process.env, NODE_ENV: "production", ...store, PORT: String(port), HOST: "127.0.0.1", LOGIN_MAX_FAILURES_PER_ADDRESS: "100000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  if (process.env.TEST_SERVER_LOG) child.stderr!.pipe(process.stderr);
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a busy machine (parallel test files, a resumed snapshot build) a start can take a while.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/login`, { signal: AbortSignal.timeout(10_000) })).status < 500) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL"); // not left running behind a failed start
      throw new Error(`server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    store,
    close: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 50));
      if (child.exitCode === null) child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
