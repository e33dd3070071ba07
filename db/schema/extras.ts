/**
 * The parts of the schema drizzle-kit cannot declare: triggers. They are part of
 * the schema's description (not of one migration), applied idempotently after the
 * migrations on every start, so a rebuilt table or a regenerated migration chain
 * can never lose them.
 *
 * - task_counters stays equal to count(*) of tasks per (type, kind, status): the
 *   queue page reads its counts in O(1) instead of counting a million open tasks.
 * - audit_log is append-only: UPDATE and DELETE are refused. Someone with write
 *   access to the store can drop these triggers; the signed checkpoints catch what they do then.
 * - config_epoch (one row) goes up on every write to the rows a request reads before it does anything else: its
 *   API key and that key's user, a decision type and its routing policy. Processes keep those rows between
 *   requests and use them only while the epoch they were read at is still the store's (db/config-cache.server.ts).
 *   An API key's last use is bookkeeping and does not count.
 */
import crypto from "node:crypto";
import type { Dialect } from "./builders";

/** The tables whose writes raise config_epoch, each with the columns whose update does (null: all of them). */
const EPOCH_TABLES: [table: string, columns: string | null][] = [
  ["users", null],
  ["api_keys", "name, prefix, key_hash, scopes, user_id, revoked_at, expires_at"],
  ["decision_types", null],
  ["routing_policies", null],
];
const EPOCH_OPS = ["insert", "update", "delete"] as const;
const EPOCH_TRIGGERS = {
  sqlite: EPOCH_TABLES.flatMap(([table]) => EPOCH_OPS.map((op) => `${table}_epoch_${op}`)),
  postgres: EPOCH_TABLES.map(([table]) => `${table}_config_epoch`),
};
const EPOCH_TABLE = `CREATE TABLE IF NOT EXISTS config_epoch (id integer PRIMARY KEY CHECK (id = 1), epoch bigint NOT NULL)`;
const EPOCH_ROW = `INSERT INTO config_epoch (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`;

const SQLITE = [
  `CREATE TRIGGER IF NOT EXISTS tasks_counters_insert AFTER INSERT ON tasks BEGIN
  INSERT INTO task_counters (type_key, kind, status, n) VALUES (NEW.type_key, NEW.kind, NEW.status, 1)
    ON CONFLICT (type_key, kind, status) DO UPDATE SET n = n + 1;
END`,
  `CREATE TRIGGER IF NOT EXISTS tasks_counters_delete AFTER DELETE ON tasks BEGIN
  UPDATE task_counters SET n = n - 1 WHERE type_key = OLD.type_key AND kind = OLD.kind AND status = OLD.status;
END`,
  `CREATE TRIGGER IF NOT EXISTS tasks_counters_update AFTER UPDATE OF status, kind, type_key ON tasks
  WHEN OLD.status IS NOT NEW.status OR OLD.kind IS NOT NEW.kind OR OLD.type_key IS NOT NEW.type_key BEGIN
  UPDATE task_counters SET n = n - 1 WHERE type_key = OLD.type_key AND kind = OLD.kind AND status = OLD.status;
  INSERT INTO task_counters (type_key, kind, status, n) VALUES (NEW.type_key, NEW.kind, NEW.status, 1)
    ON CONFLICT (type_key, kind, status) DO UPDATE SET n = n + 1;
END`,
  `CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END`,
  `CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END`,
  EPOCH_TABLE,
  EPOCH_ROW,
  ...EPOCH_TABLES.flatMap(([table, columns]) =>
    EPOCH_OPS.map(
      (op) => `CREATE TRIGGER IF NOT EXISTS ${table}_epoch_${op} AFTER ${op.toUpperCase()}${op === "update" && columns ? ` OF ${columns}` : ""} ON ${table}
BEGIN
  UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END`,
    ),
  ),
];

/**
 * A Postgres trigger, (re)created only when the store's copy is not this definition. Every instance runs the
 * extras when it starts, while others serve: dropping a live trigger to create it again would leave a moment
 * in which a committing transaction's roll-ups, audit entries or task counts are never applied (a rolling
 * deploy lost them). The definition's fingerprint is kept as the trigger's comment; a changed definition is
 * replaced inside the extras' one transaction (runMigrations), so no writer ever sees the table without it.
 */
function trigger(name: string, table: string, create: string): string {
  const fingerprint = `lastmile ${crypto.createHash("sha256").update(create).digest("hex").slice(0, 16)}`;
  return `DO $extras$
BEGIN
  IF (SELECT obj_description(t.oid, 'pg_trigger') FROM pg_trigger t WHERE t.tgname = '${name}' AND t.tgrelid = '${table}'::regclass)
      IS DISTINCT FROM '${fingerprint}' THEN
    DROP TRIGGER IF EXISTS ${name} ON ${table};
    ${create};
    COMMENT ON TRIGGER ${name} ON ${table} IS '${fingerprint}';
  END IF;
END $extras$`;
}

const POSTGRES = [
  `CREATE OR REPLACE FUNCTION lastmile_task_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE task_counters SET n = n - 1 WHERE type_key = OLD.type_key AND kind = OLD.kind AND status = OLD.status;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO task_counters (type_key, kind, status, n) VALUES (NEW.type_key, NEW.kind, NEW.status, 1)
      ON CONFLICT (type_key, kind, status) DO UPDATE SET n = task_counters.n + 1;
  END IF;
  RETURN NULL;
END $$`,
  // Deferred to the commit: a type's counter rows are moved by every ingest, claim and verdict of that type, so
  // they are locked for the commit alone, not from the task's write to the end of its transaction.
  trigger(
    "tasks_counters_insert",
    "tasks",
    `CREATE CONSTRAINT TRIGGER tasks_counters_insert AFTER INSERT ON tasks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lastmile_task_counters()`,
  ),
  trigger(
    "tasks_counters_delete",
    "tasks",
    `CREATE CONSTRAINT TRIGGER tasks_counters_delete AFTER DELETE ON tasks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lastmile_task_counters()`,
  ),
  trigger(
    "tasks_counters_update",
    "tasks",
    `CREATE CONSTRAINT TRIGGER tasks_counters_update AFTER UPDATE OF status, kind, type_key ON tasks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.type_key IS DISTINCT FROM NEW.type_key)
  EXECUTE FUNCTION lastmile_task_counters()`,
  ),
  `CREATE OR REPLACE FUNCTION lastmile_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$`,
  // The shared rows a transaction writes, applied while it commits (client.server.ts, writeAtCommit): one row per
  // transaction, never visible to anyone (it is deleted in the transaction that wrote it), so never logged.
  `CREATE UNLOGGED TABLE IF NOT EXISTS commit_writes (id bigserial PRIMARY KEY, payload jsonb NOT NULL)`,
  `CREATE OR REPLACE FUNCTION lastmile_commit_writes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prev text;
  h text;
  e record;
BEGIN
  -- Counters: deltas summed per key (a transaction may touch a key twice), locked in key order.
  IF NEW.payload ? 'rollups' THEN
    INSERT INTO rollups AS r (type_key, model_version, policy_version, hour, metric, value)
    SELECT x."typeKey", x."modelVersion", x."policyVersion", x.hour, x.metric, sum(x.value)
      FROM jsonb_to_recordset(NEW.payload->'rollups') AS x("typeKey" text, "modelVersion" text, "policyVersion" integer, hour bigint, metric text, value bigint)
      GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.value) <> 0 ORDER BY 1, 4, 2, 3, 5
    ON CONFLICT (type_key, hour, model_version, policy_version, metric) DO UPDATE SET value = r.value + excluded.value;
  END IF;
  IF NEW.payload ? 'reviewerRollups' THEN
    INSERT INTO reviewer_rollups AS v (type_key, reviewer_id, span, start, metric, value)
    SELECT x."typeKey", x."reviewerId", x.span, x.start, x.metric, sum(x.value)
      FROM jsonb_to_recordset(NEW.payload->'reviewerRollups') AS x("typeKey" text, "reviewerId" text, span bigint, start bigint, metric text, value bigint)
      GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.value) <> 0 ORDER BY 3, 4, 1, 2, 5
    ON CONFLICT (span, start, type_key, reviewer_id, metric) DO UPDATE SET value = v.value + excluded.value;
  END IF;
  IF NEW.payload ? 'monitorCounters' THEN
    INSERT INTO monitor_counters AS m (type_key, metric, minute, value)
    SELECT x."typeKey", x.metric, x.minute, sum(x.value)
      FROM jsonb_to_recordset(NEW.payload->'monitorCounters') AS x("typeKey" text, metric text, minute bigint, value bigint)
      GROUP BY 1, 2, 3 HAVING sum(x.value) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (type_key, metric, minute) DO UPDATE SET value = m.value + excluded.value;
  END IF;
  -- The audit chain: one appender at a time, from the head, with audit.server.ts's linkHash:
  -- sha256(previous hash ‖ content hash), both as hex text. The entries' seq is taken here, so seq order is chain order.
  IF NEW.payload ? 'audit' THEN
    PERFORM pg_advisory_xact_lock(7246318002); -- AUDIT_HEAD_LOCK in audit.server.ts
    SELECT a.hash INTO prev FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    FOR e IN
      SELECT x.* FROM jsonb_array_elements(NEW.payload->'audit') WITH ORDINALITY AS j(v, i)
        CROSS JOIN LATERAL jsonb_to_record(j.v) AS x(at bigint, actor text, action text, "entityType" text, "entityId" text, data text, "contentHash" text)
        ORDER BY j.i
    LOOP
      h := encode(sha256(convert_to(prev || e."contentHash", 'UTF8')), 'hex');
      INSERT INTO audit_log (at, actor, action, entity_type, entity_id, data, prev_hash, hash, hash_version)
        VALUES (e.at, e.actor, e.action, e."entityType", e."entityId", e.data, prev, h, 2);
      prev := h;
    END LOOP;
  END IF;
  DELETE FROM commit_writes WHERE id = NEW.id;
  RETURN NULL;
END $$`,
  trigger(
    "commit_writes_apply",
    "commit_writes",
    `CREATE CONSTRAINT TRIGGER commit_writes_apply AFTER INSERT ON commit_writes DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lastmile_commit_writes()`,
  ),
  EPOCH_TABLE,
  EPOCH_ROW,
  `CREATE OR REPLACE FUNCTION lastmile_config_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
  RETURN NULL;
END $$`,
  ...EPOCH_TABLES.map(([table, columns]) =>
    trigger(
      `${table}_config_epoch`,
      table,
      `CREATE TRIGGER ${table}_config_epoch AFTER INSERT OR DELETE OR UPDATE${columns ? ` OF ${columns}` : ""} ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION lastmile_config_epoch()`,
    ),
  ),
  trigger(
    "audit_log_no_update",
    "audit_log",
    `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION lastmile_audit_append_only()`,
  ),
  trigger(
    "audit_log_no_delete",
    "audit_log",
    `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION lastmile_audit_append_only()`,
  ),
];

/** Idempotent statements, in order, that give a migrated store its triggers (on Postgres, run in one transaction). */
export function schemaExtras(dialect: Dialect): string[] {
  return dialect === "postgres" ? POSTGRES : SQLITE;
}

/** Trigger names every store must have (a test compares them with the live store). */
export const TRIGGERS = ["tasks_counters_insert", "tasks_counters_delete", "tasks_counters_update", "audit_log_no_update", "audit_log_no_delete"] as const;

/** The triggers a store of this dialect holds: TRIGGERS, the config epoch's, and on Postgres the one that applies commit_writes. */
export function triggerNames(dialect: Dialect): string[] {
  return dialect === "postgres" ? [...TRIGGERS, ...EPOCH_TRIGGERS.postgres, "commit_writes_apply"] : [...TRIGGERS, ...EPOCH_TRIGGERS.sqlite];
}
