/**
 * The one logger: JSON lines (pino) on stdout, at LOG_LEVEL (default info).
 * scripts/server.js logs each request through pino-http on this same logger
 * (it reaches it through the build's entry module) and runs the request inside
 * runInRequest(), so a line any code writes through log() while serving a
 * request carries that request's id. Background jobs log through log() too,
 * without one.
 *
 * Never log secrets, API keys, cookies, Authorization headers or decision
 * payloads: log ids and outcomes. The redact list below is a safety net for a
 * request or headers object logged by mistake, not a licence to log them.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { pino, type Logger } from "pino";

export type { Logger };

const LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** LOG_LEVEL when it names a pino level, else info. */
export function logLevel(raw = process.env.LOG_LEVEL): string {
  const v = (raw ?? "").trim().toLowerCase();
  return LEVELS.has(v) ? v : "info";
}

const SECRET_HEADERS = ["authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"];

export const logger: Logger = pino({
  level: logLevel(),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  redact: {
    paths: [
      ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`, `res.headers["${h}"]`, `request.headers["${h}"]`]),
      "password",
      "token",
      "apiKey",
      "secret",
      "body",
      "req.body",
      "payload",
    ],
    censor: "[redacted]",
  },
});

/** What the logger knows about the request being served: its logger (bound to its id) and who asks, once known. */
export type RequestContext = { log: Logger; reqId: string; userId?: string };

const current = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (the rest of a request's handling) with `ctx` as the current request. */
export function runInRequest<T>(ctx: RequestContext, fn: () => T): T {
  return current.run(ctx, fn);
}

/** The logger to write with: the current request's (its lines carry the request id), else the process's. */
export function log(): Logger {
  return current.getStore()?.log ?? logger;
}

/** Records who the current request acts for, for its access log line (called once authentication succeeded). */
export function noteRequestUser(userId: string | null | undefined): void {
  const ctx = current.getStore();
  if (ctx && userId) ctx.userId = userId;
}

/** An error as a log field: its class, message and stack, never what else it carries. */
export function errorFields(e: unknown): { err: { type: string; message: string; stack?: string } } {
  // Driver errors (better-sqlite3's SqliteError) are not always `instanceof Error` here: read their fields.
  if (e && typeof e === "object" && "message" in e) {
    const err = e as { name?: unknown; message: unknown; stack?: unknown };
    return {
      err: {
        type: typeof err.name === "string" && err.name !== "Error" ? err.name : (e.constructor?.name ?? "Error"),
        message: String(err.message),
        ...(typeof err.stack === "string" ? { stack: err.stack } : {}),
      },
    };
  }
  return { err: { type: typeof e, message: String(e) } };
}
