import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { acknowledgeAlert } from "~/domain/monitors/alerts.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** POST /api/v1/alerts/:id/acknowledge: a firing alert becomes acknowledged (a person: admin, manager, or the type's owner). */
export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const who = await requireApi(request, "decisions:read");
    return json(await acknowledgeAlert(getDb(), who, params.id!));
  });
