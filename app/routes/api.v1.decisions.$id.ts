import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { getDecision } from "~/domain/decisions/decisions.server";
import { viewerOf } from "~/domain/decisions/sealing.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "decisions:read");
    return json(await getDecision(getDb(), params.id!, viewerOf(who)));
  });

export const action = () => methodNotAllowed(["GET"]);
