/**
 * HTTP plumbing for /api routes: bounded JSON bodies, one error shape,
 * and a wrapper that turns domain errors into it (never a 500 for bad input).
 */
import { AppError } from "./errors";
import { jsonDepth, MAX_JSON_DEPTH, requireFiniteNumbers } from "./json";

export const MAX_BODY_BYTES = Number(process.env.MAX_BODY_BYTES || 1_048_576);

export async function readJson(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = request.headers.get("Content-Type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", "Send JSON with 'Content-Type: application/json'");
  }
  if (!request.body) throw new AppError("invalid", "The request body is empty", [{ path: "", message: "expected JSON" }]);
  const reader = request.body.getReader();
  const declared = Number(request.headers.get("Content-Length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await discardRest(reader, 4 * limit);
    throw tooLarge(limit);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await discardRest(reader, 4 * limit);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") throw new AppError("invalid", "The request body is empty", [{ path: "", message: "expected JSON" }]);
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new AppError("invalid", "The request body is nested too deeply", [{ path: "", message: `JSON may nest at most ${MAX_JSON_DEPTH} levels` }]);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid", "The request body is not valid JSON", [{ path: "", message: (e as Error).message }]);
  }
  return requireFiniteNumbers(body, text);
}

/**
 * Reads and drops what the client is still sending, so it receives the 413 and
 * can keep using its connection (an unread body stalls a keep-alive socket, and
 * cancelling destroys it before the answer is written). Past `budget` bytes the
 * connection is cut off.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  while (budget > 0) {
    const { done, value } = await reader.read();
    if (done) return;
    budget -= value.byteLength;
  }
  await reader.cancel();
}

/** For endpoints whose body is optional: no body (no Content-Type, or Content-Length 0) reads as {}. */
export async function readOptionalJson(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (request.headers.get("Content-Length") === "0" || !request.headers.get("Content-Type")) return {};
  return readJson(request, limit);
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
  console.error("Unhandled API error", e);
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
