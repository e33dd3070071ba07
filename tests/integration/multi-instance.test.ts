/**
 * Two app instances on one store and 40 reviewers working the queue at once over HTTP, half
 * through each instance: every task is reviewed exactly once, nothing answers 5xx, the report's
 * roll-ups equal a from-scratch count of the decisions, and the audit chain verifies.
 * On Postgres this is the multi-instance deployment; on SQLite, two processes on one file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { closeDatabase, runMigrations } from "@db/client.server";
import {
  allDecisions,
  answer,
  auditFor,
  automationReport,
  claim,
  client,
  freshType,
  ingest,
  person,
  review,
  reviewDecision,
  type Person,
} from "../support/api";
import { openStore, storeEnv } from "../support/store";
import { startServer, type TestServer } from "../support/server";

const DECISIONS = 240;
const REVIEWERS = 40;

describe("two instances, forty reviewers", () => {
  let a: TestServer;
  let b: TestServer;
  let admin: Person;
  let type: string;

  beforeAll(async () => {
    a = await startServer();
    b = await startServer(a.env);
    admin = await person(a.db, "admin", ["ingest", "review", "read"]);
    type = await freshType(a.db, admin.email);
    for (let i = 0; i < DECISIONS; i += 120) {
      const r = await ingest(a, admin.key, { decisions: Array.from({ length: 120 }, (_, j) => reviewDecision(type, `mi-${i + j}`)) });
      expect(r.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("reviews every task exactly once, without a 5xx, and leaves exact roll-ups and a verifiable chain", { timeout: 240_000 }, async () => {
    const reviewers = await Promise.all(Array.from({ length: REVIEWERS }, () => person(a.db, "reviewer")));
    const statuses: number[] = [];
    const verdicts = new Map<string, { by: string; action: string }>();
    const work = async (r: Person, i: number) => {
      for (let n = 0; ; n++) {
        const via = (i + n) % 2 ? b : a;
        const c = await claim(via, r.key, { type });
        statuses.push(c.status);
        if (c.status === 204) return;
        if (c.status !== 200) continue;
        const taskId = c.body.task.id as string;
        const action = n % 3 === 0 ? "correct" : n % 3 === 1 ? "approve" : "reject";
        const body =
          action === "correct"
            ? { action, output: { total: 99.5, currency: "USD", lines: [] }, reasonCodes: ["WRONG_TOTAL"] }
            : action === "reject"
              ? { action, reasonCodes: ["NOT_AN_INVOICE"] }
              : { action };
        const v = await review((i + n + 1) % 2 ? b : a, r.key, taskId, body);
        statuses.push(v.status);
        expect(v.status).toBe(200);
        expect(verdicts.has(c.body.decision.id)).toBe(false);
        verdicts.set(c.body.decision.id, { by: r.email, action });
      }
    };
    await Promise.all(reviewers.map((r, i) => work(r, i)));

    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(verdicts.size).toBe(DECISIONS);

    // Every decision is final, with exactly one review: the one its reviewer gave.
    const all = await allDecisions(a, admin.key, { type });
    expect(all).toHaveLength(DECISIONS);
    const expectedStatus = { approve: "approved", correct: "corrected", reject: "rejected" } as Record<string, string>;
    for (const d of all) {
      expect(d.reviews).toHaveLength(1);
      expect(d.status).toBe(expectedStatus[verdicts.get(d.id)!.action]);
    }

    // The report reads roll-ups; a from-scratch count of the decisions must equal it.
    const count = (status: string) => all.filter((d) => d.status === status).length;
    const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const report = await automationReport(b, admin.key, { type, from, to, bucket: "hour" });
    expect(report.status).toBe(200);
    expect(report.body.totals).toMatchObject({
      volume: DECISIONS,
      auto: 0,
      reviewed: DECISIONS,
      pending: 0,
      corrected: count("corrected"),
      rejected: count("rejected"),
    });

    // One audit chain, whichever instance wrote each entry.
    const verify = runCli(["audit", "verify"], a.env);
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
  });

  it("answers an idempotent repeat racing its original with 201 once and 200 after, and a different body with 409, never 500", async () => {
    const body = reviewDecision(type, "race-1");
    const same = await Promise.all(Array.from({ length: 16 }, (_, i) => ingest(i % 2 ? b : a, admin.key, body)));
    const statuses = same.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 201).every((s) => s === 200)).toBe(true);
    expect(new Set(same.map((r) => r.body.id)).size).toBe(1);

    const other = reviewDecision(type, "race-2");
    const changed = { ...other, confidence: 0.42 };
    const mixed = await Promise.all(Array.from({ length: 12 }, (_, i) => ingest(i % 2 ? b : a, admin.key, i % 3 ? other : changed)));
    expect(mixed.every((r) => [200, 201, 409].includes(r.status))).toBe(true);
    expect(mixed.filter((r) => r.status === 201)).toHaveLength(1);
  });
});

describe("two instances starting at once on a new store", () => {
  it("both migrate it (one waits for the other) and serve", { timeout: 120_000 }, async () => {
    const { env } = await storeEnv({ migrated: false });
    const [x, y] = await Promise.all([startServer(env, { migrate: false }), startServer(env, { migrate: false })]);
    try {
      const admin = await person(x.db, "admin", ["read"]);
      for (const s of [x, y]) expect((await answer(client(s, admin.key).GET("/api/v1/decision-types"))).status).toBe(200);
    } finally {
      await Promise.all([x.close(), y.close()]);
    }
  });
});

describe("an instance starting while another one writes", () => {
  it("loses no audit entry and no roll-up while its migrations run", { timeout: 120_000 }, async () => {
    // A rolling deploy: instance a serves ingests while new instances start on the same store and run the
    // migrations (which bring the store's triggers up to date). Each write must still get its audit entry and roll-up.
    const a = await startServer();
    const starting = openStore(a.env);
    try {
      const admin = await person(a.db, "admin", ["ingest", "read"]);
      const type = await freshType(a.db, admin.email);
      const acknowledged: string[] = [];
      let migrating = true;
      const writer = async (w: number) => {
        for (let i = 0; migrating || i < 3; i++) {
          const r = await ingest(a, admin.key, reviewDecision(type, `start-${w}-${i}`));
          expect(r.status).toBe(201);
          acknowledged.push(r.body.id as string);
        }
      };
      const writers = Promise.all(Array.from({ length: 4 }, (_, w) => writer(w)));
      try {
        for (let i = 0; i < 15; i++) await runMigrations(starting);
      } finally {
        migrating = false;
      }
      await writers;

      for (const id of acknowledged) expect((await auditFor(a.db, id)).map((e) => e.action)).toContain("decision.ingested");
      const from = new Date(Date.now() - 2 * 3_600_000).toISOString();
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const report = await automationReport(a, admin.key, { type, from, to, bucket: "hour" });
      expect(report.body.totals).toMatchObject({ volume: acknowledged.length, pending: acknowledged.length });
      const verify = runCli(["audit", "verify"], a.env);
      expect(verify.code).toBe(0);
    } finally {
      await closeDatabase(starting);
      await a.close();
    }
  });
});
