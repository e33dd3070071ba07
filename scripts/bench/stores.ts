/**
 * The stores a benchmark runs on, side by side in one run.
 *
 *   BENCH_STORES=sqlite,postgres   (default; BENCH_STORES=sqlite runs SQLite only)
 *   BENCH_DATABASE_URL=postgres://user@host:port/db   an existing Postgres: each benchmark store is a new
 *                                   database created through this (admin) URL and dropped at the end.
 *   BENCH_EXPLAIN=1                 print EXPLAIN (ANALYZE, BUFFERS) of the hot queries on Postgres
 *
 * Without BENCH_DATABASE_URL a throwaway cluster is started with scripts/pg-cluster.sh and
 * restarted with benchmark durability settings (see PG_DURABILITY), then stopped at the end.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { closeDatabase, openDatabase, runMigrations, type Db } from "@db/client.server";
import { freePort, startServer, type TestServer } from "../../tests/support/server";

export type StoreKind = "sqlite" | "postgres";

export function benchStores(): StoreKind[] {
  const list = (process.env.BENCH_STORES ?? "sqlite,postgres")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const s of list) if (s !== "sqlite" && s !== "postgres") throw new Error(`BENCH_STORES: unknown store "${s}" (sqlite, postgres)`);
  return list as StoreKind[];
}

/**
 * Durability on the benchmark cluster, chosen to match what SQLite gets (WAL + synchronous=NORMAL:
 * no fsync per commit, the WAL is synced at checkpoints, a crash never corrupts the store but power
 * loss can roll back the last commits): fsync and full-page writes on (crash-safe), synchronous_commit
 * off (a commit does not wait for its WAL flush; the WAL writer flushes within wal_writer_delay, 200 ms).
 * The test cluster's fsync=off would flatter Postgres.
 */
export const PG_DURABILITY = "fsync=on, full_page_writes=on, synchronous_commit=off (no fsync per commit, like SQLite WAL + synchronous=NORMAL)";
const PG_SETTINGS = ["fsync=on", "full_page_writes=on", "synchronous_commit=off", "shared_buffers=256MB", "max_wal_size=2GB", "max_connections=400"];

type Cluster = {
  admin: string;
  dir?: string;
  created: string[];
  describe: string;
};
let cluster: Cluster | undefined;

const pgBin = () =>
  fs
    .readdirSync("/usr/lib/postgresql")
    .sort((a, b) => Number(a) - Number(b))
    .map((v) => `/usr/lib/postgresql/${v}/bin`)
    .pop()!;

async function startCluster(): Promise<Cluster> {
  if (process.env.BENCH_DATABASE_URL) {
    const admin = process.env.BENCH_DATABASE_URL;
    return {
      admin,
      created: [],
      describe: `Postgres at BENCH_DATABASE_URL (${new URL(admin).host}; its own durability settings)`,
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-pg-"));
  const port = await freePort();
  const admin = execFileSync("bash", ["scripts/pg-cluster.sh", "start", dir, String(port)], { encoding: "utf8" }).trim();
  const c: Cluster = { admin, dir, created: [], describe: "" };
  cluster = c;
  // pg-cluster.sh starts a test cluster (fsync=off): restart it with the benchmark's settings.
  const asOwner = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${PG_SETTINGS.map((s) => `-c ${s}`).join(" ")}`;
  const cmd = [...asOwner, `${pgBin()}/pg_ctl`, "-D", `${dir}/data`, "-l", `${dir}/server.log`, "-w", "-t", "60", "-m", "fast", "restart", "-o", opts];
  execFileSync(cmd[0], cmd.slice(1), { stdio: "ignore" });
  const version = await withAdmin(c.admin, async (a) => (await a.query("SHOW server_version")).rows[0].server_version as string);
  c.describe = `throwaway Postgres ${version} cluster (scripts/pg-cluster.sh, restarted with ${PG_DURABILITY})`;
  return c;
}

async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Stops the throwaway cluster (or drops the databases made in BENCH_DATABASE_URL's server). */
export async function stopStores(): Promise<void> {
  const c = cluster;
  cluster = undefined;
  if (!c) return;
  if (c.dir) {
    execFileSync("bash", ["scripts/pg-cluster.sh", "stop", c.dir], {
      stdio: "ignore",
    });
    return;
  }
  await withAdmin(c.admin, async (a) => {
    for (const name of c.created) await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}
process.on("exit", () => {
  if (cluster?.dir)
    execFileSync("bash", ["scripts/pg-cluster.sh", "stop", cluster.dir], {
      stdio: "ignore",
    });
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

export async function describeStore(kind: StoreKind): Promise<string> {
  if (kind === "sqlite") return "SQLite (better-sqlite3, WAL, synchronous=NORMAL)";
  cluster ??= await startCluster();
  return cluster.describe;
}

export type BenchStore = {
  kind: StoreKind;
  db: Db;
  /** What a server needs to use the same store (pass to startServer). */
  env: Record<string, string>;
  /** Postgres URL or SQLite file. */
  target: string;
};

let counter = 0;
let signingKey: string | undefined;

/** A fresh, migrated store of this kind (a new SQLite file, or a new Postgres database). */
export async function benchStore(kind: StoreKind, opts: { file?: string } = {}): Promise<BenchStore> {
  const dir = opts.file ? path.dirname(opts.file) : fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-"));
  let env: Record<string, string>;
  let target: string;
  if (kind === "sqlite") {
    target = opts.file ?? path.join(dir, "bench.db");
    env = { DATABASE_PATH: target };
  } else {
    cluster ??= await startCluster();
    const name = `lm_bench_${process.pid}_${++counter}`;
    await withAdmin(cluster.admin, (a) => a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => a.query(`CREATE DATABASE ${name}`)));
    cluster.created.push(name);
    const u = new URL(cluster.admin);
    u.pathname = `/${name}`;
    target = u.toString();
    signingKey ??= crypto.generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    env = {
      DATABASE_URL: target,
      AUDIT_SIGNING_KEY: signingKey,
      AUDIT_CHECKPOINT_DIR: path.join(dir, "audit-checkpoints"),
      SNAPSHOTS_DIR: path.join(dir, "snapshots"),
    };
    // In-process domain calls read the audit key and folders from the environment.
    for (const k of ["AUDIT_SIGNING_KEY", "AUDIT_CHECKPOINT_DIR", "SNAPSHOTS_DIR"]) process.env[k] = env[k];
  }
  const db = openDatabase(target);
  await runMigrations(db);
  return { kind, db, env, target };
}

export async function closeStore(s: BenchStore): Promise<void> {
  await closeDatabase(s.db);
}

/** A raw pg client on a store's database (the benchmarks' own reads and baselines, outside the app's pool). */
export async function pgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Every value as the text Postgres sent (rows read back to be inserted again, unchanged). */
export const RAW_TEXT = {
  getTypeParser: () => (v: string) => v,
} as unknown as pg.CustomTypesConfig;

/**
 * The statements `fn` sends to Postgres through the app's pool (pg.Client.prototype.query is
 * wrapped while it runs), then each SELECT/UPDATE/INSERT/DELETE of them under
 * EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back. Returns the plans as text
 * and the indexes they use.
 */
export async function explainHotPath(url: string, label: string, fn: () => Promise<unknown>, match: (text: string) => boolean = () => true): Promise<string> {
  const captured: { text: string; values: unknown[] }[] = [];
  const proto = pg.Client.prototype as unknown as {
    query: (...a: unknown[]) => unknown;
  };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const a0 = args[0] as string | { text?: string; values?: unknown[] };
    const text = typeof a0 === "string" ? a0 : a0?.text;
    // drizzle passes ({ name?, text }, params); others ({ text, values }) or (text, values).
    const values = (typeof a0 === "string" ? args[1] : (a0?.values ?? args[1])) as unknown[] | undefined;
    if (text && /^\s*(select|update|insert|delete|with)\b/i.test(text) && match(text)) captured.push({ text, values: Array.isArray(values) ? values : [] });
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  const c = await pgClient(url);
  const out: string[] = [`EXPLAIN (ANALYZE, BUFFERS) on Postgres: ${label} (${captured.length} statement(s), run in a rolled-back transaction)`];
  try {
    for (const [i, q] of captured.entries()) {
      await c.query("BEGIN");
      try {
        const plan = (
          await c.query({
            text: `EXPLAIN (ANALYZE, BUFFERS) ${q.text}`,
            values: q.values,
          })
        ).rows.map((r) => r["QUERY PLAN"] as string);
        const indexes = [
          ...new Set(plan.flatMap((l) => [...l.matchAll(/(?:Index(?: Only)? Scan(?: Backward)?|Bitmap Index Scan) (?:using|on) (\w+)/g)].map((m) => m[1]))),
        ];
        const seqScans = [...new Set(plan.flatMap((l) => [...l.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1])))];
        out.push("", `-- [${i + 1}] ${q.text.replace(/\s+/g, " ").slice(0, 400)}`, `-- params: ${JSON.stringify(q.values).slice(0, 200)}`);
        out.push(...plan.map((l) => `   ${l}`));
        out.push(`-- indexes used: ${indexes.join(", ") || "none"}${seqScans.length ? `; SEQ SCAN on ${seqScans.join(", ")}` : ""}`);
      } finally {
        await c.query("ROLLBACK");
      }
    }
  } finally {
    await c.end();
  }
  return out.join("\n");
}

/** Prints figures of several stores side by side: one row per figure, one column per store. */
export function sideBySide(
  title: string,
  kinds: StoreKind[],
  rows: {
    label: string;
    values: Partial<Record<StoreKind, string>>;
    target?: (k: StoreKind) => string;
  }[],
): string {
  const header = ["", ...kinds];
  const hasTarget = rows.some((r) => r.target);
  const cells = [
    header.concat(hasTarget ? kinds.map((k) => `${k} target`) : []),
    ...rows.map((r) => [r.label, ...kinds.map((k) => r.values[k] ?? "-"), ...(hasTarget ? kinds.map((k) => r.target?.(k) ?? "") : [])]),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ");
  return [`== ${title} ==`, ...cells.map(line)].join("\n");
}

/**
 * startServer, tried up to three times: on a loaded machine a second server can take longer
 * than the helper's 20 s to answer its first request.
 */
export async function startSharedServer(env: Record<string, string>, opts: { root?: string } = {}): Promise<TestServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServer(env, opts);
    } catch (e) {
      if (attempt >= 3) throw e;
      console.log(`  (a server did not start within 20 s, attempt ${attempt}: trying again)`);
    }
  }
}

/**
 * Runs `run` on each store BENCH_STORES names, in turn, and stops the throwaway cluster afterwards;
 * `column(f)` gives one printed figure per store, for sideBySide.
 */
export async function onEachStore<R>(run: (kind: StoreKind) => Promise<R>) {
  const kinds = benchStores();
  const results = {} as Record<StoreKind, R>;
  try {
    for (const kind of kinds) results[kind] = await run(kind);
  } finally {
    await stopStores();
  }
  const column = (f: (r: R) => string) => Object.fromEntries(kinds.map((k) => [k, f(results[k])]));
  return { kinds, results, column };
}
