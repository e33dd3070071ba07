import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { previewCount } from "~/domain/datasets/examples.server";
import { filterInputFromParams, parseFilter } from "~/domain/datasets/filter";
import { invalid } from "~/lib/errors";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** How many examples a filter selects right now (exact up to 200,000): GET /api/v1/datasets/preview?type=…&action=… */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "datasets:read");
    const parsed = parseFilter(filterInputFromParams(new URL(request.url).searchParams));
    if (!parsed.ok) throw invalid("Invalid filter", parsed.issues);
    return json({ filter: parsed.filter, ...(await previewCount(getDb(), parsed.filter)) });
  });

export const action = () => methodNotAllowed(["GET"]);
