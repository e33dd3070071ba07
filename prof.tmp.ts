import { openDatabase } from "@db/client.server";
import { examplesSql, iterateExamples, exampleToJsonLine } from "~/domain/datasets/examples.server";
import { exampleFilterSchema } from "~/domain/datasets/filter";
const db = openDatabase(process.argv[2]);
const f = exampleFilterSchema.parse({ type: "invoice" });
const stmt = db.$client.prepare(examplesSql(f));
let t = process.cpuUsage(); let w = Date.now();
let after = 0, n = 0;
for (;;) { const p = stmt.all({ type: "invoice", watermark: 1e12, asOf: 1e15, after, limit: 2000 }) as any[]; n += p.length; if (p.length < 2000) break; after = p[p.length - 1].seq; }
const cpu = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1e6).toFixed(2);
console.log("sql only", n, "cpu s", cpu(process.cpuUsage(t)), "wall", (Date.now() - w) / 1000);
const simple = db.$client.prepare("SELECT r.*, d.* FROM reviews r CROSS JOIN decisions d ON d.id = r.decision_id WHERE r.seq > @after ORDER BY r.seq LIMIT 2000");
t = process.cpuUsage(); after = 0; n = 0;
for (;;) { const p = simple.all({ after }) as any[]; n += p.length; if (p.length < 2000) break; after = p[p.length - 1].seq; }
console.log("simple join", n, "cpu s", cpu(process.cpuUsage(t)));
t = process.cpuUsage(); n = 0;
for (const r of iterateExamples(db, f)) n++;
console.log("iterate", n, "cpu s", cpu(process.cpuUsage(t)));
t = process.cpuUsage(); n = 0; let len = 0;
for (const r of iterateExamples(db, f)) len += exampleToJsonLine(r).length;
console.log("iterate+jsonline", len, "cpu s", cpu(process.cpuUsage(t)));
