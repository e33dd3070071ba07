/// <reference types="@remix-run/dev" />

import "@remix-run/node";

declare module "@remix-run/node" {
  interface Future {
    v3_singleFetch: true;
  }
  /**
   * What the Express server (getLoadContext) hands every loader and action.
   * Optional: under a plain Remix request handler (unit tests) they are absent.
   */
  interface AppLoadContext {
    /** The per-request nonce the Content-Security-Policy allows scripts by. */
    cspNonce?: string;
    /** The client's address (X-Forwarded-For is believed only with TRUST_PROXY), for login throttling and audit. */
    clientAddress?: string;
  }
}
