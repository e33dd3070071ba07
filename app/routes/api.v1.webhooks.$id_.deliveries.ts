import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { listDeliveries, listDeliveriesQuerySchema } from "~/domain/webhooks/subscriptions.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "webhooks:write");
    return json(await listDeliveries(getDb(), params.id!, requireQuery(listDeliveriesQuerySchema, new URL(request.url).searchParams)));
  });

export const action = () => methodNotAllowed(["GET"]);
