import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { listMembers, setMembers } from "~/domain/teams/membership.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "members:write");
    return json({ members: await listMembers(getDb(), params.key!) });
  });

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "PUT") return methodNotAllowed(["GET", "PUT"]);
    const who = await requireApi(request, "members:write");
    return json({ members: await setMembers(getDb(), params.key!, await readJson(request), who.actor) });
  });
