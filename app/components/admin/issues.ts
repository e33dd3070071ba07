import type { Issue } from "~/lib/errors";

/** Groups the one error shape's issues by path, for inline messages next to fields. */
export function issuesByPath(issues: Issue[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const i of issues) (Object.hasOwn(out, i.path) ? out[i.path] : (out[i.path] = [])).push(i.message);
  return out;
}
