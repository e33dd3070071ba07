/**
 * Snapshot records: immutable, numbered per dataset (1, 2, 3… without gaps),
 * and what a reader may take from a ready one (its files, its data card).
 *
 * A snapshot is pinned at creation to a review watermark (the newest reviews.seq)
 * and a time, so its content is a pure function of (filter, watermark, split
 * fractions, identities) and later reviews never change it. Creating one starts
 * its build in the background (snapshot-builder.server.ts); the files it writes
 * are laid out by snapshot-files.server.ts.
 */
import { forUpdate } from "@db/sql";
import { and, eq, max } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db } from "@db/client.server";
import { datasets, datasetSnapshots } from "@db/schema/index";
import { SNAPSHOT_STATUSES } from "@db/schema/tables";
import { newId } from "~/lib/crypto.server";
import { conflict, forbidden, invalid, notFound, zodIssues } from "~/lib/errors";
import { iso } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { can, type Principal } from "../auth/permissions";
import { cardToMarkdown, type DataCard } from "./card";
import type { DatasetRow } from "./datasets.server";
import { currentWindow } from "./examples.server";
import { DEFAULT_SPLIT, exampleFilterSchema, FORMATS, splitFractionsSchema, type ExampleFilter, type ExportFormat } from "./filter";
import { BUILD_OWNER, startBuild } from "./snapshot-builder.server";
import { downloadQuerySchema, PARTS, slug, snapshotFile, type Part, type SnapshotDownload } from "./snapshot-files.server";

export type SnapshotRow = typeof datasetSnapshots.$inferSelect;

export const createSnapshotSchema = z
  .object({
    split: splitFractionsSchema.optional(),
    /** Real reviewer emails instead of pseudonyms: needs users:write. */
    identities: z.boolean().default(false),
  })
  .strict();

/** The public JSON shape of a snapshot: its build progress, then its files and data card once ready. */
export const snapshotJsonSchema = z
  .object({
    id: z.string(),
    datasetId: z.string(),
    number: z.number().int(),
    status: z.enum(SNAPSHOT_STATUSES),
    progress: z.object({ processed: z.number().int(), total: z.number().int() }),
    rowCount: z.number().int().nullable(),
    contentHash: z.string().nullable(),
    filter: exampleFilterSchema,
    split: z.object({ train: z.number(), validation: z.number(), test: z.number() }),
    identities: z.boolean(),
    watermark: z.object({ reviewSeq: z.number().int(), asOf: z.iso.datetime() }),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    error: z.string().nullable(),
    files: z.array(
      z.object({
        format: z.enum(FORMATS),
        split: z.enum(PARTS as [Part, ...Part[]]),
        rows: z.number().int(),
        bytes: z.number().int(),
        sha256: z.string(),
        url: z.string(),
      }),
    ),
    card: z.object({ json: z.string(), markdown: z.string() }).nullable(),
  })
  .meta({ id: "Snapshot" });

export type SnapshotJson = z.output<typeof snapshotJsonSchema>;

export function snapshotToJson(s: SnapshotRow): SnapshotJson {
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
    watermark: { reviewSeq: s.watermarkSeq, asOf: iso(s.asOf)! },
    createdBy: s.createdBy,
    createdAt: iso(s.createdAt)!,
    finishedAt: iso(s.finishedAt),
    error: s.error,
    files:
      s.status === "ready"
        ? Object.entries(files).map(([key, f]) => {
            const [format, split] = key.split("/") as [ExportFormat, Part];
            return { format, split, rows: f.rows, bytes: f.bytes, sha256: f.sha256, url: `${base}/download?format=${format}&split=${split}` };
          })
        : [],
    card: s.status === "ready" ? { json: `${base}/card?format=json`, markdown: `${base}/card?format=md` } : null,
  };
}

/**
 * Records the dataset's next snapshot, pinned to the current review watermark,
 * and starts its build (unless `start: false`: the build is then left to
 * crash recovery). Answers at once, with status "building".
 */
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
    const last = (
      await tx
        .select({ n: max(datasetSnapshots.number) })
        .from(datasetSnapshots)
        .where(eq(datasetSnapshots.datasetId, datasetId))
        .limit(1)
    )[0];
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
      buildOwner: BUILD_OWNER,
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
  // The build runs in the background; the caller answers 202 at once and clients poll the snapshot.
  if (opts.start !== false) void startBuild(db, row.id);
  return snapshotToJson(row);
}

/** A snapshot with its dataset; 404 for a missing dataset or a missing snapshot, each with its own message. */
async function requireSnapshot(db: Db, datasetId: string, number: number): Promise<{ dataset: DatasetRow; snapshot: SnapshotRow }> {
  const found = (
    await db
      .select({ dataset: datasets, snapshot: datasetSnapshots })
      .from(datasets)
      // Snapshot numbers start at 1: a number that is not an integer matches nothing.
      .leftJoin(datasetSnapshots, and(eq(datasetSnapshots.datasetId, datasets.id), eq(datasetSnapshots.number, Number.isInteger(number) ? number : 0)))
      .where(eq(datasets.id, datasetId))
      .limit(1)
  )[0];
  if (!found) throw notFound(`Dataset ${datasetId} not found`);
  if (!found.snapshot) throw notFound(`Dataset ${datasetId} has no snapshot ${number}`);
  return { dataset: found.dataset, snapshot: found.snapshot };
}

export async function getSnapshot(db: Db, datasetId: string, number: number): Promise<SnapshotJson> {
  return snapshotToJson((await requireSnapshot(db, datasetId, number)).snapshot);
}

/** A snapshot's outputs are readable once it is ready, and with reviewer identities only by who may see them. */
function requireReadable(s: SnapshotRow, who: Principal): void {
  if (s.identities && !can(who, "users:write")) throw forbidden("This snapshot contains reviewer identities; downloading it needs users:write");
  if (s.status === "building") throw conflict(`Snapshot ${s.number} is still building (${s.processedRows}/${s.totalRows} rows)`);
  if (s.status === "failed") throw conflict(`Snapshot ${s.number} failed to build: ${s.error ?? "unknown error"}`);
}

/** The file to stream for a download (format and split from the query); the route opens it (openSnapshotFile) and answers. */
export async function snapshotDownload(db: Db, datasetId: string, number: number, query: unknown, who: Principal): Promise<SnapshotDownload> {
  const parsed = downloadQuerySchema.safeParse(query);
  if (!parsed.success) throw invalid("Invalid download", zodIssues(parsed.error));
  const { dataset, snapshot } = await requireSnapshot(db, datasetId, number);
  requireReadable(snapshot, who);
  return snapshotFile(db, dataset, snapshot, parsed.data.format, parsed.data.split);
}

/** The data card recorded when the snapshot was built, as JSON or Markdown. */
export async function snapshotCard(
  db: Db,
  datasetId: string,
  number: number,
  format: "json" | "md",
  who: Principal,
): Promise<{ body: string; contentType: string; filename: string; card: DataCard }> {
  const { dataset, snapshot } = await requireSnapshot(db, datasetId, number);
  requireReadable(snapshot, who);
  const card = snapshot.card as DataCard;
  const filename = `${slug(dataset.name)}-v${snapshot.number}-card.${format}`;
  return format === "md"
    ? { body: cardToMarkdown(card), contentType: "text/markdown; charset=utf-8", filename, card }
    : { body: JSON.stringify(card, null, 2), contentType: "application/json; charset=utf-8", filename, card };
}
