/**
 * Starts the built production server (scripts/server.js) on a free loopback port
 * with its own temporary database, for integration tests through real HTTP.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { closeDatabase, runMigrations, type Db } from "@db/client.server";
import type { ApiAnswer } from "./answer";
import { openStore, storeEnv } from "./store";
import { createLastmileClient } from "../../scripts/client/index";
import { snapshotAt } from "./api";

export type TestServer = {
  url: string;
  /** The server's store, opened by the test too (to arrange what no public seam can). */
  db: Db;
  /** DATABASE_PATH or DATABASE_URL and the audit key and folders: pass it to a second server or a CLI run to share the store. */
  env: Record<string, string>;
  /** The server process (to kill -9 it in crash tests). */
  pid: number;
  /** Resolves when the server process has exited, with its exit code (null when a signal ended it) and that signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  close: () => Promise<void>;
  /** Everything the server printed so far (stdout and stderr): its JSON log lines. */
  output: () => string;
  /** `body` is the parsed JSON answer (the text when not JSON), read as `T`: every API field by default (ApiAnswer). */
  request: <T = ApiAnswer>(
    path: string,
    init?: { method?: string; key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ) => Promise<{ status: number; body: T; headers: Headers }>;
};

/** A free loopback port (the test servers, and the identity provider of the SSO tests). */
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

/**
 * Pass another server's `env` to share its store (real concurrent writers); other keys are extra environment.
 * `root`: the checkout whose built server runs (this one by default; a benchmark compares against another).
 */
export async function startServer(env: Record<string, string> = {}, opts: { migrate?: boolean; root?: string } = {}): Promise<TestServer> {
  const shared = env.DATABASE_PATH || env.DATABASE_URL;
  const store = shared ? { ...env } : { ...(await storeEnv()).env, ...env };
  const db = openStore(store);
  // In-process domain calls on `db` (verifying the audit chain, reading snapshots) see this store's key and folders,
  // as with testStore(): the newest store wins.
  if (!shared) for (const k of ["AUDIT_SIGNING_KEY", "AUDIT_CHECKPOINT_DIR", "SNAPSHOTS_DIR"]) if (store[k]) process.env[k] = store[k];
  // The server migrates on start too; `migrate: false` leaves it all to the server (two servers racing to migrate).
  if (opts.migrate !== false) await runMigrations(db);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["scripts/server.js"], {
    cwd: opts.root,
    // Every test signs in from 127.0.0.1: the per-address login limit would let one file's wrong-password
    // tests lock the next test out. Per-account limits stay on; a test of the address limit passes its own value.
    env: {
      ...process.env,
      DATABASE_URL: "",
      DATABASE_PATH: "",
      NODE_ENV: "production",
      ...store,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOGIN_MAX_FAILURES_PER_ADDRESS: "100000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  // TEST_SERVER_LOG=1 shows what the server printed (errors behind a 500).
  if (process.env.TEST_SERVER_LOG) child.stderr!.pipe(process.stderr);
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a busy machine (parallel test files, a resumed snapshot build) a start can take a while.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/login`, { signal: AbortSignal.timeout(10_000) });
      if (res.status < 500) break;
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
    db,
    pid: child.pid!,
    exited,
    env: Object.fromEntries(
      Object.entries(store).filter(([k]) => ["DATABASE_PATH", "DATABASE_URL", "AUDIT_SIGNING_KEY", "AUDIT_CHECKPOINT_DIR", "SNAPSHOTS_DIR"].includes(k)),
    ),
    output: () => output,
    close: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 50));
      if (child.exitCode === null) child.kill("SIGKILL");
      await closeDatabase(db);
    },
    request: async <T>(path: string, init: Parameters<TestServer["request"]>[1] = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key) headers.Authorization = `Bearer ${init.key}`;
      let body: string | undefined = init.rawBody;
      if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["Content-Type"] ??= "application/json";
      }
      const res = await fetch(url + path, { method: init.method ?? (body !== undefined ? "POST" : "GET"), headers, body, redirect: "manual" });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    },
  };
}

/** Polls a snapshot's status URL (its `Location`) through the typed client until it is no longer building (snapshots build in the background). */
export async function waitForSnapshot(s: TestServer, key: string, location: string): Promise<ApiAnswer> {
  const at = snapshotAt(location);
  const lm = createLastmileClient({ baseUrl: s.url, apiKey: key });
  for (let i = 0; i < 200; i++) {
    const { data, error } = await lm.GET("/api/v1/datasets/{id}/snapshots/{n}", { params: { path: at } });
    const body = (data ?? error) as ApiAnswer;
    if (body.status !== "building") return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("snapshot never finished");
}
