/**
 * The output-schema language of a decision type: a JSON Schema subset
 * (object with string, number, integer, boolean, enum, date and arrays of
 * objects; required fields; min/max). This module defines the subset itself
 * (so a type definition is validated before it is stored) and compiles a
 * schema into a zod validator used by ingest, review and the correction form.
 * Pure and isomorphic: the browser uses the same validator as the server.
 */
import { z } from "zod";
import { isPlainObject } from "~/lib/json";

export type FieldSchema =
  | { type: "string"; title?: string; description?: string; enum?: string[]; format?: "date"; minLength?: number; maxLength?: number }
  | { type: "number" | "integer"; title?: string; description?: string; minimum?: number; maximum?: number }
  | { type: "boolean"; title?: string; description?: string }
  | { type: "array"; title?: string; description?: string; items: ObjectSchema; minItems?: number; maxItems?: number }
  | ObjectSchema;

export type ObjectSchema = {
  type: "object";
  title?: string;
  description?: string;
  properties: Record<string, FieldSchema>;
  required?: string[];
};

const meta = { title: z.string().max(200).optional(), description: z.string().max(2000).optional() };
/** Names that would read or replace built-in object members when used as keys. */
const RESERVED_NAMES = new Set(["__proto__", "prototype", ...Object.getOwnPropertyNames(Object.prototype)]);
const fieldName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "field names are letters, digits and _, starting with a letter or _")
  .refine((n) => !RESERVED_NAMES.has(n), { message: "this field name is reserved", abort: true });
const minNotAboveMax = (lo: string, hi: string) => (f: Record<string, unknown>) =>
  f[lo] === undefined || f[hi] === undefined || (f[lo] as number) <= (f[hi] as number);

const stringField = z
  .object({
    type: z.literal("string"),
    ...meta,
    enum: z.array(z.string().min(1).max(200)).min(1).max(500).optional(),
    format: z.literal("date").optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(0).optional(),
  })
  .strict()
  .refine(minNotAboveMax("minLength", "maxLength"), { message: "minLength must not exceed maxLength" });
const numberField = z
  .object({ type: z.enum(["number", "integer"]), ...meta, minimum: z.number().optional(), maximum: z.number().optional() })
  .strict()
  .refine(minNotAboveMax("minimum", "maximum"), { message: "minimum must not exceed maximum" });
const booleanField = z.object({ type: z.literal("boolean"), ...meta }).strict();

function objectSchemaOf(depth: number): z.ZodType<ObjectSchema> {
  const field: z.ZodType<FieldSchema> =
    depth <= 0
      ? z.union([stringField, numberField, booleanField])
      : z.lazy(() =>
          z.union([
            stringField,
            numberField,
            booleanField,
            z
              .object({
                type: z.literal("array"),
                ...meta,
                items: objectSchemaOf(depth - 1),
                minItems: z.number().int().min(0).optional(),
                maxItems: z.number().int().min(0).optional(),
              })
              .strict()
              .refine(minNotAboveMax("minItems", "maxItems"), { message: "minItems must not exceed maxItems" }),
            objectSchemaOf(depth - 1),
          ]),
        );
  return z
    .object({
      type: z.literal("object"),
      ...meta,
      properties: z
        .unknown()
        .refine((p) => !isPlainObject(p) || !Object.hasOwn(p, "__proto__"), { message: "this field name is reserved", path: ["__proto__"], abort: true })
        .pipe(z.record(fieldName, field))
        .refine((p) => Object.keys(p).length > 0, "an object needs at least one property"),
      required: z.array(z.string()).optional(),
    })
    .strict()
    .superRefine((o, ctx) => {
      for (const r of o.required ?? []) {
        if (!Object.hasOwn(o.properties, r)) ctx.addIssue({ code: "custom", path: ["required"], message: `required field "${r}" is not a property` });
      }
    }) as unknown as z.ZodType<ObjectSchema>;
}

/** Validates an output schema itself (three levels of nesting are plenty for real documents). */
export const outputSchemaSchema = objectSchemaOf(3);

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** YYYY-MM-DD naming a day that exists (leap years included); arithmetic, as every decision's dates go through it. */
function isCalendarDate(v: string): boolean {
  if (!DATE_RE.test(v)) return false;
  const y = Number(v.slice(0, 4));
  const m = Number(v.slice(5, 7));
  const d = Number(v.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

function fieldValidator(f: FieldSchema): z.ZodType {
  switch (f.type) {
    case "string": {
      if (f.enum) return z.enum(f.enum as [string, ...string[]]);
      let s = z.string();
      if (f.minLength !== undefined) s = s.min(f.minLength);
      if (f.maxLength !== undefined) s = s.max(f.maxLength);
      if (f.format === "date") return s.refine(isCalendarDate, "expected a calendar date as YYYY-MM-DD");
      return s;
    }
    case "number":
    case "integer": {
      let n = f.type === "integer" ? z.number().int() : z.number();
      if (f.minimum !== undefined) n = n.min(f.minimum);
      if (f.maximum !== undefined) n = n.max(f.maximum);
      return n;
    }
    case "boolean":
      return z.boolean();
    case "array": {
      let a = z.array(compileOutputSchema(f.items));
      if (f.minItems !== undefined) a = a.min(f.minItems);
      if (f.maxItems !== undefined) a = a.max(f.maxItems);
      return a;
    }
    case "object":
      return compileOutputSchema(f);
  }
}

/** Compiles an output schema into a strict zod validator (unknown fields are errors). */
export function compileOutputSchema(schema: ObjectSchema): z.ZodType<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const shape: Record<string, z.ZodType> = {};
  for (const [name, f] of Object.entries(schema.properties)) {
    const v = fieldValidator(f);
    shape[name] = required.has(name) ? v : v.optional();
  }
  return z.object(shape).strict() as unknown as z.ZodType<Record<string, unknown>>;
}

/** Every leaf field path of a schema, in schema order ("lines.*.amount" for array items). */
export function leafPaths(schema: ObjectSchema, prefix = ""): string[] {
  const out: string[] = [];
  for (const [name, f] of Object.entries(schema.properties)) {
    const p = prefix ? `${prefix}.${name}` : name;
    if (f.type === "object") out.push(...leafPaths(f, p));
    else if (f.type === "array") out.push(...leafPaths(f.items, `${p}.*`));
    else out.push(p);
  }
  return out;
}
