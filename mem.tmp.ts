import { openDatabase } from "@db/client.server";
import { exportToFile } from "~/domain/datasets/export.server";
import { exampleFilterSchema } from "~/domain/datasets/filter";
const db = openDatabase(process.argv[2]);
const f = exampleFilterSchema.parse({ type: "invoice" });
const mb = (n: number) => Math.round(n / 1e6);
exportToFile(db, f, { format: process.argv[3] as any, out: "/tmp/dsx/m.out", every: 25000, onProgress: (n) => { const m = process.memoryUsage(); console.log(n, "rss", mb(m.rss), "heapUsed", mb(m.heapUsed), "heapTotal", mb(m.heapTotal), "ext", mb(m.external), "ab", mb(m.arrayBuffers)); } });
console.log("maxRSS", Math.round(process.resourceUsage().maxRSS / 1024));
