#!/usr/bin/env node
/**
 * The production HTTP server: Remix's Express adapter behind the security
 * headers and the one CSRF check that every state-changing request passes.
 * Replaces remix-serve, which can set neither. Plain JS so it starts without a
 * TypeScript loader; the app itself is the compiled build/index.js.
 *
 * Operations: /healthz and /readyz, /metrics (see metricsAccess), and one JSON
 * log line per request (pino-http on the app's logger) carrying the request id
 * that every other line written while serving it carries too.
 *
 * Environment: PORT (3000), HOST (all interfaces), PUBLIC_URL (the origin users
 * reach; same-origin checks and HSTS), TRUST_PROXY (believe X-Forwarded-* from a
 * load balancer), OIDC_ISSUER (allowed as a form target, for the SSO redirect),
 * METRICS_TOKEN, METRICS_PORT (metrics access), LOG_LEVEL (info), SHUTDOWN_TIMEOUT_MS (10000: how
 * long SIGTERM/SIGINT waits for requests in flight), SQLITE_CHECKPOINT_MS (1000, or off).
 */
import crypto from "node:crypto";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequestHandler } from "@remix-run/express";
import { installGlobals } from "@remix-run/node";
import compression from "compression";
import express from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import { apiDispatch } from "./api-dispatch.js";

const root = path.resolve(fileURLToPath(new URL("..", import.meta.url)));

/** Express's "trust proxy" from TRUST_PROXY: true/false, a hop count, or addresses/subnets (comma-separated). */
export function parseTrustProxy(raw) {
  const v = (raw ?? "").trim();
  if (v === "" || /^(false|0|no|off)$/i.test(v)) return false;
  if (/^(true|yes|on)$/i.test(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** PUBLIC_URL's origin, or null when unset. A malformed value stops the server at start, not at the first request. */
export function parsePublicUrl(raw) {
  if (!raw || !raw.trim()) return null;
  let url;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`PUBLIC_URL must be an absolute URL such as https://lastmile.example.com (got ${JSON.stringify(raw)})`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`PUBLIC_URL must be http or https (got ${JSON.stringify(raw)})`);
  return url;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Remix data requests: single-fetch `.data` URLs and the classic `?_data=` ones. Their refusals answer JSON, like the API. */
function wantsJson(req) {
  return req.path.startsWith("/api/") || req.path.endsWith(".data") || "_data" in req.query;
}

/**
 * The one CSRF check (issue 9, finding 2), before any route runs: a request that
 * changes state and is authenticated by the browser (the session cookie, which
 * the browser attaches to cross-site requests too) must come from a page of this
 * app. Browsers say where a request comes from in `Origin` and `Sec-Fetch-Site`,
 * and a page cannot forge either; both are checked because older browsers send
 * only the first. This also covers navigator.sendBeacon (the lease release),
 * which cannot add a custom header but does send both.
 *
 * Not checked:
 * - `Authorization: Bearer` requests to /api (API keys). A foreign page cannot make a
 *   browser send that header cross-origin (it needs a CORS preflight, which this
 *   server never grants), so such a request is a deliberate client's, not a
 *   victim's browser's.
 * - Requests with neither header (curl, server-to-server calls, old clients):
 *   every browser that can be tricked into a cross-site POST sends at least
 *   `Origin` with it, so a request without both is not a forged browser request.
 * Requests without a session cookie are checked too: a forged sign-in (logging
 * the victim into the attacker's account) is refused the same way.
 */
export function sameOriginCheck({ publicOrigin }) {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    // Only /api routes take API keys: on a page action the header authenticates nothing, so it exempts nothing.
    if (req.path.startsWith("/api/") && /^Bearer\s+\S/i.test(req.get("Authorization") ?? "")) return next();
    const origin = req.get("Origin");
    const site = req.get("Sec-Fetch-Site");
    if (origin === undefined && site === undefined) return next();
    const expected = publicOrigin ?? ownOrigin(req);
    // "same-site" is refused as well: a page on another port or subdomain of the same host is another origin.
    const siteOk = site === undefined || site === "same-origin" || site === "none";
    const originOk = origin === undefined || origin === expected;
    if (siteOk && originOk) return next();
    const message = "This request did not come from a Lastmile page, so it was refused. Reload the page and try again.";
    res.status(403).set("Cache-Control", "no-store");
    if (wantsJson(req)) {
      res.json({
        error: {
          code: "forbidden",
          message,
          issues: [{ path: "Origin", message: `expected ${expected}` }],
        },
      });
    } else {
      res.type("text/plain; charset=utf-8").send(`403 Forbidden\n\n${message}\n`);
    }
  };
}

/**
 * This app loads data with single fetch (`.data` URLs). Remix still answers the classic `?_data=<route>` form
 * with whatever the named (or, when empty, the nearest) route's loader gives, which no page of ours asks for:
 * it is refused outright, so each loader is reached only the way it is written to be.
 */
function noLegacyDataRequests(req, res, next) {
  if (!("_data" in req.query)) return next();
  res
    .status(400)
    .set("Cache-Control", "no-store")
    .json({
      error: {
        code: "invalid",
        message: "Classic ?_data requests are not served; this app loads data from .data URLs",
        issues: [{ path: "_data", message: "not supported" }],
      },
    });
}

/**
 * A URL holding `%00` (NUL) is refused before any route runs: no path segment or query value of this app may
 * hold one (PostgreSQL's text cannot, and a query with one fails; see NUL in app/lib/json.ts), and every route
 * reads its parameters from the URL, so this one check covers them all, on both stores alike. The issue names
 * the query parameter holding it, or "path".
 */
const NUL_IN_URL = /%00/i;

function noNulInUrl(req, res, next) {
  if (!NUL_IN_URL.test(req.originalUrl)) return next();
  const q = req.originalUrl.indexOf("?");
  const pathname = q < 0 ? req.originalUrl : req.originalUrl.slice(0, q);
  let where = "path";
  if (!NUL_IN_URL.test(pathname)) {
    const pair = req.originalUrl
      .slice(q + 1)
      .split("&")
      .find((p) => NUL_IN_URL.test(p));
    const key = pair.split("=")[0];
    try {
      where = decodeURIComponent(key.replaceAll("+", " ")).replaceAll("\u0000", "\\u0000");
    } catch {
      where = key;
    }
  }
  const message = "holds the NUL character (%00), which no part of a URL here may contain";
  res.status(400).set("Cache-Control", "no-store");
  if (wantsJson(req)) res.json({ error: { code: "invalid", message: "The URL holds a NUL character", issues: [{ path: where, message }] } });
  else res.type("text/plain; charset=utf-8").send(`400 Bad Request\n\nThe URL's ${where === "path" ? "path" : `parameter "${where}"`} ${message}.\n`);
}

/** The origin this request was addressed to; X-Forwarded-Proto/-Host count only behind a trusted proxy. */
function ownOrigin(req) {
  // The same rule as req.protocol: the header counts only when the peer is a trusted proxy.
  const trusted = req.app.get("trust proxy fn")(req.socket.remoteAddress, 0);
  const forwarded = trusted ? req.get("X-Forwarded-Host")?.split(",")[0]?.trim() : undefined;
  return `${req.protocol}://${forwarded || req.get("Host")}`;
}

/**
 * Security headers on every response, static files included (finding 6). The
 * nonce is made per request before anything else, so Remix's inline scripts
 * (hydration data, route modules, scroll restoration) can carry it.
 */
export function securityHeaders({ publicUrl, oidcIssuer }) {
  const formTargets = ["'self'"];
  // Chromium applies form-action to where a form post redirects, and signing in
  // with SSO posts to the app, which redirects to the identity provider.
  if (oidcIssuer) {
    try {
      formTargets.push(new URL(oidcIssuer).origin);
    } catch {
      /* a malformed issuer is reported by the SSO code that uses it */
    }
  }
  const https = (req) => (publicUrl ? publicUrl.protocol === "https:" : req.secure);
  const directives = {
    "default-src": ["'self'"],
    // Remix's inline scripts carry the nonce; route modules and their chunks load from /build ('self').
    "script-src": ["'self'", (_req, res) => `'nonce-${res.locals.cspNonce}'`],
    "script-src-attr": ["'none'"],
    // 'unsafe-inline' for styles only: React style={} attributes (recharts' charts, the
    // review form's field widths) cannot carry a nonce, and styles cannot run code.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": formTargets,
    "frame-ancestors": ["'none'"],
  };
  const common = {
    referrerPolicy: { policy: "same-origin" },
    xFrameOptions: { action: "deny" },
  };
  const overHttp = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives },
    strictTransportSecurity: false,
  });
  // upgrade-insecure-requests only over https: on a plain-http install (an intranet address) it would break every asset.
  const overHttps = helmet({
    ...common,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...directives, "upgrade-insecure-requests": [] },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  return (req, res, next) => {
    res.locals.cspNonce = crypto.randomBytes(16).toString("base64");
    return (https(req) ? overHttps : overHttp)(req, res, next);
  };
}

/** A client's X-Request-Id is kept when it is a plain token (it is echoed and logged); anything else gets a fresh id. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(raw) {
  return typeof raw === "string" && SANE_REQUEST_ID.test(raw) ? raw : crypto.randomUUID();
}

/** Health probes and scrapes come every few seconds: their access lines are debug, not info. */
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const OWN_PATHS = QUIET_PATHS;

/**
 * The first middleware: the request id (X-Request-Id, echoed), the route label, the access log line
 * (method, path without the query, route, status, duration, request id, user id; never headers or
 * bodies), the HTTP duration histogram, and the request context every later line is written in.
 */
function requestLogging(ops, label) {
  const dropped = () => undefined;
  const accessLine = (req, res, durationMs) => ({
    method: req.method,
    path: req.path,
    route: res.locals.route,
    userId: res.locals.requestContext?.userId,
    status: res.statusCode,
    durationMs,
  });
  const httpLogger = pinoHttp({
    logger: ops.logger,
    genReqId: (req, res) => {
      const id = requestIdOf(req.headers["x-request-id"]);
      res.setHeader("X-Request-Id", id);
      return id;
    },
    // Lines carry reqId only, never the whole request (its headers hold cookies and keys). pino-http still binds the
    // request and the response to child loggers it makes for every request: serializers that drop them keep it from
    // serializing (and redacting) a whole request that no line uses. The access line's fields are all below.
    quietReqLogger: true,
    quietResLogger: true,
    wrapSerializers: false,
    serializers: { req: dropped, res: dropped },
    customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? "error" : QUIET_PATHS.has(req.path) ? "debug" : "info"),
    customSuccessMessage: () => "request completed",
    customErrorMessage: () => "request failed",
    customSuccessObject: (req, res, v) => accessLine(req, res, v.responseTime),
    customErrorObject: (req, res, err, v) => accessLine(req, res, v.responseTime),
  });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // Our own endpoints are named by their path; everything else by the Remix route it resolves to.
    res.locals.route = OWN_PATHS.has(req.path) ? req.path : label(req.path);
    res.once("finish", () => {
      ops.observeHttpRequest(req.method, res.locals.route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    httpLogger(req, res, () => {
      const ctx = { log: req.log, reqId: req.id };
      res.locals.requestContext = ctx;
      ops.runInRequest(ctx, next);
    });
  };
}

/** Whether two secrets are equal, in time that does not depend on where they differ (or on their lengths). */
export function sameSecret(a, b) {
  const ha = crypto.createHash("sha256").update(String(a)).digest();
  const hb = crypto.createHash("sha256").update(String(b)).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/**
 * Where /metrics is served. METRICS_TOKEN: on the main port, to `Authorization: Bearer <token>` only.
 * METRICS_PORT: on that port, bound to 127.0.0.1, without a token. Neither: nowhere (404). It is never
 * open on the main port: behind a reverse proxy every request comes from loopback, so the peer address
 * proves nothing there.
 */
export function metricsAccess(env) {
  const token = (env.METRICS_TOKEN ?? "").trim() || null;
  const rawPort = (env.METRICS_PORT ?? "").trim();
  let port = null;
  if (rawPort) {
    port = Number(rawPort);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`METRICS_PORT must be a port number (got ${JSON.stringify(rawPort)})`);
  }
  return { token, port };
}

async function sendMetrics(ops, res) {
  const text = await ops.metricsText();
  // end(), not send(): send() would rewrite the exposition format's content type.
  res.status(200).set({ "Content-Type": ops.metricsContentType, "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** /metrics on the main port, behind METRICS_TOKEN. */
function metricsWithToken(ops, token) {
  return (req, res, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get("Authorization") ?? "");
    if (!m || !sameSecret(m[1], token)) {
      res
        .status(401)
        .set({ "WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store" })
        .type("text/plain; charset=utf-8")
        .send("401 Unauthorized\n");
      return;
    }
    sendMetrics(ops, res).catch(next);
  };
}

/** /healthz: the process answers. /readyz: the database answers and is migrated (503 with the reason otherwise). */
function healthRoutes(app, ops) {
  app.get("/healthz", (req, res) => {
    res.status(200).set("Cache-Control", "no-store").json({ status: "ok" });
  });
  app.get("/readyz", async (req, res, next) => {
    // A draining instance tells the load balancer to send its traffic elsewhere.
    if (app.get("draining")) return res.status(503).set("Cache-Control", "no-store").json({ status: "not_ready", reason: "shutting down" });
    try {
      const r = await ops.readiness();
      res.set("Cache-Control", "no-store");
      if (r.ready) res.status(200).json({ status: "ready", migrations: r.migrations });
      else res.status(503).json({ status: "not_ready", reason: r.reason });
    } catch (e) {
      next(e);
    }
  });
}

/** The loopback-only metrics listener (METRICS_PORT): /metrics and nothing else. */
export function startMetricsServer(ops, port) {
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", (req, res, next) => sendMetrics(ops, res).catch(next));
  app.use((req, res) => res.status(404).type("text/plain; charset=utf-8").send("404 Not Found\n"));
  app.use((err, req, res, _next) => {
    ops.logger.error({ err: { type: err?.name, message: err?.message } }, "metrics: scrape failed");
    res.status(500).type("text/plain; charset=utf-8").send("500 Internal error\n");
  });
  const server = http.createServer(app);
  server.listen(port, "127.0.0.1");
  return server;
}

/**
 * A request answered before its body was read (a refusal: bad key, no session, wrong scope, unknown id) must
 * not leave its connection stalled. Remix's Request reads the body through a pump that pauses the socket once
 * its small buffer is full and waits for a reader that never comes; Node then sees the body as being consumed
 * and does not drop it itself. So the next request a keep-alive client sends on that connection is never
 * read, and waits until the server's timeout cuts it off (about 65 s: the fuzz suite's rare slow request;
 * a 300 kB batch refused for a bad key did it every time). Once the answer is sent, the rest of the body is
 * read and dropped, up to `budget` bytes; past that the connection is closed instead.
 */
function discardUnreadBodies(budget) {
  return (req, res, next) => {
    res.on("finish", () => {
      if (req.complete || req.destroyed) return;
      req.removeAllListeners("data"); // the Remix request's pump, which would pause the socket again
      let left = budget;
      req.on("data", (chunk) => {
        left -= chunk.length;
        if (left < 0) req.destroy();
      });
      req.resume();
    });
    next();
  };
}

export async function createApp(env = process.env) {
  const publicUrl = parsePublicUrl(env.PUBLIC_URL);
  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  const build = await import(pathToFileURL(path.join(root, "build/index.js")).href);
  installGlobals({ nativeFetch: build.future.v3_singleFetch });
  const ops = build.entry.module;
  const metrics = metricsAccess(env);
  if (metrics.token || metrics.port) ops.enableProcessMetrics();

  const app = express();
  app.set("remix build", build);
  app.set("metrics", metrics);
  app.disable("x-powered-by");
  app.set("trust proxy", trustProxy);
  // The body limit is the app's own (readJson's), so a refused body is dropped up to four times what it would read.
  app.use(discardUnreadBodies(4 * ops.MAX_BODY_BYTES));
  // While draining (a graceful shutdown), every answer closes its connection: keep-alive clients reconnect elsewhere.
  app.use((req, res, next) => {
    if (app.get("draining")) res.set("Connection", "close");
    next();
  });
  // The API's routes, matched without React Router's per-request matching (scripts/api-dispatch.js).
  const api = apiDispatch(build);
  const pageLabel = ops.routeLabeller(build.routes, build.publicPath);
  app.use(requestLogging(ops, (pathname) => api.label(pathname) ?? pageLabel(pathname)));
  app.use(securityHeaders({ publicUrl, oidcIssuer: env.OIDC_ISSUER }));
  healthRoutes(app, ops);
  if (metrics.token) app.get("/metrics", metricsWithToken(ops, metrics.token));
  // Default threshold (1 kB) with answers that declare a Content-Length: short JSON goes out as is.
  app.use(compression());
  // Fingerprinted assets never change under one URL; anything else in public/ may.
  app.use(
    build.publicPath,
    express.static(path.join(root, build.assetsBuildDirectory), {
      immutable: true,
      maxAge: "1y",
    }),
  );
  app.use(sameOriginCheck({ publicOrigin: publicUrl?.origin ?? null }));
  app.use(noLegacyDataRequests);
  app.use(noNulInUrl);
  const getLoadContext = (req, res) => ({
    cspNonce: res.locals.cspNonce,
    clientAddress: req.ip,
  });
  app.use(api.middleware(getLoadContext));
  // public/ after the API: a GET to /api would otherwise first look for a file on disk (a stat on libuv's thread
  // pool, a sixth of a small GET's CPU) that is never there. Nothing in public/ sits under /api.
  app.use(express.static(path.join(root, "public"), { maxAge: "1h" }));
  app.all("*", createRequestHandler({ build, mode: env.NODE_ENV ?? "production", getLoadContext }));
  app.use(lastResort);
  return app;
}

/**
 * Errors Express itself raises before the app runs: a malformed URL (`/%`) is
 * the client's mistake and answers 4xx quietly, in the shape its route would
 * use; anything else is ours, logged, and answered 500 without details.
 */
const ERROR_CODES = { 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type" };

function lastResort(err, req, res, next) {
  if (res.headersSent) return next(err);
  const status = Number(err?.status ?? err?.statusCode);
  const refused = Number.isInteger(status) && status >= 400 && status < 500;
  if (!refused)
    (req.log ?? res.locals.requestContext?.log)?.error({ err: { type: err?.name, message: err?.message, stack: err?.stack } }, "unhandled server error");
  const code = refused ? status : 500;
  const message = refused ? "The request is malformed." : "Internal error";
  res.status(code).set("Cache-Control", "no-store");
  if (wantsJson(req)) res.json({ error: { code: refused ? (ERROR_CODES[code] ?? "invalid") : "internal", message, issues: [] } });
  else res.type("text/plain; charset=utf-8").send(`${code}\n\n${message}\n`);
}

async function main() {
  process.env.NODE_ENV ??= "production";
  const app = await createApp();
  const ops = app.get("remix build").entry.module;
  const port = Number(process.env.PORT) || 3000;
  const host = process.env.HOST || undefined;
  // The store is migrated before the first request is served; the background jobs' first runs (audit
  // checkpoints, the roll-up split: app/entry.server.tsx) start once the server listens, so none delays it.
  let listening;
  const listened = new Promise((resolve) => (listening = resolve));
  const stopJobs = (await ops.startBackgroundJobs?.({ after: listened })) ?? (() => {});
  const metricsPort = app.get("metrics").port;
  const metricsServer = metricsPort ? startMetricsServer(ops, metricsPort) : null;
  metricsServer?.on("listening", () => ops.logger.info({ port: metricsPort }, `metrics on http://127.0.0.1:${metricsPort}/metrics`));
  metricsServer?.on("error", (e) => {
    ops.logger.fatal({ err: { type: e.name, message: e.message } }, `metrics: cannot listen on 127.0.0.1:${metricsPort}`);
    process.exit(1);
  });
  const server = app.listen(port, host, () => {
    ops.logger.info({ port, host: host ?? null }, `listening on http://${host ?? "localhost"}:${port}`);
    listening();
  });
  // Idle keep-alive connections stay open longer than clients and load balancers keep theirs (60 s is common),
  // so the server never closes a connection just as a client sends a request on it ("socket hang up").
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Graceful shutdown: stop accepting connections and report not ready, let the requests in flight finish
  // (cut off after SHUTDOWN_TIMEOUT_MS, default 10 s), let a background job's run in progress finish, then
  // close the store (SQLite copies its WAL into the file) and exit 0. A second signal exits at once.
  const drainMs = Number(process.env.SHUTDOWN_TIMEOUT_MS) || 10_000;
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) {
      ops.logger.warn({ signal }, "second signal: exiting without finishing");
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    ops.logger.info({ signal, deadlineMs: drainMs }, "shutting down: finishing open requests");
    app.set("draining", true);
    const drained = new Promise((resolve) => server.close(() => resolve(true)));
    server.closeIdleConnections();
    metricsServer?.close();
    const deadline = new Promise((resolve) => setTimeout(() => resolve(false), drainMs).unref());
    // Whatever still holds the store this long after the deadline (a job stuck on a lock) does not hold the
    // process: exiting mid-transaction is a crash, which loses nothing committed.
    setTimeout(() => {
      ops.logger.error({ deadlineMs: drainMs }, "still not stopped 5 s after the deadline: exiting");
      process.exit(1);
    }, drainMs + 5_000).unref();
    const [finished, jobsDone] = await Promise.all([Promise.race([drained, deadline]), Promise.race([stopJobs().then(() => true), deadline])]);
    if (!finished) {
      ops.logger.warn({ deadlineMs: drainMs }, "requests still open at the deadline: closing their connections");
      server.closeAllConnections();
    }
    if (!jobsDone) ops.logger.warn({ deadlineMs: drainMs }, "a background job was still running at the deadline; it resumes on the next start");
    try {
      await ops.closeStore();
    } catch (e) {
      ops.logger.error({ err: { type: e?.name, message: e?.message } }, "closing the store failed");
      process.exit(1);
    }
    ops.logger.info({ signal, ms: Date.now() - started }, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
