/**
 * What a task is for, and how pages name it. Isomorphic, so the queue and the
 * review screen read the same labels. Inside the code this is a task's `kind`;
 * the public API publishes it as `route` (see taskToJson in queue.server.ts).
 */
import { TASK_KINDS } from "@db/schema/tables";
/** The one list, declared with the schema (its CHECK constraint). */
export { TASK_KINDS };
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_KIND_LABELS: Record<TaskKind, { label: string; tone: "indigo" | "sky" | "violet" | "amber" }> = {
  review: { label: "Review", tone: "indigo" },
  qa: { label: "QA check", tone: "sky" },
  second: { label: "Second review", tone: "violet" },
  // An owner's own escalations come to them in work mode too.
  escalation: { label: "Escalation", tone: "amber" },
};

/** The label of a kind read from data (a string), with the kind itself as a fallback. */
export function taskKindLabel(kind: string): { label: string; tone: "indigo" | "sky" | "violet" | "amber" | "slate" } {
  return Object.hasOwn(TASK_KIND_LABELS, kind) ? TASK_KIND_LABELS[kind as TaskKind] : { label: kind, tone: "slate" };
}
