import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { asReviewer, requireApi } from "~/domain/auth/session.server";
import { getDecision } from "~/domain/decisions/decisions.server";
import { claim } from "~/domain/queue/claim.server";
import { claimBodySchema, taskToJson } from "~/domain/queue/queue.server";
import { invalid, zodIssues } from "~/lib/errors";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const reviewer = asReviewer(await requireApi(request, "tasks:review"));
    const parsed = claimBodySchema.safeParse(await readJson(request, { optional: true }));
    if (!parsed.success) throw invalid("Invalid claim", zodIssues(parsed.error));
    const db = getDb();
    const task = await claim(
      db,
      reviewer,
      { next: { type: parsed.data.type } },
      { leaseMs: parsed.data.leaseSeconds ? parsed.data.leaseSeconds * 1000 : undefined },
    );
    if (!task) return new Response(null, { status: 204 });
    // A claimed task is unassigned or assigned to its claimer (claimableBy).
    return json({ task: taskToJson(task, task.assigneeId === reviewer.id ? reviewer.email : null), decision: await getDecision(db, task.decisionId) });
  });
