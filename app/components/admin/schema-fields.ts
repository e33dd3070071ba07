/** A read-only description of what an output schema defines, for previews next to the JSON editor. */
export type SchemaFieldRow = { path: string; type: string; required: boolean; constraints: string[]; title?: string };

type Loose = { type?: unknown; properties?: unknown; required?: unknown; items?: unknown; [k: string]: unknown };

function isObj(v: unknown): v is Loose {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Every field the schema defines (objects and arrays included, so nesting is visible),
 * tolerant of half-typed schemas: whatever is not understood is skipped.
 */
export function describeSchemaFields(schema: unknown, prefix = ""): SchemaFieldRow[] {
  if (!isObj(schema) || !isObj(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const rows: SchemaFieldRow[] = [];
  for (const [name, f] of Object.entries(schema.properties)) {
    if (!isObj(f)) continue;
    const path = prefix ? `${prefix}.${name}` : name;
    const c: string[] = [];
    let type = typeof f.type === "string" ? f.type : "?";
    if (Array.isArray(f.enum)) {
      type = "enum";
      c.push(`one of ${f.enum.map(String).join(", ")}`);
    }
    if (f.format === "date") type = "date";
    if (typeof f.minimum === "number") c.push(`≥ ${f.minimum}`);
    if (typeof f.maximum === "number") c.push(`≤ ${f.maximum}`);
    if (typeof f.minLength === "number") c.push(`length ≥ ${f.minLength}`);
    if (typeof f.maxLength === "number") c.push(`length ≤ ${f.maxLength}`);
    if (typeof f.minItems === "number") c.push(`≥ ${f.minItems} items`);
    if (typeof f.maxItems === "number") c.push(`≤ ${f.maxItems} items`);
    if (type === "array") type = "array of objects";
    rows.push({ path, type, required: required.has(name), constraints: c, title: typeof f.title === "string" ? f.title : undefined });
    if (f.type === "object") rows.push(...describeSchemaFields(f, path));
    if (f.type === "array" && isObj(f.items)) rows.push(...describeSchemaFields(f.items, `${path}.*`));
  }
  return rows;
}

/** Leaf paths of a possibly half-typed schema (same rules as output-schema's leafPaths). */
export function looseLeafPaths(schema: unknown): string[] {
  return describeSchemaFields(schema)
    .filter((r) => r.type !== "object" && r.type !== "array of objects")
    .map((r) => r.path);
}
