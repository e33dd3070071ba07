/**
 * Remix's default Node entry (renderToPipeableStream, bots get the whole page
 * at once) plus the Content-Security-Policy nonce: the Express server makes one
 * per request (scripts/server.js) and every inline script React or Remix writes
 * must carry it, or the browser refuses to run it.
 */
import { databaseReady, startWalCheckpointer } from "@db/client.server";
import { PassThrough } from "node:stream";
import type { ActionFunctionArgs, AppLoadContext, EntryContext, LoaderFunctionArgs } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { isbot } from "isbot";
import { renderToPipeableStream } from "react-dom/server";
import { startJobs } from "~/domain/jobs/jobs.server";
import { NonceContext } from "~/lib/nonce";
import { errorFields, log } from "~/lib/log.server";

// What scripts/server.js takes from the build besides the request handler: the one logger, the metrics
// registry's functions and the health checks live in the app's modules, so the server and the routes share them.
export { logger, runInRequest } from "~/lib/log.server";
export { enableProcessMetrics, metricsContentType, metricsText, observeHttpRequest } from "~/domain/metrics/metrics.server";
export { readiness } from "~/domain/health/health.server";
export { routeLabeller } from "~/lib/route-label.server";
export { MAX_BODY_BYTES } from "~/lib/http.server";

const ABORT_DELAY = 5_000;

export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const waitForAll = isbot(request.headers.get("user-agent") ?? "") || remixContext.isSpaMode;
  const nonce = loadContext.cspNonce;
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const ready = () => {
      shellRendered = true;
      const body = new PassThrough();
      responseHeaders.set("Content-Type", "text/html");
      resolve(
        new Response(createReadableStreamFromReadable(body), {
          headers: responseHeaders,
          status: responseStatusCode,
        }),
      );
      pipe(body);
    };
    const { pipe, abort } = renderToPipeableStream(
      <NonceContext.Provider value={nonce}>
        <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} nonce={nonce} />
      </NonceContext.Provider>,
      {
        nonce,
        onAllReady: waitForAll ? ready : undefined,
        onShellReady: waitForAll ? undefined : ready,
        onShellError(error: unknown) {
          reject(error);
        },
        onError(error: unknown) {
          responseStatusCode = 500;
          // Errors in the shell reject and are logged by Remix; only later streaming errors are logged here.
          if (shellRendered) log().error(errorFields(error), "streaming render failed");
        },
      },
    );
    setTimeout(abort, ABORT_DELAY);
  });
}

/** Errors a loader or action threw (Remix's default prints them with console.error): logged with the request's id. */
export function handleError(error: unknown, { request }: LoaderFunctionArgs | ActionFunctionArgs): void {
  if (request.signal.aborted) return;
  const cause = isRouteErrorResponse(error) ? ((error as { error?: unknown }).error ?? error) : error;
  log().error(errorFields(cause), "unhandled error in a loader or action");
}

/**
 * This instance's background work, started once by scripts/server.js before it
 * listens (not per request, and not under Vitest's request handlers): the store
 * is migrated first; the jobs' first runs wait for `after` (the server passes
 * "listening"), so no first run delays the start. Returns a function that stops
 * it, for a graceful shutdown.
 */
export async function startBackgroundJobs(opts: { after?: PromiseLike<unknown> } = {}): Promise<() => Promise<void>> {
  // On Postgres, migrations run here (instances that start together take turns); on SQLite they ran on first use.
  const db = await databaseReady();
  const stopCheckpointer = startWalCheckpointer(db);
  const stopJobs = await startJobs(undefined, { after: opts.after });
  return async () => {
    await stopJobs();
    await stopCheckpointer();
  };
}

/** Closes the store at the end of a graceful shutdown (SQLite: the WAL is copied into the file first). */
export { closeDb as closeStore } from "@db/client.server";
