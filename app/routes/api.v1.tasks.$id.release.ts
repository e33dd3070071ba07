import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { asReviewer, requireApi } from "~/domain/auth/session.server";
import { describeTask, releaseTask } from "~/domain/queue/queue.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const reviewer = asReviewer(await requireApi(request, "tasks:review"));
    const db = getDb();
    return json({ task: await describeTask(db, await releaseTask(db, reviewer, params.id!)) });
  });
