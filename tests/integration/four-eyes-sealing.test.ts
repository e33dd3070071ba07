/**
 * Four-eyes sealing through the real server, as each role sees it: while the
 * second review is still to be given, the first verdict and who gave it are
 * shown only to the first reviewer and to auditors, on the decision page
 * (reviews, task table, audit trail), the audit page and its filters, the
 * audit CSV, the audit API and the decisions API; dataset previews do not
 * count the sealed verdict. Once the second review is in, everyone sees it.
 */
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "~/domain/auth/users.server";
import { SEALED_LABEL } from "~/domain/review/four-eyes";
import { makeKey, makeUser, TEST_PASSWORD, uniqueEmail } from "../support/db";
import { answer, claim, client, freshType, getDecision, ingest, listDecisions, person, review, reviewDecision, tasksOf, type Person } from "../support/api";
import { auditEntries } from "../support/reads";
import { startServer, type TestServer } from "../support/server";
import { createLastmileClient, type components, type operations } from "../../scripts/client/index";

const NOTE = "sealed-note-4f1e: a quote, not an invoice";

describe("a sealed four-eyes first verdict", () => {
  let s: TestServer;
  let type: string;
  let first: Person;
  let second: Person;
  let decisionId: string;
  let firstTaskId: string;
  const cookies: Record<"first" | "second" | "manager" | "admin" | "auditor" | "reviewer", string> = {} as never;
  let readKey: string;
  let auditorKey: string;

  async function signIn(email: string) {
    const res = await fetch(`${s.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ email, password: TEST_PASSWORD, redirectTo: "/" }),
      redirect: "manual",
    });
    await res.arrayBuffer();
    expect(res.status).toBe(302);
    return res.headers.get("set-cookie")!.split(";")[0];
  }

  async function page(cookie: string, path: string) {
    const res = await fetch(`${s.url}${path}`, { headers: { Cookie: cookie }, redirect: "manual" });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** GET /api/v1/audit as a key's holder or a signed-in user (their session cookie). */
  const api = async (query: NonNullable<operations["auditFeed"]["parameters"]["query"]>, who: { cookie?: string; key?: string }) =>
    answer(
      createLastmileClient({ baseUrl: s.url, apiKey: who.key, headers: who.cookie ? { Cookie: who.cookie } : undefined }).GET("/api/v1/audit", {
        params: { query },
      }),
    );

  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    type = await freshType(s.db, owner.email, { fourEyes: { fieldAbove: { total: 1000 } } });
    first = await person(s.db, "reviewer");
    second = await person(s.db, "reviewer");
    const manager = await makeUser(s.db, "manager");
    const admin = await makeUser(s.db, "admin");
    const auditor = await makeUser(s.db, "auditor");
    const reviewer = await makeUser(s.db, "reviewer");
    cookies.first = await signIn(first.email);
    cookies.second = await signIn(second.email);
    cookies.manager = await signIn(manager.email);
    cookies.admin = await signIn(admin.email);
    cookies.auditor = await signIn(auditor.email);
    cookies.reviewer = await signIn(reviewer.email);
    readKey = await makeKey(s.db, ["read"]);
    auditorKey = await makeKey(s.db, ["read"], auditor.email);

    const ingestKey = await makeKey(s.db, ["ingest"]);
    const created = await ingest(s, ingestKey, reviewDecision(type, "sealed-1", { output: { total: 5000, currency: "EUR", lines: [] } }));
    expect(created.status).toBe(201);
    decisionId = created.body.id;
    const c = await claim(s, first.key, { type });
    expect(c.body.decision.id).toBe(decisionId);
    firstTaskId = c.body.task.id;
    const r = await review(s, first.key, firstTaskId, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: NOTE });
    expect(r.status).toBe(200);
    expect(r.body.decision.status).toBe("pending_review");
  });
  afterAll(async () => s?.close());

  const leaks = (text: string) => text.includes(NOTE) || text.includes(first.email);

  describe("the decision page", () => {
    it.each(["second", "manager", "admin"] as const)("hides the first verdict and who gave it from the %s (reviews, tasks, audit trail)", async (who) => {
      const res = await page(cookies[who], `/decisions/${decisionId}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(SEALED_LABEL);
      expect(leaks(res.text)).toBe(false);
      expect(res.text).not.toContain("review.reject");
    });

    it("hides it from the loader's data too (single-fetch .data request)", async () => {
      const res = await page(cookies.manager, `/decisions/${decisionId}.data`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(decisionId);
      expect(leaks(res.text)).toBe(false);
    });

    it.each(["first", "auditor"] as const)("shows it to the %s", async (who) => {
      const res = await page(cookies[who], `/decisions/${decisionId}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(NOTE);
      expect(res.text).toContain(first.email);
      expect(res.text).toContain("review.reject");
      expect(res.text).not.toContain(SEALED_LABEL);
    });
  });

  describe("the audit page", () => {
    it.each(["manager", "admin"] as const)("redacts the sealed entries for the %s", async (who) => {
      const res = await page(cookies[who], `/admin/audit?entityId=${decisionId}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(SEALED_LABEL);
      expect(leaks(res.text)).toBe(false);
      const tasks = await page(cookies[who], `/admin/audit?entityType=task&entityId=${firstTaskId}`);
      expect(tasks.text).toContain(SEALED_LABEL);
      expect(tasks.text).not.toContain(first.email);
    });

    it("does not let a filter on actor or action find a sealed entry", async () => {
      const byActor = await page(cookies.manager, `/admin/audit?actor=${encodeURIComponent(first.email)}`);
      expect(byActor.status).toBe(200);
      expect(byActor.text).not.toContain(decisionId);
      expect(byActor.text).not.toContain(firstTaskId);
      const byAction = await page(cookies.admin, `/admin/audit?action=review.`);
      expect(byAction.text).not.toContain(decisionId);
      const byClaim = await page(cookies.admin, `/admin/audit?action=task.claimed&entityId=${firstTaskId}`);
      expect(byClaim.text).toContain("No entries match these filters.");
    });

    it("shows the sealed entries to the auditor, filters included", async () => {
      const res = await page(cookies.auditor, `/admin/audit?actor=${encodeURIComponent(first.email)}&action=review.`);
      expect(res.text).toContain(decisionId);
      expect(res.text).toContain("review.reject");
      expect(res.text).toContain(NOTE);
    });
  });

  describe("the audit CSV", () => {
    it("redacts sealed entries for a manager and keeps them for an auditor", async () => {
      const res = await page(cookies.manager, `/admin/audit/csv?entityId=${decisionId}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
      const rows = parse(res.text, { columns: true }) as Record<string, string>[];
      const sealed = rows.filter((r) => r.sealed === "true");
      expect(sealed).toHaveLength(1);
      expect(sealed[0]).toMatchObject({ actor: "", action: "sealed", entityId: decisionId, data: "", hash: "" });
      expect(leaks(res.text)).toBe(false);
      expect(rows.some((r) => r.action === "decision.ingested")).toBe(true);

      const byActor = parse((await page(cookies.manager, `/admin/audit/csv?actor=${encodeURIComponent(first.email)}`)).text, { columns: true }) as Record<
        string,
        string
      >[];
      expect(byActor.every((r) => r.sealed === "false" && r.entityId !== decisionId && r.entityId !== firstTaskId)).toBe(true);

      const auditor = await page(cookies.auditor, `/admin/audit/csv?entityId=${decisionId}`);
      expect(auditor.text).toContain(NOTE);
      expect((parse(auditor.text, { columns: true }) as Record<string, string>[]).every((r) => r.sealed === "false")).toBe(true);
    });

    it("holds every matching entry, past one page, and writes formula-like cells as text", async () => {
      const formula = '=HYPERLINK("http://evil.example","x")';
      for (let i = 0; i < 3; i++) await createUser(s.db, { email: uniqueEmail("csv"), role: "reviewer", password: TEST_PASSWORD }, formula);
      const res = await page(cookies.admin, `/admin/audit/csv?action=user.created&limit=1`);
      const rows = parse(res.text, { columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength((await auditEntries(s.db, { action: "user.created", exact: true })).length);
      expect(rows.filter((r) => r.actor === `'${formula}`)).toHaveLength(3);
      expect(rows.some((r) => r.actor.startsWith("="))).toBe(false);
    });

    it("refuses a bad filter with 400, and a reviewer with 403", async () => {
      expect((await page(cookies.admin, `/admin/audit/csv?color=red`)).status).toBe(400);
      expect((await page(cookies.reviewer, `/admin/audit/csv`)).status).toBe(403);
    });
  });

  describe("GET /api/v1/audit", () => {
    it("lets read-scope keys, auditors and admins in, nobody else", async () => {
      expect((await api({}, {})).status).toBe(401);
      expect((await api({}, { cookie: cookies.reviewer })).status).toBe(403);
      expect((await api({}, { cookie: cookies.manager })).status).toBe(403);
      expect((await api({}, { key: first.key })).status).toBe(403);
      for (const who of [{ key: readKey }, { key: auditorKey }, { cookie: cookies.auditor }, { cookie: cookies.admin }]) {
        const res = await api({ limit: 1 }, who);
        expect(res.status).toBe(200);
        expect(res.body.entries).toHaveLength(1);
      }
    });

    it("redacts sealed entries for a key of nobody and an admin, not for an auditor", async () => {
      for (const who of [{ key: readKey }, { cookie: cookies.admin }]) {
        const res = await api({ entityId: decisionId }, who);
        expect(res.status).toBe(200);
        const sealed = res.body.entries.filter((e) => e.sealed);
        expect(sealed).toEqual([
          {
            seq: expect.any(Number),
            at: expect.any(String),
            actor: null,
            action: "sealed",
            entityType: "decision",
            entityId: decisionId,
            data: null,
            hash: null,
            sealed: true,
          },
        ]);
        expect(leaks(JSON.stringify(res.body))).toBe(false);
        const byActor = await api({ actor: first.email, limit: 500 }, who);
        expect(byActor.body.entries.some((e) => e.entityId === decisionId || e.entityId === firstTaskId)).toBe(false);
      }
      for (const who of [{ key: auditorKey }, { cookie: cookies.auditor }]) {
        const res = await api({ entityId: decisionId, action: "review." }, who);
        expect(res.body.entries).toMatchObject([
          { actor: first.email, action: "review.reject", data: { note: NOTE, reasonCodes: ["NOT_AN_INVOICE"] }, sealed: false },
        ]);
      }
    });

    it("pages oldest first by cursor, and filters by time", async () => {
      const all: components["schemas"]["AuditEntry"][] = [];
      let cursor: string | null = "";
      while (cursor !== null) {
        const res = await api({ limit: 7, cursor: cursor || undefined }, { key: auditorKey });
        expect(res.status).toBe(200);
        all.push(...res.body.entries);
        cursor = res.body.nextCursor;
      }
      const seqs = (await auditEntries(s.db)).map((e) => e.seq);
      expect(all.map((e) => e.seq)).toEqual(seqs);
      const mid = all[Math.floor(all.length / 2)];
      const from = await api({ from: mid.at, limit: 500 }, { key: auditorKey });
      expect(from.body.entries.every((e) => e.at >= mid.at)).toBe(true);
      expect(from.body.entries.map((e) => e.seq)).toContain(mid.seq);
      const to = await api({ to: mid.at, limit: 500 }, { key: auditorKey });
      expect(to.body.entries.every((e) => e.at < mid.at)).toBe(true);
    });

    it.each([
      ["color=red", "color"],
      ["cursor=abc", "cursor"],
      ["cursor=1&cursor=2", "cursor"],
      ["from=yesterday", "from"],
      ["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"],
      ["limit=0", "limit"],
      ["limit=many", "limit"],
    ])("answers 400 naming the parameter for ?%s", async (query, param) => {
      // Raw on purpose: hand-written query strings (a repeated parameter among them).
      const res = await s.request(`/api/v1/audit?${query}`, { key: readKey });
      expect(res.status).toBe(400);
      expect(res.body.error.issues.map((i) => i.path)).toContain(param);
    });
  });

  describe("the decisions API", () => {
    it("shows the first verdict to its reviewer and auditors only", async () => {
      const reviewsAs = async (key: string) => (await getDecision(s, key, decisionId)).body.reviews;
      expect(await reviewsAs(second.key)).toEqual([]);
      expect(await reviewsAs(readKey)).toEqual([]);
      expect(await reviewsAs(first.key)).toMatchObject([{ reviewer: first.email, note: NOTE }]);
      expect(await reviewsAs(auditorKey)).toMatchObject([{ reviewer: first.email, note: NOTE }]);
      const list = await listDecisions(s, readKey, { type });
      expect(list.body.decisions[0].reviews).toEqual([]);
    });
  });

  describe("datasets", () => {
    it("do not count a sealed verdict as an example", async () => {
      const preview = await answer(client(s, readKey).GET("/api/v1/datasets/preview", { params: { query: { type } } }));
      expect(preview.status).toBe(200);
      expect(preview.body.count).toBe(0);
    });
  });

  describe("once the second review is in", () => {
    beforeAll(async () => {
      const c = await claim(s, second.key, { type });
      expect(c.body.task).toMatchObject({ decisionId, route: "second" });
      const r = await review(s, second.key, c.body.task.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
      expect(r.body.decision.status).toBe("rejected");
      expect((await tasksOf(s.db, decisionId)).every((t) => t.status === "done")).toBe(true);
    });

    it.each(["second", "manager", "admin", "reviewer"] as const)("the %s sees the first verdict everywhere", async (who) => {
      const res = await page(cookies[who], `/decisions/${decisionId}`);
      expect(res.text).toContain(NOTE);
      expect(res.text).toContain(first.email);
      expect(res.text).not.toContain(SEALED_LABEL);
    });

    it("the audit page, API and CSV show it unredacted", async () => {
      expect((await page(cookies.manager, `/admin/audit?actor=${encodeURIComponent(first.email)}&action=review.`)).text).toContain(NOTE);
      const feed = await api({ entityId: decisionId }, { key: readKey });
      expect(feed.body.entries.some((e) => e.sealed)).toBe(false);
      expect(JSON.stringify(feed.body)).toContain(NOTE);
      expect((await page(cookies.manager, `/admin/audit/csv?entityId=${decisionId}`)).text).toContain(first.email);
      expect((await answer(client(s, readKey).GET("/api/v1/datasets/preview", { params: { query: { type } } }))).body.count).toBe(1);
    });
  });
});
