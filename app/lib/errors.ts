/**
 * One error shape for the whole product:
 * { "error": { "code", "message", "issues": [{ "path", "message" }] } }
 */
import { z, type ZodError } from "zod";

export type Issue = { path: string; message: string };

export const ERROR_CODES = [
  "invalid",
  "unauthenticated",
  "forbidden",
  "not_found",
  "conflict",
  /** A change to a type under policy approval, made directly: it must go through a proposal (409). */
  "proposal_required",
  "payload_too_large",
  "unsupported_media_type",
  "method_not_allowed",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error body, as the API contract (OpenAPI document) states it. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      issues: z.array(z.object({ path: z.string().describe('Dotted path of the offending field ("" for the whole body)'), message: z.string() })),
    }),
  })
  .meta({ id: "Error" });

export const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  proposal_required: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.status = STATUS[code];
  }
  toJSON(): z.output<typeof errorBodySchema> {
    return { error: { code: this.code, message: this.message, issues: this.issues } };
  }
}

export const invalid = (message: string, issues: Issue[] = []) => new AppError("invalid", message, issues);
export const notFound = (message: string) => new AppError("not_found", message);
export const conflict = (message: string, issues: Issue[] = []) => new AppError("conflict", message, issues);
export const forbidden = (message: string) => new AppError("forbidden", message);

export function formatPath(path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey> = []): string {
  return [...prefix, ...path].map(String).join(".");
}

export function zodIssues(error: ZodError, prefix: ReadonlyArray<PropertyKey> = []): Issue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path as PropertyKey[], prefix), message: i.message }));
}
