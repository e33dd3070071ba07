/**
 * The routing policy: a pure function from a decision and its type's policy
 * to a route. `review` when any rule fires (every fired rule is a reason),
 * otherwise `auto`; a deterministic fraction of auto decisions is QA-sampled.
 */
import { z } from "zod";
import { globMatch } from "./glob";

export const routingPolicySchema = z
  .object({
    minConfidence: z.number().min(0).max(1).optional(),
    fieldMinConfidence: z.record(z.string().min(1).max(200), z.number().min(0).max(1)).default({}),
    reviewFlags: z.array(z.string().min(1).max(200)).max(100).default([]),
    qaSampleRate: z.number().min(0).max(1).default(0),
  })
  .strict();

export type RoutingPolicy = z.infer<typeof routingPolicySchema>;

export type RoutableDecision = {
  id: string;
  confidence: number;
  fieldConfidence?: Record<string, number> | null;
  flags: string[];
};

export type RouteResult = { route: "auto" | "review"; reasons: string[]; qaSampled: boolean };

/** Rule kinds, as the first word of each reason; reports rank them. */
export type RuleKind = "confidence" | "field" | "flag";

export function ruleKindOf(reason: string): RuleKind | "other" {
  const w = reason.split(" ", 1)[0];
  return w === "confidence" || w === "field" || w === "flag" ? w : "other";
}

const fmt = (n: number) => String(Math.round(n * 10_000) / 10_000);

export function routeDecision(d: RoutableDecision, policy: RoutingPolicy): RouteResult {
  const reasons: string[] = [];
  if (policy.minConfidence !== undefined && d.confidence < policy.minConfidence) {
    reasons.push(`confidence ${fmt(d.confidence)} < ${fmt(policy.minConfidence)}`);
  }
  const fc = d.fieldConfidence ?? {};
  for (const [pattern, min] of Object.entries(policy.fieldMinConfidence ?? {})) {
    const matching = Object.entries(fc).filter(([path]) => globMatch(pattern, path, "."));
    if (matching.length === 0) {
      reasons.push(`field ${pattern} confidence missing (needs ${fmt(min)})`);
      continue;
    }
    for (const [path, c] of matching) {
      if (c < min) reasons.push(`field ${path} confidence ${fmt(c)} < ${fmt(min)}`);
    }
  }
  for (const flag of d.flags) {
    const hit = (policy.reviewFlags ?? []).find((p) => globMatch(p, flag));
    if (hit) reasons.push(`flag ${flag} matches ${hit}`);
  }
  if (reasons.length > 0) return { route: "review", reasons, qaSampled: false };
  return { route: "auto", reasons: [], qaSampled: qaSample(d.id, policy.qaSampleRate ?? 0) };
}

/**
 * Deterministic QA sampling: the decision id hashes (FNV-1a, 32 bit) to a
 * uniform number in [0, 1); the decision is sampled when it falls below the rate.
 * The same id always gives the same answer, on every machine.
 */
export function qaSample(id: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return uniformFromId(id) < rate;
}

export function uniformFromId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // one extra avalanche round so near-identical ids spread evenly
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
