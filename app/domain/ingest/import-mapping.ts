/**
 * The CSV mapping of the batch import: which columns of a CSV file make up a
 * decision (input and output fields, confidence, externalId, and optionally the
 * model, flags, field confidences, priority and occurrence time), and the pure
 * function that turns one CSV record into an ingest item. The item is then
 * validated by the ingest path like any other; this module only reads cells.
 *
 * A field is a column name (its text), or { "column": C, "as": "string" |
 * "number" | "integer" | "boolean" | "json" }, or { "value": constant }.
 * An empty cell leaves the field out (the type's schema decides whether it was required).
 */
import { z } from "zod";
import type { Issue } from "~/lib/errors";
import { zodIssues } from "~/lib/errors";

const column = z.string().min(1).max(200);
const KINDS = ["string", "number", "integer", "boolean", "json"] as const;
type Kind = (typeof KINDS)[number];

const fieldSchema = z.union([column, z.object({ column, as: z.enum(KINDS).default("string") }).strict(), z.object({ value: z.json() }).strict()]);
type Field = z.infer<typeof fieldSchema>;

const fieldsSchema = z
  .record(z.string().min(1).max(300), fieldSchema)
  .refine((f) => Object.keys(f).length > 0, "map at least one field")
  .refine((f) => !Object.hasOwn(f, "__proto__"), "__proto__ is not a field name");

export const csvMappingSchema = z
  .object({
    externalId: column,
    confidence: column,
    input: fieldsSchema,
    output: fieldsSchema,
    model: z
      .object({
        name: z.union([column, z.object({ value: z.string().min(1) }).strict()]),
        version: z.union([column, z.object({ value: z.string().min(1) }).strict()]),
      })
      .strict()
      .optional(),
    flags: z.union([column, z.object({ column, separator: z.string().min(1).max(5).default("|") }).strict()]).optional(),
    fieldConfidence: z.record(z.string().min(1).max(300), column).optional(),
    priority: column.optional(),
    occurredAt: column.optional(),
    delimiter: z.string().length(1).default(","),
  })
  .strict();

export type CsvMapping = z.infer<typeof csvMappingSchema>;

/** Decisions imported without a model in the mapping are recorded as this model. */
export const UNKNOWN_MODEL = { name: "unknown", version: "unknown" } as const;

export function parseCsvMapping(raw: unknown): { ok: true; mapping: CsvMapping } | { ok: false; issues: Issue[] } {
  const parsed = csvMappingSchema.safeParse(raw);
  return parsed.success ? { ok: true, mapping: parsed.data } : { ok: false, issues: zodIssues(parsed.error) };
}

/** Every column the mapping reads: each must be in the file's header. */
export function columnsOf(m: CsvMapping): string[] {
  const out = new Set<string>([m.externalId, m.confidence]);
  const add = (f: string | { column: string } | { value: unknown } | undefined) => {
    if (typeof f === "string") out.add(f);
    else if (f && "column" in f) out.add(f.column);
  };
  for (const f of [...Object.values(m.input), ...Object.values(m.output)]) add(f);
  add(m.model?.name);
  add(m.model?.version);
  add(m.flags);
  for (const c of Object.values(m.fieldConfidence ?? {})) out.add(c);
  if (m.priority) out.add(m.priority);
  if (m.occurredAt) out.add(m.occurredAt);
  return [...out];
}

class CellError extends Error {}

function convert(text: string, kind: Kind): unknown {
  switch (kind) {
    case "string":
      return text;
    case "number":
    case "integer": {
      const n = Number(text.trim());
      if (!Number.isFinite(n) || (kind === "integer" && !Number.isInteger(n)))
        throw new CellError(`"${text}" is not ${kind === "number" ? "a number" : "an integer"}`);
      return n;
    }
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (["true", "1", "yes"].includes(t)) return true;
      if (["false", "0", "no"].includes(t)) return false;
      throw new CellError(`"${text}" is not a boolean (true/false, 1/0, yes/no)`);
    }
    case "json":
      try {
        return JSON.parse(text);
      } catch {
        throw new CellError(`"${text.length > 60 ? text.slice(0, 60) + "…" : text}" is not JSON`);
      }
  }
}

/**
 * The ingest item a CSV record (column → text) stands for, or the issues of the cells that
 * cannot be read (a number column holding words); the item itself is validated by ingest.
 */
export function decisionOfRecord(m: CsvMapping, type: string, record: Record<string, string>): { item: Record<string, unknown> } | { issues: Issue[] } {
  const issues: Issue[] = [];
  const cell = (path: string, col: string, kind: Kind): unknown => {
    const text = record[col];
    if (text === undefined || text === "") return undefined;
    try {
      return convert(text, kind);
    } catch (e) {
      if (!(e instanceof CellError)) throw e;
      issues.push({ path, message: `column ${col}: ${e.message}` });
      return undefined;
    }
  };
  const field = (path: string, f: Field): unknown => (typeof f === "string" ? cell(path, f, "string") : "value" in f ? f.value : cell(path, f.column, f.as));
  const object = (path: string, fields: Record<string, Field>) => {
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(fields)) {
      const v = field(`${path}.${k}`, f);
      if (v !== undefined) out[k] = v;
    }
    return out;
  };
  const text = (f: string | { value: string }) => (typeof f === "string" ? record[f] : f.value);

  const item: Record<string, unknown> = {
    type,
    externalId: record[m.externalId],
    model: m.model ? { name: text(m.model.name), version: text(m.model.version) } : { ...UNKNOWN_MODEL },
    input: object("input", m.input),
    output: object("output", m.output),
    confidence: cell("confidence", m.confidence, "number"),
  };
  if (m.flags) {
    const col = typeof m.flags === "string" ? m.flags : m.flags.column;
    const sep = typeof m.flags === "string" ? "|" : m.flags.separator;
    item.flags = (record[col] ?? "")
      .split(sep)
      .map((f) => f.trim())
      .filter(Boolean);
  }
  if (m.fieldConfidence) {
    const fc: Record<string, unknown> = {};
    for (const [k, col] of Object.entries(m.fieldConfidence)) {
      const v = cell(`fieldConfidence.${k}`, col, "number");
      if (v !== undefined) fc[k] = v;
    }
    if (Object.keys(fc).length > 0) item.fieldConfidence = fc;
  }
  if (m.priority) {
    const v = cell("priority", m.priority, "integer");
    if (v !== undefined) item.priority = v;
  }
  if (m.occurredAt && record[m.occurredAt]) item.occurredAt = record[m.occurredAt];
  return issues.length > 0 ? { issues } : { item };
}
