import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { transaction, type Db } from "@db/client.server";
import { auditLog } from "@db/schema/index";
import { appendAudit, verifyAuditChain } from "~/domain/audit/audit.server";
import { testDb } from "../support/db";
import { dropAuditTriggers } from "../support/reads";

/** The triggers refuse UPDATE and DELETE: these tests play someone with write access to the file, who drops them. */
async function asAttacker(db: Db) {
  await dropAuditTriggers(db);
  return db;
}

async function seeded(n: number) {
  const db = await testDb();
  await transaction(db, async (tx) => {
    await appendAudit(tx, { actor: "a", action: "first", entityType: "thing", entityId: "t0", data: { n: 0 }, at: 1 });
    await appendAudit(
      tx,
      Array.from({ length: n - 1 }, (_, i) => ({
        actor: "a",
        action: "batch",
        entityType: "thing",
        entityId: `t${i + 1}`,
        data: { n: i + 1, nested: { x: [i] } },
        at: 2 + i,
      })),
    );
  });
  return db;
}

describe("audit hash chain", () => {
  it("links every entry to the previous one and verifies", async () => {
    const db = await seeded(1200);
    const rows = await db.select().from(auditLog).orderBy(asc(auditLog.seq));
    expect(rows).toHaveLength(1200);
    expect(rows[0].prevHash).toBe("0".repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i].prevHash).toBe(rows[i - 1].hash);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 1200 });
  });

  it("keeps the chain across separate transactions", async () => {
    const db = await seeded(3);
    await transaction(db, async (tx) => appendAudit(tx, { actor: "b", action: "later", entityType: "thing", entityId: "t9" }));
    await transaction(db, async (tx) => appendAudit(tx, []));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 4 });
  });

  it("detects an altered entry, a deleted entry and a forged hash", async () => {
    const altered = await asAttacker(await seeded(10));
    await altered
      .update(auditLog)
      .set({ data: JSON.stringify({ n: 999 }) })
      .where(eq(auditLog.seq, 5));
    expect(await verifyAuditChain(altered)).toMatchObject({ ok: false, brokenAt: 5, reason: "entry content was altered" });

    const actor = await asAttacker(await seeded(10));
    await actor.update(auditLog).set({ actor: "mallory" }).where(eq(auditLog.seq, 7));
    expect(await verifyAuditChain(actor)).toMatchObject({ ok: false, brokenAt: 7 });

    const deleted = await asAttacker(await seeded(10));
    await deleted.delete(auditLog).where(eq(auditLog.seq, 4));
    expect(await verifyAuditChain(deleted)).toMatchObject({ ok: false, brokenAt: 5, reason: "previous hash does not match" });

    // Rewriting an entry and recomputing its own hash still breaks the next link.
    const forged = await asAttacker(await seeded(10));
    const row = (await forged.select().from(auditLog).orderBy(asc(auditLog.seq)))[2];
    await forged
      .update(auditLog)
      .set({ hash: "f".repeat(64) })
      .where(eq(auditLog.seq, row.seq));
    expect(await verifyAuditChain(forged)).toMatchObject({ ok: false });
  });

  it("covers keys such as __proto__ in the hashed data", async () => {
    const db = await testDb();
    const data = JSON.parse('{"__proto__": {"secret": 1}, "constructor": {"x": 1}}');
    await transaction(db, async (tx) => appendAudit(tx, { actor: "a", action: "x", entityType: "t", entityId: "1", data, at: 1 }));
    const row = (await db.select().from(auditLog).limit(1))[0]!;
    expect(JSON.parse(row.data)).toEqual(data);
    expect(({} as Record<string, unknown>).secret).toBeUndefined();
    await (await asAttacker(db)).update(auditLog).set({ data: '{"__proto__":{"secret":2},"constructor":{"x":1}}' });
    expect((await verifyAuditChain(db)).ok).toBe(false);
  });

  it("writes nothing when the surrounding transaction fails", async () => {
    const db = await seeded(2);
    await expect(
      transaction(db, async (tx) => {
        await appendAudit(tx, { actor: "a", action: "doomed", entityType: "t", entityId: "x" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true, entries: 2 });
  });
});

describe("audit entry hash", () => {
  it("is the SHA-256 of the previous hash and the SHA-256 of the entry's canonical JSON", async () => {
    const { canonicalJson, sha256 } = await import("~/lib/crypto.server");
    const db = await testDb();
    await transaction(db, async (tx) =>
      appendAudit(tx, { actor: 'a "quoted" \u2028', action: "x", entityType: "t", entityId: "1", data: { b: 1, a: [2] }, at: 7 }),
    );
    const row = (await db.select().from(auditLog).limit(1))[0]!;
    const { at, actor, action, entityType, entityId, data } = row;
    expect(row.hash).toBe(sha256("0".repeat(64) + sha256(canonicalJson({ at, actor, action, entityType, entityId, data }))));
    expect(data).toBe('{"a":[2],"b":1}');
  });
});
