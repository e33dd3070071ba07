/**
 * Upgrade in place (issue 10): a SQLite database written by the v0.1 release
 * (commit 830ffdf, before migration 0010 rebuilt tables with foreign keys and
 * CHECKs and turned decisions.finalized_by from "auto"/an email into a user id)
 * is started by today's server, which migrates it on start. Every API answer
 * recorded from the v0.1 server on that database must come back unchanged.
 *
 * The fixture and its answers come from scripts/fixtures/sqlite-v0.1.mjs (run
 * against a checkout of 830ffdf). The database travels with its audit signing key,
 * its checkpoint files and its snapshot files, as an operator's upgrade would.
 *
 * SQLite only by nature: it always runs on its own SQLite copy, also when the
 * suite runs on Postgres (TEST_DATABASE_URL): DATABASE_PATH is passed explicitly,
 * DATABASE_URL is left out of startServer's env (it would win in openStore) and
 * startServer blanks it for the child; the audit key and folders are the fixture's own.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, sqlOne } from "@db/client.server";
import { DEFAULT_MONITORS } from "~/domain/monitors/settings";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
import { runCli } from "../support/cli";
import { startServer, type TestServer } from "../support/server";

const fixtures = fileURLToPath(new URL("../fixtures/", import.meta.url));
const NAME = "sqlite-v0.1";

type Recorded = {
  release: string;
  users: Record<string, { email: string; role: string; name: string }>;
  keys: Record<string, string>;
  ids: Record<string, string>;
  answers: Record<string, unknown>;
};
const recorded: Recorded = JSON.parse(fs.readFileSync(path.join(fixtures, `${NAME}.answers.json`), "utf8"));
const { keys, ids } = recorded;

/**
 * Fields that legitimately depend on the moment of the request, not on the data:
 * - an evidence pack's `generatedAt` is when the pack was produced (each download has its own).
 * Everything else must be equal.
 */
function withoutRequestTime(pathname: string, body: unknown): unknown {
  if (/^\/api\/v1\/decisions\/[^/]+\/evidence$/.test(pathname) && body && typeof body === "object") {
    const { generatedAt: _generatedAt, ...rest } = body as Record<string, unknown>;
    return rest;
  }
  // A field added since v0.1 (the organisation's time zone the days are counted in), at its default: not a change.
  if (pathname === "/api/v1/reports/automation" && body && typeof body === "object" && (body as { timeZone?: unknown }).timeZone === "UTC") {
    const { timeZone: _timeZone, ...rest } = body as Record<string, unknown>;
    return rest;
  }
  if (/^\/api\/v1\/decision-types(\/[^/]+)?$/.test(pathname) && body && typeof body === "object") {
    const list = (body as { decisionTypes?: unknown[] }).decisionTypes;
    return list ? { ...body, decisionTypes: list.map(withoutAddedDefaults) } : withoutAddedDefaults(body);
  }
  return body;
}

/** Type fields added since v0.1 (automatic assignment, target accuracy, policy approval, drift monitors), at the value every v0.1 type has: not a change. */
function withoutAddedDefaults(type: unknown): unknown {
  if (!type || typeof type !== "object") return type;
  const t = type as { autoAssign?: unknown; targetAccuracy?: unknown; policyApproval?: unknown; monitors?: unknown };
  if (t.autoAssign !== false || t.targetAccuracy !== null || t.policyApproval !== false) return type;
  if (JSON.stringify(t.monitors) !== JSON.stringify(DEFAULT_MONITORS)) return type;
  const {
    autoAssign: _autoAssign,
    targetAccuracy: _targetAccuracy,
    policyApproval: _policyApproval,
    monitors: _monitors,
    ...rest
  } = type as Record<string, unknown>;
  return rest;
}

describe("a v0.1 SQLite database upgrades in place", () => {
  let dir: string;
  let file: string;
  let s: TestServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-upgrade-"));
    file = path.join(dir, `${NAME}.db`);
    fs.copyFileSync(path.join(fixtures, `${NAME}.db`), file);
    // The key and the checkpoints belong to their database: `<DATABASE_PATH>.audit-key.pem`, `<DATABASE_PATH>.audit-checkpoints/`.
    fs.copyFileSync(path.join(fixtures, `${NAME}.db.audit-key.pem`), `${file}.audit-key.pem`);
    fs.chmodSync(`${file}.audit-key.pem`, 0o600);
    fs.cpSync(path.join(fixtures, `${NAME}.db.audit-checkpoints`), `${file}.audit-checkpoints`, { recursive: true });
    fs.cpSync(path.join(fixtures, `${NAME}.snapshots`), path.join(dir, "snapshots"), { recursive: true });
    s = await startServer({
      DATABASE_PATH: file,
      // Empty means unset: the SQLite defaults beside the database file, not a Postgres run's shared test key.
      AUDIT_SIGNING_KEY: "",
      AUDIT_CHECKPOINT_DIR: "",
      SNAPSHOTS_DIR: path.join(dir, "snapshots"),
      // The drift monitors would (rightly) raise SLA-breach alerts on the fixture's overdue tasks: audit entries
      // v0.1 never wrote, in the recorded audit answers this test compares.
      MONITOR_EVERY_MS: "off",
    });
  });
  afterAll(async () => {
    await s?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the fixture is one self-contained file written before migration 0010", () => {
    expect(fs.existsSync(path.join(fixtures, `${NAME}.db-wal`))).toBe(false);
    expect(fs.existsSync(path.join(fixtures, `${NAME}.db-shm`))).toBe(false);
    const db = new Database(path.join(fixtures, `${NAME}.db`), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).not.toBe("wal");
      const finalizedBy = db.prepare("SELECT finalized_by AS v FROM decisions WHERE finalized_by IS NOT NULL").all() as { v: string }[];
      // Today's code wrote "auto" or the reviewer's email.
      expect(finalizedBy.length).toBeGreaterThan(0);
      for (const { v } of finalizedBy) expect(v === "auto" || v.includes("@")).toBe(true);
      expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'job_locks'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it("answers every recorded request as v0.1 did", async () => {
    const entries = Object.entries(recorded.answers);
    expect(entries.length).toBeGreaterThan(50);
    // One comparison over every request, so a failure lists every answer that changed, not just the first.
    const now: Record<string, unknown> = {};
    const then: Record<string, unknown> = {};
    for (const [request, before] of entries) {
      const [who, p] = [request.slice(0, request.indexOf(" ")), request.slice(request.indexOf(" ") + 1)];
      // Raw on purpose: replays the recorded requests (paths and query strings) of v0.1 exactly as they were sent.
      const res = await s.request(p, { key: keys[who] });
      const pathname = new URL(p, "http://x").pathname;
      now[request] = { status: res.status, body: withoutRequestTime(pathname, res.body) };
      then[request] = { status: 200, body: withoutRequestTime(pathname, before) };
    }
    expect(now).toEqual(then);
  });

  it("evidence packs still name the finalizer as v0.1 did: the reviewer's email, or auto", async () => {
    const reviewed = await s.request<{ decision: { finalizedBy: string } }>(`/api/v1/decisions/${ids.approved}/evidence`, { key: keys.reader });
    expect(reviewed.body.decision.finalizedBy).toBe(recorded.users.ana.email);
    const resolved = await s.request<{ decision: { finalizedBy: string } }>(`/api/v1/decisions/${ids.fourEyesDisagreed}/evidence`, { key: keys.reader });
    expect(resolved.body.decision.finalizedBy).toBe(recorded.users.manager.email);
    const auto = await s.request<{ decision: { finalizedBy: string } }>(`/api/v1/decisions/${ids.autoReleased}/evidence`, { key: keys.reader });
    expect(auto.body.decision.finalizedBy).toBe("auto");
  });

  it("moved the data: finalized_by holds the reviewer's user id, null for an automatic release", () => {
    const db = new Database(file, { readonly: true });
    try {
      const row = (id: string) =>
        db.prepare("SELECT d.finalized_by AS by, u.email AS email FROM decisions d LEFT JOIN users u ON u.id = d.finalized_by WHERE d.id = ?").get(id);
      expect(row(ids.autoReleased)).toEqual({ by: null, email: null });
      expect(row(ids.approved)).toMatchObject({ email: recorded.users.ana.email });
      // Created as Ben.Reviewer@… through the v0.1 CLI, which stored the address lower-cased.
      expect(row(ids.corrected)).toMatchObject({ email: recorded.users.ben.email.toLowerCase() });
      expect(row(ids.fourEyesDisagreed)).toMatchObject({ email: recorded.users.manager.email });
      expect(row(ids.pending)).toEqual({ by: null, email: null });
      const stale = db.prepare("SELECT count(*) AS n FROM decisions WHERE finalized_by = 'auto' OR finalized_by LIKE '%@%'").get();
      expect(stale).toEqual({ n: 0 });
      expect(db.pragma("foreign_key_check")).toEqual([]);
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
    }
  });

  it("has the new constraints: foreign keys and CHECKs refuse what v0.1 let through", () => {
    const db = new Database(file);
    try {
      db.pragma("foreign_keys = ON");
      const decision = db.prepare("SELECT id FROM decisions WHERE id = ?").get(ids.pending) as { id: string };
      const task = (typeKey: string) =>
        db
          .prepare("INSERT INTO tasks (id, decision_id, type_key, kind, status, priority, due_at, created_at) VALUES (?, ?, ?, 'review', 'open', 0, 1, 1)")
          .run(`tsk_upgrade_${typeKey}`, decision.id, typeKey);
      expect(() => task("no-such-type")).toThrow(/FOREIGN KEY constraint failed/);
      expect(() => db.prepare("UPDATE decisions SET status = 'lost' WHERE id = ?").run(ids.pending)).toThrow(/CHECK constraint failed/);
      expect(() => db.prepare("UPDATE decisions SET finalized_by = 'auto' WHERE id = ?").run(ids.autoReleased)).toThrow(/FOREIGN KEY constraint failed/);
      expect(() => db.prepare("UPDATE users SET role = 'owner' WHERE email = ?").run(recorded.users.ana.email)).toThrow(/CHECK constraint failed/);
      // Nothing was written by the refused statements.
      expect(db.prepare("SELECT count(*) AS n FROM tasks WHERE id LIKE 'tsk_upgrade_%'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it("splits the v0.1 roll-ups by policy version and counts its reviews into the reviewer roll-up in the background: they end equal to a from-scratch aggregate", async () => {
    const db = openDatabase(file);
    try {
      const deadline = Date.now() + 30_000;
      while ((await sqlOne<{ n: number }>(db, sql`SELECT count(*) AS n FROM rollups WHERE policy_version = 0`))!.n > 0) {
        if (Date.now() > deadline) throw new Error("the rollup-split job left counters without a policy version");
        await new Promise((r) => setTimeout(r, 100));
      }
      // And the reviewer roll-up of the v0.1 reviews, counted by its backfill job (the migration left its row).
      while (await sqlOne(db, sql`SELECT 1 AS x FROM reviewer_rollup_backfill`)) {
        if (Date.now() > deadline) throw new Error("the reviewer-rollup-backfill job did not finish");
        await new Promise((r) => setTimeout(r, 100));
      }
      const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
      const now = await rollupSnapshot(db);
      expect(now.size).toBeGreaterThan(0);
      expect([...now.keys()].some((k) => k.startsWith("reviewer|"))).toBe(true);
      expect(sorted(now)).toEqual(sorted(await aggregateFromScratch(db)));
    } finally {
      await closeDatabase(db);
    }
  });

  it("the audit chain of the upgraded database verifies against its signed checkpoints", () => {
    const r = runCli(["audit", "verify"], s.env);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code: 0 });
  });
});
