/**
 * The one shape in which page actions (and the dataset preview fetcher) report
 * a failure, and how components read it: `message` for the form as a whole
 * (<FormMessage tone="error">), `issues` grouped by field path for the message
 * beside each field (<FormField errors={issueAt(result.issues, "email")}>).
 * Built on the server by form-failure.server.ts; isomorphic, so components import it.
 */
import type { Issue } from "./errors";

export type FormIssues = Record<string, string[]>;

export type FormFailure = { ok: false; intent: string; message: string; issues: FormIssues };

/** Groups the one error shape's issues by path, for inline messages next to fields. */
export function issuesByPath(issues: Issue[]): FormIssues {
  const out: FormIssues = {};
  for (const i of issues) (Object.hasOwn(out, i.path) ? out[i.path] : (out[i.path] = [])).push(i.message);
  return out;
}

/** The first message for a field, including its array items ("modelVersions" also matches "modelVersions.2"). */
export function issueAt(issues: FormIssues | undefined, path: string): string | undefined {
  if (!issues) return undefined;
  if (issues[path]?.length) return issues[path][0];
  const item = Object.keys(issues).find((k) => k.startsWith(`${path}.`) && /^\d+$/.test(k.slice(path.length + 1)));
  return item ? issues[item][0] : undefined;
}

/** Every message for a field and its array items ("scopes" also collects "scopes.1"), for a group of inputs. */
export function issuesUnder(issues: FormIssues | undefined, path: string): string[] {
  if (!issues) return [];
  return Object.entries(issues)
    .filter(([p]) => p === path || p.startsWith(`${path}.`))
    .flatMap(([, messages]) => messages);
}

/** A failure found while reading a page's filters (a loader, not an action): the same shape, shown inline. */
export function failureOf(intent: string, message: string, issues: Issue[]): FormFailure {
  return { ok: false, intent, message, issues: issuesByPath(issues) };
}

/** "path: message; …", for a one-line summary above a filter form (or the failure's message when no field is named). */
export function describeIssues(f: FormFailure): string {
  return (
    Object.entries(f.issues)
      .map(([path, messages]) => `${path}: ${messages.join(", ")}`)
      .join("; ") || f.message
  );
}
