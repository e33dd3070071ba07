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

/**
 * The deepest nesting of arrays/objects in a JSON text (strings are skipped,
 * each in one indexOf hop to its closing quote). Linear, no recursion.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // the closing quote is the next one preceded by an even number of backslashes
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return max; // an unterminated string runs to the end
        let k = j - 1;
        while (text.charCodeAt(k) === 92 /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      i = j;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) max = depth;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}
