/**
 * `lastmile db copy`: a SQLite store copied into an empty Postgres database (and back
 * with --from) holds the same rows and answers the same; task_counters are exact;
 * the audit chain verifies against the source's signed checkpoints; a target with
 * rows is refused and left as it was. It needs a Postgres server in either run of the suite
 * (postgresServer(): scripts/test.sh starts one for both).
 */
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, runMigrations, sqlAll, type Db } from "@db/client.server";
import { copyTables } from "@db/copy.server";
import { sql } from "drizzle-orm";
import { auditTrail, verifyAuditChain } from "~/domain/audit/audit.server";
import { writeCheckpoint } from "~/domain/audit/checkpoints.server";
import { userPrincipal } from "~/domain/auth/users.server";
import { createDataset } from "~/domain/datasets/datasets.server";
import { waitForBuild } from "~/domain/datasets/snapshot-builder.server";
import { createSnapshot } from "~/domain/datasets/snapshots.server";
import { getDecision, listDecisions, listQuerySchema } from "~/domain/decisions/decisions.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { queueCounts } from "~/domain/queue/queue.server";
import { runCli } from "../support/cli";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { CORRECTED, ingest, review, reviewed } from "../support/labelled";
import { newPostgresDatabase, tempDir } from "../support/store";

// The source is always a SQLite file with its own key and checkpoint folder beside it.
delete process.env.AUDIT_SIGNING_KEY;
delete process.env.AUDIT_CHECKPOINT_DIR;

const TABLES = copyTables().map((t) => t.name);

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await sqlAll<{ n: number }>(db, sql.raw(`SELECT count(*) AS n FROM "${t}"`)))[0].n);
  return out;
}

async function counters(db: Db) {
  const rows = await sqlAll<{ type_key: string; kind: string; status: string; n: number }>(db, sql`SELECT type_key, kind, status, n FROM task_counters`);
  return Object.fromEntries(rows.filter((r) => Number(r.n) !== 0).map((r) => [`${r.type_key}/${r.kind}/${r.status}`, Number(r.n)]));
}
async function taskCounts(db: Db) {
  const rows = await sqlAll<{ type_key: string; kind: string; status: string; n: number }>(
    db,
    sql`SELECT type_key, kind, status, count(*) AS n FROM tasks GROUP BY type_key, kind, status`,
  );
  return Object.fromEntries(rows.map((r) => [`${r.type_key}/${r.kind}/${r.status}`, Number(r.n)]));
}

/** Decisions, their detail, audit trails and the queue, as the domain reads them. */
async function domainView(db: Db) {
  const list = await listDecisions(db, listQuerySchema.parse({ limit: 500 }));
  const details = [];
  for (const d of list.decisions) details.push({ decision: await getDecision(db, d.id), trail: await auditTrail(db, "decision", d.id) });
  const queue = (await queueCounts(db)).map((c) => JSON.stringify(c)).sort();
  return { list, details, queue };
}

describe("lastmile db copy: usage and refusals (no Postgres server needed)", () => {
  const dir = tempDir("lastmile-dbcopy-");
  const file = path.join(dir, "source.db");

  it("bad usage exits 2 and prints the usage", () => {
    for (const args of [
      ["db", "move"],
      ["db", "copy"],
      ["db", "copy", "--to", "postgres://x/y", "--from", "postgres://x/z"],
      ["db", "copy", "--bogus"],
    ]) {
      const r = runCli(args, { DATABASE_PATH: file });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("lastmile db copy --to postgres://");
    }
    expect(runCli(["help"], {}).stdout).toContain("lastmile db copy --to postgres://");
    expect(fs.existsSync(file)).toBe(false);
  }, 120_000);

  it("refuses a target that is not a postgres:// URL with exit 1 and one line", () => {
    const r = runCli(["db", "copy", "--to", path.join(dir, "other.db"), "--no-progress"], { DATABASE_PATH: file });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--to must be a postgres:\/\/ URL/);
  }, 90_000);

  it("refuses a missing source without creating it", () => {
    const r = runCli(["db", "copy", "--to", "postgres://lastmile@127.0.0.1:1/none", "--no-progress"], { DATABASE_PATH: file });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`Error: no SQLite database at ${file}`);
    expect(fs.existsSync(file)).toBe(false);
  }, 90_000);

  it("an unreachable server exits 1 with one clear line", async () => {
    const db = openDatabase(file);
    await runMigrations(db);
    await closeDatabase(db);
    const r = runCli(["db", "copy", "--to", "postgres://lastmile:secret@127.0.0.1:1/none", "--no-progress"], { DATABASE_PATH: file });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: cannot connect to postgres:\/\/lastmile:\*\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
  }, 90_000);
});

describe("lastmile db copy between SQLite and Postgres (on a Postgres server of the test run, whatever store the suite runs on)", () => {
  const dir = tempDir("lastmile-dbcopy-");
  const file = path.join(dir, "source.db");
  let src: Db;
  let url: string;
  let target: Db;
  let first: ReturnType<typeof runCli>;

  beforeAll(async () => {
    process.env.SNAPSHOTS_DIR = path.join(dir, "snapshots");
    src = openDatabase(file);
    await runMigrations(src);
    const owner = await makeUser(src, "manager");
    const a = await makeUser(src, "reviewer");
    const b = await makeUser(src, "reviewer");
    await makeKey(src, ["ingest", "read"]);
    await makeType(src, invoiceType(owner.email, { fourEyes: { fieldAbove: { total: 1000 } } }));
    const now = Date.now();
    // Automatic releases (one batch entry in the audit trail), review-lane verdicts of every kind.
    await ingestDecisions(
      src,
      [1, 2, 3, 4].map((i) => invoiceDecision(`auto-${i}`, { input: { vendor: 'Müller & Söhne "GmbH"', note: "ünïcødé ✓ \\ \n", i } })),
      { batch: true, actor: "test", now: now - 5000 },
    );
    await reviewed(src, a, "rev-approve", { action: "approve" });
    await reviewed(src, b, "rev-correct", { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"] });
    await reviewed(src, a, "rev-reject", { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: 'odd, "quoted"\nnote' });
    // Four eyes: agreement finalizes; disagreement leaves an open escalation; one waits for its second review (sealed).
    const agree = await ingest(src, "fe-agree", { confidence: 0.5, output: { total: 5000, currency: "EUR", lines: [] } });
    await review(src, a, agree.id, { action: "approve" });
    await review(src, b, agree.id, { action: "approve" });
    const disagree = await ingest(src, "fe-disagree", { confidence: 0.5, output: { total: 7000, currency: "EUR", lines: [] } });
    await review(src, a, disagree.id, { action: "approve" });
    await review(src, b, disagree.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    const waiting = await ingest(src, "fe-waiting", { confidence: 0.5, output: { total: 9000, currency: "USD", lines: [] } });
    await review(src, a, waiting.id, { action: "approve" });
    await ingest(src, "open-1", { confidence: 0.4 });
    // A dataset with a built snapshot (a boolean column, JSON manifests).
    const ds = await createDataset(src, { name: "Invoices", filter: { type: "invoice" } }, owner.email);
    const snap = await createSnapshot(src, ds.id, {}, userPrincipal(owner as never));
    await waitForBuild(snap.id);
    // Signed checkpoints beside the file, then more entries after the last one.
    await writeCheckpoint(src);
    await ingest(src, "after-checkpoint", { confidence: 0.99 });
    expect((await verifyAuditChain(src)).ok).toBe(true);

    url = await newPostgresDatabase({ empty: true });
    first = runCli(["db", "copy", "--to", url, "--no-progress"], { DATABASE_PATH: file });
    target = openDatabase(url);
  }, 120_000);

  afterAll(async () => {
    await closeDatabase(src);
    await closeDatabase(target);
  });

  it("copies into the empty database, prints per-table counts and verifies the audit chain", async () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const entries = (await counts(src)).audit_log;
    expect(first.stdout).toContain(`audit chain verified: ${entries} entries (1 signed checkpoint`);
    expect(first.stdout).toMatch(/decisions\s+\d+\n/);
    expect(first.stdout).toContain("AUDIT_CHECKPOINT_DIR=");
  });

  it("leaves the target's tables analysed, so its first claims are planned on the queue's real size", async () => {
    const stats = await sqlAll<{ relname: string; analysed: boolean }>(
      target,
      sql`select relname, last_analyze is not null as analysed from pg_stat_user_tables where relname in ('tasks', 'decisions', 'audit_log')`,
    );
    expect(stats.map((s) => [s.relname, s.analysed]).sort()).toEqual([
      ["audit_log", true],
      ["decisions", true],
      ["tasks", true],
    ]);
  });

  it("every table holds the same number of rows", async () => {
    const before = await counts(src);
    expect(before.decisions).toBeGreaterThan(10);
    expect(before.dataset_snapshots).toBe(1);
    expect(before.audit_checkpoints).toBe(1);
    expect(await counts(target)).toEqual(before);
  });

  it("the domain reads the same decisions, details, audit trails and queue on both", async () => {
    expect(await domainView(target)).toEqual(await domainView(src));
  });

  it("every row is the same, JSON text byte for byte, booleans as booleans", async () => {
    for (const t of copyTables()) {
      const order = t.key.map((k) => `"${k}"`).join(", ");
      const read = async (db: Db) =>
        (await sqlAll<Record<string, unknown>>(db, sql.raw(`SELECT * FROM "${t.name}" ORDER BY ${order}`))).map((r) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, t.bool[t.columns.indexOf(k)] ? Boolean(v) : v])),
        );
      if (t.name === "task_counters") continue;
      expect(await read(target), t.name).toEqual(await read(src));
    }
    const snap = (await sqlAll<{ identities: unknown }>(target, sql`SELECT identities FROM dataset_snapshots`))[0];
    expect(snap.identities).toBe(false);
  });

  it("task_counters equal count(*) of tasks per (type, kind, status)", async () => {
    expect(await counters(target)).toEqual(await taskCounts(target));
    expect(await counters(target)).toEqual(await counters(src));
  });

  it("the audit chain verifies on the target with the source's checkpoints and key", async () => {
    const key = fs.readFileSync(`${file}.audit-key.pem`, "utf8");
    const check = await verifyAuditChain(target, { checkpointDir: `${file}.audit-checkpoints`, publicKey: (await import("node:crypto")).createPublicKey(key) });
    expect(check).toMatchObject({ ok: true, checkpoints: 1 });
    expect(check.entries).toBe((await counts(src)).audit_log);
  });

  it("new rows on the target continue the identity sequences", async () => {
    const max = Number((await sqlAll<{ m: number }>(target, sql`SELECT max(seq) AS m FROM decisions`))[0].m);
    const d = await ingest(target, "on-postgres", { confidence: 0.99 });
    const row = (await sqlAll<{ seq: number }>(target, sql`SELECT seq FROM decisions WHERE id = ${d.id}`))[0];
    expect(Number(row.seq)).toBe(max + 1);
    expect((await verifyAuditChain(target, { checkpointDir: null, publicKey: null })).ok).toBe(false); // the copied checkpoint row needs the key…
    const key = (await import("node:crypto")).createPublicKey(fs.readFileSync(`${file}.audit-key.pem`, "utf8"));
    expect((await verifyAuditChain(target, { checkpointDir: `${file}.audit-checkpoints`, publicKey: key })).ok).toBe(true); // …and with it, still holds
  });

  it("a second copy into the now non-empty target exits 1 and changes nothing", async () => {
    const before = await counts(target);
    const head = await sqlAll(target, sql`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`);
    const r = runCli(["db", "copy", "--to", url, "--no-progress"], { DATABASE_PATH: file });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: the target postgres:\/\/.* is not empty \(rows in users, .*\): copy into an empty database/);
    expect(r.stdout).toBe("");
    expect(await counts(target)).toEqual(before);
    expect(await sqlAll(target, sql`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)).toEqual(head);
  }, 90_000);

  it("--from copies the Postgres database back into an empty SQLite file that reads the same", async () => {
    const back = path.join(dir, "back", "lastmile.db");
    const env = { DATABASE_PATH: back, AUDIT_SIGNING_KEY: fs.readFileSync(`${file}.audit-key.pem`, "utf8"), AUDIT_CHECKPOINT_DIR: `${file}.audit-checkpoints` };
    const r = runCli(["db", "copy", "--from", url, "--no-progress"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit chain verified: \d+ entries \(1 signed checkpoint/);
    const copy = openDatabase(back);
    try {
      expect(await counts(copy)).toEqual(await counts(target));
      expect(await domainView(copy)).toEqual(await domainView(target));
      expect(await counters(copy)).toEqual(await taskCounts(copy));
    } finally {
      await closeDatabase(copy);
    }
    // …and refuses to copy into it again.
    const again = runCli(["db", "copy", "--from", url, "--no-progress"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty/);
  }, 90_000);

  it("a Postgres database with rows in one of our tables is refused before anything is written (no migrations either)", async () => {
    const other = await newPostgresDatabase({ empty: true });
    const c = new pg.Client({ connectionString: other });
    await c.connect();
    try {
      await c.query(`CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL); INSERT INTO settings VALUES ('x', 'y')`);
      const r = runCli(["db", "copy", "--to", other, "--no-progress"], { DATABASE_PATH: file });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not empty \(rows in settings\)/);
      expect((await c.query(`SELECT to_regclass('public.decisions') AS t`)).rows[0].t).toBeNull();
    } finally {
      await c.end();
    }
  }, 90_000);
});
