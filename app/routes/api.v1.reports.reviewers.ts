import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { readReviewerReportQuery, reviewerReport } from "~/domain/teams/progress.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** GET /api/v1/reports/reviewers?type=KEY&from=ISO&to=ISO: each reviewer's figures per queue (reports:read). */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "reports:read");
    const db = getDb();
    const now = Date.now();
    return json(await reviewerReport(db, await readReviewerReportQuery(db, new URL(request.url).searchParams, now), { now }));
  });

export const action = () => methodNotAllowed(["GET"]);
