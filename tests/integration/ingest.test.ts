import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceDecision } from "../support/db";
import {
  auditFor,
  autoDecision,
  counts,
  decisionRow,
  freshType,
  getDecision,
  ingest,
  listDecisions,
  outboxFor,
  reviewDecision,
  tasksOf,
  type Person,
} from "../support/api";
import type { TestServer } from "../support/server";
import { setupServer } from "../support/setup";

describe("POST /api/v1/decisions", () => {
  let s: TestServer;
  let admin: Person;
  let key: string;
  let type: string;
  beforeAll(async () => {
    ({ s, admin, ingestKey: key } = await setupServer());
    type = await freshType(s.db, admin.email, {
      routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0 },
    });
  });
  afterAll(async () => s?.close());

  it("routes a low-confidence decision to review: 201, reasons, an open task, an audit entry, no outbox event yet", async () => {
    const r = await ingest(s, key, reviewDecision(type, "r-1", { confidence: 0.62, fieldConfidence: { total: 0.5 }, flags: ["policy:aml"], priority: 5 }));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^dec_/),
      externalId: "r-1",
      status: "pending_review",
      route: "review",
      reasons: ["confidence 0.62 < 0.9", "field total confidence 0.5 < 0.95", "flag policy:aml matches policy:*"],
    });
    const t = await tasksOf(s.db, r.body.id);
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ kind: "review", status: "open", priority: 5 });
    expect(t[0].dueAt - t[0].createdAt).toBe(240 * 60_000);
    expect((await auditFor(s.db, r.body.id)).map((a) => a.action)).toEqual(["decision.ingested"]);
    expect(await outboxFor(s.db, r.body.id)).toEqual([]);
  });

  it("releases a confident decision at once: auto_approved, final output = model output, outbox event, no task", async () => {
    const body = autoDecision(type, "a-1");
    const r = await ingest(s, key, body);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: "auto_approved", route: "auto", reasons: [] });
    const got = await getDecision(s, key, r.body.id);
    expect(got.body.finalOutput).toEqual(body.output);
    expect(got.body.finalizedAt).not.toBeNull();
    expect(await tasksOf(s.db, r.body.id)).toEqual([]);
    const events = await outboxFor(s.db, r.body.id);
    expect(events.map((e) => e.eventType)).toEqual(["decision.finalized"]);
    // The event carries the decision exactly as GET /api/v1/decisions/:id shows it.
    expect(JSON.parse(events[0].payload)).toEqual({ type: "decision.finalized", timestamp: got.body.finalizedAt, data: got.body });
  });

  it("is idempotent: the same body again answers 200 with the same decision and writes nothing", async () => {
    const body = reviewDecision(type, "idem-1");
    const first = await ingest(s, key, body);
    expect(first.status).toBe(201);
    const before = await counts(s.db);
    // same content, different key order and explicit defaults
    const reordered = { flags: [], priority: 0, ...Object.fromEntries(Object.entries(body).reverse()) };
    const again = await ingest(s, key, reordered);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await counts(s.db)).toEqual(before);
  });

  it("recognises a replay whose nested keys come in another order, and compares occurredAt as a time", async () => {
    const reverse = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
    const body = { ...reviewDecision(type, "idem-nested"), occurredAt: "2026-03-01T10:00:00Z" };
    const first = await ingest(s, key, body);
    expect(first.status).toBe(201);
    const before = await counts(s.db);
    const shuffled = {
      ...body,
      input: reverse(body.input),
      output: reverse(body.output),
      fieldConfidence: reverse(body.fieldConfidence ?? {}),
      occurredAt: "2026-03-01T11:00:00+01:00",
    };
    expect(await ingest(s, key, shuffled)).toMatchObject({ status: 200, body: first.body });
    // a different time, or none at all, is a different body
    expect((await ingest(s, key, { ...body, occurredAt: "2026-03-01T10:00:01Z" })).status).toBe(409);
    const { occurredAt: _dropped, ...withoutTime } = body;
    expect((await ingest(s, key, withoutTime)).status).toBe(409);
    expect(await counts(s.db)).toEqual(before);

    // without occurredAt (stored as the arrival time) a later replay still matches, in any key order
    const untimed = reviewDecision(type, "idem-untimed");
    const created = await ingest(s, key, untimed);
    await new Promise((r) => setTimeout(r, 5));
    expect(await ingest(s, key, reverse(untimed))).toMatchObject({ status: 200, body: created.body });
    expect((await ingest(s, key, { ...untimed, occurredAt: new Date().toISOString() })).status).toBe(409);
    // within one batch too
    const twin = await ingest(s, key, { decisions: [reviewDecision(type, "idem-twin"), reverse(reviewDecision(type, "idem-twin"))] });
    expect(twin.status).toBe(201);
    expect(twin.body.decisions[1]).toEqual(twin.body.decisions[0]);
  });

  it("answers 409 for the same externalId with a different body, and changes nothing", async () => {
    const body = reviewDecision(type, "conf-1");
    const first = await ingest(s, key, body);
    const before = await counts(s.db);
    const r = await ingest(s, key, { ...body, confidence: 0.4 });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: "conflict", issues: [{ path: "externalId", message: expect.any(String) }] });
    expect(await counts(s.db)).toEqual(before);
    expect((await decisionRow(s.db, type, "conf-1"))!.confidence).toBe(0.5);
    expect((await decisionRow(s.db, type, "conf-1"))!.id).toBe(first.body.id);
  });

  it("tells apart bodies that differ only inside __proto__ or constructor keys", async () => {
    const withProto = (v: number) =>
      JSON.parse(JSON.stringify(reviewDecision(type, "proto-idem")).replace('"input":{', `"input":{"meta":{"__proto__":{"v":${v}}},`));
    expect((await ingest(s, key, withProto(1))).status).toBe(201);
    expect((await ingest(s, key, withProto(1))).status).toBe(200);
    expect((await ingest(s, key, withProto(2))).status).toBe(409);
  });

  it("answers a batch in order (201), mixing new, existing and auto decisions", async () => {
    const existing = await ingest(s, key, reviewDecision(type, "b-existing"));
    const r = await ingest(s, key, { decisions: [autoDecision(type, "b-1"), reviewDecision(type, "b-existing"), reviewDecision(type, "b-2")] });
    expect(r.status).toBe(201);
    expect(r.body.decisions.map((d: { externalId: string }) => d.externalId)).toEqual(["b-1", "b-existing", "b-2"]);
    expect(r.body.decisions[0]).toMatchObject({ status: "auto_approved", route: "auto" });
    expect(r.body.decisions[1]).toEqual(existing.body);
    expect(r.body.decisions[2]).toMatchObject({ status: "pending_review", route: "review" });
    const again = await ingest(s, key, { decisions: [autoDecision(type, "b-1"), reviewDecision(type, "b-2")] });
    expect(again.status).toBe(200);
    expect(again.body.decisions).toEqual([r.body.decisions[0], r.body.decisions[2]]);
  });

  it("deduplicates a repeated item within one batch, and rejects a repeat with a different body", async () => {
    const same = await ingest(s, key, { decisions: [reviewDecision(type, "dup-1"), reviewDecision(type, "dup-1")] });
    expect(same.status).toBe(201);
    expect(same.body.decisions[0]).toEqual(same.body.decisions[1]);
    expect(await tasksOf(s.db, same.body.decisions[0].id)).toHaveLength(1);

    const before = await counts(s.db);
    const diff = await ingest(s, key, { decisions: [reviewDecision(type, "dup-2"), reviewDecision(type, "dup-2", { confidence: 0.1 })] });
    expect(diff.status).toBe(409);
    expect(diff.body.error.issues).toEqual([{ path: "decisions.1.externalId", message: expect.stringContaining("item 0") }]);
    expect(await counts(s.db)).toEqual(before);
  });

  it("is atomic: one bad item rejects the batch (400), listing every bad item by index and path, writing nothing", async () => {
    const before = await counts(s.db);
    const items = [
      reviewDecision(type, "atom-ok-1"),
      reviewDecision(type, "atom-bad-1", { output: { total: -5, currency: "GBP" } }),
      reviewDecision(type, "atom-ok-2"),
      { ...reviewDecision(type, "atom-bad-2"), confidence: 1.5, model: { name: "m" } },
      reviewDecision(type, "atom-bad-3", { output: { total: 1, currency: "EUR", lines: [{ sku: "A", amount: "ten" }] } }),
      reviewDecision("no-such-type", "atom-bad-4"),
    ];
    const r = await ingest(s, key, { decisions: items });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/nothing was written/);
    const paths = r.body.error.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(
      [
        "decisions.1.output.total",
        "decisions.1.output.currency",
        "decisions.3.confidence",
        "decisions.3.model.version",
        "decisions.4.output.lines.0.amount",
        "decisions.5.type",
      ].sort(),
    );
    expect(await counts(s.db)).toEqual(before);
    expect(await decisionRow(s.db, type, "atom-ok-1")).toBeUndefined();
  });

  it("is atomic on conflicts too: a batch with one conflicting item answers 409 and writes nothing", async () => {
    await ingest(s, key, reviewDecision(type, "atom-conf"));
    const before = await counts(s.db);
    const r = await ingest(s, key, {
      decisions: [reviewDecision(type, "atom-conf-new-1"), reviewDecision(type, "atom-conf", { confidence: 0.3 }), autoDecision(type, "atom-conf-new-2")],
    });
    expect(r.status).toBe(409);
    expect(r.body.error.issues).toEqual([{ path: "decisions.1.externalId", message: expect.any(String) }]);
    expect(await counts(s.db)).toEqual(before);
    expect(await decisionRow(s.db, type, "atom-conf-new-1")).toBeUndefined();
  });

  it("accepts 1,000 decisions in one batch and refuses 1,001 or none", async () => {
    const ok = await ingest(s, key, { decisions: Array.from({ length: 1000 }, (_, i) => autoDecision(type, `k-${i}`)) });
    expect(ok.status).toBe(201);
    expect(ok.body.decisions).toHaveLength(1000);
    expect(new Set(ok.body.decisions.map((d: { id: string }) => d.id)).size).toBe(1000);
    for (let i = 0; i < 1000; i += 97) expect(ok.body.decisions[i].externalId).toBe(`k-${i}`);

    const before = await counts(s.db);
    const tooMany = await ingest(s, key, { decisions: Array.from({ length: 1001 }, (_, i) => autoDecision(type, `over-${i}`)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.issues[0].path).toBe("decisions");
    const empty = await ingest(s, key, { decisions: [] });
    expect(empty.status).toBe(400);
    expect(await counts(s.db)).toEqual(before);
  });

  it("rejects an unknown type and output-schema errors, naming the path (single decision)", async () => {
    const unknown = await ingest(s, key, reviewDecision("nope", "u-1"));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues).toEqual([{ path: "type", message: expect.stringContaining("nope") }]);

    const out = await ingest(s, key, reviewDecision(type, "o-1", { output: { currency: "EUR", total: "12", lines: [{ sku: 3 }], extra: true } }));
    expect(out.status).toBe(400);
    expect(out.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["output", "output.lines.0.sku", "output.total"]);
  });

  it("validates the envelope field by field", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ confidence: -0.1 }, "confidence"],
      [{ confidence: "high" }, "confidence"],
      [{ externalId: "" }, "externalId"],
      [{ externalId: "x".repeat(201) }, "externalId"],
      [{ model: { name: "m", version: "1", extra: 1 } }, "model"],
      [{ input: [1, 2] }, "input"],
      [{ input: "text" }, "input"],
      [{ output: null }, "output"],
      [{ fieldConfidence: { total: 2 } }, "fieldConfidence.total"],
      [{ flags: "policy:x" }, "flags"],
      [{ flags: [""] }, "flags.0"],
      [{ priority: 1.5 }, "priority"],
      [{ occurredAt: "yesterday" }, "occurredAt"],
      [{ colour: "red" }, ""],
    ];
    for (const [override, path] of cases) {
      const r = await ingest(s, key, { ...reviewDecision(type, "env-1"), ...override });
      expect(r.status, JSON.stringify(override)).toBe(400);
      expect(
        r.body.error.issues.map((i: { path: string }) => i.path),
        JSON.stringify(override),
      ).toContain(path);
    }
    const missing = await ingest(s, key, { type });
    expect(missing.status).toBe(400);
    expect(missing.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["confidence", "externalId", "input", "model", "output"]);
    expect(await decisionRow(s.db, type, "env-1")).toBeUndefined();
  });

  it("stores input with __proto__ and constructor keys as data, without polluting anything", async () => {
    const raw = JSON.stringify(reviewDecision(type, "pp-1")).replace(
      '"input":{',
      '"input":{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"polluted":1}},',
    );
    // Raw on purpose: `__proto__` as a JSON member, which no object literal serialises to.
    const r = await s.request("/api/v1/decisions", { key, rawBody: raw, method: "POST", headers: { "Content-Type": "application/json" } });
    expect(r.status).toBe(201);
    const got = await getDecision(s, key, r.body.id);
    expect(got.status).toBe(200);
    expect(Object.getOwnPropertyNames(got.body.input)).toEqual(expect.arrayContaining(["__proto__", "constructor", "vendor"]));
    expect(JSON.parse(JSON.stringify(got.body.input))).toEqual(JSON.parse(raw).input);
    // the server is still healthy and no object grew an isAdmin/polluted property
    const list = await listDecisions(s, key, { type, limit: 1 });
    expect(list.status).toBe(200);
    expect((list.body.decisions[0] as Record<string, unknown>).isAdmin).toBeUndefined();
    expect((list.body.decisions[0] as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects __proto__ and constructor keys in the output (not in the schema), at any depth", async () => {
    for (const [where, path] of [
      ['"output":{', "output"],
      ['"lines":[{', "output.lines.0"],
    ] as const) {
      const raw = JSON.stringify(reviewDecision(type, "pp-out")).replace(where, `${where}"__proto__":{"total":1},"constructor":1,`);
      // Raw on purpose: `__proto__` as a JSON member, which no object literal serialises to.
      const r = await s.request("/api/v1/decisions", { key, rawBody: raw, method: "POST", headers: { "Content-Type": "application/json" } });
      expect(r.status, where).toBe(400);
      expect(r.body.error.issues[0]).toMatchObject({ path, message: expect.stringMatching(/__proto__|constructor/) });
    }
    expect(await decisionRow(s.db, type, "pp-out")).toBeUndefined();
  });

  it("records occurredAt and priority, and defaults occurredAt to receipt", async () => {
    const r = await ingest(s, key, reviewDecision(type, "occ-1", { occurredAt: "2024-05-01T10:00:00+02:00", priority: -3 }));
    const got = await getDecision(s, key, r.body.id);
    expect(got.body).toMatchObject({ occurredAt: "2024-05-01T08:00:00.000Z", priority: -3 });
    const d = await ingest(s, key, invoiceDecision("occ-2", { type, confidence: 0.1 }));
    const row = (await decisionRow(s.db, type, "occ-2"))!;
    expect(row.occurredAt).toBe(row.receivedAt);
    expect(d.status).toBe(201);
  });
});
