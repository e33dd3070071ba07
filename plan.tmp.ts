import { openDatabase, runMigrations } from "@db/client.server";
import { examplesSql } from "~/domain/datasets/examples.server";
import { exampleFilterSchema } from "~/domain/datasets/filter";
const db = openDatabase(":memory:"); runMigrations(db);
const sql = examplesSql(exampleFilterSchema.parse({ type: "invoice" }));
console.log(db.$client.prepare("EXPLAIN QUERY PLAN " + sql).all({ type: "invoice", watermark: 1, asOf: 1, after: 0, limit: 10 }).map((r: any) => r.id + " " + r.parent + " " + r.detail).join("\n"));
