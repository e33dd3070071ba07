import type { Issue } from "~/lib/errors";

/** Groups the one error shape's issues by path, for inline messages next to fields. */
export function issuesByPath(issues: Issue[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const i of issues) (Object.hasOwn(out, i.path) ? out[i.path] : (out[i.path] = [])).push(i.message);
  return out;
}

/** The first message for a field, including its array items ("modelVersions" also matches "modelVersions.2"). */
export function issueAt(issues: Record<string, string[]> | undefined, path: string): string | undefined {
  if (!issues) return undefined;
  if (issues[path]?.length) return issues[path][0];
  const item = Object.keys(issues).find((k) => k.startsWith(`${path}.`) && /^\d+$/.test(k.slice(path.length + 1)));
  return item ? issues[item][0] : undefined;
}
