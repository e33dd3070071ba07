/**
 * The audit signing key and where checkpoints live. The key signs checkpoints
 * and never enters the database: someone who can rewrite the database cannot
 * forge a checkpoint.
 *
 * - `AUDIT_SIGNING_KEY`: an Ed25519 private key, PKCS#8, as PEM text
 *   (`-----BEGIN PRIVATE KEY-----…`, `\n` escapes allowed) or as base64 of the DER
 *   bytes (`openssl genpkey -algorithm ed25519 -outform DER | base64 -w0`).
 *   Required once the store is Postgres, so every instance signs with the same key.
 * - Otherwise, on SQLite: `<database file>.audit-key.pem`, created with mode 0600 on first start.
 * - `AUDIT_CHECKPOINT_DIR`: where checkpoint files are written; default
 *   `<database file>.audit-checkpoints/` (use shared storage when several instances run).
 */
import crypto, { type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { databasePath } from "@db/client.server";
import { dialect } from "@db/dialect";
import { z } from "zod";
import { AppError } from "~/lib/errors";

/** GET /api/v1/audit/public-key: ?format=json (default) or ?format=pem. */
export const publicKeyQuerySchema = z.object({ format: z.enum(["json", "pem"], { message: "must be json or pem" }).default("json") });

/** The JSON answer of GET /api/v1/audit/public-key. */
export const publicKeyJsonSchema = z.object({ algorithm: z.literal("Ed25519"), keyId: z.string(), publicKey: z.string().describe("SPKI PEM") });

export type SigningKey = { privateKey: KeyObject; publicKey: KeyObject; keyId: string };

/**
 * The store a key and checkpoints belong to, named by its SQLite file (":memory:" for a test database)
 * or null for Postgres, as databaseFileOf(db) gives it; by default this process's store.
 */
type StoreFile = string | null;
const processStore = (): StoreFile => (dialect() === "postgres" ? null : databasePath());

function configError(message: string): AppError {
  return new AppError("internal", message);
}

/** A short, stable name for a public key: the first 16 hex digits of SHA-256 over its SPKI bytes. */
export function keyIdOf(publicKey: KeyObject): string {
  return crypto
    .createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim().replace(/\\n/g, "\n");
  let key: KeyObject;
  try {
    key = trimmed.includes("-----BEGIN")
      ? crypto.createPrivateKey({ key: trimmed, format: "pem" })
      : crypto.createPrivateKey({ key: Buffer.from(trimmed, "base64"), format: "der", type: "pkcs8" });
  } catch {
    throw configError("AUDIT_SIGNING_KEY is not a PKCS#8 private key (PEM, or base64 of DER)");
  }
  if (key.asymmetricKeyType !== "ed25519") throw configError(`AUDIT_SIGNING_KEY must be an Ed25519 key, not ${key.asymmetricKeyType}`);
  return key;
}

export function parsePublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = crypto.createPublicKey({ key: text.trim(), format: "pem" });
  } catch {
    throw configError("Not a PEM public key");
  }
  if (key.asymmetricKeyType !== "ed25519") throw configError(`The public key must be Ed25519, not ${key.asymmetricKeyType}`);
  return key;
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  const publicKey = crypto.createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

const inMemory = (file: string) => file === ":memory:" || file === "";

export function keyFilePath(dbFile: StoreFile = processStore()): string | null {
  return dbFile === null || inMemory(dbFile) ? null : `${path.resolve(dbFile)}.audit-key.pem`;
}

/** Where checkpoint files go; null for an in-memory database without AUDIT_CHECKPOINT_DIR. */
export function checkpointDir(dbFile: StoreFile = processStore()): string | null {
  if (process.env.AUDIT_CHECKPOINT_DIR) return path.resolve(process.env.AUDIT_CHECKPOINT_DIR);
  if (dbFile === null) throw configError("AUDIT_CHECKPOINT_DIR is required when the store is Postgres (shared storage every instance can write)");
  return inMemory(dbFile) ? null : `${path.resolve(dbFile)}.audit-checkpoints`;
}

let cache: { source: string; key: SigningKey } | undefined;

/**
 * The signing key. `create` (the default) makes the SQLite key file when there is
 * none; verification passes false, so checking never mints a key.
 */
export function signingKey(opts: { create?: boolean; dbFile?: StoreFile } = {}): SigningKey | null {
  const env = process.env.AUDIT_SIGNING_KEY;
  if (env) {
    if (cache?.source !== `env:${env}`) cache = { source: `env:${env}`, key: fromPrivate(parsePrivateKey(env)) };
    return cache.key;
  }
  const store = opts.dbFile === undefined ? processStore() : opts.dbFile;
  if (store === null) throw configError("AUDIT_SIGNING_KEY is required when the store is Postgres, so every instance signs with the same key");
  const file = keyFilePath(store);
  if (!file) return null;
  if (cache?.source === `file:${file}`) return cache.key;
  let pem: string;
  try {
    pem = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    if (opts.create === false) return null;
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      // wx: two processes starting at once cannot overwrite each other's key.
      fs.writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    pem = fs.readFileSync(file, "utf8");
  }
  cache = { source: `file:${file}`, key: fromPrivate(parsePrivateKey(pem)) };
  return cache.key;
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: "spki", format: "pem" }).toString();
}
