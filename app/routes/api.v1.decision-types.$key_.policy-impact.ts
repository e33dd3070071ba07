import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { policyImpact } from "~/domain/governance/impact.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

/** POST /api/v1/decision-types/:key/policy-impact {routing, days?}: a proposed policy replayed on the last days (changes nothing). */
export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    await requireApi(request, "reports:read");
    return json(await policyImpact(getDb(), params.key!, await readJson(request)));
  });
