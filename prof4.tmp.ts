import { openDatabase } from "@db/client.server";
import { exportToFile } from "~/domain/datasets/export.server";
import { exampleFilterSchema } from "~/domain/datasets/filter";
const db = openDatabase(process.argv[2]);
const f = exampleFilterSchema.parse({ type: "invoice" });
const c0 = process.cpuUsage();
exportToFile(db, f, { format: process.argv[3] as any, out: "/tmp/dsx/p.out" });
const c = process.cpuUsage(c0); console.log(process.argv[3], "cpu", ((c.user + c.system) / 1e6).toFixed(2));
