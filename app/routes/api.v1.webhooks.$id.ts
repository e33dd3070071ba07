import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { deleteWebhook, getWebhook, updateWebhook } from "~/domain/webhooks/subscriptions.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "webhooks:write");
    return json(await getWebhook(getDb(), params.id!));
  });

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "PATCH" && request.method !== "DELETE") return methodNotAllowed(["GET", "PATCH", "DELETE"]);
    const who = await requireApi(request, "webhooks:write");
    if (request.method === "DELETE") return json(await deleteWebhook(getDb(), params.id!, who.actor));
    return json(await updateWebhook(getDb(), params.id!, await readJson(request), who.actor));
  });
