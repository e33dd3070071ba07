/**
 * The one place a browser test goes behind the app's back: the audit page must notice an entry
 * edited directly in the database by someone with write access to it. That scenario has, by
 * design, no public seam (the app never rewrites audit entries), so this module edits the store
 * itself, with its own driver and plain SQL (no app code, no schema module), and puts it back.
 * On either store the append-only trigger is set aside for the edit, as such an intruder would.
 */
import Database from "better-sqlite3";
import pg from "pg";

type Tampered = { seq: number; restore: () => Promise<void> };

/** Rewrites the newest audit entry's data; `restore` puts it back. */
export async function tamperWithNewestAuditEntry(data: unknown): Promise<Tampered> {
  return process.env.E2E_DATABASE_URL ? tamperPostgres(process.env.E2E_DATABASE_URL, data) : tamperSqlite(process.env.E2E_DATABASE_PATH!, data);
}

async function tamperPostgres(url: string, data: unknown): Promise<Tampered> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const edit = async (seq: number, value: string) => {
    await c.query("BEGIN");
    await c.query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update");
    await c.query("UPDATE audit_log SET data = $1 WHERE seq = $2", [value, seq]);
    await c.query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update");
    await c.query("COMMIT");
  };
  const last = (await c.query<{ seq: string; data: string }>("SELECT seq, data FROM audit_log ORDER BY seq DESC LIMIT 1")).rows[0];
  const seq = Number(last.seq);
  await edit(seq, JSON.stringify(data));
  return {
    seq,
    restore: async () => {
      try {
        await edit(seq, last.data);
      } finally {
        await c.end();
      }
    },
  };
}

async function tamperSqlite(file: string, data: unknown): Promise<Tampered> {
  const db = new Database(file);
  db.pragma("busy_timeout = 5000");
  const last = db.prepare("SELECT seq, data FROM audit_log ORDER BY seq DESC LIMIT 1").get() as { seq: number; data: string | null };
  const trigger = (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_update'").get() as { sql: string }).sql;
  const edit = (value: string | null) =>
    db.transaction(() => {
      db.exec("DROP TRIGGER audit_log_no_update");
      db.prepare("UPDATE audit_log SET data = ? WHERE seq = ?").run(value, last.seq);
      db.exec(trigger);
    })();
  edit(JSON.stringify(data));
  return {
    seq: last.seq,
    restore: async () => {
      try {
        edit(last.data);
      } finally {
        db.close();
      }
    },
  };
}
