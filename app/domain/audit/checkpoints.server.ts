/**
 * Signed checkpoints of the audit chain: (sequence number, head hash, time),
 * signed with the Ed25519 key from signing.server.ts. Each is written as a file
 * in the checkpoint directory (the record an attacker with only database access
 * cannot forge or remove) and copied into `audit_checkpoints` for convenience.
 * Verification trusts a checkpoint from either place only through its signature.
 */
import { scheduleExclusive } from "@db/job-lock.server";
import crypto, { type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { asc, desc, gte } from "drizzle-orm";
import { getDb, type DbOrTx } from "@db/client.server";
import { auditCheckpoints, auditLog } from "@db/schema/index";
import { databaseFileOf } from "@db/client.server";
import { checkpointDir, signingKey, type SigningKey } from "./signing.server";
import { errorFields, log } from "~/lib/log.server";

export type Checkpoint = { seq: number; headHash: string; at: number; keyId: string; signature: string };

/** The exact bytes a checkpoint's signature covers. */
export function checkpointMessage(c: Pick<Checkpoint, "seq" | "headHash" | "at">): Buffer {
  return Buffer.from(`lastmile-audit-checkpoint/1\n${c.seq}\n${c.headHash}\n${c.at}`);
}

export function checkpointSignatureValid(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return crypto.verify(null, checkpointMessage(c), publicKey, Buffer.from(c.signature, "base64"));
  } catch {
    return false;
  }
}

export function signCheckpoint(seq: number, headHash: string, at: number, key: SigningKey): Checkpoint {
  const signature = crypto.sign(null, checkpointMessage({ seq, headHash, at }), key.privateKey).toString("base64");
  return { seq, headHash, at, keyId: key.keyId, signature };
}

const FILE = /^checkpoint-(\d+)\.json$/;

function fileName(seq: number): string {
  return `checkpoint-${String(seq).padStart(12, "0")}.json`;
}

export type CheckpointOptions = { dir?: string; key?: SigningKey; now?: number };

/**
 * Signs the current head of the chain unless a checkpoint already covers it.
 * Several writers racing are harmless (same sequence number, same head hash; one
 * file wins), but the app runs one writer: see startAuditCheckpoints.
 */
export async function writeCheckpoint(db: DbOrTx, opts: CheckpointOptions = {}): Promise<{ checkpoint: Checkpoint | null; written: boolean }> {
  const head = (await db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1))[0];
  if (!head) return { checkpoint: null, written: false };
  const dir = opts.dir ?? checkpointDir(databaseFileOf(db));
  if (!dir) throw new Error("No checkpoint directory: set AUDIT_CHECKPOINT_DIR");
  const existing = (await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1))[0];
  if (existing && existing.seq >= head.seq && fs.existsSync(path.join(dir, fileName(existing.seq)))) return { checkpoint: existing, written: false };
  const key = opts.key ?? signingKey({ dbFile: databaseFileOf(db) });
  if (!key) throw new Error("No audit signing key: set AUDIT_SIGNING_KEY");
  const checkpoint = signCheckpoint(head.seq, head.hash, opts.now ?? Date.now(), key);
  fs.mkdirSync(dir, { recursive: true });
  const target = path.join(dir, fileName(head.seq));
  const tmp = `${target}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(checkpoint, null, 2) + "\n", { mode: 0o644 });
  fs.renameSync(tmp, target);
  await db.insert(auditCheckpoints).values(checkpoint).onConflictDoNothing();
  return { checkpoint, written: true };
}

export type FoundCheckpoint = Checkpoint & { source: string };

/** Every checkpoint on record: the files, then database copies of any the files lack. */
export async function readCheckpoints(db: DbOrTx, dir: string | null): Promise<{ found: FoundCheckpoint[]; unreadable: string[] }> {
  const found: FoundCheckpoint[] = [];
  const unreadable: string[] = [];
  const seen = new Set<number>();
  if (dir && fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (!FILE.test(name)) continue;
      const file = path.join(dir, name);
      try {
        const c = JSON.parse(fs.readFileSync(file, "utf8")) as Checkpoint;
        if (typeof c.seq !== "number" || typeof c.headHash !== "string" || typeof c.at !== "number" || typeof c.signature !== "string")
          throw new Error("bad shape");
        found.push({ seq: c.seq, headHash: c.headHash, at: c.at, keyId: String(c.keyId ?? ""), signature: c.signature, source: file });
        seen.add(c.seq);
      } catch {
        unreadable.push(file);
      }
    }
  }
  for (const c of await db.select().from(auditCheckpoints)) {
    if (!seen.has(c.seq)) found.push({ ...c, source: `audit_checkpoints row ${c.seq}` });
  }
  found.sort((a, b) => a.seq - b.seq);
  return { found, unreadable };
}

/** The earliest checkpoint copy at or after entry `seq` (a pack carries it; its signature is what proves it). */
export async function checkpointCovering(db: DbOrTx, seq: number): Promise<Checkpoint | undefined> {
  return (await db.select().from(auditCheckpoints).where(gte(auditCheckpoints.seq, seq)).orderBy(asc(auditCheckpoints.seq)).limit(1))[0];
}

export const CHECKPOINT_INTERVAL_MS = 60_000;

/**
 * Writes a checkpoint now and then every minute, whenever the head has moved.
 * Returns a function that stops the timer.
 *
 * Exactly one writer: each tick runs under the cluster-wide job lock, so with
 * several instances on one Postgres database one of them signs per minute (the
 * `lastmile audit checkpoint` command may add one by hand; a race only ever
 * writes the same checkpoint).
 */
export async function startAuditCheckpoints(
  opts: { intervalMs?: number; db?: () => DbOrTx; onError?: (e: unknown) => void; after?: PromiseLike<unknown> } = {},
): Promise<() => Promise<void>> {
  const db = opts.db ?? getDb;
  const onError = opts.onError ?? ((e) => log().error(errorFields(e), "audit checkpoint failed"));
  // The key exists from the first start (and a Postgres store without AUDIT_SIGNING_KEY fails here, loudly).
  signingKey({ dbFile: databaseFileOf(db()) });
  return scheduleExclusive(db, { name: "audit-checkpoint", everyMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS, run: writeCheckpoint }, onError, {
    after: opts.after,
  });
}
