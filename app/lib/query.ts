/**
 * The one query-string reader, for pages and the API alike, with one set of rules:
 * - values are trimmed, and an empty value counts as absent;
 * - a parameter the schema does not name is an issue ("unknown parameter"),
 *   unless the caller lists it in `ignore` (parameters another part of the page owns);
 * - a parameter given twice is an issue, except for list fields (z.array), where
 *   repeated keys and comma-separated values both add items;
 * - a malformed value is an issue with the schema's own message.
 * `readQuery` reports: with issues, `data` is what parses once the offending
 * parameters are dropped (null if nothing does), so a page can say what was wrong and
 * carry on. `requireQuery` refuses: the 400 "Invalid query" naming each parameter that
 * /api routes answer in the JSON error shape.
 */
import type { z } from "zod";
import { invalid, zodIssues, type Issue } from "./errors";

type ObjectSchema = z.ZodType & { shape: Record<string, z.ZodType> };

/** A list field: z.array, possibly inside optional/default/nullable. */
function isList(field: z.ZodType | undefined): boolean {
  let t = field as { _zod?: { def: { type: string; innerType?: unknown } } } | undefined;
  while (t?._zod?.def.innerType) t = t._zod.def.innerType as typeof t;
  return t?._zod?.def.type === "array";
}

export function readQuery<S extends ObjectSchema>(
  schema: S,
  params: URLSearchParams,
  opts: { ignore?: readonly string[] } = {},
): { data: z.infer<S> | null; issues: Issue[] } {
  const raw: Record<string, string | string[]> = {};
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (opts.ignore?.includes(key)) continue;
    const v = value.trim();
    const field = Object.hasOwn(schema.shape, key) ? schema.shape[key] : undefined;
    if (!field) {
      if (!seen.has(key)) issues.push({ path: key, message: "unknown parameter" });
    } else if (isList(field)) {
      const items = v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (items.length) raw[key] = [...((raw[key] as string[] | undefined) ?? []), ...items];
    } else if (seen.has(key)) {
      if (!issues.some((i) => i.path === key)) issues.push({ path: key, message: "give this parameter once" });
    } else if (v !== "") raw[key] = v;
    seen.add(key);
  }
  for (const i of issues) delete raw[i.path];
  // Drop each parameter the schema refuses, until what is left parses (a bounded number of rounds).
  for (let round = 0; round <= Object.keys(schema.shape).length; round++) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return { data: parsed.data, issues };
    const found = zodIssues(parsed.error);
    issues.push(...found.filter((f) => !issues.some((i) => i.path === f.path && i.message === f.message)));
    const bad = found.map((f) => f.path.split(".")[0]).filter((k) => Object.hasOwn(raw, k));
    if (bad.length === 0) break;
    for (const k of bad) delete raw[k];
  }
  return { data: null, issues };
}

/** The query through `schema`, or a 400 ("Invalid query") naming each parameter that is wrong. */
export function requireQuery<S extends ObjectSchema>(
  schema: S,
  params: URLSearchParams,
  opts: { ignore?: readonly string[]; message?: string } = {},
): z.infer<S> {
  const { data, issues } = readQuery(schema, params, opts);
  if (issues.length > 0 || data === null) throw invalid(opts.message ?? "Invalid query", issues);
  return data;
}
