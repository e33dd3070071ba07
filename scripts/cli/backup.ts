/**
 * `lastmile backup --out FILE`: a consistent online backup of the SQLite store while the server runs
 * and writes, then a check of the copy (integrity, foreign keys, the audit chain against the signed
 * checkpoints). Restoring is starting the server on the backup file.
 *
 * The copy is SQLite's online backup API on its own connection in this process, in one step: one read
 * snapshot of the whole file. In WAL mode a reader never blocks the server's writer or its readers, so
 * the server is not paused at all (in several smaller steps, every write the server commits in between
 * would restart the copy from the first page). The snapshot is taken at one instant: everything committed
 * before it is in the backup. The signed checkpoint files are copied before the snapshot (so every one of
 * them signs an entry the backup holds), and a file-based signing key beside them.
 *
 * On Postgres, Lastmile does not copy the database itself: the command names the operator's route
 * (pg_dump, or the provider's snapshots and point-in-time recovery), checks what it can of it, writes
 * nothing and exits 2.
 */
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { sql } from "drizzle-orm";
import { closeDatabase, databasePath, databaseTarget, describeTarget, migrationState, openDatabase, sqlOne } from "@db/client.server";
import { isPostgresUrl } from "@db/dialect";
import { verifyAuditChain } from "~/domain/audit/audit.server";
import { sourceAudit } from "./db";

export const BACKUP_USAGE = `lastmile backup --out FILE
    SQLite: a consistent online backup of DATABASE_PATH while the server runs, then verified
    (integrity check, foreign keys, audit chain). Writes FILE, FILE.audit-checkpoints/ (the signed
    checkpoints) and, for a file-based signing key, FILE.audit-key.pem. FILE must not exist.
    Restore: stop the server and start it on the backup (DATABASE_PATH=FILE npm start), with
    AUDIT_CHECKPOINT_DIR unset or pointing at FILE.audit-checkpoints.
    Postgres: explains and checks the pg_dump route; writes nothing (exit 2).`;

function usage(message: string): number {
  console.error(message);
  console.error(`\n${BACKUP_USAGE}`);
  return 2;
}

export async function runBackup(args: string[]): Promise<number> {
  let values: { out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args, strict: true, options: { out: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    console.log(BACKUP_USAGE);
    return 0;
  }
  const target = databaseTarget();
  if (isPostgresUrl(target)) return postgresRoute(target);
  if (!values.out) return usage("--out FILE is required: where to write the backup");
  return backupSqlite(databasePath(), path.resolve(values.out));
}

async function backupSqlite(source: string, out: string): Promise<number> {
  const companions = { dir: `${out}.audit-checkpoints`, key: `${out}.audit-key.pem` };
  if (!fs.existsSync(source)) return fail(`there is no database at ${source} (DATABASE_PATH) to back up`);
  if (path.resolve(source) === out) return fail(`--out is the live database itself (${source}); name a new file`);
  for (const f of [out, companions.dir, companions.key])
    if (fs.existsSync(f)) return fail(`${f} already exists; a backup never overwrites a file (name a new one, or move the old one away)`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const audit = sourceAudit(source);
  const partial = `${out}.partial-${process.pid}`;
  const started = Date.now();
  let snapshotAt = 0;
  let copied = 0;
  try {
    // 1. The signed checkpoints first: each signs an entry committed before the snapshot below.
    fs.mkdirSync(companions.dir);
    const signed = audit.dir && fs.existsSync(audit.dir) ? fs.readdirSync(audit.dir).filter((name) => name.endsWith(".json")) : [];
    for (const name of signed) fs.copyFileSync(path.join(audit.dir!, name), path.join(companions.dir, name));
    copied = signed.length;
    if (audit.keyFile) {
      fs.copyFileSync(audit.keyFile, companions.key);
      fs.chmodSync(companions.key, 0o600);
    }
    // 2. The snapshot: the backup API, all pages in one step, on a read-only connection of its own.
    const src = new Database(source, { readonly: true, fileMustExist: true });
    try {
      snapshotAt = Date.now();
      await src.backup(partial, { progress: ({ remainingPages }) => Math.max(remainingPages, 1) });
    } finally {
      src.close();
    }
    fsyncFile(partial);
    // 3. The check, before the backup takes its name.
    const check = await verifyBackup(partial, companions.dir, audit.key ? crypto.createPublicKey(audit.key) : null);
    if (!check.ok) throw new Error(check.reason);
    fs.renameSync(partial, out);
    fsyncFile(path.dirname(out));
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `Backed up ${source} → ${out}: ${fmt(check.decisions)} decisions, ${fmt(check.auditEntries)} audit entries, ${mb(fs.statSync(out).size)} in ${secs} s (snapshot at ${new Date(snapshotAt).toISOString()})`,
    );
    console.log(`integrity check: ok; foreign keys: ok; migrations: ${check.migrations}`);
    console.log(`audit chain verified: ${check.chain}`);
    console.log(`signed checkpoints: ${copied} file(s) in ${companions.dir}`);
    console.log(
      audit.keyFile
        ? `signing key: ${companions.key} (secret: keep it as safe as the database)`
        : process.env.AUDIT_SIGNING_KEY
          ? "signing key: from AUDIT_SIGNING_KEY (not copied: keep it with the backup's secrets)"
          : "signing key: none yet (the server makes one on its first start)",
    );
    console.log(`Restore: stop the server, then start it on the backup: DATABASE_PATH=${out} npm start (AUDIT_CHECKPOINT_DIR unset, or ${companions.dir})`);
    return 0;
  } catch (e) {
    for (const f of [partial, `${partial}-wal`, `${partial}-shm`, companions.key]) fs.rmSync(f, { force: true });
    fs.rmSync(companions.dir, { recursive: true, force: true });
    return fail(`the backup failed and was removed: ${(e as Error).message}`);
  }
}

type BackupCheck = { ok: true; decisions: number; auditEntries: number; chain: string; migrations: string } | { ok: false; reason: string };

/** The copy on its own: SQLite's integrity and foreign-key checks, the schema, and the audit chain against the copied checkpoints. */
async function verifyBackup(file: string, checkpointDir: string, publicKey: crypto.KeyObject | null): Promise<BackupCheck> {
  const raw = new Database(file, { fileMustExist: true });
  try {
    const integrity = raw.pragma("integrity_check") as { integrity_check: string }[];
    if (integrity.length !== 1 || integrity[0].integrity_check !== "ok")
      return { ok: false, reason: `integrity check: ${integrity.map((r) => r.integrity_check).join("; ")}` };
    const fk = raw.pragma("foreign_key_check") as unknown[];
    if (fk.length) return { ok: false, reason: `${fk.length} broken foreign key reference(s)` };
  } finally {
    raw.close();
  }
  const db = openDatabase(file);
  try {
    const m = await migrationState(db);
    const chain = await verifyAuditChain(db, { checkpointDir, publicKey });
    if (!chain.ok) return { ok: false, reason: `the audit chain does not verify at entry #${chain.brokenAt}: ${chain.reason}` };
    const count = async (table: string) => Number((await sqlOne<{ n: number }>(db, sql.raw(`SELECT count(*) AS n FROM ${table}`)))?.n ?? 0);
    const anchored = chain.checkpoints
      ? `, anchored through #${chain.anchoredThrough} by ${chain.checkpoints} signed checkpoint(s)`
      : ", no signed checkpoint yet";
    return {
      ok: true,
      decisions: await count("decisions"),
      auditEntries: chain.entries,
      chain: `${fmt(chain.entries)} entries${anchored}`,
      migrations: m.pending ? `${m.applied} applied, ${m.pending} pending for this build (the server applies them on start)` : `${m.applied} applied, current`,
    };
  } finally {
    await closeDatabase(db);
  }
}

/** Postgres: what to run instead, with what this machine and the server say about it. Writes nothing. */
async function postgresRoute(url: string): Promise<number> {
  // Its own connection, not the process store (which would migrate the database): this command only reads.
  const db = openDatabase(url);
  let server: { v: string; wal: string; archive: string } | undefined;
  try {
    server = await sqlOne(
      db,
      sql`SELECT current_setting('server_version_num') AS v, current_setting('wal_level') AS wal, current_setting('archive_mode') AS archive`,
    );
  } finally {
    await closeDatabase(db);
  }
  const serverMajor = Math.floor(Number(server?.v ?? 0) / 10_000);
  let dump: string | null = null;
  try {
    dump = execFileSync("pg_dump", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    dump = null;
  }
  const dumpMajor = dump ? Number(/(\d+)(?:\.\d+)?/.exec(dump.replace(/^[^0-9]*/, ""))?.[1] ?? 0) : 0;
  const target = describeTarget(url);
  console.log(`The store is Postgres (${target}). Lastmile does not copy a Postgres database itself; use Postgres's own tools:`);
  console.log(`  - pg_dump takes a consistent online snapshot (one transaction; the app keeps running):`);
  console.log(`      pg_dump --format=custom --file lastmile-$(date +%F).dump "$DATABASE_URL"`);
  console.log(`    Restore into a new, empty database, then point DATABASE_URL at it and check the audit chain:`);
  console.log(
    `      createdb NEW && pg_restore --no-owner --dbname "postgres://…/NEW" lastmile-….dump && DATABASE_URL=postgres://…/NEW npx lastmile audit verify`,
  );
  console.log(`  - or your provider's snapshots and point-in-time recovery (continuous WAL archiving).`);
  console.log(`  Keep AUDIT_SIGNING_KEY and the files in AUDIT_CHECKPOINT_DIR with the backup: the restored chain is verified against them.`);
  console.log(`Checked here:`);
  console.log(
    `  server: Postgres ${serverMajor}, wal_level=${server?.wal}, archive_mode=${server?.archive}${server?.archive === "off" ? " (no continuous archiving: point-in-time recovery is not set up on this server)" : ""}`,
  );
  if (!dump) console.log(`  pg_dump: not found on this machine's PATH (Debian: apt-get install postgresql-client-${serverMajor || "NN"})`);
  else if (dumpMajor < serverMajor)
    console.log(`  pg_dump: ${dump}: OLDER than the server (${serverMajor}); it cannot dump it. Install postgresql-client-${serverMajor}.`);
  else console.log(`  pg_dump: ${dump}: can dump this server`);
  console.error("No backup was written (exit 2): run one of the routes above.");
  return 2;
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fail(message: string): number {
  console.error(`Error: ${message}`);
  return 1;
}

const fmt = (n: number) => n.toLocaleString("en-US");
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
