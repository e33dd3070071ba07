/**
 * How loaders and actions of pages refuse: a thrown Response carrying a status
 * and a plain message, which the route's ErrorBoundary shows (RouteErrorBoundary).
 * Modelled on the Epic Stack's `invariantResponse`. /api routes answer the same
 * cases in the JSON error shape instead (`api()` in http.server.ts).
 */
import { AppError } from "./errors";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
};

/** Unless `condition` holds, throws a Response (400 unless `init` says otherwise) with `message` as its body. */
export function invariantResponse(condition: unknown, message: string | (() => string), init: ResponseInit = {}): asserts condition {
  if (condition) return;
  const status = init.status ?? 400;
  throw new Response(typeof message === "function" ? message() : message, { ...init, status, statusText: init.statusText ?? STATUS_TEXT[status] ?? "Error" });
}

/**
 * Runs a page's domain call: a domain error meant for the user (AppError below
 * 500: not found, forbidden, not ready…) becomes the page's error response with
 * its status and message. Anything else propagates as a real failure.
 */
export async function orErrorResponse<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError && e.status < 500) invariantResponse(false, e.message, { status: e.status });
    throw e;
  }
}
