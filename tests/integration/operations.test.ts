/**
 * What happens to a running server under mixed load (ingests, batches, reviewers claiming and deciding)
 * when it is stopped, killed, or backed up, on each store:
 * - SIGTERM: every request it took is answered, it exits 0, and everything it acknowledged is there after a restart;
 * - kill -9: after a restart the roll-ups (the reviewer roll-up too) equal a from-scratch count, the audit chain
 *   verifies, no decision is half-reviewed, and every final decision has its event in the outbox;
 * - `lastmile backup` while it writes (SQLite): the backup holds everything acknowledged before it began, its
 *   audit chain verifies, a server starts on it; on Postgres the command names the pg_dump route and writes nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@db/client.server";
import { decisions, outbox, tasks } from "@db/schema/index";
import { aggregateFromScratch, rollupSnapshot } from "~/domain/reports/rollups.server";
import type { ReviewerReport } from "~/domain/teams/progress.server";
import { runCli, runCliAsync } from "../support/cli";
import { allDecisions, automationReport, freshType, listDecisions, person, tasksOf, type Person } from "../support/api";
import { mixedLoad, serverErrors, unanswered, underWay, type LoadResult } from "../support/load";
import { onPostgres } from "../support/store";
import { startServer, type TestServer } from "../support/server";

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
});

async function serverWithWork() {
  const s = await startServer({ MONITOR_EVERY_MS: "off" });
  servers.push(s);
  const admin = await person(s.db, "admin", ["ingest", "review", "read"]);
  const type = await freshType(s.db, admin.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } });
  const reviewers = await Promise.all(Array.from({ length: 4 }, () => person(s.db, "reviewer")));
  return { s, admin, type, reviewers };
}

function load(s: TestServer, admin: Person, type: string, reviewers: Person[], prefix: string, until: () => boolean = () => false) {
  return mixedLoad(s.url, { type, ingestKey: admin.key, reviewerKeys: reviewers.map((r) => r.key), prefix, until });
}

/** The type's decisions as stored, by externalId (a repeat would show as a count above 1). */
async function storedIds(db: Db, type: string): Promise<Map<string, number>> {
  const rows = await db
    .select({ externalId: decisions.externalId, n: sql<number>`count(*)` })
    .from(decisions)
    .where(eq(decisions.typeKey, type))
    .groupBy(decisions.externalId);
  return new Map(rows.map((r) => [r.externalId, Number(r.n)]));
}

function expectAllStoredOnce(stored: Map<string, number>, acknowledged: Iterable<string>) {
  const missing = [...acknowledged].filter((id) => stored.get(id) !== 1);
  expect(missing).toEqual([]);
}

/** Not final yet: waiting for a reviewer, or with one. */
const waiting = (d: { status: string }) => d.status === "pending_review" || d.status === "in_review";

describe("SIGTERM under load", () => {
  it("answers every request it took, exits 0, and keeps everything it acknowledged", { timeout: 180_000 }, async () => {
    const { s, admin, type, reviewers } = await serverWithWork();
    const running = load(s, admin, type, reviewers, "term");
    await underWay(running.live);
    process.kill(s.pid, "SIGTERM");
    const result: LoadResult = await running.finished;
    const exit = await s.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(s.output()).toContain('"msg":"stopped"');
    expect(result.acknowledged.size).toBeGreaterThan(20);
    expect(serverErrors(result)).toEqual([]);

    const again = await startServer(s.env);
    servers.push(again);
    const stored = await storedIds(again.db, type);
    expectAllStoredOnce(stored, result.acknowledged);
    const all = await allDecisions(again, admin.key, { type });
    const byId = new Map(all.map((d) => [d.id, d]));
    for (const [id, action] of result.verdicts) expect(byId.get(id)?.status).toBe(action === "approve" ? "approved" : "corrected");
    // Every request the server took was answered: one without an answer (its connection reset while the server
    // stopped listening) was never carried out. No ingest of it is stored, no verdict of it recorded, and no
    // task is claimed that no claim answer named.
    const lost = unanswered(result);
    for (const o of lost.filter((o) => o.path === "/api/v1/decisions")) for (const id of o.about!) expect(stored.has(id)).toBe(false);
    for (const o of lost.filter((o) => o.path === "/api/v1/tasks/:id/review")) expect(byId.get(o.about![0])?.reviews).toEqual([]);
    const held = await again.db
      .select({ id: tasks.id })
      .from(tasks)
      .innerJoin(decisions, eq(decisions.id, tasks.decisionId))
      .where(and(eq(decisions.typeKey, type), eq(tasks.status, "claimed")));
    for (const t of held) expect(result.claimed.has(t.id)).toBe(true);

    // An idle server stops as cleanly: nothing left to keep the process alive must not end it before the store is closed.
    process.kill(again.pid, "SIGTERM");
    expect(await again.exited).toEqual({ code: 0, signal: null });
    expect(again.output()).toContain('"msg":"stopped"');
    const verify = runCli(["audit", "verify"], again.env);
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
  });
});

describe("kill -9 under load", () => {
  it("restarts to exact roll-ups, a verifying chain, no half-reviewed decision and every event in the outbox", { timeout: 180_000 }, async () => {
    const { s, admin, type, reviewers } = await serverWithWork();
    const running = load(s, admin, type, reviewers, "kill");
    await underWay(running.live);
    process.kill(s.pid, "SIGKILL");
    const result = await running.finished;
    expect((await s.exited).signal).toBe("SIGKILL");
    expect(result.acknowledged.size).toBeGreaterThan(20);

    const again = await startServer(s.env);
    servers.push(again);
    expectAllStoredOnce(await storedIds(again.db, type), result.acknowledged);
    const all = await allDecisions(again, admin.key, { type });
    // Acknowledged verdicts survived; a decision is either reviewed and final, or unreviewed with its task open.
    const byId = new Map(all.map((d) => [d.id, d]));
    for (const [id, action] of result.verdicts) expect(byId.get(id)?.status).toBe(action === "approve" ? "approved" : "corrected");
    for (const d of all) {
      const open = (await tasksOf(again.db, d.id)).filter((t) => t.status !== "done");
      if (d.reviews.length > 0) {
        expect(d.reviews).toHaveLength(1);
        expect(["approved", "corrected"]).toContain(d.status);
        expect(open).toEqual([]);
      } else if (d.route === "review") {
        expect(["pending_review", "in_review"]).toContain(d.status);
        expect(open).toHaveLength(1);
      }
    }
    // Every final decision has exactly one decision.finalized event in the outbox.
    const finals = all.filter((d) => !waiting(d));
    const events = await again.db
      .select({ id: outbox.entityId, n: sql<number>`count(*)` })
      .from(outbox)
      .where(and(eq(outbox.eventType, "decision.finalized"), sql`${outbox.entityId} IN (SELECT id FROM decisions WHERE type_key = ${type})`))
      .groupBy(outbox.entityId);
    expect(new Map(events.map((e) => [e.id, Number(e.n)]))).toEqual(new Map(finals.map((d) => [d.id, 1])));
    // The report reads roll-ups; they equal a from-scratch count.
    const count = (f: (d: (typeof all)[number]) => boolean) => all.filter(f).length;
    const report = await automationReport(again, admin.key, {
      type,
      from: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      to: new Date(Date.now() + 3_600_000).toISOString(),
      bucket: "hour",
    });
    expect(report.status).toBe(200);
    expect(report.body.totals).toMatchObject({
      volume: all.length,
      auto: count((d) => d.route === "auto"),
      reviewed: count((d) => d.route === "review" && !waiting(d)),
      pending: count(waiting),
      corrected: count((d) => d.status === "corrected"),
    });
    // So does every counter of the roll-ups, the reviewer roll-up's included; and the reviewer report, read from it,
    // counts each reviewer's reviews that survived.
    const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
    expect(sorted(await rollupSnapshot(again.db))).toEqual(sorted(await aggregateFromScratch(again.db)));
    const range = `from=${new Date(Date.now() - 2 * 3_600_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;
    const team = await again.request<ReviewerReport>(`/api/v1/reports/reviewers?type=${type}&${range}`, { key: admin.key });
    expect(team.status).toBe(200);
    const given = new Map<string, number>();
    for (const d of all) for (const r of d.reviews) given.set(r.reviewer, (given.get(r.reviewer) ?? 0) + 1);
    expect(new Map(team.body.rows.filter((r) => r.reviews > 0).map((r) => [r.reviewer.email, r.reviews]))).toEqual(given);
    expect(given.size).toBeGreaterThan(0);
    const verify = runCli(["audit", "verify"], again.env);
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
  });
});

// Each store has its own backup test (the other's does not apply): declared, not skipped.
const onSqlite = !onPostgres();
describe("lastmile backup", () => {
  if (onSqlite)
    it("takes a verified backup under load that holds everything acknowledged before it began, and a server starts on it", { timeout: 180_000 }, async () => {
      const { s, admin, type, reviewers } = await serverWithWork();
      // Signed checkpoints exist before the backup (the backup must carry them and verify against them).
      expect(runCli(["audit", "checkpoint"], s.env).code).toBe(0);
      let stop = false;
      const running = load(s, admin, type, reviewers, "bk", () => stop);
      await underWay(running.live);
      // Everything acknowledged up to now; then the backup starts while the load goes on.
      const before = new Set(running.live.acknowledged);
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-backup-")), "backup.db");
      const backup = await runCliAsync(["backup", "--out", out], s.env);
      stop = true;
      const result = await running.finished;
      expect(before.size).toBeGreaterThan(20);
      expect(backup.stderr).toBe("");
      expect(backup.code).toBe(0);
      expect(backup.stdout).toMatch(/audit chain verified: [\d,]+ entries, anchored through #\d+/);
      expect(serverErrors(result)).toEqual([]);
      expect(fs.readdirSync(`${out}.audit-checkpoints`).length).toBeGreaterThan(0);

      // Restore: a server on the backup file, with its copied checkpoints.
      const restored = await startServer({ ...s.env, DATABASE_PATH: out, AUDIT_CHECKPOINT_DIR: `${out}.audit-checkpoints` });
      servers.push(restored);
      expectAllStoredOnce(await storedIds(restored.db, type), before);
      expect((await listDecisions(restored, admin.key, { type, limit: 1 })).status).toBe(200);
      const verify = runCli(["audit", "verify"], restored.env);
      expect(verify.stderr).toBe("");
      expect(verify.code).toBe(0);

      // A second backup to the same name is refused and leaves the first untouched.
      const size = fs.statSync(out).size;
      const again = runCli(["backup", "--out", out], s.env);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
      expect(fs.statSync(out).size).toBe(size);
      // No store there: nothing is created, neither the store nor a backup.
      const nowhere = path.join(path.dirname(out), "none.db");
      const missing = runCli(["backup", "--out", `${out}-2`], { ...s.env, DATABASE_PATH: nowhere });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("there is no database at");
      expect(fs.existsSync(nowhere) || fs.existsSync(`${out}-2`)).toBe(false);
    });

  if (!onSqlite)
    it("on Postgres names the pg_dump route, checks it, and writes nothing", async () => {
      const s = await startServer({ MONITOR_EVERY_MS: "off" });
      servers.push(s);
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-backup-")), "backup.db");
      const r = runCli(["backup", "--out", out], s.env);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain("pg_dump --format=custom");
      expect(r.stdout).toMatch(/server: Postgres \d+, wal_level=\w+/);
      expect(r.stderr).toContain("No backup was written");
      expect(fs.existsSync(out)).toBe(false);
    });
});
