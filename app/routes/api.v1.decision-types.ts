import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { listDecisionTypes, typeToJson } from "~/domain/decision-types/decision-types.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "decisions:read");
    return json({ decisionTypes: (await listDecisionTypes(getDb())).map(typeToJson) });
  });

export const action = () => methodNotAllowed(["GET"]);
