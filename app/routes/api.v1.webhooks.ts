import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { createWebhook, listWebhooks } from "~/domain/webhooks/subscriptions.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "webhooks:write");
    return json({ webhooks: await listWebhooks(getDb()) });
  });

export const action = async ({ request }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const who = await requireApi(request, "webhooks:write");
    return json(await createWebhook(getDb(), await readJson(request), who.actor), 201);
  });
