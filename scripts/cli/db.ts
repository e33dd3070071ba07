/**
 * `lastmile db copy`: moves a store between SQLite and Postgres (see db/copy.server.ts),
 * with a progress bar on stderr, then checks the copy: every table's row count against
 * the source's, and the audit chain on the target against the signed checkpoints.
 */
import crypto, { type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { closeDatabase, databasePath, describeTarget, openDatabase } from "@db/client.server";
import { copyDatabase, CopyRefused, type CopyReport } from "@db/copy.server";
import { isPostgresUrl } from "@db/dialect";
import { verifyAuditChain } from "~/domain/audit/audit.server";
import { keyFilePath, parsePrivateKey } from "~/domain/audit/signing.server";

export const DB_USAGE = `lastmile db copy --to postgres://USER@HOST:PORT/DB [--no-progress]
    copies the SQLite database at DATABASE_PATH (default ./data/lastmile.db) into an EMPTY Postgres database
lastmile db copy --from postgres://USER@HOST:PORT/DB [--no-progress]
    copies a Postgres database into an EMPTY (or new) SQLite file at DATABASE_PATH

Both stores are migrated first; a target with rows in any table is refused. The copy
runs in one transaction on the target, then checks row counts and the audit chain.`;

function usage(message: string): number {
  console.error(message);
  console.error(`\n${DB_USAGE}`);
  return 2;
}

/** Where the source's signed checkpoints and signing key are (the same rules as the app's, for that store). */
export function sourceAudit(from: string): { dir: string | null; keyFile: string | null; key: KeyObject | null } {
  const envDir = process.env.AUDIT_CHECKPOINT_DIR ? path.resolve(process.env.AUDIT_CHECKPOINT_DIR) : null;
  const envKey = process.env.AUDIT_SIGNING_KEY;
  if (isPostgresUrl(from)) return { dir: envDir, keyFile: null, key: envKey ? parsePrivateKey(envKey) : null };
  const file = keyFilePath(from);
  const keyFile = !envKey && file && fs.existsSync(file) ? file : null;
  const key = envKey ? parsePrivateKey(envKey) : keyFile ? parsePrivateKey(fs.readFileSync(keyFile, "utf8")) : null;
  return { dir: envDir ?? `${path.resolve(from)}.audit-checkpoints`, keyFile, key };
}

export async function runDb(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    console.log(DB_USAGE);
    return 0;
  }
  if (sub !== "copy") return usage(`unknown db command: ${sub ?? "(none)"}`);
  let values: { to?: string; from?: string; "no-progress"?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: { to: { type: "string" }, from: { type: "string" }, "no-progress": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    console.log(DB_USAGE);
    return 0;
  }
  if (!values.to === !values.from) return usage("name exactly one of --to postgres://… or --from postgres://…");
  const url = (values.to ?? values.from)!;
  if (!isPostgresUrl(url)) {
    console.error(`Error: --${values.to ? "to" : "from"} must be a postgres:// URL (the other side is the SQLite file at DATABASE_PATH), not "${url}"`);
    return 1;
  }
  const file = databasePath();
  const [from, to] = values.to ? [file, url] : [url, file];

  const audit = sourceAudit(from);
  const showBar = !values["no-progress"] && process.stderr.isTTY !== false;
  const bar = new cliProgress.SingleBar(
    {
      format: "Copying {bar} {percentage}% | {value}/{total} rows | {table} | {rate} rows/s | ETA {eta_formatted}",
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = Date.now();
  let report: CopyReport;
  try {
    report = await copyDatabase(from, to, {
      onStart: (total) => {
        started = Date.now();
        if (showBar) bar.start(total, 0, { table: "", rate: 0 });
      },
      onProgress: (p) => showBar && bar.update(p.copied, { table: p.table, rate: Math.round(p.copied / Math.max(0.001, (Date.now() - started) / 1000)) }),
    });
  } catch (e) {
    if (showBar) bar.stop();
    if (e instanceof CopyRefused) {
      console.error(`Error: ${e.message}`);
      return 1;
    }
    console.error(`Error: the copy failed, nothing was copied (the target's tables are empty; run it again once fixed): ${(e as Error).message}`);
    return 1;
  }
  if (showBar) bar.stop();

  const secs = report.copyMs / 1000;
  console.log(
    `Copied ${report.from} → ${report.to}: ${report.rows} rows in ${secs.toFixed(1)} s (${Math.round(report.rows / Math.max(secs, 0.001))} rows/s; ${(report.ms / 1000).toFixed(1)} s with migrations and counts)`,
  );
  const width = Math.max(...report.tables.map((t) => t.name.length));
  let mismatches = 0;
  for (const t of report.tables) {
    // task_counters is rebuilt from the tasks on the target: exact even when the source's had drifted.
    const ok = t.source === t.target || (t.name === "task_counters" && report.counterDrift.length > 0);
    if (!ok) mismatches++;
    console.log(`  ${t.name.padEnd(width)}  ${String(t.target).padStart(9)}${ok ? "" : `  MISMATCH: source has ${t.source}`}`);
  }
  for (const d of report.counterDrift) console.log(`  note: the source's task_counters had drifted (${d}); the target's are recounted from its tasks`);

  const db = openDatabase(to);
  let chain;
  try {
    chain = await verifyAuditChain(db, { checkpointDir: audit.dir, publicKey: audit.key ? crypto.createPublicKey(audit.key) : null });
  } finally {
    await closeDatabase(db);
  }
  if (chain.ok) {
    const anchored = chain.checkpoints
      ? ` (${chain.checkpoints} signed checkpoint${chain.checkpoints === 1 ? "" : "s"}, through #${chain.anchoredThrough})`
      : "";
    console.log(`audit chain verified: ${chain.entries} entries${anchored}`);
  } else {
    console.error(`Error: the audit chain on the target does not verify at entry #${chain.brokenAt}: ${chain.reason}`);
  }
  printAuditAdvice(to, audit);
  if (mismatches) console.error(`Error: ${mismatches} table(s) differ in row count`);
  return mismatches || !chain.ok ? 1 : 0;
}

/** The checkpoint files and the signing key stay where they are: say how the target's deployment finds them. */
function printAuditAdvice(to: string, audit: ReturnType<typeof sourceAudit>): void {
  const hasFiles = !!audit.dir && fs.existsSync(audit.dir) && fs.readdirSync(audit.dir).some((f) => f.endsWith(".json"));
  if (isPostgresUrl(to)) {
    console.log(`Before starting on ${describeTarget(to)} (DATABASE_URL), set for every instance:`);
    console.log(
      hasFiles
        ? `  AUDIT_CHECKPOINT_DIR=${audit.dir}   (the signed checkpoints; or copy its files into the shared folder you set)`
        : `  AUDIT_CHECKPOINT_DIR=<shared folder for signed checkpoints>`,
    );
    console.log(
      audit.keyFile
        ? `  AUDIT_SIGNING_KEY="$(cat ${audit.keyFile})"   (the same key: earlier checkpoints are verified with it)`
        : `  AUDIT_SIGNING_KEY=<the same key as now${audit.key ? "" : ", or a new Ed25519 key"}>`,
    );
  } else {
    console.log(
      `Before starting on ${to} (DATABASE_PATH, without DATABASE_URL): keep AUDIT_SIGNING_KEY${audit.dir ? ` and AUDIT_CHECKPOINT_DIR=${audit.dir}` : ""} set (or copy the key to ${keyFilePath(to)} and the checkpoint files to ${to}.audit-checkpoints).`,
    );
  }
}
