/** Hashing, ids and canonical JSON: small, deterministic helpers. */
import crypto from "node:crypto";

// One-shot hashing (Node >= 20.12) skips a Hash object per call; ingest hashes twice per decision.
const oneShot = (crypto as { hash?: (alg: string, data: string | Buffer, enc: "hex") => string }).hash;

export function sha256(data: string | Buffer): string {
  return oneShot ? oneShot("sha256", data, "hex") : crypto.createHash("sha256").update(data).digest("hex");
}

/**
 * JSON with object keys sorted, so equal values always hash equally. Written
 * directly (no sorted copies) because ingest hashes every decision; the output
 * is exactly JSON.stringify of a key-sorted copy without undefined members,
 * and keys such as "__proto__" are plain data.
 */
export function canonicalJson(value: unknown): string {
  return writeCanonical(value) ?? "null";
}

function writeCanonical(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default:
      return JSON.stringify(value); // undefined, functions and symbols are left out; bigint throws, as JSON.stringify does
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    let strings = true;
    for (let i = 0; i < value.length && strings; i++) strings = typeof value[i] === "string";
    if (strings) return JSON.stringify(value); // the same text, written natively
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + (writeCanonical(value[i]) ?? "null");
    return out + "]";
  }
  const keys = orderedKeys(value);
  let out = "{";
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = writeCanonical((value as Record<string, unknown>)[k]);
    if (v === undefined) continue;
    out += (first ? "" : ",") + quotedKey(k) + ":" + v;
    first = false;
  }
  return out + "}";
}

// Object keys repeat across decisions (field names): quote each once. Bounded, so
// arbitrary keys in payloads cannot grow it without limit.
const quoted = new Map<string, string>();
function quotedKey(k: string): string {
  let q = quoted.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quoted.size < 10_000 && k.length <= 100) quoted.set(k, q);
  }
  return q;
}

/**
 * Sorted keys in the order a JavaScript object holds them once built from
 * sorted keys: array-index keys first in numeric order (engines always put them
 * first), then the rest sorted. Keeps hashes identical to earlier versions.
 * Objects are small, so the named keys are insertion-sorted (linear when they
 * already come sorted); `<` orders strings by UTF-16 code units, as sort() does.
 */
function orderedKeys(value: object): string[] {
  const keys = Object.keys(value); // index keys come first, already in numeric order
  const n = keys.length;
  let i = 0;
  while (i < n && isArrayIndex(keys[i])) i++;
  if (n - i < 2) return keys;
  if (n - i > 32) return i === 0 ? keys.sort() : keys.slice(0, i).concat(keys.slice(i).sort());
  for (let j = i + 1; j < n; j++) {
    const k = keys[j];
    let m = j - 1;
    while (m >= i && keys[m] > k) {
      keys[m + 1] = keys[m];
      m--;
    }
    keys[m + 1] = k;
  }
  return keys;
}

function isArrayIndex(k: string): boolean {
  const c = k.charCodeAt(0);
  if (!(c >= 48 && c <= 57)) return false; // most keys: not a digit first
  return /^(?:0|[1-9]\d{0,9})$/.test(k) && Number(k) < 4294967295;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Time-ordered unique id (ULID layout) with a readable prefix, e.g. dec_01J.... */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomPool(16);
  let rand = "";
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i] & 31];
  return `${prefix}_${time}${rand}`;
}

// Ids are minted a thousand at a time on ingest: draw their randomness from a refilled pool.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomPool(n: number): Buffer {
  if (poolAt + n > pool.length) {
    pool = crypto.randomBytes(4096);
    poolAt = 0;
  }
  poolAt += n;
  return pool.subarray(poolAt - n, poolAt);
}

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString("base64url");
}
