/**
 * Where a `redirectTo` may send the browser: only a path on this origin.
 * Browsers drop tabs and newlines from URLs and read "\" as "/", so
 * "/\t/evil.example" becomes "//evil.example"; such values are refused outright,
 * and what is left is resolved by the URL parser and kept only if it stays on
 * the same origin. Anything else falls back (never an exception: a header with
 * a newline would be a 500).
 */
const BASE = new URL("http://lastmile.invalid");

export function safeRedirectPath(to: unknown, fallback = "/"): string {
  if (typeof to !== "string" || to.length === 0 || to.length > 2048) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(to)) return fallback;
  if (!to.startsWith("/") || to.startsWith("//")) return fallback;
  let url: URL;
  try {
    url = new URL(to, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE.origin) return fallback;
  return url.pathname + url.search + url.hash;
}
