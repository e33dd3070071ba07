import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { listPolicyProposals, proposePolicyChange } from "~/domain/governance/proposals.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

/** GET /api/v1/decision-types/:key/policy-proposals: the type's proposals, newest first. */
export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "reports:read");
    return json({ proposals: await listPolicyProposals(getDb(), params.key!) });
  });

/** POST /api/v1/decision-types/:key/policy-proposals {routing?, fourEyes?, targetAccuracy?, policyApproval?, reason}: 201. */
export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const who = await requireApi(request, "policies:propose");
    return json(await proposePolicyChange(getDb(), params.key!, await readJson(request), who), 201);
  });
