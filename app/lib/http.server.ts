/**
 * HTTP plumbing for /api routes: bounded JSON bodies, one error shape,
 * and a wrapper that turns domain errors into it (never a 500 for bad input).
 */
import { AppError } from "./errors";
import { parseJsonText } from "./json";
import { errorFields, log } from "./log.server";

export const MAX_BODY_BYTES = Number(process.env.MAX_BODY_BYTES || 1_048_576);

/**
 * The one reader of JSON request bodies. A required body must be JSON
 * (415 otherwise) and not empty; with `optional`, a request that declares no
 * body (no Content-Type, or Content-Length 0) reads as {}. Either
 * way the body is bounded by `limit` (413) and parsed by `parseJsonText`.
 */
export async function readJson(request: Request, opts: { optional?: boolean; limit?: number } = {}): Promise<unknown> {
  const { optional = false, limit = MAX_BODY_BYTES } = opts;
  const type = request.headers.get("Content-Type") ?? "";
  if (optional && (request.headers.get("Content-Length") === "0" || type === "")) return {};
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", "Send JSON with 'Content-Type: application/json'");
  }
  const text = request.body ? await readText(request.body.getReader(), Number(request.headers.get("Content-Length") ?? NaN), limit) : "";
  return parseJsonText(text);
}

/**
 * Stops reading at the limit and refuses. The rest of the body is the server's to drop once the 413 is sent
 * (scripts/server.js, discardUnreadBodies), as for every answer given before a body was read.
 */
async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, declared: number, limit: number): Promise<string> {
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(limit: number) {
  return new AppError("payload_too_large", `The request body is larger than ${limit} bytes`);
}

export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const text = JSON.stringify(body);
  // A declared length lets the compression middleware skip small answers (most API answers):
  // without it every response, however short, pays for a gzip stream.
  return new Response(text, {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)), ...headers },
  });
}

export function errorResponse(e: unknown): Response {
  if (e instanceof Response) return e;
  if (e instanceof AppError) return json(e.toJSON(), e.status);
  log().error(errorFields(e), "unhandled API error");
  return json(new AppError("internal", "Internal error").toJSON(), 500);
}

/** Wraps an API loader/action body so every failure answers in the one error shape. */
export async function api(fn: () => Promise<Response> | Response): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    return errorResponse(e);
  }
}

export function methodNotAllowed(allowed: string[]): Response {
  return json(new AppError("method_not_allowed", `Use ${allowed.join(" or ")}`).toJSON(), 405, { Allow: allowed.join(", ") });
}
