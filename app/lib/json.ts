/**
 * JSON boundaries: objects kept exactly as sent, and a nesting-depth bound
 * checked on the raw text before parsing (deep nesting would otherwise blow
 * the stack of every recursive walker downstream: hashing, storage, diffing).
 */
import { z } from "zod";

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Any JSON object, passed through untouched. Unlike z.record, it neither copies
 * nor silently drops keys such as "__proto__", so stricter validators downstream
 * see exactly what was sent and opaque payloads are stored as sent.
 */
export const jsonObjectSchema = z.custom<Record<string, unknown>>(isPlainObject, { message: "expected a JSON object" });

export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays/objects in a JSON text (strings are skipped). Linear, no recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) max = depth;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}
