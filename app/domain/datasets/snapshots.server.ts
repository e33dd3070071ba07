/**
 * Datasets (a named filter over labelled examples) and their snapshots:
 * immutable, numbered per dataset, built in the background.
 *
 * A snapshot is pinned at creation to a review watermark (the newest reviews.seq)
 * and a time, so its content is a pure function of (filter, watermark, split
 * fractions, identities) and later reviews never change it. The build writes every
 * format and split under <data dir>/snapshots/<dataset id>/<number>/ (the folder of
 * DATABASE_PATH, or SNAPSHOTS_DIR), in chunks that yield to the event loop, with
 * progress counters and a heartbeat in the table. The content hash is the SHA-256
 * of the JSONL file, so the same data gives the same hash. A build whose process
 * died (its pid is gone, or its heartbeat is older than STALE_MS) is started again
 * from scratch by the next process that looks; determinism makes that a resume.
 */
import { forUpdate } from "@db/sql";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, desc, eq, max } from "drizzle-orm";
import { z } from "zod";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { databaseFileOf, transaction, type Db } from "@db/client.server";
import { datasets, datasetSnapshots } from "@db/schema/index";
import { newId, randomToken } from "~/lib/crypto.server";
import { conflict, forbidden, invalid, notFound, zodIssues, AppError } from "~/lib/errors";
import { iso } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { can, type Principal } from "../auth/permissions";
import { getDecisionType } from "../decision-types/decision-types.server";
import { CardBuilder, cardToMarkdown, labelFields, type DataCard } from "./card";
import { countExamples, currentWindow, exampleToJsonLine, iterateExamples } from "./examples.server";
import {
  DEFAULT_SPLIT,
  exampleFilterSchema,
  FORMATS,
  SPLITS,
  splitFractionsSchema,
  type ExampleFilter,
  type ExportFormat,
  type Split,
  type SplitFractions,
} from "./filter";
import { CONTENT_TYPES, openSink, TextSink, type ExampleSink, type FileInfo } from "./formats.server";

export type DatasetRow = typeof datasets.$inferSelect;
export type SnapshotRow = typeof datasetSnapshots.$inferSelect;
export type Part = Split | "all";
export const PARTS: Part[] = ["all", ...SPLITS];

/** Who builds: host, pid and a per-process token (a reused pid is still a new process). */
const OWNER = `${os.hostname()}:${process.pid}:${randomToken(6)}`;
const STALE_MS = Number(process.env.SNAPSHOT_STALE_MS || 60_000);
/** Rows written between progress updates (and yields to the event loop). */
const CHUNK = 5_000;
/** Reviews counted per slice while totalling. */
const COUNT_SLICE = 200_000;

// ---------------------------------------------------------------- datasets

export const createDatasetSchema = z
  .object({
    name: z.string().trim().min(1, "name the dataset").max(200),
    description: z.string().trim().max(2000).optional(),
    filter: exampleFilterSchema,
  })
  .strict();

export function datasetToJson(d: DatasetRow) {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    type: d.typeKey,
    filter: d.filter as ExampleFilter,
    createdBy: d.createdBy,
    createdAt: iso(d.createdAt),
  };
}

export async function createDataset(db: Db, input: unknown, actor: string, now = Date.now()) {
  const parsed = createDatasetSchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid dataset", zodIssues(parsed.error));
  const { name, description, filter } = parsed.data;
  if (!await getDecisionType(db, filter.type)) throw invalid("Invalid dataset", [{ path: "filter.type", message: `no decision type "${filter.type}"` }]);
  return transaction(db, async (tx) => {
    if ((await tx.select({ id: datasets.id }).from(datasets).where(eq(datasets.name, name)).limit(1))[0]) {
      throw conflict(`A dataset named "${name}" already exists`, [{ path: "name", message: "this name is taken" }]);
    }
    const row: DatasetRow = { id: newId("dst", now), name, description: description || null, typeKey: filter.type, filter, createdBy: actor, createdAt: now };
    await tx.insert(datasets).values(row);
    await appendAudit(tx, { actor, action: "dataset.created", entityType: "dataset", entityId: row.id, data: { name, filter }, at: now });
    return datasetToJson(row);
  });
}

export async function listDatasets(db: Db) {
  const rows = await db.select().from(datasets).orderBy(desc(datasets.createdAt));
  return Promise.all(rows.map(async (d) => {
    const latest = (await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.datasetId, d.id)).orderBy(desc(datasetSnapshots.number)).limit(1))[0];
    return { ...datasetToJson(d), snapshotCount: latest?.number ?? 0, latestSnapshot: latest ? snapshotToJson(latest) : null };
  }));
}

async function requireDatasetRow(db: Db, id: string): Promise<DatasetRow> {
  const d = (await db.select().from(datasets).where(eq(datasets.id, id)).limit(1))[0];
  if (!d) throw notFound(`Dataset ${id} not found`);
  return d;
}

export async function getDataset(db: Db, id: string) {
  const d = await requireDatasetRow(db, id);
  const snaps = await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.datasetId, id)).orderBy(desc(datasetSnapshots.number));
  return { ...datasetToJson(d), snapshots: snaps.map(snapshotToJson) };
}

// ---------------------------------------------------------------- snapshots

export const createSnapshotSchema = z
  .object({
    split: splitFractionsSchema.optional(),
    /** Real reviewer emails instead of pseudonyms: needs users:write. */
    identities: z.boolean().default(false),
  })
  .strict();

export function snapshotToJson(s: SnapshotRow) {
  const base = `/api/v1/datasets/${s.datasetId}/snapshots/${s.number}`;
  const files = s.files ?? {};
  return {
    id: s.id,
    datasetId: s.datasetId,
    number: s.number,
    status: s.status,
    progress: { processed: s.processedRows, total: s.totalRows },
    rowCount: s.rowCount,
    contentHash: s.contentHash,
    filter: s.filter as ExampleFilter,
    split: s.split,
    identities: s.identities,
    watermark: { reviewSeq: s.watermarkSeq, asOf: iso(s.asOf) },
    createdBy: s.createdBy,
    createdAt: iso(s.createdAt),
    finishedAt: iso(s.finishedAt),
    error: s.error,
    files:
      s.status === "ready"
        ? Object.entries(files).map(([key, f]) => {
            const [format, split] = key.split("/");
            return { format, split, rows: f.rows, bytes: f.bytes, sha256: f.sha256, url: `${base}/download?format=${format}&split=${split}` };
          })
        : [],
    card: s.status === "ready" ? { json: `${base}/card?format=json`, markdown: `${base}/card?format=md` } : null,
  };
}

export type SnapshotJson = ReturnType<typeof snapshotToJson>;

export async function createSnapshot(db: Db, datasetId: string, input: unknown, who: Principal, opts: { now?: number; start?: boolean } = {}) {
  const now = opts.now ?? Date.now();
  const parsed = createSnapshotSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalid("Invalid snapshot", zodIssues(parsed.error));
  const body = parsed.data;
  if (body.identities && !can(who, "users:write")) {
    throw forbidden("Exporting reviewer identities needs the users:write permission (admin); without it reviewers appear as pseudonyms");
  }
  const row = await transaction(db, async (tx) => {
      // The dataset's row is locked until commit: concurrent snapshots of one dataset number 1, 2, 3… without gaps or twins.
      const d = (await forUpdate(tx, tx.select().from(datasets).where(eq(datasets.id, datasetId)).limit(1)))[0];
      if (!d) throw notFound(`Dataset ${datasetId} not found`);
      const last = (await tx.select({ n: max(datasetSnapshots.number) }).from(datasetSnapshots).where(eq(datasetSnapshots.datasetId, datasetId)).limit(1))[0];
      const w = await currentWindow(db, now);
      const snap: typeof datasetSnapshots.$inferInsert = {
        id: newId("snp", now),
        datasetId,
        number: (last?.n ?? 0) + 1,
        status: "building",
        filter: d.filter,
        split: body.split ?? DEFAULT_SPLIT,
        identities: body.identities,
        watermarkSeq: w.watermarkSeq,
        asOf: w.asOf,
        buildOwner: OWNER,
        heartbeatAt: now,
        createdBy: who.actor,
        createdAt: now,
      };
      await tx.insert(datasetSnapshots).values(snap);
      await appendAudit(tx, {
              actor: who.actor,
              action: "dataset.snapshot_created",
              entityType: "dataset",
              entityId: datasetId,
              data: { snapshot: snap.number, watermarkSeq: snap.watermarkSeq, split: snap.split, identities: snap.identities },
              at: now,
            });
      return (await tx.select().from(datasetSnapshots).where(eq(datasetSnapshots.id, snap.id)).limit(1))[0]!;
    });
  if (opts.start !== false) await startBuild(db, row.id);
  return snapshotToJson(row);
}

async function requireSnapshotRow(db: Db, datasetId: string, number: number): Promise<SnapshotRow> {
  const s = Number.isInteger(number)
    ? (await db.select().from(datasetSnapshots).where(and(eq(datasetSnapshots.datasetId, datasetId), eq(datasetSnapshots.number, number))).limit(1))[0]
    : undefined;
  if (!s) {
    await requireDatasetRow(db, datasetId);
    throw notFound(`Dataset ${datasetId} has no snapshot ${number}`);
  }
  return s;
}

export async function getSnapshot(db: Db, datasetId: string, number: number): Promise<SnapshotJson> {
  return snapshotToJson(await requireSnapshotRow(db, datasetId, number));
}

// ---------------------------------------------------------------- files and downloads

export function snapshotsRoot(db: Db): string {
  if (process.env.SNAPSHOTS_DIR) return path.resolve(process.env.SNAPSHOTS_DIR);
  const file = databaseFileOf(db);
  if (file && file !== ":memory:") return path.join(path.dirname(path.resolve(file)), "snapshots");
  return path.join(os.tmpdir(), `lastmile-snapshots-${process.pid}`);
}

function snapshotDir(db: Db, datasetId: string, number: number): string {
  return path.join(snapshotsRoot(db), datasetId, String(number));
}

export const EXTENSIONS: Record<ExportFormat, string> = { jsonl: "jsonl", csv: "csv", parquet: "parquet" };
const fileName = (format: ExportFormat, part: Part) => `examples${part === "all" ? "" : `.${part}`}.${EXTENSIONS[format]}`;

export const downloadQuerySchema = z
  .object({
    format: z.enum(FORMATS, { message: "format must be jsonl, csv or parquet" }),
    split: z.enum(["all", ...SPLITS] as [Part, ...Part[]], { message: "split must be train, validation, test or all" }).default("all"),
  })
  .strict();

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60) || "dataset";
}

function requireReadable(s: SnapshotRow, who: Principal): void {
  if (s.identities && !can(who, "users:write")) throw forbidden("This snapshot contains reviewer identities; downloading it needs users:write");
  if (s.status === "building") throw conflict(`Snapshot ${s.number} is still building (${s.processedRows}/${s.totalRows} rows)`);
  if (s.status === "failed") throw conflict(`Snapshot ${s.number} failed to build: ${s.error ?? "unknown error"}`);
}

/** The file to stream for a download; the route opens it. */
export async function snapshotDownload(db: Db, datasetId: string, number: number, query: unknown, who: Principal) {
  const parsed = downloadQuerySchema.safeParse(query);
  if (!parsed.success) throw invalid("Invalid download", zodIssues(parsed.error));
  const { format, split } = parsed.data;
  const d = await requireDatasetRow(db, datasetId);
  const s = await requireSnapshotRow(db, datasetId, number);
  requireReadable(s, who);
  const info = s.files?.[`${format}/${split}`];
  const file = path.join(snapshotDir(db, datasetId, s.number), fileName(format, split));
  if (!info || !fs.existsSync(file)) throw new AppError("not_found", `The ${format} file of snapshot ${s.number} is missing on disk`);
  return {
    file,
    bytes: info.bytes,
    sha256: info.sha256,
    contentType: CONTENT_TYPES[format],
    filename: `${slug(d.name)}-v${s.number}${split === "all" ? "" : `-${split}`}.${EXTENSIONS[format]}`,
  };
}

export async function snapshotCard(db: Db, datasetId: string, number: number, format: "json" | "md", who: Principal): Promise<{ body: string; contentType: string; filename: string; card: DataCard }> {
  const d = await requireDatasetRow(db, datasetId);
  const s = await requireSnapshotRow(db, datasetId, number);
  requireReadable(s, who);
  const card = s.card as DataCard;
  const filename = `${slug(d.name)}-v${s.number}-card.${format}`;
  return format === "md"
    ? { body: cardToMarkdown(card), contentType: "text/markdown; charset=utf-8", filename, card }
    : { body: JSON.stringify(card, null, 2), contentType: "application/json; charset=utf-8", filename, card };
}

// ---------------------------------------------------------------- building

const running = new Map<string, Promise<void>>();

export function startBuild(db: Db, snapshotId: string): Promise<void> {
  let p = running.get(snapshotId);
  if (!p) {
    p = buildSnapshot(db, snapshotId).finally(() => running.delete(snapshotId));
    running.set(snapshotId, p);
  }
  return p;
}

/** Resolves when the snapshot's build (in this process) is over. */
export function waitForBuild(snapshotId: string): Promise<void> {
  return running.get(snapshotId) ?? Promise.resolve();
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  if (owner === OWNER) return true; // ours, yet not running (callers skip running builds): it never finished
  const [host, pid] = owner.split(":");
  if (host !== os.hostname()) return false;
  if (Number(pid) === process.pid) return true; // an earlier process that had our pid
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

let lastSweep = 0;

/**
 * Restarts builds left behind by a process that died (called by every datasets
 * page and API route, at most every 2 s). Without this a crash mid-build would
 * leave a snapshot "building" forever.
 */
export async function resumeInterruptedBuilds(db: Db, now = Date.now()): Promise<number> {
  if (now - lastSweep < 2_000) return 0;
  lastSweep = now;
  let resumed = 0;
  for (const s of await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.status, "building"))) {
    if (running.has(s.id)) continue;
    const stale = (s.heartbeatAt ?? 0) < now - STALE_MS;
    if (!stale && !ownerIsDead(s.buildOwner)) continue;
    const taken = await transaction(db, async (tx) => {
          const res = await tx
                  .update(datasetSnapshots)
                  .set({ buildOwner: OWNER, heartbeatAt: now, processedRows: 0 })
                  .where(and(eq(datasetSnapshots.id, s.id), eq(datasetSnapshots.status, "building"), s.buildOwner ? eq(datasetSnapshots.buildOwner, s.buildOwner) : undefined))
                  .returning({ id: datasetSnapshots.id });
          if (res.length !== 1) return false;
          await appendAudit(tx, { actor: "system", action: "dataset.snapshot_resumed", entityType: "dataset", entityId: s.datasetId, data: { snapshot: s.number, previousOwner: s.buildOwner }, at: now });
          return true;
        });
    if (taken) {
      void startBuild(db, s.id);
      resumed++;
    }
  }
  return resumed;
}

async function progress(db: Db, id: string, set: { processedRows?: number; totalRows?: number }): Promise<void> {
  await db.update(datasetSnapshots)
        .set({ ...set, heartbeatAt: Date.now() })
        .where(and(eq(datasetSnapshots.id, id), eq(datasetSnapshots.buildOwner, OWNER)));
}

async function buildSnapshot(db: Db, id: string): Promise<void> {
  try {
    await writeSnapshot(db, id);
  } catch (e) {
    // A build runs detached from any request: never let it become an unhandled rejection.
    console.error(`Snapshot ${id} could not be finalized:`, e);
  }
}

async function writeSnapshot(db: Db, id: string): Promise<void> {
  const s = (await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.id, id)).limit(1))[0];
  if (!s || s.status !== "building") return;
  const d = await requireDatasetRow(db, s.datasetId);
  const filter = exampleFilterSchema.parse(s.filter);
  const fractions = s.split as SplitFractions;
  const dir = snapshotDir(db, d.id, s.number);
  const tmp = `${dir}.building-${process.pid}`;
  const sinks: { key: string; part: Part; format: ExportFormat; sink: ExampleSink }[] = [];
  try {
    await tick(); // never build inside the request that asked for it
    // Leftovers of an interrupted attempt (any process) go first.
    const parent = path.dirname(dir);
    if (fs.existsSync(parent)) {
      for (const name of fs.readdirSync(parent)) if (name.startsWith(`${s.number}.building-`)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
    fs.mkdirSync(tmp, { recursive: true });
    const window = { watermarkSeq: s.watermarkSeq, asOf: s.asOf };

    let total = 0;
    for (let after = 0; after < s.watermarkSeq; after += COUNT_SLICE) {
      total += await countExamples(db, filter, { ...window, afterSeq: after, untilSeq: Math.min(after + COUNT_SLICE, s.watermarkSeq) });
      await progress(db, id, { processedRows: 0 });
      await tick();
    }
    await progress(db, id, { totalRows: total, processedRows: 0 });

    const meta = { "lastmile.dataset": d.name, "lastmile.snapshot": String(s.number), "lastmile.type": d.typeKey };
    for (const format of FORMATS) for (const part of PARTS) sinks.push({ key: `${format}/${part}`, part, format, sink: openSink(format, path.join(tmp, fileName(format, part)), meta) });
    // JSONL lines are encoded once and shared by the "all" file and the split file.
    const byPart = new Map<Part, ExampleSink[]>(PARTS.map((p) => [p, sinks.filter((x) => x.part === p && x.format !== "jsonl").map((x) => x.sink)]));
    const jsonlOf = new Map<Part, TextSink>(sinks.filter((x) => x.format === "jsonl").map((x) => [x.part, x.sink as TextSink]));
    const all = byPart.get("all")!;
    const jsonlAll = jsonlOf.get("all")!;
    const card = new CardBuilder(labelFields((await getDecisionType(db, d.typeKey))?.outputSchema));

    let n = 0;
    for await (const r of iterateExamples(db, filter, { ...window, split: fractions, identities: s.identities })) {
      const line = exampleToJsonLine(r) + "\n";
      jsonlAll.writeEncoded(line);
      jsonlOf.get(r.split)!.writeEncoded(line);
      for (const sink of all) sink.write(r);
      for (const sink of byPart.get(r.split)!) sink.write(r);
      card.add(r);
      if (++n % CHUNK === 0) {
        await progress(db, id, { processedRows: n });
        await tick();
      }
    }

    const files: Record<string, FileInfo & { file: string }> = {};
    for (const x of sinks) files[x.key] = { file: fileName(x.format, x.part), ...x.sink.close() };
    sinks.length = 0;
    const contentHash = files["jsonl/all"].sha256;
    const cardJson = card.build({
      dataset: { id: d.id, name: d.name, description: d.description },
      snapshot: { number: s.number, createdAt: iso(s.createdAt)!, createdBy: s.createdBy, watermarkSeq: s.watermarkSeq, asOf: iso(s.asOf)!, contentHash },
      type: d.typeKey,
      filter,
      splitFractions: fractions,
      identities: s.identities,
    });
    fs.writeFileSync(path.join(tmp, "card.json"), JSON.stringify(cardJson, null, 2));
    fs.writeFileSync(path.join(tmp, "card.md"), cardToMarkdown(cardJson));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);

    const now = Date.now();
    await transaction(db, async (tx) => {
            const res = await tx
                    .update(datasetSnapshots)
                    .set({ status: "ready", rowCount: n, processedRows: n, totalRows: n, files, card: cardJson, contentHash, finishedAt: now, heartbeatAt: now })
                    .where(and(eq(datasetSnapshots.id, id), eq(datasetSnapshots.status, "building"), eq(datasetSnapshots.buildOwner, OWNER)))
                    .returning({ id: datasetSnapshots.id });
            if (res.length !== 1) return; // another process took it over; its result is identical
            await appendAudit(tx, { actor: "system", action: "dataset.snapshot_ready", entityType: "dataset", entityId: d.id, data: { snapshot: s.number, rows: n, contentHash }, at: now });
          });
  } catch (e) {
    for (const x of sinks) x.sink.abort();
    fs.rmSync(tmp, { recursive: true, force: true });
    const message = e instanceof Error ? e.message : String(e);
    console.error(`Snapshot ${s.number} of dataset ${d.id} failed:`, e);
    const now = Date.now();
    await transaction(db, async (tx) => {
            await tx.update(datasetSnapshots).set({ status: "failed", error: message.slice(0, 1000), finishedAt: now }).where(eq(datasetSnapshots.id, id));
            await appendAudit(tx, { actor: "system", action: "dataset.snapshot_failed", entityType: "dataset", entityId: d.id, data: { snapshot: s.number, error: message.slice(0, 1000) }, at: now });
          });
  }
}

// ---------------------------------------------------------------- entry points for routes


/** Streams a snapshot file from disk: nothing is read into memory. */
export function downloadResponse(d: Awaited<ReturnType<typeof snapshotDownload>>): Response {
  const stream = createReadableStreamFromReadable(fs.createReadStream(d.file));
  return new Response(stream, {
    headers: {
      "Content-Type": d.contentType,
      "Content-Disposition": `attachment; filename="${d.filename}"`,
      "Content-Length": String(d.bytes),
      ETag: `"${d.sha256}"`,
      "X-Content-SHA256": d.sha256,
      "Cache-Control": "private, no-transform",
    },
  });
}
