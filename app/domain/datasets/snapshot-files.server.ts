/**
 * Where a snapshot's files live and how they are read back: every format and
 * split under <data dir>/snapshots/<dataset id>/<number>/ (the folder of
 * DATABASE_PATH, or SNAPSHOTS_DIR), and a download streamed from disk without
 * reading the file into memory. The route turns a download into its Response.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { z } from "zod";
import { databaseFileOf, type Db } from "@db/client.server";
import { AppError } from "~/lib/errors";
import { FORMATS, SPLITS, type ExportFormat, type Split } from "./filter";
import { CONTENT_TYPES } from "./formats.server";

export type Part = Split | "all";
export const PARTS: Part[] = ["all", ...SPLITS];
export const EXTENSIONS: Record<ExportFormat, string> = { jsonl: "jsonl", csv: "csv", parquet: "parquet" };

/**
 * Where snapshot files live: SNAPSHOTS_DIR; else beside the SQLite file; on Postgres ./data/snapshots
 * (set SNAPSHOTS_DIR to storage every instance can read); an in-memory test database gets a temp folder.
 */
export function snapshotsRoot(db: Db): string {
  if (process.env.SNAPSHOTS_DIR) return path.resolve(process.env.SNAPSHOTS_DIR);
  const file = databaseFileOf(db);
  if (file === null) return path.resolve("data/snapshots");
  if (file !== ":memory:" && file !== "") return path.join(path.dirname(path.resolve(file)), "snapshots");
  return path.join(os.tmpdir(), `lastmile-snapshots-${process.pid}`);
}

/** The folder of one snapshot's files. */
export function snapshotDir(db: Db, datasetId: string, number: number): string {
  return path.join(snapshotsRoot(db), datasetId, String(number));
}

/** The file name of one format and split inside a snapshot's folder. */
export const snapshotFileName = (format: ExportFormat, part: Part) => `examples${part === "all" ? "" : `.${part}`}.${EXTENSIONS[format]}`;

/** GET …/snapshots/:n/card: ?format=json (default) or ?format=md. */
export const cardQuerySchema = z.object({ format: z.enum(["json", "md"], { message: "format must be json or md" }).default("json") });

export const downloadQuerySchema = z
  .object({
    format: z.enum(FORMATS, { message: "format must be jsonl, csv or parquet" }),
    split: z.enum(["all", ...SPLITS] as [Part, ...Part[]], { message: "split must be train, validation, test or all" }).default("all"),
  })
  .strict();

/** A name for files a user saves: the dataset's name, made safe. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60) || "dataset"
  );
}

/** What a download needs: the file on disk, its size and hash (recorded at build time), its type and the name to save it under. */
export type SnapshotDownload = { file: string; bytes: number; sha256: string; contentType: string; filename: string };

/** One built file of a snapshot, or 404 when it is missing on disk. */
export function snapshotFile(
  db: Db,
  dataset: { id: string; name: string },
  snapshot: { number: number; files: Record<string, { bytes: number; sha256: string }> | null },
  format: ExportFormat,
  split: Part,
): SnapshotDownload {
  const info = snapshot.files?.[`${format}/${split}`];
  const file = path.join(snapshotDir(db, dataset.id, snapshot.number), snapshotFileName(format, split));
  if (!info || !fs.existsSync(file)) throw new AppError("not_found", `The ${format} file of snapshot ${snapshot.number} is missing on disk`);
  return {
    file,
    bytes: info.bytes,
    sha256: info.sha256,
    contentType: CONTENT_TYPES[format],
    filename: `${slug(dataset.name)}-v${snapshot.number}${split === "all" ? "" : `-${split}`}.${EXTENSIONS[format]}`,
  };
}

/** The download's bytes as a web stream, read from disk as the client takes them. */
export function openSnapshotFile(d: SnapshotDownload): ReadableStream<Uint8Array> {
  return createReadableStreamFromReadable(fs.createReadStream(d.file));
}
