/**
 * Cross-cutting tables every write path feeds: the hash-chained audit trail,
 * the transactional outbox, and the hourly roll-ups that reports read.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const auditLog = sqliteTable(
  "audit_log",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    entityType: text("entity_type").notNull(),
    entityId: text("entity_id").notNull(),
    data: text("data").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    // 1: sha256(prevHash "\n" canonical content), entries written before checkpoints existed;
    // 2: sha256(prevHash ‖ sha256(canonical content)), so a proof can carry an entry's content hash alone.
    hashVersion: integer("hash_version").notNull().default(1),
  },
  (t) => [
    // an entity's trail, and the batch entries that cover a decision (found by its receivedAt)
    index("audit_entity_idx").on(t.entityType, t.entityId),
    index("audit_action_at_idx").on(t.action, t.at),
  ],
);

/**
 * Copies of the signed checkpoints (the files in AUDIT_CHECKPOINT_DIR are the record):
 * a convenience for pages and packs. Verification trusts a checkpoint only through its signature.
 */
export const auditCheckpoints = sqliteTable("audit_checkpoints", {
  seq: integer("seq").primaryKey(),
  headHash: text("head_hash").notNull(),
  at: integer("at").notNull(),
  keyId: text("key_id").notNull(),
  signature: text("signature").notNull(),
});

export const outbox = sqliteTable(
  "outbox",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    eventType: text("event_type").notNull(),
    typeKey: text("type_key"),
    entityId: text("entity_id").notNull(),
    payload: text("payload").notNull(),
    createdAt: integer("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    deliveredAt: integer("delivered_at"),
    lastError: text("last_error"),
  },
  // outbox_entity_idx: a decision's detail page lists the events announced about it.
  (t) => [index("outbox_pending_idx").on(t.deliveredAt, t.nextAttemptAt), index("outbox_entity_idx").on(t.entityId)],
);

/**
 * Generic hourly counters keyed by (type, model version, hour, metric).
 * Each decision state contributes a set of metric increments; every write
 * applies (new contribution − old contribution) in its own transaction.
 */
export const rollups = sqliteTable(
  "rollups",
  {
    typeKey: text("type_key").notNull(),
    modelVersion: text("model_version").notNull(),
    hour: integer("hour").notNull(),
    metric: text("metric").notNull(),
    value: integer("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.typeKey, t.hour, t.modelVersion, t.metric] }),
    // Reports read a few metrics over a period: (type, metric, hour) ranges, covering.
    index("rollups_metric_idx").on(t.typeKey, t.metric, t.hour, t.modelVersion, t.value),
  ],
);
