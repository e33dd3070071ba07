/**
 * What the decision detail page pays to read a decision's audit trail and
 * outbox events, with the entity indexes (audit_entity_idx, outbox_entity_idx) and without them,
 * on the same database in the same run. Prints per-lookup latency and the ratio.
 *
 *   npx tsx scripts/bench/audit-entity-lookup.ts [entries=200000]
 */
import { performance } from "node:perf_hooks";
import { openDatabase, runMigrations } from "@db/client.server";
import { sqliteWriter } from "./common";
import { decisionAuditTrail } from "~/domain/audit/audit-read.server";
import { outboxForEntity } from "~/domain/webhooks/outbox-read.server";

const N = Number(process.argv[2] ?? 200_000);
const LOOKUPS = 300;

const db = openDatabase(":memory:");
await runMigrations(db);
const sqlite = await sqliteWriter(db);

// Realistic shape: each decision has ~3 entries (ingested, claimed, reviewed) and one event.
const insertAudit = sqlite.prepare("INSERT INTO audit_log (at, actor, action, entity_type, entity_id, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
const insertOutbox = sqlite.prepare("INSERT INTO outbox (event_type, type_key, entity_id, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)");
const decisions = Math.floor(N / 3);
sqlite.transaction(() => {
  for (let d = 0; d < decisions; d++) {
    const id = `dec_${d.toString().padStart(10, "0")}`;
    for (const action of ["decision.ingested", "task.claimed", "review.approve"]) insertAudit.run(d, "bench", action, "decision", id, "{}", "x", "y");
    insertOutbox.run("decision.finalized", "invoice", id, "{}", d, d);
  }
})();

async function measure(label: string): Promise<number> {
  const start = performance.now();
  let rows = 0;
  for (let i = 0; i < LOOKUPS; i++) {
    const id = `dec_${Math.floor((i * 7919) % decisions)
      .toString()
      .padStart(10, "0")}`;
    rows += (await decisionAuditTrail(db, id, [])).length + (await outboxForEntity(db, id)).length;
  }
  const perLookup = (performance.now() - start) / LOOKUPS;
  console.log(`${label.padEnd(22)} ${perLookup.toFixed(3)} ms per decision (${rows / LOOKUPS} rows each)`);
  return perLookup;
}

console.log(`audit entries: ${decisions * 3}, outbox events: ${decisions}, lookups: ${LOOKUPS}`);
const indexed = await measure("with entity indexes");
sqlite.exec("DROP INDEX audit_entity_idx; DROP INDEX outbox_entity_idx;");
const scanned = await measure("without (full scan)");
console.log(`ratio: indexed lookups are ${(scanned / indexed).toFixed(0)}x faster`);
