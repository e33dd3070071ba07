import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { decidePolicyProposal, PROPOSAL_ACTIONS, type ProposalAction } from "~/domain/governance/proposals.server";
import { notFound } from "~/lib/errors";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

/** POST /api/v1/decision-types/:key/policy-proposals/:id/approve|reject|withdraw [{note}] */
export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const act = params.action as ProposalAction;
    if (!PROPOSAL_ACTIONS.includes(act)) throw notFound(`No such action on a policy proposal: ${params.action} (approve, reject or withdraw)`);
    const who = await requireApi(request, act === "withdraw" ? "policies:propose" : "policies:approve");
    return json(await decidePolicyProposal(getDb(), params.key!, params.id!, act, await readJson(request, { optional: true }), who));
  });
