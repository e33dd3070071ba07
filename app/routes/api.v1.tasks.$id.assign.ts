import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { assignTask } from "~/domain/teams/assignment.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const who = await requireApi(request, "tasks:assign");
    return json({ task: await assignTask(getDb(), who.actor, params.id!, await readJson(request)) });
  });
