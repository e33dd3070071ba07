import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { downloadQuerySchema, openSnapshotFile } from "~/domain/datasets/snapshot-files.server";
import { snapshotDownload } from "~/domain/datasets/snapshots.server";
import { api, methodNotAllowed } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

/** GET …/download?format=jsonl|csv|parquet&split=train|validation|test|all, streamed from disk (nothing is read into memory). */
export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "datasets:read");
    const query = requireQuery(downloadQuerySchema, new URL(request.url).searchParams);
    const d = await snapshotDownload(getDb(), params.id!, Number(params.n), query, who);
    return new Response(openSnapshotFile(d), {
      headers: {
        "Content-Type": d.contentType,
        "Content-Disposition": `attachment; filename="${d.filename}"`,
        "Content-Length": String(d.bytes),
        ETag: `"${d.sha256}"`,
        "X-Content-SHA256": d.sha256,
        "Cache-Control": "private, no-transform",
      },
    });
  });

export const action = () => methodNotAllowed(["GET"]);
