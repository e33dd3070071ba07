/**
 * Datasets: a named filter over labelled examples, and the reads that show a
 * dataset with its snapshots. Snapshot records live in snapshots.server.ts.
 */
import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db } from "@db/client.server";
import { datasets, datasetSnapshots } from "@db/schema/index";
import { newId } from "~/lib/crypto.server";
import { conflict, invalid, notFound, zodIssues } from "~/lib/errors";
import { iso } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { getDecisionType } from "../decision-types/decision-types.server";
import { exampleFilterSchema, type ExampleFilter } from "./filter";
import { snapshotJsonSchema, snapshotToJson } from "./snapshots.server";

export type DatasetRow = typeof datasets.$inferSelect;

export const createDatasetSchema = z
  .object({
    name: z.string().trim().min(1, "name the dataset").max(200),
    description: z.string().trim().max(2000).optional(),
    filter: exampleFilterSchema,
  })
  .strict();

/** The public JSON shape of a dataset. */
export const datasetJsonSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    type: z.string(),
    filter: exampleFilterSchema,
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "Dataset" });

export type DatasetJson = z.output<typeof datasetJsonSchema>;

/** GET /api/v1/datasets: every dataset with its snapshot count and latest snapshot. */
export const datasetListSchema = z.object({
  datasets: z.array(datasetJsonSchema.extend({ snapshotCount: z.number().int(), latestSnapshot: snapshotJsonSchema.nullable() })),
});

/** GET /api/v1/datasets/:id: the dataset with all its snapshots, newest first. */
export const datasetWithSnapshotsSchema = datasetJsonSchema.extend({ snapshots: z.array(snapshotJsonSchema) });

export function datasetToJson(d: DatasetRow): DatasetJson {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    type: d.typeKey,
    filter: d.filter as ExampleFilter,
    createdBy: d.createdBy,
    createdAt: iso(d.createdAt)!,
  };
}

export async function createDataset(db: Db, input: unknown, actor: string, now = Date.now()) {
  const parsed = createDatasetSchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid dataset", zodIssues(parsed.error));
  const { name, description, filter } = parsed.data;
  if (!(await getDecisionType(db, filter.type))) throw invalid("Invalid dataset", [{ path: "filter.type", message: `no decision type "${filter.type}"` }]);
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

/** Every dataset, newest first, with its snapshot count and latest snapshot. */
export async function listDatasets(db: Db): Promise<z.output<typeof datasetListSchema>["datasets"]> {
  const rows = await db.select().from(datasets).orderBy(desc(datasets.createdAt));
  const out = [];
  for (const d of rows) {
    const latest = (await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.datasetId, d.id)).orderBy(desc(datasetSnapshots.number)).limit(1))[0];
    out.push({ ...datasetToJson(d), snapshotCount: latest?.number ?? 0, latestSnapshot: latest ? snapshotToJson(latest) : null });
  }
  return out;
}

/** One dataset with all its snapshots, newest first; 404 when there is no such dataset. */
export async function getDataset(db: Db, id: string): Promise<z.output<typeof datasetWithSnapshotsSchema>> {
  const d = (await db.select().from(datasets).where(eq(datasets.id, id)).limit(1))[0];
  if (!d) throw notFound(`Dataset ${id} not found`);
  const snaps = await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.datasetId, id)).orderBy(desc(datasetSnapshots.number));
  return { ...datasetToJson(d), snapshots: snaps.map(snapshotToJson) };
}
