/**
 * Which labelled examples a dataset holds: the filter, its zod schema (shared by
 * the API, the form, the CLI and the count preview) and its query-string form.
 * Pure and isomorphic.
 */
import { z } from "zod";
import { typeKeySchema } from "../decision-types/definition";
import type { Issue } from "~/lib/errors";

export const EXAMPLE_ACTIONS = ["approved", "corrected", "rejected"] as const;
export type ExampleAction = (typeof EXAMPLE_ACTIONS)[number];
export const SPLITS = ["train", "validation", "test"] as const;
export type Split = (typeof SPLITS)[number];
export const FORMATS = ["jsonl", "csv", "parquet"] as const;
export type ExportFormat = (typeof FORMATS)[number];

const isoDate = z.iso.datetime({ offset: true, message: "use an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z" });

/**
 * `from`/`to` bound the time of the final human verdict (from inclusive, to exclusive).
 * List fields match any of their values; an empty list means "no restriction".
 * `agreementOnly` keeps only examples confirmed by a four-eyes second reviewer who agreed.
 */
export const exampleFilterSchema = z
  .object({
    type: typeKeySchema,
    from: isoDate.optional(),
    to: isoDate.optional(),
    modelVersions: z.array(z.string().min(1).max(200)).max(50).default([]),
    actions: z.array(z.enum(EXAMPLE_ACTIONS)).max(3).default([]),
    routes: z
      .array(z.enum(["auto", "review"]))
      .max(2)
      .default([]),
    reasonCodes: z.array(z.string().min(1).max(64)).max(50).default([]),
    agreementOnly: z.boolean().default(false),
  })
  .strict()
  .refine((f) => !f.from || !f.to || Date.parse(f.from) < Date.parse(f.to), { path: ["to"], message: "to must be after from" });

export type ExampleFilter = z.infer<typeof exampleFilterSchema>;

export const splitFractionsSchema = z
  .object({
    train: z.number().min(0).max(1),
    validation: z.number().min(0).max(1),
    test: z.number().min(0).max(1),
  })
  .strict()
  .refine((s) => Math.abs(s.train + s.validation + s.test - 1) < 1e-9, { path: ["train"], message: "train + validation + test must add up to 1" });

export type SplitFractions = z.infer<typeof splitFractionsSchema>;
export const DEFAULT_SPLIT: SplitFractions = { train: 0.8, validation: 0.1, test: 0.1 };

/**
 * The query-string form of a filter, as `filterInputFromParams` reads it (GET
 * /api/v1/datasets/preview, the datasets page): for the API contract. What it
 * reads is then validated by exampleFilterSchema (`parseFilter`).
 */
export const filterQuerySchema = z.object({
  type: typeKeySchema,
  from: z.string().optional().describe("ISO 8601 date-time, or YYYY-MM-DD (read as UTC midnight); inclusive"),
  to: z.string().optional().describe("ISO 8601 date-time, or YYYY-MM-DD (read as UTC midnight); exclusive"),
  modelVersion: z.array(z.string().min(1).max(200)).optional().describe("Repeat the parameter or separate values with commas"),
  action: z.array(z.enum(EXAMPLE_ACTIONS)).optional().describe("Repeat the parameter or separate values with commas"),
  route: z
    .array(z.enum(["auto", "review"]))
    .optional()
    .describe("Repeat the parameter or separate values with commas"),
  reasonCode: z.array(z.string().min(1).max(64)).optional().describe("Repeat the parameter or separate values with commas"),
  agreementOnly: z.enum(["true", "false", "on", "1", "0"]).optional().describe("true, on or 1: only examples a four-eyes second reviewer agreed with"),
});

/** Query-string / form keys → filter fields. Repeated keys (or comma lists) give arrays. */
const LIST_KEYS = { modelVersion: "modelVersions", action: "actions", route: "routes", reasonCode: "reasonCodes" } as const;

export function filterInputFromParams(params: URLSearchParams | FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const get = (k: string) => {
    const v = params.get(k);
    return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  };
  if (get("type")) out.type = get("type");
  for (const k of ["from", "to"] as const) {
    const v = get(k);
    // <input type="date"> sends YYYY-MM-DD: read it as UTC midnight.
    if (v) out[k] = /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v;
  }
  for (const [param, field] of Object.entries(LIST_KEYS)) {
    const values = params
      .getAll(param)
      .flatMap((v) => (typeof v === "string" ? v.split(",") : []))
      .map((v) => v.trim())
      .filter(Boolean);
    if (values.length) out[field] = values;
  }
  const agreement = get("agreementOnly");
  if (agreement) out.agreementOnly = agreement === "true" || agreement === "on" || agreement === "1";
  return out;
}

export function parseFilter(input: unknown): { ok: true; filter: ExampleFilter } | { ok: false; issues: Issue[] } {
  const parsed = exampleFilterSchema.safeParse(input);
  if (parsed.success) return { ok: true, filter: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })) };
}

/** One line a person can read: "invoice · corrected, rejected · model 1.2 · since 2026-01-01". */
export function describeFilter(f: ExampleFilter): string {
  const parts: string[] = [f.type];
  if (f.actions.length) parts.push(f.actions.join(", "));
  if (f.routes.length) parts.push(`route ${f.routes.join(", ")}`);
  if (f.modelVersions.length) parts.push(`model ${f.modelVersions.join(", ")}`);
  if (f.reasonCodes.length) parts.push(`reason ${f.reasonCodes.join(", ")}`);
  if (f.from) parts.push(`from ${f.from.slice(0, 10)}`);
  if (f.to) parts.push(`until ${f.to.slice(0, 10)}`);
  if (f.agreementOnly) parts.push("four-eyes agreement only");
  return parts.join(" · ");
}
