import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { auditApiQuerySchema, auditFeed } from "~/domain/audit/audit-read.server";
import { requireQuery } from "~/lib/query";
import { viewerOf } from "~/domain/decisions/sealing.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** GET /api/v1/audit?from=&to=&actor=&action=&entityType=&entityId=&cursor=&limit=: the trail, oldest first, for monitoring tools. */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "audit:feed");
    return json(await auditFeed(getDb(), requireQuery(auditApiQuerySchema, new URL(request.url).searchParams), viewerOf(who)));
  });

export const action = () => methodNotAllowed(["GET"]);
