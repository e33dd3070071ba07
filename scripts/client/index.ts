/**
 * @lastmile/client: a typed client of the Lastmile API, on openapi-fetch, with
 * types generated from the OpenAPI document (schema.d.ts; regenerate with
 * `npm run client:generate`).
 *
 *   const lm = createLastmileClient({ baseUrl: "https://lastmile.example.com", apiKey });
 *   const { data, error, response } = await lm.POST("/api/v1/tasks/claim", { body: { type: "invoice" } });
 *
 * Every call answers `data` (the typed success body) or `error` (the one error
 * shape, `{ error: { code, message, issues } }`), and the raw `response`.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, operations, paths } from "./schema";

export type { components, operations, paths };
export type LastmileClient = Client<paths>;
export type ApiError = components["schemas"]["Error"];

export type LastmileClientOptions = {
  /** The instance's origin, e.g. "http://127.0.0.1:3000" (paths in the document start with /api). */
  baseUrl: string;
  /** An API key (Admin → API keys); sent as `Authorization: Bearer <key>`. Omit it for the public operations. */
  apiKey?: string;
  /** Another fetch (tests, instrumentation); defaults to the global one. */
  fetch?: ClientOptions["fetch"];
  headers?: Record<string, string>;
};

export function createLastmileClient(opts: LastmileClientOptions): LastmileClient {
  return createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    fetch: opts.fetch,
    headers: { ...(opts.apiKey ? { Authorization: `Bearer ${opts.apiKey}` } : {}), ...opts.headers },
  });
}
