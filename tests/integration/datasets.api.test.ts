import { parse as parseCsv } from "csv-parse/sync";
import { parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { CORRECTED, reviewed } from "../support/labelled";
import { startServer, waitForSnapshot, type TestServer } from "../support/server";

describe("datasets over HTTP", () => {
  let s: TestServer;
  let admin: string;
  let manager: string;
  let readOnly: string;
  let ingestOnly: string;
  let reviewerKey: string;
  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    const reviewer = await makeUser(s.db, "reviewer");
    const adm = await makeUser(s.db, "admin");
    await makeType(s.db, invoiceType(owner.email));
    for (let i = 0; i < 12; i++) {
      await reviewed(
        s.db,
        reviewer,
        `http-${i}`,
        i % 2 ? { action: "approve" } : { action: "correct", output: { ...CORRECTED, total: i }, reasonCodes: ["WRONG_TOTAL"] },
      );
    }
    admin = await makeKey(s.db, ["admin"], adm.email);
    manager = await makeKey(s.db, ["read", "admin"], owner.email);
    readOnly = await makeKey(s.db, ["read"]);
    ingestOnly = await makeKey(s.db, ["ingest"]);
    reviewerKey = await makeKey(s.db, ["read", "review"], reviewer.email);
  });
  afterAll(async () => s?.close());

  it("creates a dataset, previews, snapshots and downloads every format", async () => {
    const preview = await s.request("/api/v1/datasets/preview?type=invoice&action=corrected", { key: manager });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ count: 6, exact: true });

    const created = await s.request("/api/v1/datasets", {
      key: manager,
      body: { name: "HTTP corrections", filter: { type: "invoice", actions: ["corrected"] } },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ name: "HTTP corrections", type: "invoice", filter: { actions: ["corrected"] } });

    const snap = await s.request(`/api/v1/datasets/${id}/snapshots`, { key: manager, body: { split: { train: 0.5, validation: 0.25, test: 0.25 } } });
    expect(snap.status).toBe(202);
    expect(snap.body).toMatchObject({ number: 1, status: "building" });
    const location = snap.headers.get("Location")!;
    expect(location).toBe(`/api/v1/datasets/${id}/snapshots/1`);
    const ready = await waitForSnapshot(s, manager, location);
    expect(ready).toMatchObject({ status: "ready", rowCount: 6 });
    expect(ready.files).toHaveLength(12);

    const jsonl = await fetch(`${s.url}${location}/download?format=jsonl`, { headers: { Authorization: `Bearer ${readOnly}` } });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get("Content-Type")).toBe("application/x-ndjson; charset=utf-8");
    expect(jsonl.headers.get("Content-Disposition")).toBe('attachment; filename="http-corrections-v1.jsonl"');
    const lines = (await jsonl.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines.every((l) => l.action === "corrected")).toBe(true);

    const csv = await fetch(`${s.url}${location}/download?format=csv&split=all`, { headers: { Authorization: `Bearer ${readOnly}` } });
    expect(csv.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    const rows = parseCsv(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.externalId)).toEqual(lines.map((l) => l.externalId));

    const pq = await fetch(`${s.url}${location}/download?format=parquet`, { headers: { Authorization: `Bearer ${readOnly}` } });
    expect(pq.headers.get("Content-Type")).toBe("application/vnd.apache.parquet");
    const buf = await pq.arrayBuffer();
    expect(Number(pq.headers.get("Content-Length"))).toBe(buf.byteLength);
    const objs = (await parquetReadObjects({ file: buf })) as Record<string, unknown>[];
    expect(objs.map((o) => o.finalOutput)).toEqual(lines.map((l) => l.finalOutput));

    for (const split of ["train", "validation", "test"]) {
      const part = await fetch(`${s.url}${location}/download?format=jsonl&split=${split}`, { headers: { Authorization: `Bearer ${readOnly}` } });
      const text = await part.text();
      expect(
        text
          .split("\n")
          .filter(Boolean)
          .every((l) => JSON.parse(l).split === split),
      ).toBe(true);
    }

    const card = await s.request(`${location}/card`, { key: readOnly });
    expect(card.body).toMatchObject({ rows: 6, counts: { action: { corrected: 6 } } });
    const md = await fetch(`${s.url}${location}/card?format=md`, { headers: { Authorization: `Bearer ${readOnly}` } });
    expect(md.headers.get("Content-Type")).toBe("text/markdown; charset=utf-8");
    expect(await md.text()).toContain("# HTTP corrections — snapshot 1");

    const list = await s.request("/api/v1/datasets", { key: readOnly });
    expect(list.body.datasets.map((d: { id: string }) => d.id)).toContain(id);
    const got = await s.request(`/api/v1/datasets/${id}`, { key: readOnly });
    expect(got.body.snapshots.map((x: { number: number }) => x.number)).toEqual([1]);
  });

  it("answers 401 and 403 for downloads and writes", async () => {
    const created = await s.request("/api/v1/datasets", { key: manager, body: { name: "Perms", filter: { type: "invoice" } } });
    const id = created.body.id;
    const snap = await s.request(`/api/v1/datasets/${id}/snapshots`, { key: manager, method: "POST" });
    expect(snap.status).toBe(202);
    const location = snap.headers.get("Location")!;
    await waitForSnapshot(s, manager, location);
    const dl = `${location}/download?format=csv`;

    expect((await s.request(dl)).status).toBe(401);
    expect((await s.request(dl, { key: "lm_not-a-key" })).status).toBe(401);
    const forbidden = await s.request(dl, { key: ingestOnly });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("forbidden");
    expect((await s.request(dl, { key: reviewerKey })).status).toBe(403);
    expect((await s.request(dl, { key: readOnly })).status).toBe(200);

    expect((await s.request("/api/v1/datasets", { key: readOnly, body: { name: "x", filter: { type: "invoice" } } })).status).toBe(403);
    expect((await s.request(`/api/v1/datasets/${id}/snapshots`, { key: readOnly, body: {} })).status).toBe(403);
    expect((await s.request("/api/v1/datasets")).status).toBe(401);

    // Identities: only users:write may create or download them.
    expect((await s.request(`/api/v1/datasets/${id}/snapshots`, { key: manager, body: { identities: true } })).status).toBe(403);
    const named = await s.request(`/api/v1/datasets/${id}/snapshots`, { key: admin, body: { identities: true } });
    expect(named.status).toBe(202);
    await waitForSnapshot(s, admin, named.headers.get("Location")!);
    expect((await s.request(`${named.headers.get("Location")}/download?format=jsonl`, { key: readOnly })).status).toBe(403);
    expect((await s.request(`${named.headers.get("Location")}/download?format=jsonl`, { key: admin })).status).toBe(200);
  });

  it("rejects bad input with field paths, never a 500", async () => {
    const bad = await s.request("/api/v1/datasets", { key: manager, body: { name: "", filter: { type: "invoice", actions: ["maybe"], from: "yesterday" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["filter.actions.0", "filter.from", "name"]);
    expect((await s.request("/api/v1/datasets/preview?type=invoice&action=maybe", { key: manager })).status).toBe(400);
    expect((await s.request("/api/v1/datasets/dst_nope", { key: manager })).status).toBe(404);
    const created = await s.request("/api/v1/datasets", { key: manager, body: { name: "Bad downloads", filter: { type: "invoice" } } });
    const id = created.body.id;
    expect((await s.request(`/api/v1/datasets/${id}/snapshots/7`, { key: manager })).status).toBe(404);
    expect((await s.request(`/api/v1/datasets/${id}/snapshots/abc/download?format=csv`, { key: manager })).status).toBe(404);
    const snap = await s.request(`/api/v1/datasets/${id}/snapshots`, { key: manager, body: { split: { train: 2, validation: 0, test: 0 } } });
    expect(snap.status).toBe(400);
    const ok = await s.request(`/api/v1/datasets/${id}/snapshots`, { key: manager, body: {} });
    await waitForSnapshot(s, manager, ok.headers.get("Location")!);
    const fmt = await s.request(`${ok.headers.get("Location")}/download?format=xlsx&split=dev`, { key: manager });
    expect(fmt.status).toBe(400);
    expect(fmt.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["format", "split"]);
  });
});
