import crypto from "node:crypto";
import fs from "node:fs";
import { parse as parseCsv } from "csv-parse/sync";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { eq } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@db/client.server";
import { datasetSnapshots } from "@db/schema/index";
import { userPrincipal } from "~/domain/auth/users.server";
import { AppError } from "~/lib/errors";
import { cardToMarkdown, type DataCard } from "~/domain/datasets/card";
import { createDataset } from "~/domain/datasets/datasets.server";
import { resumeInterruptedBuilds, waitForBuild } from "~/domain/datasets/snapshot-builder.server";
import { createSnapshot, getSnapshot, snapshotCard, snapshotDownload } from "~/domain/datasets/snapshots.server";
import { invoiceType, makeType, makeUser, testDb } from "../support/db";
import { CORRECTED, reviewed, type Person } from "../support/labelled";

type Principal = Awaited<ReturnType<typeof userPrincipal>>;

async function snapshot(db: Db, datasetId: string, who: Principal, body: unknown = {}) {
  const s = await createSnapshot(db, datasetId, body, who);
  expect(s.status).toBe("building");
  await waitForBuild(s.id);
  return getSnapshot(db, datasetId, s.number);
}

const read = async (db: Db, id: string, n: number, format: string, split = "all", who?: Principal) => snapshotDownload(db, id, n, { format, split }, who!);

describe("dataset snapshots", () => {
  let db: Db;
  let manager: Principal;
  let alice: Person;
  let bob: Person;
  beforeEach(async () => {
    db = await testDb();
    const m = await makeUser(db, "manager");
    manager = userPrincipal(m);
    alice = await makeUser(db, "reviewer");
    bob = await makeUser(db, "reviewer");
    await makeType(db, invoiceType(m.email, { routing: { minConfidence: 0.9 } }));
    for (let i = 0; i < 30; i++) {
      const body =
        i % 3 === 0
          ? { action: "correct", output: { ...CORRECTED, total: 100 + i }, reasonCodes: ["WRONG_TOTAL"] }
          : i % 3 === 1
            ? { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: `odd, "quoted"\nnote ${i}` }
            : { action: "approve" };
      await reviewed(db, i % 2 ? alice : bob, `inv-${i}`, body);
    }
  });

  it("materializes every format and split with a content hash, and the same data gives the same hash", async () => {
    const ds = await createDataset(db, { name: "Invoice corrections", filter: { type: "invoice" } }, manager.actor);
    const s1 = await snapshot(db, ds.id, manager);
    expect(s1).toMatchObject({ status: "ready", number: 1, rowCount: 30, progress: { processed: 30, total: 30 } });
    expect(s1.files).toHaveLength(12);
    const jsonl = await read(db, ds.id, 1, "jsonl", "all", manager);
    const bytes = fs.readFileSync(jsonl.file);
    expect(crypto.createHash("sha256").update(bytes).digest("hex")).toBe(s1.contentHash);
    expect(jsonl).toMatchObject({ contentType: "application/x-ndjson; charset=utf-8", filename: "invoice-corrections-v1.jsonl" });

    const s2 = await snapshot(db, ds.id, manager);
    expect(s2.number).toBe(2);
    expect(s2.contentHash).toBe(s1.contentHash);

    const other = await snapshot(db, ds.id, manager, { split: { train: 0.5, validation: 0.25, test: 0.25 } });
    expect(other.contentHash).not.toBe(s1.contentHash);
  });

  it("never changes an existing snapshot when reviews arrive later", async () => {
    const ds = await createDataset(db, { name: "All invoices", filter: { type: "invoice" } }, manager.actor);
    const s1 = await snapshot(db, ds.id, manager);
    const before = fs.readFileSync((await read(db, ds.id, 1, "parquet", "all", manager)).file);
    await reviewed(db, alice, "inv-late", { action: "approve" });
    const s2 = await snapshot(db, ds.id, manager);
    expect(s2.rowCount).toBe(31);
    expect(s2.contentHash).not.toBe(s1.contentHash);
    const again = await getSnapshot(db, ds.id, 1);
    expect(again).toMatchObject({ rowCount: 30, contentHash: s1.contentHash });
    expect(fs.readFileSync((await read(db, ds.id, 1, "parquet", "all", manager)).file).equals(before)).toBe(true);
  });

  it("round-trips JSONL, CSV and Parquet to the same rows through independent readers", async () => {
    const ds = await createDataset(db, { name: "Round trip", filter: { type: "invoice" } }, manager.actor);
    const s = await snapshot(db, ds.id, manager);
    const lines = fs
      .readFileSync((await read(db, ds.id, s.number, "jsonl", "all", manager)).file, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(30);

    const csvRows = parseCsv(fs.readFileSync((await read(db, ds.id, s.number, "csv", "all", manager)).file), { columns: true }) as Record<string, string>[];
    expect(csvRows).toHaveLength(30);
    csvRows.forEach((row, i) => {
      const j = lines[i];
      expect(row.externalId).toBe(j.externalId);
      expect(JSON.parse(row.input)).toEqual(j.input);
      expect(JSON.parse(row.modelOutput)).toEqual(j.modelOutput);
      expect(row.finalOutput === "" ? null : JSON.parse(row.finalOutput)).toEqual(j.finalOutput);
      expect(JSON.parse(row.changedFields)).toEqual(j.changedFields);
      expect(row.note === "" ? null : row.note).toEqual(j.note);
      expect(Number(row.confidence)).toBe(j.confidence);
      expect(row.reviewedAt).toBe(j.reviewedAt);
      expect(row.agreement).toBe("");
    });

    const buf = fs.readFileSync((await read(db, ds.id, s.number, "parquet", "all", manager)).file);
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const meta = parquetMetadata(file);
    const types = Object.fromEntries(meta.schema.slice(1).map((e) => [e.name, `${e.type}/${e.converted_type ?? ""}/${e.repetition_type}`]));
    expect(types).toMatchObject({
      externalId: "BYTE_ARRAY/UTF8/REQUIRED",
      input: "BYTE_ARRAY/JSON/REQUIRED",
      finalOutput: "BYTE_ARRAY/JSON/OPTIONAL",
      confidence: "DOUBLE//REQUIRED",
      policyVersion: "INT32//REQUIRED",
      agreement: "BOOLEAN//OPTIONAL",
      reviewedAt: "INT64/TIMESTAMP_MILLIS/REQUIRED",
    });
    const rows = (await parquetReadObjects({ file })) as (Record<string, unknown> & { occurredAt: Date; receivedAt: Date; reviewedAt: Date })[];
    expect(rows).toHaveLength(30);
    rows.forEach((row, i) => {
      const j = lines[i];
      expect({ ...row, occurredAt: row.occurredAt.toISOString(), receivedAt: row.receivedAt.toISOString(), reviewedAt: row.reviewedAt.toISOString() }).toEqual(
        j,
      );
    });
  });

  it("splits deterministically and writes one file per split", async () => {
    const ds = await createDataset(db, { name: "Splits", filter: { type: "invoice" } }, manager.actor);
    const s = await snapshot(db, ds.id, manager, { split: { train: 0.6, validation: 0.2, test: 0.2 } });
    const all = fs
      .readFileSync((await read(db, ds.id, s.number, "jsonl", "all", manager)).file, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    let total = 0;
    for (const split of ["train", "validation", "test"]) {
      const f = await read(db, ds.id, s.number, "jsonl", split, manager);
      const rows = fs
        .readFileSync(f.file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(rows.every((r) => r.split === split)).toBe(true);
      expect(rows.map((r) => r.externalId)).toEqual(all.filter((r) => r.split === split).map((r) => r.externalId));
      expect(f.filename).toBe(`splits-v1-${split}.jsonl`);
      total += rows.length;
      const csv = parseCsv(fs.readFileSync((await read(db, ds.id, s.number, "csv", split, manager)).file), { columns: true });
      expect(csv).toHaveLength(rows.length);
    }
    expect(total).toBe(30);
  });

  it("writes a data card with counts per split, action, label and field", async () => {
    const ds = await createDataset(db, { name: "Card", filter: { type: "invoice", actions: ["corrected", "rejected"] } }, manager.actor);
    const s = await snapshot(db, ds.id, manager);
    expect(s.rowCount).toBe(20);
    const { card } = (await snapshotCard(db, ds.id, s.number, "json", manager)) as { card: DataCard };
    expect(card.rows).toBe(20);
    expect(card.counts.action).toEqual({ approved: 0, corrected: 10, rejected: 10 });
    expect(Object.values(card.counts.split).reduce((a, b) => a + b, 0)).toBe(20);
    expect(card.counts.reasonCode).toEqual({ NOT_AN_INVOICE: 10, WRONG_TOTAL: 10 });
    expect(card.counts.label.currency).toEqual({ EUR: 10 });
    expect(card.fieldCorrections).toMatchObject({ total: 10, "lines.*.amount": 20, "lines.*.sku": 10 });
    expect(card.snapshot.contentHash).toBe(s.contentHash);
    expect(card.reviewedAt.from).not.toBeNull();
    const md = cardToMarkdown(card);
    expect(md).toContain("# Card — snapshot 1");
    expect(md).toContain("| corrected | 10 | 50.0% |");
    expect((await snapshotCard(db, ds.id, s.number, "md", manager)).body).toBe(md);
  });

  it("exports identities only for users:write, and pseudonyms otherwise", async () => {
    const ds = await createDataset(db, { name: "Who", filter: { type: "invoice" } }, manager.actor);
    await expect(createSnapshot(db, ds.id, { identities: true }, manager)).rejects.toThrow(/users:write/);
    const admin = userPrincipal(await makeUser(db, "admin"));
    const s = await snapshot(db, ds.id, admin, { identities: true });
    const text = fs.readFileSync((await read(db, ds.id, s.number, "jsonl", "all", admin)).file, "utf8");
    expect(text).toContain(alice.email);
    await expect(read(db, ds.id, s.number, "jsonl", "all", manager)).rejects.toThrow(/users:write/);
    const plain = await snapshot(db, ds.id, manager);
    expect(fs.readFileSync((await read(db, ds.id, plain.number, "jsonl", "all", manager)).file, "utf8")).not.toContain(alice.email);
  });

  it("resumes a build whose process died, with the same content", async () => {
    const ds = await createDataset(db, { name: "Crash", filter: { type: "invoice" } }, manager.actor);
    const done = await snapshot(db, ds.id, manager);
    const s = await createSnapshot(db, ds.id, {}, manager, { start: false });
    // As a crashed server leaves it: building, owned by a process that no longer exists.
    await db
      .update(datasetSnapshots)
      .set({ buildOwner: "gone-host:999999:x", heartbeatAt: Date.now() - 3_600_000, processedRows: 12 })
      .where(eq(datasetSnapshots.id, s.id));
    expect((await getSnapshot(db, ds.id, s.number)).status).toBe("building");
    expect(await resumeInterruptedBuilds(db, Date.now() + 10_000)).toBe(1);
    await waitForBuild(s.id);
    expect(await getSnapshot(db, ds.id, s.number)).toMatchObject({ status: "ready", rowCount: 30, contentHash: done.contentHash });
  });

  it("validates datasets and answers while building", async () => {
    await expect(createDataset(db, { name: "", filter: { type: "invoice" } }, "x")).rejects.toThrow(/Invalid dataset/);
    try {
      await createDataset(db, { name: "Bad", filter: { type: "nope", actions: ["maybe"] } }, "x");
      expect.unreachable();
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      expect(e.issues.map((i) => i.path)).toContain("filter.actions.0");
    }
    try {
      await createDataset(db, { name: "Bad", filter: { type: "nope" } }, "x");
      expect.unreachable();
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      expect(e.issues).toEqual([{ path: "filter.type", message: 'no decision type "nope"' }]);
    }
    await createDataset(db, { name: "Twice", filter: { type: "invoice" } }, "x");
    await expect(createDataset(db, { name: "Twice", filter: { type: "invoice" } }, "x")).rejects.toThrow(/already exists/);
    const ds = await createDataset(db, { name: "Busy", filter: { type: "invoice" } }, manager.actor);
    try {
      await createSnapshot(db, ds.id, { split: { train: 0.5, validation: 0.5, test: 0.5 } }, manager);
      expect.unreachable();
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      expect(e.issues.map((i) => i.path)).toEqual(["split.train"]);
    }
    const s = await createSnapshot(db, ds.id, {}, manager, { start: false });
    await expect(read(db, ds.id, s.number, "csv", "all", manager)).rejects.toThrow(/still building/);
    await expect(read(db, ds.id, s.number, "xlsx", "all", manager)).rejects.toThrow(/Invalid download/);
    await expect(read(db, ds.id, 99, "csv", "all", manager)).rejects.toThrow(/no snapshot 99/);
  });
});
