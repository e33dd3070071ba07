/**
 * Where ingest time goes, in process (no HTTP): times each phase of a batch of
 * 1,000 on its own (body parse, envelope and output validation, hashing, the
 * write transaction) and the SQLite cost of each table's inserts, so changes to
 * the hot path can be judged by phase.
 *
 *   node --import tsx scripts/bench/ingest-phases.ts   (env: PHASE_BATCHES=10)
 */
import { performance } from "node:perf_hooks";
import { makeType, makeUser } from "../../tests/support/db";
import { bodyHashOf, decisionInputSchema, ingestDecisions, itemsOfBody, jsonPartsOf, parseEnvelopeFast } from "~/domain/ingest/ingest.server";
import { getDecisionType } from "~/domain/decision-types/decision-types.server";
import { jsonDepth } from "~/lib/json";
import { benchDecision, benchType, BENCH_TYPE, fmt, rng, sqliteBenchStore, table } from "./common";

const BATCHES = Number(process.env.PHASE_BATCHES ?? 10);
const { db, sqlite } = await sqliteBenchStore();
const owner = await makeUser(db, "admin");
await makeType(db, benchType(owner.email));
const rand = rng(7);
const bodies = Array.from({ length: BATCHES + 2 }, (_, b) =>
  JSON.stringify({
    decisions: Array.from({ length: 1000 }, (_, i) => benchDecision(b * 1000 + i, rand, "p")),
  }),
);

const times = new Map<string, number>();
const time = <T>(name: string, fn: () => T): T => {
  const t0 = performance.now();
  const r = fn();
  times.set(name, (times.get(name) ?? 0) + performance.now() - t0);
  return r;
};
const type = (await getDecisionType(db, BENCH_TYPE))!;
for (const [b, text] of bodies.entries()) {
  if (b < 2) times.clear(); // first two batches warm up
  time("jsonDepth (raw text)", () => jsonDepth(text));
  const body = time("JSON.parse", () => JSON.parse(text));
  const { items, batch } = time("itemsOfBody (batch envelope)", () => itemsOfBody(body));
  const parsed = time("decision envelope x1000 (fast path)", () => items.map((i) => parseEnvelopeFast(i)!));
  time("decision envelope x1000 (zod schema, for comparison)", () => items.map((i) => decisionInputSchema.parse(i)));
  time("zod output schema x1000", () => parsed.forEach((d) => type.validator.parse(d.output)));
  time("JSON texts + body hash x1000", () => parsed.forEach((d) => bodyHashOf(d, jsonPartsOf(d))));
  const t0 = performance.now();
  const results = await ingestDecisions(db, items, { batch, actor: "bench" });
  times.set("ingestDecisions (all of it)", (times.get("ingestDecisions (all of it)") ?? 0) + performance.now() - t0);
  time("response JSON.stringify", () => JSON.stringify({ decisions: results.map(({ created: _c, ...r }) => r) }));
}
const total = times.get("ingestDecisions (all of it)")!;
console.log(`per batch of 1,000 (mean of ${BATCHES}; the phases before ingestDecisions are timed separately, on the same items):`);
console.log(table([["phase", "ms", "vs ingestDecisions"], ...[...times].map(([k, v]) => [k, fmt(v / BATCHES, 2), `${fmt((v / total) * 100, 1)}%`])]));

// SQLite cost per table: replay the rows just written into empty copies of each table (same indexes, same triggers).
const rowsPer = (t: string) => (sqlite.prepare(`SELECT count(*) n FROM ${t}`).get() as { n: number }).n;
const sqlTimes: string[][] = [["table", "rows", "ms per 1,000 decisions"]];
const decisionsN = rowsPer("decisions");
for (const t of ["decisions", "tasks", "audit_log", "outbox", "rollups"]) {
  const cols = (
    sqlite.prepare(`SELECT name FROM pragma_table_info('${t}')`).all() as {
      name: string;
    }[]
  )
    .map((c) => `"${c.name}"`)
    .join(",");
  const rows = sqlite.prepare(`SELECT ${cols} FROM ${t}`).raw().all() as unknown[][];
  sqlite.exec("BEGIN IMMEDIATE");
  // audit_log refuses DELETE; dropping its trigger here is undone by the ROLLBACK below.
  if (t === "audit_log") sqlite.exec("DROP TRIGGER audit_log_no_delete");
  sqlite.exec(t === "decisions" ? "DELETE FROM tasks; DELETE FROM decisions" : `DELETE FROM ${t}`);
  const ins = sqlite.prepare(`INSERT INTO ${t} (${cols}) VALUES (${rows[0].map(() => "?").join(",")})`);
  const t0 = performance.now();
  for (const r of rows) ins.run(r);
  const ms = performance.now() - t0;
  sqlite.exec("ROLLBACK");
  sqlTimes.push([t, fmt(rows.length), fmt((ms / decisionsN) * 1000, 2)]);
}
console.log("\nSQLite insert cost per table (rows replayed one INSERT per row in one transaction, indexes and triggers included):");
console.log(table(sqlTimes));
