import { getDb } from "@db/client.server";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { createDataset, listDatasets } from "~/domain/datasets/datasets.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "datasets:read");
    return json({ datasets: await listDatasets(getDb()) });
  });

export const action = async ({ request }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const who = await requireApi(request, "datasets:write");
    return json(await createDataset(getDb(), await readJson(request), who.actor), 201);
  });
