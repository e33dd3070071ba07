import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { alertQuerySchema, listAlerts, requireAlertReader } from "~/domain/monitors/alerts.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

/** GET /api/v1/alerts?type=&state=&from=&to=: the drift monitors' alerts, newest first (admins, managers, read keys; a type's owner, its own). */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "decisions:read");
    const db = getDb();
    await requireAlertReader(db, who);
    const q = requireQuery(alertQuerySchema, new URL(request.url).searchParams);
    return json({ alerts: await listAlerts(db, who, q) });
  });

export const action = () => methodNotAllowed(["GET"]);
