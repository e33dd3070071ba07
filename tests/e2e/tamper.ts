/**
 * The one place a browser test goes behind the app's back: the audit page must notice an entry
 * edited directly in the database by someone with write access to it. That scenario has, by
 * design, no public seam (the app never rewrites audit entries), so this module edits the store
 * itself, with its own driver and plain SQL (no app code, no schema module), and puts it back.
 *
 * SQLite only for now: on another store (E2E_DATABASE_URL) `tamperingSupported()` is false and
 * the test that needs it says so and skips.
 */
import Database from "better-sqlite3";

export function tamperingSupported(): boolean {
  return !process.env.E2E_DATABASE_URL && Boolean(process.env.E2E_DATABASE_PATH);
}

/** Rewrites the newest audit entry's data (the table's no-update trigger dropped for the moment); `restore` puts both back. */
export function tamperWithNewestAuditEntry(data: unknown): { seq: number; restore: () => void } {
  const db = new Database(process.env.E2E_DATABASE_PATH!);
  db.pragma("busy_timeout = 5000");
  const last = db.prepare("SELECT seq, data FROM audit_log ORDER BY seq DESC LIMIT 1").get() as { seq: number; data: string | null };
  const trigger = (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_update'").get() as { sql: string }).sql;
  db.transaction(() => {
    db.exec("DROP TRIGGER audit_log_no_update");
    db.prepare("UPDATE audit_log SET data = ? WHERE seq = ?").run(JSON.stringify(data), last.seq);
    db.exec(trigger);
  })();
  return {
    seq: last.seq,
    restore: () => {
      try {
        db.transaction(() => {
          db.exec("DROP TRIGGER audit_log_no_update");
          db.prepare("UPDATE audit_log SET data = ? WHERE seq = ?").run(last.data, last.seq);
          db.exec(trigger);
        })();
      } finally {
        db.close();
      }
    },
  };
}
