import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autoDecision, counts, freshType, getDecision, ingest, listDecisions, person, reviewDecision, type Person } from "../support/api";
import type { components } from "../../scripts/client/index";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

type Listed = components["schemas"]["Decision"];

describe("GET /api/v1/decisions[/:id]", () => {
  let s: TestServer;
  let admin: Person;
  let ingestKey: string;
  let readKey: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey } = await setupServer());
    readKey = (await person(s.db, "auditor", ["read"])).key;
  });
  afterAll(async () => s?.close());

  async function pageAll(query: { type: string; limit: number }, onPage?: (n: number) => Promise<void>) {
    const seen: Listed[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await listDecisions(s, readKey, { ...query, cursor: cursor ?? undefined });
      expect(r.status).toBe(200);
      seen.push(...r.body.decisions);
      cursor = r.body.nextCursor;
      pages++;
      if (onPage) await onPage(pages);
    } while (cursor);
    return { seen, pages };
  }

  it("returns one decision in the contract shape", async () => {
    const type = await freshType(s.db, admin.email);
    const body = reviewDecision(type, "one-1", { flags: ["policy:x"], priority: 2 });
    const created = await ingest(s, ingestKey, body);
    const r = await getDecision(s, readKey, created.body.id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: created.body.id,
      externalId: "one-1",
      type,
      status: "pending_review",
      route: "review",
      reasons: created.body.reasons,
      model: body.model,
      input: body.input,
      output: body.output,
      confidence: 0.5,
      fieldConfidence: body.fieldConfidence,
      flags: ["policy:x"],
      finalOutput: null,
      finalizedAt: null,
      reviews: [],
    });
    expect(new Date(r.body.receivedAt).toISOString()).toBe(r.body.receivedAt);
  });

  it("answers 404 for an unknown id and 401 without a key", async () => {
    const r = await getDecision(s, readKey, "dec_nope");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    expect((await getDecision(s, undefined, "dec_nope")).status).toBe(401);
    expect((await listDecisions(s, undefined)).status).toBe(401);
  });

  it("filters by type, status and updatedSince", async () => {
    const t1 = await freshType(s.db, admin.email);
    const t2 = await freshType(s.db, admin.email);
    await ingest(s, ingestKey, { decisions: [reviewDecision(t1, "f-1"), autoDecision(t1, "f-2"), reviewDecision(t2, "f-3")] });
    const byType = await listDecisions(s, readKey, { type: t1 });
    expect(byType.body.decisions.map((d: Listed) => d.externalId)).toEqual(["f-1", "f-2"]);
    expect(byType.body.nextCursor).toBeNull();
    const byStatus = await listDecisions(s, readKey, { type: t1, status: "auto_approved" });
    expect(byStatus.body.decisions.map((d: Listed) => d.externalId)).toEqual(["f-2"]);

    const mark = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await ingest(s, ingestKey, reviewDecision(t1, "f-4"));
    const since = await listDecisions(s, readKey, { type: t1, updatedSince: mark });
    expect(since.body.decisions.map((d: Listed) => d.externalId)).toEqual(["f-4"]);
  });

  it("rejects bad query parameters with 400 naming them", async () => {
    for (const [q, path] of [
      ["status=done", "status"],
      ["updatedSince=yesterday", "updatedSince"],
      ["cursor=abc", "cursor"],
      ["limit=0", "limit"],
      ["limit=100000", "limit"],
      ["colour=red", "colour"],
    ]) {
      // Raw on purpose: hand-written query strings (an unknown parameter among them).
      const r = await s.request(`/api/v1/decisions?${q}`, { key: readKey });
      expect(r.status, q).toBe(400);
      expect(
        r.body.error.issues.map((i: { path: string }) => i.path),
        q,
      ).toContain(path);
    }
  });

  it("pages with a cursor: every decision exactly once, in arrival order", async () => {
    const type = await freshType(s.db, admin.email);
    await ingest(s, ingestKey, { decisions: Array.from({ length: 53 }, (_, i) => (i % 3 ? autoDecision : reviewDecision)(type, `p-${i}`)) });
    const { seen, pages } = await pageAll({ type, limit: 10 });
    expect(pages).toBe(6);
    expect(seen.map((d) => d.externalId)).toEqual(Array.from({ length: 53 }, (_, i) => `p-${i}`));
  });

  it("stays stable while decisions are inserted between pages: no duplicates, no skips", async () => {
    const type = await freshType(s.db, admin.email);
    const other = await freshType(s.db, admin.email);
    await ingest(s, ingestKey, { decisions: Array.from({ length: 40 }, (_, i) => autoDecision(type, `c-${i}`)) });
    let added = 0;
    const { seen } = await pageAll({ type, limit: 7 }, async (page) => {
      // insert into the paged type and another type, single and batch, concurrently with paging
      await Promise.all([
        ingest(s, ingestKey, reviewDecision(type, `late-${page}`)),
        ingest(s, ingestKey, { decisions: [autoDecision(other, `o-${page}-a`), autoDecision(type, `late-${page}-b`)] }),
      ]);
      added += 2;
    });
    const ids = seen.map((d) => d.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 0; i < 40; i++) expect(ids).toContain(`c-${i}`);
    expect(ids.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => `c-${i}`));
    expect(seen.every((d) => d.type === type)).toBe(true);
    // paging continues until it catches up with the inserts; everything it saw is real
    expect(ids.length).toBeGreaterThan(40);
    expect(ids.length).toBeLessThanOrEqual(40 + added);

    // the unfiltered list pages stably too, under concurrent batch inserts
    const allIds: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const [page]: [Awaited<ReturnType<typeof listDecisions>>, unknown] = await Promise.all([
        listDecisions(s, readKey, { limit: 25, cursor: cursor ?? undefined }),
        round < 5 ? await ingest(s, ingestKey, { decisions: Array.from({ length: 5 }, (_, i) => autoDecision(other, `x-${round}-${i}`)) }) : Promise.resolve(),
      ]);
      allIds.push(...page.body.decisions.map((d: Listed) => d.id));
      cursor = page.body.nextCursor;
      round++;
    } while (cursor);
    expect(new Set(allIds).size).toBe(allIds.length);
    expect(allIds.length).toBe((await counts(s.db)).decisions);
  });
});
