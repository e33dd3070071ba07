/**
 * JSON boundaries: objects kept exactly as sent, and a nesting-depth bound
 * checked on the raw text before parsing (deep nesting would otherwise blow
 * the stack of every recursive walker downstream: hashing, storage, diffing).
 * `parseJsonText` is the one way posted JSON text becomes a value: request
 * bodies (`readJson` in http.server.ts) and JSON posted in a form field alike.
 */
import { z } from "zod";
import { AppError, type Issue } from "./errors";

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

/**
 * U+0000 (NUL) in text: PostgreSQL's text cannot hold it (a query with one fails), and
 * no identifier, name, note or payload needs it, so text holding one is refused on
 * both stores alike, wherever it comes in (JSON, forms, files, the URL). In JSON text
 * it can only be written as an escape (a raw control character is not valid JSON).
 */
export const NUL = "\u0000";
const MAYBE_NUL = "\\u0000";
export const NUL_MESSAGE = "holds the NUL character (U+0000), which text here may not contain";
const NOT_FINITE_MESSAGE = "number is out of range (not a finite double); send it as a string if it must be kept";

/** A field name or path segment as people read it: a NUL written as \u0000. */
export const showNul = (key: string) => (key.includes(NUL) ? key.replaceAll(NUL, "\\u0000") : key);

/**
 * Values no store keeps as sent, by path (dot-joined, from the root; at most `max`):
 * numbers that are not finite, and strings (or object keys) holding a NUL.
 */
export function unstorablePaths(value: unknown, max = 10): Issue[] {
  const found: Issue[] = [];
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length && found.length < max) {
    const [v, path] = stack.pop()!;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) found.push({ path, message: NOT_FINITE_MESSAGE });
    } else if (typeof v === "string") {
      if (v.includes(NUL)) found.push({ path, message: NUL_MESSAGE });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], path ? `${path}.${i}` : String(i)]);
    } else if (typeof v === "object" && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        const at = path ? `${path}.${showNul(key)}` : showNul(key);
        if (key.includes(NUL)) found.push({ path: at, message: `the key ${NUL_MESSAGE}` });
        else stack.push([(v as Record<string, unknown>)[key], at]);
      }
    }
  }
  return found;
}

/**
 * The issues of parsed JSON that cannot be stored as sent (`unstorablePaths`). Given
 * the text it was parsed from, walks the value only when the text could hold one.
 */
export function jsonValueIssues(value: unknown, text?: string): Issue[] {
  if (text !== undefined && !MAYBE_NOT_FINITE.test(text) && !text.includes(MAYBE_NUL)) return [];
  return unstorablePaths(value);
}

/** Refuses (400 naming each field, e.g. `decisions.3.input.amount`) parsed JSON that cannot be stored as sent: nothing is silently changed. */
export function requireStorableJson<T>(value: T, text?: string): T {
  const issues = jsonValueIssues(value, text);
  if (issues.length === 0) return value;
  const message = issues.every((i) => i.message === NOT_FINITE_MESSAGE) ? "A number is too large to store" : "A value cannot be stored as sent";
  throw new AppError("invalid", message, issues);
}

/**
 * Posted JSON text → a value, or a 400 naming what is wrong: empty, nested too
 * deeply, not JSON, or holding values no store keeps as sent (numbers too large,
 * text with a NUL). `what` names the
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
  return requireStorableJson(value, text);
}
