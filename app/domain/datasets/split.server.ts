/**
 * Deterministic train/validation/test assignment: the first 32 bits of
 * SHA-256(externalId) as a uniform number in [0, 1), cut at the fractions.
 * No salt on purpose: an external id lands in the same split in every snapshot
 * and dataset that uses the same fractions, so evaluation never leaks into training.
 */
import crypto from "node:crypto";
import type { Split, SplitFractions } from "./filter";

// crypto.hash (Node >= 20.12) is a one-shot digest, several times cheaper than createHash per id.
const digest: (s: string) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (s) => (crypto as unknown as { hash: (alg: string, data: string, enc: "buffer") => Buffer }).hash("sha256", s, "buffer")
    : (s) => crypto.createHash("sha256").update(s).digest();

export function splitUniform(externalId: string): number {
  return digest(externalId).readUInt32BE(0) / 2 ** 32;
}

export function splitOf(externalId: string, f: SplitFractions): Split {
  const u = splitUniform(externalId);
  if (u < f.train) return "train";
  if (u < f.train + f.validation) return "validation";
  return "test";
}
