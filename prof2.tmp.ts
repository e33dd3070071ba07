import { openDatabase } from "@db/client.server";
import { examplesSql } from "~/domain/datasets/examples.server";
import { exampleFilterSchema } from "~/domain/datasets/filter";
const db = openDatabase(process.argv[2]);
const f = exampleFilterSchema.parse({ type: "invoice" });
const cpu = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1e6).toFixed(2);
function run(name: string, sql: string, raw: boolean, params: any = {}) {
  const stmt = db.$client.prepare(sql); if (raw) stmt.raw(true);
  const t = process.cpuUsage(); let after = 0, n = 0;
  for (;;) { const p = stmt.all({ ...params, after }) as any[]; n += p.length; if (p.length < 2000) break; const last = p[p.length - 1]; after = raw ? last[0] : last.seq; }
  console.log(name, n, "cpu s", cpu(process.cpuUsage(t)));
}
const P = { type: "invoice", watermark: 1e12, asOf: 1e15, limit: 2000 };
run("seq only", "SELECT r.seq FROM reviews r WHERE r.seq > @after ORDER BY r.seq LIMIT 2000", false);
run("simple obj", "SELECT r.seq, r.*, d.* FROM reviews r CROSS JOIN decisions d ON d.id = r.decision_id WHERE r.seq > @after ORDER BY r.seq LIMIT 2000", false);
run("simple raw", "SELECT r.seq, r.*, d.* FROM reviews r CROSS JOIN decisions d ON d.id = r.decision_id WHERE r.seq > @after ORDER BY r.seq LIMIT 2000", true);
run("full obj", examplesSql(f), false, P);
run("full raw", examplesSql(f).replace("SELECT", "SELECT r.seq,"), true, P);
