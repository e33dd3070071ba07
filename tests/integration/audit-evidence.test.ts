import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { databaseFileOf, type Db } from "@db/client.server";
import { auditCheckpoints, auditLog } from "@db/schema/index";
import { writeCheckpoint } from "~/domain/audit/checkpoints.server";
import { buildEvidencePack, verifyEvidencePack, type EvidencePack } from "~/domain/audit/evidence.server";
import { publicKeyPem, signingKey } from "~/domain/audit/signing.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser, testStore } from "../support/db";
import { runCli } from "../support/cli";
import { auditEntries, dropAuditTriggers } from "../support/reads";
import { CORRECTED, ingest, review, reviewed } from "../support/labelled";
import { startServer, type TestServer } from "../support/server";
import { answer, client } from "../support/api";

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

async function setup() {
  const store = await testStore();
  const db = store.db;
  const owner = await makeUser(db, "manager");
  const alice = await makeUser(db, "reviewer");
  const bob = await makeUser(db, "reviewer");
  await makeType(db, invoiceType(owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 }, fourEyes: { flags: ["four:*"] } }));
  const publicKey = () => signingKey({ create: false, dbFile: databaseFileOf(db) })!.publicKey;
  return { db, env: store.env, dir: store.dir, owner, alice, bob, publicKey };
}

describe("evidence pack", () => {
  it("holds the decision, why it was routed, its reviews, its outcome and its audit entries anchored by a signed checkpoint", async () => {
    const { db, alice, publicKey } = await setup();
    const d = await reviewed(db, alice, "inv-1", { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"], note: "total misread" });
    expect(await db.select().from(auditCheckpoints)).toEqual([]);
    const pack = await buildEvidencePack(db, d.id);
    // No checkpoint covered the entries: building the pack signed one.
    expect(await db.select().from(auditCheckpoints)).toHaveLength(1);
    expect(pack.decision).toMatchObject({
      id: d.id,
      input: { vendor: "ACME GmbH", pages: 2 },
      model: { name: "invoice-extractor", version: "1.0.0" },
      policyVersion: 1,
      route: "review",
      reasons: ["confidence 0.5 < 0.9"],
      status: "corrected",
      final: true,
      finalOutput: CORRECTED,
      finalizedBy: alice.email,
      reviews: [expect.objectContaining({ action: "correct", reviewer: alice.email, reasonCodes: ["WRONG_TOTAL"], note: "total misread" })],
    });
    expect(pack.audit.entries.map((e) => e.content?.action)).toEqual(["decision.ingested", "task.claimed", "review.correct"]);
    expect(pack.audit.entries.every((e) => !e.sealed)).toBe(true);
    expect(pack.audit.proofs).toHaveLength(1);
    expect(verifyEvidencePack(clone(pack), publicKey())).toEqual({ ok: true, decisionId: d.id, entries: 3, sealed: 0, checkpoints: 1 });
  });

  it("proves entries of one decision spread over several checkpoints, carrying other entries as hashes only", async () => {
    const { db, alice, bob, publicKey } = await setup();
    const d = await ingest(db, "spread", { confidence: 0.5 });
    const other = await ingest(db, "other", { confidence: 0.5, input: { secret: "someone else's" } });
    await writeCheckpoint(db);
    await review(db, bob, other.id, { action: "approve", note: "not in the pack" });
    await review(db, alice, d.id, { action: "approve" });
    const pack = await buildEvidencePack(db, d.id);
    expect(pack.audit.proofs.length).toBe(2);
    const text = JSON.stringify(pack);
    expect(text).not.toContain("someone else's");
    expect(text).not.toContain("not in the pack");
    expect(verifyEvidencePack(clone(pack), publicKey())).toMatchObject({ ok: true, entries: 3 });
  });

  it("covers a decision ingested in a batch through the batch's entry", async () => {
    const { db, publicKey } = await setup();
    const [a] = await ingestDecisions(db, [invoiceDecision("b-1", { confidence: 0.99 }), invoiceDecision("b-2", { confidence: 0.99 })], {
      batch: true,
      actor: "key:test",
    });
    const pack = await buildEvidencePack(db, a.id);
    expect(pack.audit.entries.map((e) => e.content?.action)).toEqual(["decisions.ingested"]);
    expect(verifyEvidencePack(clone(pack), publicKey())).toMatchObject({ ok: true, entries: 1 });
  });

  it("shows a sealed four-eyes verdict only as hashes until the decision is final, and still verifies", async () => {
    const { db, alice, bob, publicKey } = await setup();
    const d = await reviewed(
      db,
      alice,
      "fe-1",
      { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"], note: "first eyes only" },
      { flags: ["four:eyes"] },
    );
    const sealed = await buildEvidencePack(db, d.id);
    expect(sealed.decision).toMatchObject({ status: "pending_review", final: false, sealed: true, reviews: [], finalizedBy: null });
    expect(sealed.audit.entries.map((e) => [e.sealed, e.content?.action ?? null])).toEqual([
      [false, "decision.ingested"],
      [true, null],
      [true, null],
    ]);
    const text = JSON.stringify(sealed);
    expect(text).not.toContain(alice.email);
    expect(text).not.toContain("first eyes only");
    expect(text).not.toContain("WRONG_TOTAL");
    expect(verifyEvidencePack(clone(sealed), publicKey())).toMatchObject({ ok: true, entries: 3, sealed: 2 });

    await review(db, bob, d.id, { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"] });
    const final = await buildEvidencePack(db, d.id);
    expect(final.decision).toMatchObject({ status: "corrected", final: true, sealed: false });
    expect(final.decision.reviews.map((r) => r.reviewer)).toEqual([alice.email, bob.email]);
    expect(final.audit.entries.every((e) => !e.sealed)).toBe(true);
    expect(JSON.stringify(final)).toContain("first eyes only");
    expect(verifyEvidencePack(clone(final), publicKey())).toMatchObject({ ok: true, entries: 5, sealed: 0 });
  });

  it("fails verification when an entry, a hash in the proof, the signature or the key is not the original", async () => {
    const { db, alice, publicKey } = await setup();
    const d = await reviewed(db, alice, "tamper", { action: "approve", note: "fine" });
    const pack = await buildEvidencePack(db, d.id);
    const key = publicKey();

    const content = clone(pack);
    const own = content.audit.proofs[0].links.find((l) => l.entry?.action === "review.approve")!;
    own.entry!.actor = "mallory@example.com";
    content.audit.entries[2].content!.actor = "mallory@example.com";
    expect(verifyEvidencePack(content, key)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not reach the head hash signed in checkpoint/) });

    const listed = clone(pack);
    listed.audit.entries[2].content!.data = JSON.stringify({ note: "forged" });
    expect(verifyEvidencePack(listed, key)).toMatchObject({ ok: false, reason: expect.stringMatching(/content differs from its proof/) });

    const signature = clone(pack);
    const sig = Buffer.from(signature.audit.proofs[0].checkpoint.signature, "base64");
    sig[0] ^= 1;
    signature.audit.proofs[0].checkpoint.signature = sig.toString("base64");
    expect(verifyEvidencePack(signature, key)).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid signature/) });

    const dropped = clone(pack);
    dropped.audit.entries.pop();
    expect(verifyEvidencePack(dropped, key)).toMatchObject({ ok: false, reason: expect.stringMatching(/missing from the list/) });

    const otherKey = crypto.generateKeyPairSync("ed25519").publicKey;
    expect(verifyEvidencePack(clone(pack), otherKey)).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid signature/) });
    expect(verifyEvidencePack({ nope: true }, key)).toMatchObject({ ok: false });
  });
});

function cli(env: Record<string, string>, args: string[]) {
  const r = runCli(args, env);
  return { code: r.code, out: r.stdout + r.stderr };
}

describe("lastmile audit checkpoint | verify [--pack]", () => {
  let db: Db;
  let env: Record<string, string>;
  let dir: string;
  let packFile: string;
  let keyFile: string;
  beforeAll(async () => {
    const s = await setup();
    db = s.db;
    env = s.env;
    dir = s.dir;
    const d = await reviewed(db, s.alice, "cli-1", { action: "approve" });
    const pack = await buildEvidencePack(db, d.id);
    packFile = path.join(dir, "pack.json");
    fs.writeFileSync(packFile, JSON.stringify(pack));
    keyFile = path.join(dir, "public.pem");
    fs.writeFileSync(keyFile, publicKeyPem(s.publicKey()));
  });

  it("checkpoint signs the head; verify exits 0 on an intact trail and 1 naming the first bad entry", { timeout: 120_000 }, async () => {
    await ingest(db, "cli-2", { confidence: 0.99 });
    const cp = cli(env, ["audit", "checkpoint"]);
    expect(cp.code, cp.out).toBe(0);
    expect(cp.out).toMatch(/Signed checkpoint #\d+/);
    const ok = cli(env, ["audit", "verify"]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/Audit trail intact: \d+ entries, anchored through #\d+ by 2 signed checkpoint/);

    const head = (await auditEntries(db)).at(-1)!.seq;
    await dropAuditTriggers(db, ["delete"]); // as someone with write access to the store
    await db.delete(auditLog).where(eq(auditLog.seq, head));
    const bad = cli(env, ["audit", "verify"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`broken at entry #${head}: missing tail`);
  });

  it("verify --pack exits 0 for a pack and 1 for a pack with an altered entry or signature", { timeout: 120_000 }, () => {
    const ok = cli(env, ["audit", "verify", "--pack", packFile, "--public-key", keyFile]);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toMatch(/verifies: 3 audit entries \(0 sealed\) anchored by 1 signed checkpoint/);

    const pack = JSON.parse(fs.readFileSync(packFile, "utf8")) as EvidencePack;
    const altered = clone(pack);
    altered.audit.proofs[0].links.find((l) => l.entry?.action === "review.approve")!.entry!.at += 1;
    fs.writeFileSync(path.join(dir, "altered.json"), JSON.stringify(altered));
    const a = cli(env, ["audit", "verify", "--pack", path.join(dir, "altered.json"), "--public-key", keyFile]);
    expect(a.code).toBe(1);
    expect(a.out).toContain("does not verify");

    const resigned = clone(pack);
    resigned.audit.proofs[0].checkpoint.signature = crypto.sign(null, Buffer.from("x"), crypto.generateKeyPairSync("ed25519").privateKey).toString("base64");
    fs.writeFileSync(path.join(dir, "resigned.json"), JSON.stringify(resigned));
    const r = cli(env, ["audit", "verify", "--pack", path.join(dir, "resigned.json"), "--public-key", keyFile]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("invalid signature");
  });
});

describe("GET /api/v1/decisions/:id/evidence and /api/v1/audit/public-key", () => {
  let s: TestServer;
  let readKey: string;
  let decisionId: string;
  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    const alice = await makeUser(s.db, "reviewer");
    await makeType(s.db, invoiceType(owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0 } }));
    readKey = await makeKey(s.db, ["read"]);
    decisionId = (await reviewed(s.db, alice, "http-1", { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: "<script>alert(1)</script>" })).id;
  });
  afterAll(async () => s?.close());

  it("serves the pack as a JSON download that verifies with the served public key", async () => {
    const res = await answer(client(s, readKey).GET("/api/v1/decisions/{id}/evidence", { params: { path: { id: decisionId } } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="evidence-${decisionId}.json"`);
    const pack = res.body as unknown as EvidencePack;
    const anonymous = client(s);
    const key = await answer(anonymous.GET("/api/v1/audit/public-key"));
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ algorithm: "Ed25519", keyId: pack.audit.publicKey.keyId, publicKey: expect.stringContaining("BEGIN PUBLIC KEY") });
    expect(verifyEvidencePack(pack, crypto.createPublicKey(key.body.publicKey))).toMatchObject({ ok: true, decisionId, entries: 3 });
    const pem = await anonymous.GET("/api/v1/audit/public-key", { params: { query: { format: "pem" } }, parseAs: "text" });
    expect(pem.data).toBe(key.body.publicKey);
  });

  it("serves a printable page with everything escaped", async () => {
    const res = await answer(
      client(s, readKey).GET("/api/v1/decisions/{id}/evidence", { params: { path: { id: decisionId }, query: { format: "html" } }, parseAs: "text" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = String(res.body);
    expect(html).toContain(`Evidence pack: decision ${decisionId}`);
    expect(html).toContain("NOT_AN_INVOICE");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>");
  });

  it("refuses a bad format, an unknown decision and a caller without credentials", async () => {
    const evidence = (key: string | undefined, id: string, format?: string) =>
      answer(client(s, key).GET("/api/v1/decisions/{id}/evidence", { params: { path: { id }, query: { format: format as never } } }));
    const bad = await evidence(readKey, decisionId, "xml");
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe("format");
    expect((await evidence(readKey, "dec_nope")).status).toBe(404);
    expect((await evidence(undefined, decisionId)).status).toBe(401);
    expect((await answer(client(s).GET("/api/v1/audit/public-key", { params: { query: { format: "der" as never } } }))).status).toBe(400);
  });
});
