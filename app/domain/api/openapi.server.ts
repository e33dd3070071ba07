/**
 * The OpenAPI 3.1 document, generated from the contract (contract.server.ts)
 * with zod's own JSON Schema output (draft 2020-12, the dialect of OpenAPI 3.1):
 * requests as the schemas accept them (`io: "input"`: defaults optional),
 * answers as the domain produces them (`io: "output"`). Schemas given a
 * `.meta({ id })` become named components. Pure: no database, no server, so
 * `npm run client:generate` builds the same document the app serves.
 */
import { z } from "zod";
import { jsonObjectSchema } from "~/lib/json";
import { ERROR_CODES, errorBodySchema, STATUS, type ErrorCode } from "~/lib/errors";
import { operations, TAGS, webhookEvents, type Answer, type Operation } from "./contract.server";

type JsonSchema = Record<string, unknown>;

export const API_VERSION = "1.0.0";

/** Error answers an operation can list (405 and 500 are not per operation: every path may answer them). */
type ListedError = Exclude<ErrorCode, "internal" | "method_not_allowed">;

const ERROR_RESPONSES: Record<ListedError, { name: string; description: string }> = {
  invalid: { name: "Invalid", description: "The request is malformed: each issue names a parameter or body field" },
  unauthenticated: { name: "Unauthenticated", description: "No, unknown, revoked or expired API key" },
  forbidden: { name: "Forbidden", description: "The key's scopes (or the user's role) do not allow this" },
  not_found: { name: "NotFound", description: "No such resource" },
  conflict: { name: "Conflict", description: "The resource's state does not allow this (taken, already exists, not ready)" },
  proposal_required: {
    name: "ProposalRequired",
    description: "The type is under policy approval (policyApproval): change its routing, fourEyes, targetAccuracy or policyApproval through a policy proposal",
  },
  payload_too_large: { name: "PayloadTooLarge", description: "The body is larger than the server's limit" },
  unsupported_media_type: { name: "UnsupportedMediaType", description: "Send JSON with 'Content-Type: application/json'" },
};

/** The Standard Webhooks headers every event is sent with. */
const WEBHOOK_HEADERS = [
  {
    name: "webhook-id",
    in: "header",
    required: true,
    description: "The delivery's id, the same on every attempt: deduplicate on it",
    schema: { type: "string" },
  },
  {
    name: "webhook-timestamp",
    in: "header",
    required: true,
    description: "When this attempt was signed, in Unix seconds",
    schema: { type: "string", pattern: "^[0-9]+$" },
  },
  {
    name: "webhook-signature",
    in: "header",
    required: true,
    description:
      'Space-separated `v1,<base64 HMAC-SHA256>` signatures of "<webhook-id>.<webhook-timestamp>.<body>", one per live secret (keyed with the base64-decoded part of the secret after `whsec_`)',
    schema: { type: "string" },
  },
];

/** Collects named schemas (zod `.meta({ id })`) as components while converting. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    const out = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      io,
      unrepresentable: "any",
      override: (ctx) => {
        // An opaque JSON object (z.custom, for speed and exactness): say what it is.
        if (ctx.zodSchema === jsonObjectSchema) Object.assign(ctx.jsonSchema, { type: "object", additionalProperties: true });
      },
    }) as JsonSchema;
    delete out.$schema;
    const defs = (out.$defs ?? {}) as Record<string, JsonSchema>;
    delete out.$defs;
    for (const [id, def] of Object.entries(defs)) {
      const moved = rewriteRefs(def) as JsonSchema;
      const known = this.schemas[id];
      if (known && JSON.stringify(known) !== JSON.stringify(moved)) {
        throw new Error(`Schema id "${id}" stands for two different schemas (a request and an answer?): give one of them another id`);
      }
      this.schemas[id] = moved;
    }
    return rewriteRefs(out) as JsonSchema;
  }
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      out[k] = k === "$ref" && typeof val === "string" ? val.replace(/^#\/\$defs\//, "#/components/schemas/") : rewriteRefs(val);
    }
    return out;
  }
  return v;
}

/** The error codes an operation can answer: those its inputs imply, and its own. */
export function errorCodesOf(op: Operation): ListedError[] {
  const codes = new Set<ErrorCode>(op.errors ?? []);
  if (op.query || op.body) codes.add("invalid");
  if (op.permission) {
    codes.add("unauthenticated");
    codes.add("forbidden");
  }
  if (op.params) codes.add("not_found");
  if (op.body) {
    codes.add("payload_too_large");
    codes.add("unsupported_media_type");
  }
  return ERROR_CODES.filter((c): c is ListedError => c in ERROR_RESPONSES && codes.has(c));
}

function parameters(op: Operation, c: Components) {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ["path", op.params],
    ["query", op.query],
  ] as const) {
    if (!schema) continue;
    const json = c.convert(schema, "input");
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, prop] of Object.entries(props)) {
      const { description, ...rest } = prop;
      out.push({
        name,
        in: where,
        required: where === "path" || required.has(name),
        ...(description ? { description } : {}),
        schema: rest,
        ...(rest.type === "array" ? { style: "form", explode: true } : {}),
      });
    }
  }
  return out;
}

function answer(a: Answer, c: Components) {
  const content: Record<string, { schema: JsonSchema }> = {};
  if (a.json) content["application/json"] = { schema: c.convert(a.json, "output") };
  for (const r of a.raw ?? []) content[r.mediaType] = { schema: r.schema };
  return {
    description: a.description,
    ...(a.headers ? { headers: a.headers } : {}),
    ...(Object.keys(content).length ? { content } : {}),
  };
}

export function openApiDocument() {
  const c = new Components();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const responses: Record<string, unknown> = {};
    for (const [status, a] of Object.entries(op.responses)) responses[status] = answer(a, c);
    for (const code of errorCodesOf(op)) responses[String(STATUS[code])] = { $ref: `#/components/responses/${ERROR_RESPONSES[code].name}` };
    responses["500"] = { $ref: "#/components/responses/Internal" };
    const params = parameters(op, c);
    (paths[op.path] ??= {})[op.method.toLowerCase()] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.permission ? { "x-permission": op.permission } : {}),
      security: op.permission ? [{ apiKey: [] }] : [],
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: !op.body.optional, content: { "application/json": { schema: c.convert(op.body.schema, "input") } } } } : {}),
      responses,
    };
  }
  const webhooks: Record<string, unknown> = {};
  for (const e of webhookEvents) {
    webhooks[e.name] = {
      post: {
        operationId: `event-${e.name}`,
        tags: ["Webhooks"],
        summary: e.summary,
        description: `Sent to the URL of each enabled subscription to \`${e.name}\`. Verify the signature before trusting the body.`,
        security: [],
        parameters: WEBHOOK_HEADERS,
        requestBody: { required: true, content: { "application/json": { schema: c.convert(e.schema, "output") } } },
        responses: {
          "200": { description: "Received (any 2xx status): the delivery is done" },
          "400": { description: "Any other status, or no answer in time: the delivery is retried later" },
        },
      },
    };
  }
  c.convert(errorBodySchema, "output");
  const errorRef = { $ref: "#/components/schemas/Error" };
  const responses: Record<string, unknown> = {};
  for (const r of Object.values(ERROR_RESPONSES)) responses[r.name] = { description: r.description, content: { "application/json": { schema: errorRef } } };
  responses.Internal = { description: "An unexpected failure (logged on the server)", content: { "application/json": { schema: errorRef } } };
  return {
    openapi: "3.1.0",
    info: {
      title: "Lastmile API",
      version: API_VERSION,
      description:
        "Send model decisions for human review, work the review queue, read reports, datasets and the audit trail. " +
        'Every error answers `{ "error": { "code", "message", "issues": [{ "path", "message" }] } }`.',
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "This Lastmile instance" }],
    security: [{ apiKey: [] }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    webhooks,
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key from Admin → API keys, sent as `Authorization: Bearer <key>`. Its scopes decide what it may do.",
        },
      },
      schemas: Object.fromEntries(Object.entries(c.schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses,
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;

let cached: OpenApiDocument | undefined;
/** The document, built once per process (it depends on code only). */
export function apiDocument(): OpenApiDocument {
  return (cached ??= openApiDocument());
}
