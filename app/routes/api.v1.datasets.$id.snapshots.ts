import { getDb } from "@db/client.server";
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { getDataset } from "~/domain/datasets/datasets.server";
import { createSnapshot } from "~/domain/datasets/snapshots.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "datasets:read");
    return json({ snapshots: (await getDataset(getDb(), params.id!)).snapshots });
  });

/** Starts a snapshot: 202 at once with status "building"; poll GET …/snapshots/:n for progress. */
export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["GET", "POST"]);
    const who = await requireApi(request, "datasets:write");
    // The body is optional: no body means default split fractions, pseudonymous reviewers.
    const body = await readJson(request, { optional: true });
    const s = await createSnapshot(getDb(), params.id!, body, who);
    return json(s, 202, { Location: `/api/v1/datasets/${s.datasetId}/snapshots/${s.number}` });
  });
