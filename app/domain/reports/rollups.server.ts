/**
 * Writes roll-up deltas. Callers hand in (before, after) facts for every
 * decision their transaction changes; deltas are summed per key and applied
 * with one upsert per touched counter.
 */
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@db/client.server";
import { rollups } from "@db/schema/index";
import { hourStart } from "~/lib/time";
import { contributions, type DecisionFacts } from "./contributions";

export type FactsChange = { before: DecisionFacts | null; after: DecisionFacts | null };

export function applyRollupChanges(tx: DbOrTx, changes: FactsChange[]): void {
  // Equal facts contribute equally: a batch's decisions mostly share their facts, so each
  // distinct facts value is expanded once and applied with its multiplicity. Only the hour
  // of occurredAt matters (it keys the counters; contributions() does not read it).
  const distinct = new Map<string, { f: DecisionFacts; times: number }>();
  const count = (f: DecisionFacts, sign: 1 | -1) => {
    const k = JSON.stringify({ ...f, occurredAt: hourStart(f.occurredAt) });
    const cur = distinct.get(k);
    if (cur) cur.times += sign;
    else distinct.set(k, { f, times: sign });
  };
  for (const c of changes) {
    if (c.before) count(c.before, -1);
    if (c.after) count(c.after, 1);
  }
  const deltas = new Map<string, { typeKey: string; modelVersion: string; hour: number; metric: string; value: number }>();
  for (const { f, times } of distinct.values()) {
    if (times === 0) continue;
    const hour = hourStart(f.occurredAt);
    for (const [metric, v] of contributions(f)) {
      const k = `${f.typeKey}\u0000${f.modelVersion}\u0000${hour}\u0000${metric}`;
      const cur = deltas.get(k);
      if (cur) cur.value += times * v;
      else deltas.set(k, { typeKey: f.typeKey, modelVersion: f.modelVersion, hour, metric, value: times * v });
    }
  }
  const rows = [...deltas.values()].filter((d) => d.value !== 0);
  for (let i = 0; i < rows.length; i += 500) {
    tx.insert(rollups)
      .values(rows.slice(i, i + 500))
      .onConflictDoUpdate({
        target: [rollups.typeKey, rollups.hour, rollups.modelVersion, rollups.metric],
        set: { value: sql`${rollups.value} + excluded.value` },
      })
      .run();
  }
}
