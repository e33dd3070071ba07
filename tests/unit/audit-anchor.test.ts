import fs from "node:fs";
import { asc, eq, gt } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { closeDatabase, databaseFileOf, openDatabase, runMigrations, transaction, type Db } from "@db/client.server";
import { auditCheckpoints, auditLog } from "@db/schema/index";
import { appendAudit, auditContentHash, legacyEntryHash, linkHash, verifyAuditChain } from "~/domain/audit/audit.server";
import { checkpointSignatureValid, startAuditCheckpoints, writeCheckpoint } from "~/domain/audit/checkpoints.server";
import { checkpointDir, keyFilePath, signingKey } from "~/domain/audit/signing.server";
import { sha256 } from "~/lib/crypto.server";
import { testDb } from "../support/db";
import { newPostgresDatabase } from "../support/store";
import { dropAuditTriggers, failure } from "../support/reads";
import { sqliteStore } from "../support/sqlite";

async function append(db: Db, n: number, from = 0) {
  await transaction(db, async (tx) =>
    appendAudit(
      tx,
      Array.from({ length: n }, (_, i) => ({
        actor: "alice@example.com",
        action: "thing.done",
        entityType: "thing",
        entityId: `t${from + i}`,
        data: { n: from + i },
        at: 1_000 + from + i,
      })),
    ),
  );
}

/** Someone with write access to the store: the triggers are theirs to drop. */
async function asAttacker(db: Db) {
  await dropAuditTriggers(db);
  return db;
}

const rows = async (db: Db) => await db.select().from(auditLog).orderBy(asc(auditLog.seq));

/** Rewrites every entry from `fromSeq` on with the current formula, as an attacker who read the code would. */
async function recomputeFrom(db: Db, fromSeq: number) {
  const all = await rows(db);
  let prev = all.find((r) => r.seq === fromSeq)!.prevHash;
  for (const r of all.filter((r) => r.seq >= fromSeq)) {
    const hash = r.hashVersion === 1 ? legacyEntryHash(prev, r) : linkHash(prev, auditContentHash(r));
    await db.update(auditLog).set({ prevHash: prev, hash }).where(eq(auditLog.seq, r.seq));
    prev = hash;
  }
}

describe("audit entries (hash version 2)", () => {
  it("hash as H(previous hash ‖ H(content)), one extra SHA-256 per entry", async () => {
    const db = await testDb();
    await append(db, 2);
    const [a, b] = await rows(db);
    const content = `{"action":"thing.done","actor":"alice@example.com","at":1000,"data":"{\\"n\\":0}","entityId":"t0","entityType":"thing"}`;
    expect(a).toMatchObject({ hashVersion: 2, prevHash: "0".repeat(64), hash: sha256("0".repeat(64) + sha256(content)) });
    expect(b.hash).toBe(sha256(a.hash + auditContentHash(b)));
  });

  it("are refused UPDATE and DELETE by the database", async () => {
    const db = await testDb();
    await append(db, 3);
    expect(await failure(db.update(auditLog).set({ actor: "mallory" }).where(eq(auditLog.seq, 2)))).toMatch(/audit_log is append-only: UPDATE refused/);
    expect(await failure(db.delete(auditLog).where(eq(auditLog.seq, 3)))).toMatch(/audit_log is append-only: DELETE refused/);
    expect((await rows(db)).map((r) => r.actor)).toEqual(["alice@example.com", "alice@example.com", "alice@example.com"]);
  });
});

describe("signed checkpoints", () => {
  // The key file beside the database is SQLite's (Postgres requires AUDIT_SIGNING_KEY): a SQLite store on either run.
  it("are written to a file and copied into the database, signed with a key kept in a 0600 file beside the database", async () => {
    const { db, file: dbFile } = await sqliteStore();
    await append(db, 5);
    const { checkpoint, written } = await writeCheckpoint(db);
    expect(written).toBe(true);
    expect(checkpoint).toMatchObject({ seq: 5, headHash: (await rows(db))[4].hash });
    expect(fs.statSync(keyFilePath(dbFile)!).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keyFilePath(dbFile)!, "utf8")).toContain("BEGIN PRIVATE KEY");
    const files = fs.readdirSync(checkpointDir(dbFile)!);
    expect(files).toEqual(["checkpoint-000000000005.json"]);
    const onDisk = JSON.parse(fs.readFileSync(`${checkpointDir(dbFile)}/${files[0]}`, "utf8"));
    expect(onDisk).toEqual(checkpoint);
    expect(await db.select().from(auditCheckpoints)).toEqual([checkpoint]);
    const key = signingKey({ create: false, dbFile })!;
    expect(checkpointSignatureValid(checkpoint!, key.publicKey)).toBe(true);
    expect(checkpointSignatureValid({ ...checkpoint!, seq: 4 }, key.publicKey)).toBe(false);
    // Nothing new: nothing written.
    expect((await writeCheckpoint(db)).written).toBe(false);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 5, checkpoints: 1, anchoredThrough: 5 });
  });

  it("take AUDIT_SIGNING_KEY (PEM or base64 PKCS#8) and AUDIT_CHECKPOINT_DIR from the environment", async () => {
    const crypto = await import("node:crypto");
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    const der = privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
    const dir = fs.mkdtempSync("/tmp/lastmile-cp-");
    const saved = { ...process.env };
    try {
      const { db, file } = await sqliteStore(); // a key file could sit beside it: the environment's key wins
      process.env.AUDIT_SIGNING_KEY = der;
      process.env.AUDIT_CHECKPOINT_DIR = dir;
      await append(db, 2);
      const { checkpoint } = await writeCheckpoint(db);
      expect(fs.readdirSync(dir)).toEqual(["checkpoint-000000000002.json"]);
      expect(fs.existsSync(keyFilePath(file)!)).toBe(false);
      expect(checkpointSignatureValid(checkpoint!, crypto.createPublicKey(privateKey))).toBe(true);
      process.env.AUDIT_SIGNING_KEY = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      expect(signingKey()!.keyId).toBe(checkpoint!.keyId);
      process.env.AUDIT_SIGNING_KEY = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      expect(() => signingKey()).toThrow(/Ed25519/);
    } finally {
      process.env = saved;
    }
  });

  it("need their key from the first start, and AUDIT_SIGNING_KEY once the store is Postgres", async () => {
    const { db, file } = await sqliteStore();
    const stop = await startAuditCheckpoints({ db: () => db });
    await stop();
    expect(fs.statSync(keyFilePath(file)!).mode & 0o777).toBe(0o600);
    expect(await db.select().from(auditCheckpoints)).toEqual([]); // an empty trail has nothing to sign
    // The store decides, not the environment: a Postgres store without AUDIT_SIGNING_KEY refuses to start.
    const pgDb = openDatabase(await newPostgresDatabase({ empty: true }));
    await runMigrations(pgDb);
    const saved = { ...process.env };
    try {
      delete process.env.AUDIT_SIGNING_KEY;
      await expect(startAuditCheckpoints({ db: () => pgDb })).rejects.toThrow(/AUDIT_SIGNING_KEY is required when the store is Postgres/);
    } finally {
      process.env = saved;
      await closeDatabase(pgDb);
    }
  });

  it("are written by one timer, at start and then only when the head has moved", async () => {
    const db = await testDb();
    await append(db, 3);
    let ticks = 0;
    const stop = await startAuditCheckpoints({
      db: () => db,
      intervalMs: 5,
      onError: (e) => {
        throw e;
      },
    });
    try {
      expect((await db.select().from(auditCheckpoints)).map((c) => c.seq)).toEqual([3]);
      await new Promise((r) => setTimeout(r, 30));
      expect((await db.select().from(auditCheckpoints)).map((c) => c.seq)).toEqual([3]);
      await append(db, 2, 3);
      while ((await db.select().from(auditCheckpoints)).length < 2 && ticks++ < 200) await new Promise((r) => setTimeout(r, 5));
      expect((await db.select().from(auditCheckpoints)).map((c) => c.seq)).toEqual([3, 5]);
    } finally {
      await stop();
    }
  });
});

describe("verification against the checkpoints catches", () => {
  async function anchored(n = 10) {
    const db = await testDb();
    await append(db, n);
    await writeCheckpoint(db);
    return db;
  }

  it("an edited row", async () => {
    const db = await anchored();
    await (await asAttacker(db)).update(auditLog).set({ actor: "mallory" }).where(eq(auditLog.seq, 4));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 4, reason: "entry content was altered" });
  });

  it("a deleted middle row", async () => {
    const db = await anchored();
    await (await asAttacker(db)).delete(auditLog).where(eq(auditLog.seq, 5));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 6, reason: "previous hash does not match" });
  });

  it("the newest rows deleted after a checkpoint covered them", async () => {
    const db = await anchored();
    await (await asAttacker(db)).delete(auditLog).where(gt(auditLog.seq, 7));
    const result = await verifyAuditChain(db);
    expect(result).toMatchObject({ ok: false, brokenAt: 8, entries: 7 });
    expect(result.ok === false && result.reason).toMatch(/^missing tail: entries #8–#10 were deleted/);
  });

  it("a rewritten row with every later hash recomputed by the plain formula", async () => {
    const db = await anchored();
    await append(db, 5, 10);
    await writeCheckpoint(db); // checkpoints at #10 and #15
    const attacker = await asAttacker(db);
    await attacker
      .update(auditLog)
      .set({ data: JSON.stringify({ n: 999 }) })
      .where(eq(auditLog.seq, 12));
    await recomputeFrom(db, 12);
    const result = await verifyAuditChain(db);
    expect(result).toMatchObject({ ok: false, brokenAt: 11 });
    expect(result.ok === false && result.reason).toMatch(/^entries #11–#15 were rewritten/);
  });

  it("a row deleted with the chain recomputed over the gap", async () => {
    const db = await anchored();
    await (await asAttacker(db)).delete(auditLog).where(eq(auditLog.seq, 10));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 10 });
  });

  it("a forged checkpoint copied into the database", async () => {
    const db = await anchored();
    await append(db, 1, 10);
    await db
      .insert(auditCheckpoints)
      .values({ seq: 11, headHash: (await rows(db))[10].hash, at: Date.now(), keyId: "forged", signature: Buffer.alloc(64).toString("base64") });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 11, reason: expect.stringMatching(/invalid signature/) });
  });

  it("a checkpoint file deleted while its database copy remains: the copy still anchors (its signature holds)", async () => {
    const db = await anchored();
    fs.rmSync(checkpointDir(databaseFileOf(db))!, { recursive: true });
    await (await asAttacker(db)).delete(auditLog).where(gt(auditLog.seq, 8));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 9 });
  });
});

describe("entries written before hash version 2", () => {
  /** Entries as a release before hash version 2 wrote them (hash_version left to its default, 1). */
  async function legacy(n: number) {
    const db = await testDb();
    let prev = "0".repeat(64);
    for (let i = 0; i < n; i++) {
      const e = { at: i, actor: "old", action: "old.thing", entityType: "thing", entityId: `o${i}`, data: `{"i":${i}}` };
      const hash = legacyEntryHash(prev, e);
      await db.insert(auditLog).values({ ...e, prevHash: prev, hash });
      prev = hash;
    }
    return db;
  }

  it("stay valid, are followed by version-2 entries and are anchored by the first checkpoint", async () => {
    const db = await legacy(4);
    await append(db, 3, 4);
    expect((await rows(db)).map((r) => r.hashVersion)).toEqual([1, 1, 1, 1, 2, 2, 2]);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 7, checkpoints: 0 });
    await writeCheckpoint(db);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 7, checkpoints: 1, anchoredThrough: 7 });
    await (await asAttacker(db)).update(auditLog).set({ actor: "mallory" }).where(eq(auditLog.seq, 2));
    await recomputeFrom(db, 2);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it("cannot be used to downgrade a version-2 entry to the old formula", async () => {
    const db = await legacy(2);
    await append(db, 3, 2);
    const attacker = await asAttacker(db);
    await attacker.update(auditLog).set({ hashVersion: 1, actor: "mallory" }).where(eq(auditLog.seq, 4));
    await recomputeFrom(db, 4);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 4, reason: "hash version 1 after version 2" });
  });
});
