import { openDatabase } from "@db/client.server";
import { iterateExamples, exampleToJsonLine } from "~/domain/datasets/examples.server";
import { exampleFilterSchema } from "~/domain/datasets/filter";
const db = openDatabase(process.argv[2]);
const f = exampleFilterSchema.parse({ type: "invoice" });
let len = 0;
for (const r of iterateExamples(db, f)) len += exampleToJsonLine(r).length;
console.log(len);
