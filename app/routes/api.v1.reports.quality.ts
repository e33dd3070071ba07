import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { qualityReport, readReportQuery } from "~/domain/reports/reports.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** GET /api/v1/reports/quality?type=KEY&from=ISO&to=ISO[&modelVersion=V] */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "reports:read");
    const db = getDb();
    return json(await qualityReport(db, await readReportQuery(db, new URL(request.url).searchParams)));
  });

export const action = () => methodNotAllowed(["GET"]);
