import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { rotateWebhookSecret } from "~/domain/webhooks/subscriptions.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const who = await requireApi(request, "webhooks:write");
    return json(await rotateWebhookSecret(getDb(), params.id!, who.actor));
  });
