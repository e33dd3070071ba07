/**
 * Rows that every API request reads first and that almost nothing writes: its key with the key's user, and a
 * decision type with its routing policy. Read from the store on every request they cost about a tenth of a SQLite
 * server's CPU under load (bench:load, session 20), so a process keeps them between requests.
 *
 * It keeps them coherent with the store, not for a while: the store has one number, config_epoch, that its triggers
 * raise in the transaction of every write to those tables (db/schema/extras.ts), whichever process or tool writes.
 * Each use reads the epoch (one row) and uses a kept value only if it was read at that epoch, so a revoked key, a
 * disabled user or a new policy holds from the next request on, on every instance, as without the cache.
 *
 * - The epoch is read before the value, so a value kept under an epoch is never older than it; a change between
 *   the two reads leaves a newer value under the older epoch, which the next use throws away.
 * - Inside a transaction a kept value is used when the epoch matches, and nothing is kept: the transaction may
 *   have raised the epoch itself, and may still roll back.
 * - Misses (an unknown key) are not kept, and at most `max` values are, per open store.
 */
import { inTransaction, perStore, pgClientOf, sqliteClientOf, type DbOrTx } from "./client.server";

const EPOCH_SQL = "SELECT epoch FROM config_epoch WHERE id = 1";

/** The store's config epoch: one row, prepared once per connection. */
export async function configEpoch(db: DbOrTx): Promise<number> {
  const client = sqliteClientOf(db);
  if (client) return Number(client.prepare(EPOCH_SQL).pluck().get());
  const res = await pgClientOf(db).query<[string]>({ name: "config_epoch", text: EPOCH_SQL, rowMode: "array" });
  return Number(res.rows[0]![0]);
}

type Kept<V> = { epoch: number; values: Map<string, V> };

/** `load`, answered from this process's copy while the store's config epoch has not moved. */
export function configCached<V>(load: (db: DbOrTx, key: string) => Promise<V | null>, max = 1000): (db: DbOrTx, key: string) => Promise<V | null> {
  const id = {};
  return async (db, key) => {
    const kept = perStore<Kept<V>>(db, id, () => ({ epoch: -1, values: new Map() }));
    const epoch = await configEpoch(db);
    if (inTransaction(db)) return (epoch === kept.epoch ? kept.values.get(key) : undefined) ?? load(db, key);
    if (epoch !== kept.epoch) {
      kept.values.clear();
      kept.epoch = epoch;
    }
    const hit = kept.values.get(key);
    if (hit !== undefined) return hit;
    const value = await load(db, key);
    if (value !== null && kept.epoch === epoch) {
      if (kept.values.size >= max) kept.values.clear();
      kept.values.set(key, value);
    }
    return value;
  };
}
