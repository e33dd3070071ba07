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
 */
import type { Dialect } from "./builders";

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
];

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
  `DROP TRIGGER IF EXISTS tasks_counters_insert ON tasks`,
  `CREATE TRIGGER tasks_counters_insert AFTER INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION lastmile_task_counters()`,
  `DROP TRIGGER IF EXISTS tasks_counters_delete ON tasks`,
  `CREATE TRIGGER tasks_counters_delete AFTER DELETE ON tasks FOR EACH ROW EXECUTE FUNCTION lastmile_task_counters()`,
  `DROP TRIGGER IF EXISTS tasks_counters_update ON tasks`,
  `CREATE TRIGGER tasks_counters_update AFTER UPDATE OF status, kind, type_key ON tasks FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.type_key IS DISTINCT FROM NEW.type_key)
  EXECUTE FUNCTION lastmile_task_counters()`,
  `CREATE OR REPLACE FUNCTION lastmile_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$`,
  `DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log`,
  `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION lastmile_audit_append_only()`,
  `DROP TRIGGER IF EXISTS audit_log_no_delete ON audit_log`,
  `CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION lastmile_audit_append_only()`,
];

/** Idempotent statements, in order, that give a migrated store its triggers. */
export function schemaExtras(dialect: Dialect): string[] {
  return dialect === "postgres" ? POSTGRES : SQLITE;
}

/** Trigger names every store must have (a test compares them with the live store). */
export const TRIGGERS = ["tasks_counters_insert", "tasks_counters_delete", "tasks_counters_update", "audit_log_no_update", "audit_log_no_delete"] as const;
