import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { downloadQuerySchema, downloadResponse, snapshotDownload } from "~/domain/datasets/snapshots.server";
import { api, methodNotAllowed } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

/** GET …/download?format=jsonl|csv|parquet&split=train|validation|test|all, streamed from disk. */
export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "datasets:read");
    const query = requireQuery(downloadQuerySchema, new URL(request.url).searchParams);
    return downloadResponse(await snapshotDownload(getDb(), params.id!, Number(params.n), query, who));
  });

export const action = () => methodNotAllowed(["GET"]);
