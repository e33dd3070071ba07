/**
 * The API reference page's content (/docs/api), read from the OpenAPI document:
 * operations grouped by tag, each schema written as a compact, TypeScript-like
 * type ("{ id: string; status: "open" | "claimed" }") with named components as
 * links. Done on the server, so the page ships text, not the 300 KB document.
 */
import { apiDocument } from "./openapi.server";

type JsonSchema = Record<string, unknown>;

export type Media = { mediaType: string; type: string | null };
export type ParamView = { name: string; in: string; required: boolean; type: string; description: string | null };
export type OperationView = {
  id: string;
  method: string;
  path: string;
  summary: string;
  description: string | null;
  permission: string | null;
  params: ParamView[];
  body: { required: boolean; type: string } | null;
  responses: { status: string; description: string; media: Media[] }[];
};
export type ApiReference = {
  title: string;
  version: string;
  description: string;
  tags: { name: string; description: string; operations: OperationView[] }[];
  schemas: { name: string; type: string }[];
};

const MAX_DEPTH = 8;

function refName(ref: string): string {
  return ref.split("/").pop()!;
}

/** A JSON Schema as a short type expression; named components stay as their names. */
export function typeText(s: JsonSchema | undefined, indent = "", depth = 0): string {
  if (!s || Object.keys(s).filter((k) => k !== "description" && k !== "default").length === 0) return "any";
  if (typeof s.$ref === "string") return refName(s.$ref);
  if (depth > MAX_DEPTH) return "…";
  const alts = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alts) return alts.map((a) => typeText(a, indent, depth + 1)).join(" | ");
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : [];
  if (types.length > 1) return types.map((t) => typeText({ ...s, type: t }, indent, depth)).join(" | ");
  const t = types[0];
  if (t === "array") {
    const item = typeText(s.items as JsonSchema, indent, depth + 1);
    return /[ |]/.test(item) && !item.startsWith("{") ? `(${item})[]` : `${item}[]`;
  }
  if (t === "object") {
    const props = s.properties as Record<string, JsonSchema> | undefined;
    const extra = s.additionalProperties;
    if (!props || Object.keys(props).length === 0) {
      return extra && typeof extra === "object" ? `{ [key: string]: ${typeText(extra as JsonSchema, indent, depth + 1)} }` : "object";
    }
    const required = new Set((s.required ?? []) as string[]);
    const inner = `${indent}  `;
    const lines = Object.entries(props).map(([k, v]) => {
      const note = [v.description, "default" in v ? `default ${JSON.stringify(v.default)}` : null].filter(Boolean).join("; ");
      return `${inner}${k}${required.has(k) ? "" : "?"}: ${typeText(v, inner, depth + 1)};${note ? `  // ${note}` : ""}`;
    });
    return `{\n${lines.join("\n")}\n${indent}}`;
  }
  if (t === "string") return s.format ? `string (${s.format})` : "string";
  if (t === "integer" || t === "number" || t === "boolean" || t === "null") return t;
  return "any";
}

export function apiReference(): ApiReference {
  const doc = apiDocument();
  const responses = doc.components.responses as Record<string, { description: string; content: Record<string, { schema: JsonSchema }> }>;
  const byTag = new Map(doc.tags.map((t) => [t.name, { ...t, operations: [] as OperationView[] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as {
        operationId: string;
        tags: string[];
        summary: string;
        description?: string;
        "x-permission"?: string;
        parameters?: { name: string; in: string; required: boolean; description?: string; schema: JsonSchema }[];
        requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
        responses: Record<string, { $ref?: string; description?: string; content?: Record<string, { schema: JsonSchema }> }>;
      };
      byTag.get(op.tags[0])!.operations.push({
        id: op.operationId,
        method: method.toUpperCase(),
        path,
        summary: op.summary,
        description: op.description ?? null,
        permission: op["x-permission"] ?? null,
        params: (op.parameters ?? []).map((p) => ({
          name: p.name,
          in: p.in,
          required: p.required,
          type: typeText(p.schema),
          description: p.description ?? null,
        })),
        body: op.requestBody ? { required: op.requestBody.required, type: typeText(op.requestBody.content["application/json"].schema) } : null,
        responses: Object.entries(op.responses).map(([status, r]) => {
          const answer = r.$ref ? responses[refName(r.$ref)] : r;
          return {
            status,
            description: answer.description ?? "",
            media: Object.entries(answer.content ?? {}).map(([mediaType, c]) => ({
              mediaType,
              type: mediaType === "application/json" ? typeText(c.schema) : null,
            })),
          };
        }),
      });
    }
  }
  return {
    title: doc.info.title,
    version: doc.info.version,
    description: doc.info.description,
    tags: [...byTag.values()],
    schemas: Object.entries(doc.components.schemas).map(([name, s]) => ({ name, type: typeText(s as JsonSchema) })),
  };
}
