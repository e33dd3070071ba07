import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { automationReport, readReportQuery } from "~/domain/reports/reports.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** GET /api/v1/reports/automation?type=KEY&from=ISO&to=ISO&bucket=hour|day|week[&modelVersion=V] */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "reports:read");
    const db = getDb();
    return json(await automationReport(db, await readReportQuery(db, new URL(request.url).searchParams)));
  });

export const action = () => methodNotAllowed(["GET"]);
