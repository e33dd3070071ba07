import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { readThresholdQuery, thresholdReport } from "~/domain/governance/thresholds.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** GET /api/v1/reports/thresholds?type=KEY&targetAccuracy=0.98[&from=ISO&to=ISO&field=PATH]: the threshold what-if. */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "reports:read");
    const db = getDb();
    return json(await thresholdReport(db, await readThresholdQuery(db, new URL(request.url).searchParams)));
  });

export const action = () => methodNotAllowed(["GET"]);
