/**
 * Datasets and their immutable snapshots. Labelled examples themselves are not
 * stored: they are derived from reviews (see app/domain/datasets/examples.server.ts).
 * A snapshot pins what it contains by a review watermark and materializes its
 * files on disk, so later reviews never change it.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const datasets = sqliteTable(
  "datasets",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    description: text("description"),
    typeKey: text("type_key").notNull(),
    /** The example filter (see exampleFilterSchema), without the type. */
    filter: text("filter", { mode: "json" }).notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("datasets_name_idx").on(t.name), index("datasets_type_idx").on(t.typeKey)],
);

export const datasetSnapshots = sqliteTable(
  "dataset_snapshots",
  {
    id: text("id").primaryKey(),
    datasetId: text("dataset_id")
      .notNull()
      .references(() => datasets.id),
    /** 1, 2, 3… per dataset. */
    number: integer("number").notNull(),
    status: text("status", { enum: ["building", "ready", "failed"] }).notNull(),
    /** The filter as it was when the snapshot was taken (the dataset's may change later). */
    filter: text("filter", { mode: "json" }).notNull(),
    /** {train, validation, test} fractions, summing to 1. */
    split: text("split", { mode: "json" }).$type<{ train: number; validation: number; test: number }>().notNull(),
    /** Real reviewer emails instead of pseudonyms (needs users:write to create and to download). */
    identities: integer("identities", { mode: "boolean" }).notNull().default(false),
    /** Only reviews with seq <= watermark count: the snapshot's content is fixed at creation. */
    watermarkSeq: integer("watermark_seq").notNull(),
    /** Creation time: follow-up tasks (second review, escalation) created later are ignored. */
    asOf: integer("as_of").notNull(),
    totalRows: integer("total_rows").notNull().default(0),
    processedRows: integer("processed_rows").notNull().default(0),
    rowCount: integer("row_count"),
    contentHash: text("content_hash"),
    /** Manifest of the materialized files: {"jsonl/all": {file, bytes, rows, sha256}, …}. */
    files: text("files", { mode: "json" }).$type<Record<string, { file: string; bytes: number; rows: number; sha256: string }>>(),
    /** The data card (JSON form; Markdown is rendered from it). */
    card: text("card", { mode: "json" }),
    error: text("error"),
    /** Process building it and its last sign of life: a dead builder's snapshot is resumed. */
    buildOwner: text("build_owner"),
    heartbeatAt: integer("heartbeat_at"),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    finishedAt: integer("finished_at"),
  },
  (t) => [uniqueIndex("dataset_snapshots_number_idx").on(t.datasetId, t.number), index("dataset_snapshots_status_idx").on(t.status)],
);
