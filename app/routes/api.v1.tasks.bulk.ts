import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { bulkTaskAction } from "~/domain/teams/bulk.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const who = await requireApi(request, "tasks:assign");
    return json(await bulkTaskAction(getDb(), who.actor, await readJson(request)));
  });
