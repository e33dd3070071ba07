/**
 * JSON boundaries: objects kept exactly as sent, and a nesting-depth bound
 * checked on the raw text before parsing (deep nesting would otherwise blow
 * the stack of every recursive walker downstream: hashing, storage, diffing).
 * `parseJsonText` is the one way posted JSON text becomes a value: request
 * bodies (`readJson` in http.server.ts) and JSON posted in a form field alike.
 */
import { z } from "zod";
import { AppError } from "./errors";

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

/**
 * A number too large for a double (1e400) parses to Infinity, which JSON
 * cannot hold: stored, it would silently become null. Such a literal needs an
 * exponent of three or more digits, or 210+ digits in a row (with at most a
 * two-digit exponent), so a text without either is skipped without a walk.
 */
const MAYBE_NOT_FINITE = /[eE]\+?\d{3}|\d{210}/;

/** Paths (dot-joined, from the body's root) of numbers that are not finite; at most `max`. */
export function nonFinitePaths(value: unknown, max = 10): string[] {
  const found: string[] = [];
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length && found.length < max) {
    const [v, path] = stack.pop()!;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) found.push(path);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], path ? `${path}.${i}` : String(i)]);
    } else if (typeof v === "object" && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]], path ? `${path}.${keys[i]}` : keys[i]]);
    }
  }
  return found;
}

/**
 * Refuses parsed JSON holding numbers that are not finite (400 naming each
 * field, e.g. `decisions.3.input.amount`): nothing is silently changed. Given
 * the text it was parsed from, walks the value only when the text could hold one.
 */
export function requireFiniteNumbers<T>(value: T, text?: string): T {
  if (text !== undefined && !MAYBE_NOT_FINITE.test(text)) return value;
  const paths = nonFinitePaths(value);
  if (paths.length === 0) return value;
  throw new AppError(
    "invalid",
    "A number is too large to store",
    paths.map((path) => ({ path, message: "number is out of range (not a finite double); send it as a string if it must be kept" })),
  );
}

/**
 * Posted JSON text → a value, or a 400 naming what is wrong: empty, nested too
 * deeply, not JSON, or holding numbers too large to store. `what` names the
 * text in messages ("The request body", "The review").
 */
export function parseJsonText(text: string, what = "The request body"): unknown {
  if (text.trim() === "") throw new AppError("invalid", `${what} is empty`, [{ path: "", message: "expected JSON" }]);
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new AppError("invalid", `${what} is nested too deeply`, [{ path: "", message: `JSON may nest at most ${MAX_JSON_DEPTH} levels` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid", `${what} is not valid JSON`, [{ path: "", message: (e as Error).message }]);
  }
  return requireFiniteNumbers(value, text);
}
