import { parse as parseCsv } from "csv-parse/sync";
import { parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { answer, client, createDataset, createSnapshot, downloadSnapshot, snapshotAt } from "../support/api";
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
    const preview = await answer(client(s, manager).GET("/api/v1/datasets/preview", { params: { query: { type: "invoice", action: ["corrected"] } } }));
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ count: 6, exact: true });

    const created = await createDataset(s, manager, { name: "HTTP corrections", filter: { type: "invoice", actions: ["corrected"] } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ name: "HTTP corrections", type: "invoice", filter: { actions: ["corrected"] } });

    const snap = await createSnapshot(s, manager, id, { split: { train: 0.5, validation: 0.25, test: 0.25 } });
    expect(snap.status).toBe(202);
    expect(snap.body).toMatchObject({ number: 1, status: "building" });
    const location = snap.headers.get("Location")!;
    expect(location).toBe(`/api/v1/datasets/${id}/snapshots/1`);
    const ready = await waitForSnapshot(s, manager, location);
    expect(ready).toMatchObject({ status: "ready", rowCount: 6 });
    expect(ready.files).toHaveLength(12);
    const at = snapshotAt(location);

    const jsonl = await downloadSnapshot(s, readOnly, at, { format: "jsonl" });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get("Content-Type")).toBe("application/x-ndjson; charset=utf-8");
    expect(jsonl.headers.get("Content-Disposition")).toBe('attachment; filename="http-corrections-v1.jsonl"');
    const lines = String(jsonl.body)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(lines.every((l) => l.action === "corrected")).toBe(true);

    const csv = await downloadSnapshot(s, readOnly, at, { format: "csv", split: "all" });
    expect(csv.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    const rows = parseCsv(String(csv.body), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.externalId)).toEqual(lines.map((l) => l.externalId));

    const pq = await downloadSnapshot(s, readOnly, at, { format: "parquet" }, "arrayBuffer");
    expect(pq.headers.get("Content-Type")).toBe("application/vnd.apache.parquet");
    const buf = pq.body as unknown as ArrayBuffer;
    expect(Number(pq.headers.get("Content-Length"))).toBe(buf.byteLength);
    const objs = (await parquetReadObjects({ file: buf })) as Record<string, unknown>[];
    expect(objs.map((o) => o.finalOutput)).toEqual(lines.map((l) => l.finalOutput));

    for (const split of ["train", "validation", "test"] as const) {
      const part = await downloadSnapshot(s, readOnly, at, { format: "jsonl", split });
      const text = String(part.body);
      expect(
        text
          .split("\n")
          .filter(Boolean)
          .every((l) => JSON.parse(l).split === split),
      ).toBe(true);
    }

    const card = await answer(client(s, readOnly).GET("/api/v1/datasets/{id}/snapshots/{n}/card", { params: { path: at } }));
    expect(card.body).toMatchObject({ rows: 6, counts: { action: { corrected: 6 } } });
    const md = await answer(
      client(s, readOnly).GET("/api/v1/datasets/{id}/snapshots/{n}/card", { params: { path: at, query: { format: "md" } }, parseAs: "text" }),
    );
    expect(md.headers.get("Content-Type")).toBe("text/markdown; charset=utf-8");
    expect(String(md.body)).toContain("# HTTP corrections — snapshot 1");

    const list = await answer(client(s, readOnly).GET("/api/v1/datasets"));
    expect(list.body.datasets.map((d: { id: string }) => d.id)).toContain(id);
    const got = await answer(client(s, readOnly).GET("/api/v1/datasets/{id}", { params: { path: { id } } }));
    expect(got.body.snapshots.map((x: { number: number }) => x.number)).toEqual([1]);
  });

  it("answers 401 and 403 for downloads and writes", async () => {
    const created = await createDataset(s, manager, { name: "Perms", filter: { type: "invoice" } });
    const id = created.body.id;
    const snap = await createSnapshot(s, manager, id);
    expect(snap.status).toBe(202);
    const location = snap.headers.get("Location")!;
    await waitForSnapshot(s, manager, location);
    const dl = (key?: string) => downloadSnapshot(s, key, snapshotAt(location), { format: "csv" });

    expect((await dl()).status).toBe(401);
    expect((await dl("lm_not-a-key")).status).toBe(401);
    const forbidden = await dl(ingestOnly);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("forbidden");
    expect((await dl(reviewerKey)).status).toBe(403);
    expect((await dl(readOnly)).status).toBe(200);

    expect((await createDataset(s, readOnly, { name: "x", filter: { type: "invoice" } })).status).toBe(403);
    expect((await createSnapshot(s, readOnly, id, {})).status).toBe(403);
    expect((await answer(client(s).GET("/api/v1/datasets"))).status).toBe(401);

    // Identities: only users:write may create or download them.
    expect((await createSnapshot(s, manager, id, { identities: true })).status).toBe(403);
    const named = await createSnapshot(s, admin, id, { identities: true });
    expect(named.status).toBe(202);
    await waitForSnapshot(s, admin, named.headers.get("Location")!);
    const namedAt = snapshotAt(named.headers.get("Location"));
    expect((await downloadSnapshot(s, readOnly, namedAt, { format: "jsonl" })).status).toBe(403);
    expect((await downloadSnapshot(s, admin, namedAt, { format: "jsonl" })).status).toBe(200);
  });

  it("rejects bad input with field paths, never a 500", async () => {
    const bad = await createDataset(s, manager, { name: "", filter: { type: "invoice", actions: ["maybe"], from: "yesterday" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["filter.actions.0", "filter.from", "name"]);
    const lm = client(s, manager);
    expect((await answer(lm.GET("/api/v1/datasets/preview", { params: { query: { type: "invoice", action: ["maybe" as never] } } }))).status).toBe(400);
    expect((await answer(lm.GET("/api/v1/datasets/{id}", { params: { path: { id: "dst_nope" } } }))).status).toBe(404);
    const created = await createDataset(s, manager, { name: "Bad downloads", filter: { type: "invoice" } });
    const id = created.body.id;
    expect((await answer(lm.GET("/api/v1/datasets/{id}/snapshots/{n}", { params: { path: { id, n: "7" } } }))).status).toBe(404);
    expect((await downloadSnapshot(s, manager, { id, n: "abc" }, { format: "csv" })).status).toBe(404);
    const snap = await createSnapshot(s, manager, id, { split: { train: 2, validation: 0, test: 0 } });
    expect(snap.status).toBe(400);
    const ok = await createSnapshot(s, manager, id, {});
    await waitForSnapshot(s, manager, ok.headers.get("Location")!);
    const fmt = await downloadSnapshot(s, manager, snapshotAt(ok.headers.get("Location")), { format: "xlsx" as never, split: "dev" as never });
    expect(fmt.status).toBe(400);
    expect(fmt.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["format", "split"]);
  });
});
