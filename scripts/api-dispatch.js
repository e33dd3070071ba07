/**
 * The API's requests (/api/...) go straight to their resource route's loader or action, as Remix would call it,
 * without Remix's per-request route matching: React Router flattens and ranks every route of the app (about 70)
 * twice per request, and a profile under load found that to be 8% of the server's CPU. The API's routes are matched
 * here against patterns compiled once at start, ranked by React Router's own scoring, and a self-check at start
 * proves that this matcher picks the same route as React Router for every API route.
 *
 * Everything else about the call is Remix's: the same Request (createRemixRequest), the same load context, the same
 * answer writer (sendRemixResponse); a thrown Response is answered as Remix answers it (with X-Remix-Catch), a thrown
 * error goes to the app's handleError and answers Remix's last-resort 500. What this does not handle (HEAD, OPTIONS,
 * single-fetch `.data` URLs, a path no API route matches) goes on to Remix unchanged.
 *
 * One thing differs: how an answer is written (sendWhole). Remix writes a body chunk by chunk through the
 * compression middleware, whose zlib work runs on libuv's thread pool: each chunk, flush and end waits for a turn of
 * the event loop to come back, and under load a turn takes milliseconds. A review's answer (a few kB, so compressed)
 * spent 49 ms at the median between its handler returning and its last byte leaving (bench:load at half rates, session
 * 17), while the handler itself took 3 ms. An answer of up to WHOLE_BODY_BYTES is therefore read whole, compressed
 * here synchronously (microseconds for a few kB) as the middleware would have (the same encodings and preference,
 * the same threshold), and written with one end() and its Content-Length.
 */
import zlib from "node:zlib";
import { matchRoutes } from "@remix-run/router";
import compressible from "compressible";
import Negotiator from "negotiator";
import { createRemixRequest, sendRemixResponse } from "@remix-run/express/dist/server.js";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const PARAM = /^:[\w-]+$/;

/** React Router's computeScore (router.cjs.js), for a route's full path: static segments outrank dynamic ones, a splat ranks last. */
function score(path, index) {
  const segments = path.split("/");
  let initial = segments.length;
  if (segments.includes("*")) initial += -2;
  if (index) initial += 2;
  return segments.filter((s) => s !== "*").reduce((sum, s) => sum + (PARAM.test(s) ? 3 : s === "" ? 1 : 10), initial);
}

const escape = (s) => s.replace(/[\\.*+^${}|()[\]]/g, "\\$&");

/** A route's full path as one case-insensitive pattern, with React Router's rules (trailing slashes allowed, `*` takes the rest). */
function compile(path) {
  const names = [];
  let source = "^";
  for (const segment of path.split("/")) {
    if (segment === "*") {
      names.push("*");
      source += "(?:\\/(.+)|\\/*)";
    } else if (PARAM.test(segment)) {
      names.push(segment.slice(1));
      source += "\\/([^\\/]+)";
    } else source += "\\/" + escape(segment);
  }
  if (!path.endsWith("*")) source += "\\/*";
  return { regex: new RegExp(source + "$", "i"), names };
}

function fullPath(routes, route) {
  const parts = [];
  for (let r = route; r; r = r.parentId ? routes[r.parentId] : undefined) if (r.path) parts.unshift(r.path);
  return parts.join("/");
}

/** React Router's decodePath: each segment decoded, an encoded slash kept encoded; null when malformed. */
function decodePath(pathname) {
  try {
    return pathname
      .split("/")
      .map((v) => decodeURIComponent(v).replace(/\//g, "%2F"))
      .join("/");
  } catch {
    return null;
  }
}

/** The API's resource routes of a Remix build, ranked, each with its compiled pattern. */
export function apiRoutes(build) {
  const routes = build.routes;
  return Object.values(routes)
    .map((route) => ({ route, path: fullPath(routes, route) }))
    .filter(({ route, path }) => (path === "api" || path.startsWith("api/")) && !route.module.default && !route.module.ErrorBoundary)
    .map(({ route, path }, order) => ({ route, path, order, score: score(path, route.index), ...compile(path) }))
    .sort((a, b) => b.score - a.score || a.order - b.order);
}

export function matchApiRoute(table, pathname) {
  const decoded = decodePath(pathname);
  if (decoded === null) return null;
  for (const entry of table) {
    const m = entry.regex.exec(decoded);
    if (!m) continue;
    const params = {};
    entry.names.forEach((name, i) => {
      if (m[i + 1] !== undefined) params[name] = m[i + 1].replace(/%2F/g, "/");
    });
    return { route: entry.route, params };
  }
  return null;
}

/** React Router's own answer for a path: the leaf route's id. */
function routerLeaf(build, pathname) {
  const byParent = new Map();
  for (const r of Object.values(build.routes)) {
    const key = r.parentId ?? "";
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(r);
  }
  const tree = (parentId) =>
    (byParent.get(parentId) ?? []).map((r) => ({ id: r.id, path: r.path, index: r.index, caseSensitive: r.caseSensitive, children: tree(r.id) }));
  const matches = matchRoutes(tree(""), pathname);
  return matches?.[matches.length - 1].route.id ?? null;
}

/** Throws unless this matcher and React Router pick the same route for a sample URL of every API route. */
export function checkAgainstRouter(build, table) {
  for (const entry of table) {
    const sample = "/" + entry.path.replace(/:[\w-]+/g, "x1").replace(/\*$/, "any/thing");
    const ours = matchApiRoute(table, sample)?.route.id ?? null;
    const theirs = routerLeaf(build, sample);
    if (ours !== theirs) throw new Error(`API dispatch: ${sample} matches ${ours} here but ${theirs} in React Router`);
  }
}

/**
 * The API's routes of a build, checked against React Router: `label` names the API route a path resolves to
 * (undefined when none does), `middleware(getLoadContext)` serves them (Express, for /api/...; `getLoadContext`
 * is the one given to Remix's handler).
 */
export function apiDispatch(build) {
  const table = apiRoutes(build);
  checkAgainstRouter(build, table);
  return {
    label: (pathname) => (pathname.startsWith("/api/") ? matchApiRoute(table, pathname)?.route.id : undefined),
    middleware: (getLoadContext) => dispatcher(build, table, getLoadContext),
  };
}

function dispatcher(build, table, getLoadContext) {
  const handleError =
    build.entry.module.handleError ??
    ((error, { request }) => {
      if (!request.signal.aborted) console.error(error);
    });
  return async (req, res, next) => {
    if (!METHODS.has(req.method) || !req.path.startsWith("/api/") || req.path.endsWith(".data") || "_data" in req.query) return next();
    const match = matchApiRoute(table, req.path);
    if (!match) return next();
    const handler = req.method === "GET" ? match.route.module.loader : match.route.module.action;
    if (!handler) return next();
    let request;
    let context;
    try {
      request = createRemixRequest(req, res);
      context = await getLoadContext(req, res);
    } catch (e) {
      return next(e);
    }
    let response;
    try {
      response = await handler({ request, params: match.params, context });
      if (!(response instanceof Response)) response = Response.json(response ?? null);
    } catch (thrown) {
      if (thrown instanceof Response) {
        response = thrown;
        try {
          response.headers.set("X-Remix-Catch", "yes");
        } catch {
          // immutable headers (a fetched Response): a copy takes the header, as Remix's safelySetHeader does
          response = new Response(thrown.body, thrown);
          response.headers.set("X-Remix-Catch", "yes");
        }
      } else {
        handleError(thrown, { request, params: match.params, context });
        response = new Response("Unexpected Server Error", { status: 500, headers: { "Content-Type": "text/plain" } });
      }
    }
    try {
      await sendWhole(req, res, response);
    } catch (e) {
      next(e);
    }
  };
}

/** Answers up to this size are written whole (see the top of this file); larger ones stream as Remix streams them. */
export const WHOLE_BODY_BYTES = 256 * 1024;

/** The compression middleware's rules (compression 1.8): `compressible` types, its threshold, its encodings and its preference on a tie. */
const COMPRESS_THRESHOLD = 1024;
const ENCODINGS = ["br", "gzip", "deflate", "identity"];
const PREFERRED = ["br", "gzip"];
const NO_TRANSFORM = /(?:^|,)\s*?no-transform\s*?(?:,|$)/i;
const compressors = {
  // The middleware's brotli quality (4): zlib's default of 11 is for files compressed once and served many times.
  br: (body) => zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }),
  gzip: (body) => zlib.gzipSync(body),
  deflate: (body) => zlib.deflateSync(body),
};

/** A Response written as sendRemixResponse writes it, but a body of up to WHOLE_BODY_BYTES whole and compressed here. */
export async function sendWhole(req, res, response) {
  const type = response.headers.get("Content-Type") ?? "";
  if (!response.body || /text\/event-stream/i.test(type)) return sendRemixResponse(res, response);
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > WHOLE_BODY_BYTES) {
      // Too big to hold: what was read, then the rest, through the middleware as Remix writes it.
      const rest = new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
        },
        async pull(controller) {
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return sendRemixResponse(res, new Response(rest, response));
    }
  }
  res.statusMessage = response.statusText;
  res.status(response.status);
  for (const [key, value] of response.headers.entries()) res.append(key, value);
  let body = Buffer.concat(chunks);
  if (type && compressible(type) && !NO_TRANSFORM.test(String(res.getHeader("Cache-Control") ?? ""))) {
    res.vary("Accept-Encoding");
    // No Accept-Encoding: the middleware sends it as it is (its enforceEncoding, identity).
    const encoding = req.headers["accept-encoding"] ? new Negotiator(req).encoding(ENCODINGS, PREFERRED) || "identity" : "identity";
    if (encoding !== "identity" && body.byteLength >= COMPRESS_THRESHOLD && !res.hasHeader("Content-Encoding")) {
      body = compressors[encoding](body);
      res.setHeader("Content-Encoding", encoding);
    }
  }
  res.setHeader("Content-Length", body.byteLength);
  res.end(body);
}
