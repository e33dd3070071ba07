/**
 * Deterministic train/validation/test assignment: the first 32 bits of
 * SHA-256(externalId) as a uniform number in [0, 1), cut at the fractions.
 * No salt on purpose: an external id lands in the same split in every snapshot
 * and dataset that uses the same fractions, so evaluation never leaks into training.
 */
import crypto from "node:crypto";
import type { Split, SplitFractions } from "./filter";

export function splitUniform(externalId: string): number {
  return crypto.createHash("sha256").update(externalId).digest().readUInt32BE(0) / 2 ** 32;
}

export function splitOf(externalId: string, f: SplitFractions): Split {
  const u = splitUniform(externalId);
  if (u < f.train) return "train";
  if (u < f.train + f.validation) return "validation";
  return "test";
}
