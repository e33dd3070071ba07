/**
 * The `route` label of HTTP metrics and access logs: the Remix route id a path
 * resolves to (routes/api.v1.decisions.$id), never the path itself, so label
 * values stay few whatever ids the paths carry.
 */
import { matchRoutes } from "@remix-run/react";

type RouteObject = Parameters<typeof matchRoutes>[0][number];

/** A route of the server build's manifest (build.routes). */
export type ManifestRoute = { id: string; parentId?: string; path?: string; index?: boolean; caseSensitive?: boolean };

/** A function from a request path to its label: a route id, "static" (built assets) or "unmatched". */
export function routeLabeller(routes: Record<string, ManifestRoute | undefined>, publicPath = "/build/"): (pathname: string) => string {
  const byParent = new Map<string | undefined, ManifestRoute[]>();
  for (const r of Object.values(routes)) {
    if (!r) continue;
    const list = byParent.get(r.parentId) ?? [];
    list.push(r);
    byParent.set(r.parentId, list);
  }
  const node = (r: ManifestRoute): RouteObject =>
    r.index
      ? { id: r.id, path: r.path, index: true, caseSensitive: r.caseSensitive }
      : { id: r.id, path: r.path, caseSensitive: r.caseSensitive, children: (byParent.get(r.id) ?? []).map(node) };
  const tree = (byParent.get(undefined) ?? []).map(node);
  return (pathname) => {
    if (pathname.startsWith(publicPath)) return "static";
    // Single-fetch data requests name the page they load for: /decisions/x.data, /_root.data for "/".
    let p = pathname;
    if (p === "/_root.data") p = "/";
    else if (p.endsWith(".data")) p = p.slice(0, -".data".length);
    try {
      decodeURI(p);
    } catch {
      return "unmatched";
    }
    const matches = matchRoutes(tree, p);
    return matches?.length ? (matches[matches.length - 1].route.id ?? "unmatched") : "unmatched";
  };
}
