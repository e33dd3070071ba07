/**
 * Four-eyes rules: which decisions need a second, independent review, and
 * whether two verdicts agree. Pure and isomorphic.
 */
import { globMatch } from "../routing/glob";
import { changedPaths } from "./diff";

export type FourEyesRule = { flags?: string[]; fieldAbove?: Record<string, number> };

/** Reads a dotted path ("lines.0.amount") from a JSON value. */
export function valueAt(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const seg of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * Why a decision needs a second review, or null. Field limits are checked on
 * the model's output and on the first reviewer's correction, so correcting an
 * amount above the limit cannot slip past the rule.
 */
export function fourEyesReason(rule: FourEyesRule | null | undefined, flags: string[], outputs: unknown[]): string | null {
  if (!rule) return null;
  for (const pattern of rule.flags ?? []) {
    const hit = flags.find((f) => globMatch(pattern, f));
    if (hit) return `flag ${hit} matches ${pattern}`;
  }
  for (const [path, limit] of Object.entries(rule.fieldAbove ?? {})) {
    for (const out of outputs) {
      const v = valueAt(out, path);
      if (typeof v === "number" && v > limit) return `field ${path} ${v} > ${limit}`;
    }
  }
  return null;
}

export type VerdictSummary = { action: string; output?: unknown; reasonCodes?: string[] };

/** Two verdicts agree when they take the same action and, for corrections, produce the same output. */
export function verdictsAgree(a: VerdictSummary, b: VerdictSummary): boolean {
  if (a.action !== b.action) return false;
  if (a.action === "correct") return changedPaths(a.output, b.output).length === 0;
  return true;
}

/**
 * Who reads a sealed first verdict. A four-eyes pair is sealed while its second
 * review is still to be given; until then the first verdict and who gave it are
 * shown only to that first reviewer and to auditors, whatever anyone else's role
 * (a manager or admin may yet become the second reviewer).
 */
export type SealViewer = { userId: string | null; role: string | null };

/** Nobody in particular: sees no sealed verdict (API keys not tied to a user, internal callers). */
export const NO_VIEWER: SealViewer = { userId: null, role: null };

export const SEALED_LABEL = "sealed review (hidden until final)";

export function seesEverySealedVerdict(viewer: SealViewer): boolean {
  return viewer.role === "auditor";
}

export function seesSealedVerdict(viewer: SealViewer, firstReviewerId: string | null): boolean {
  return seesEverySealedVerdict(viewer) || (viewer.userId !== null && viewer.userId === firstReviewerId);
}
