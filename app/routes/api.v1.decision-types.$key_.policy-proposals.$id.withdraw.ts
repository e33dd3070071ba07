import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { decidePolicyProposal } from "~/domain/governance/proposals.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

/** POST /api/v1/decision-types/:key/policy-proposals/:id/withdraw [{note}]: by the proposer: nothing changes */
export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const who = await requireApi(request, "policies:propose");
    return json(await decidePolicyProposal(getDb(), params.key!, params.id!, "withdraw", await readJson(request, { optional: true }), who));
  });
