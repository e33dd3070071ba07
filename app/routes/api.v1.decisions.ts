import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { listDecisions, listQuerySchema } from "~/domain/decisions/decisions.server";
import { requireQuery } from "~/lib/query";
import { viewerOf } from "~/domain/decisions/sealing.server";
import { ingestDecisions, itemsOfBody } from "~/domain/ingest/ingest.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "decisions:read");
    return json(await listDecisions(getDb(), requireQuery(listQuerySchema, new URL(request.url).searchParams), viewerOf(who)));
  });

export const action = async ({ request }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const who = await requireApi(request, "decisions:ingest");
    const { items, batch } = itemsOfBody(await readJson(request));
    const results = await ingestDecisions(getDb(), items, { batch, actor: who.actor });
    const status = results.some((r) => r.created) ? 201 : 200;
    const shape = results.map(({ created: _created, ...r }) => r);
    return json(batch ? { decisions: shape } : shape[0], status);
  });
