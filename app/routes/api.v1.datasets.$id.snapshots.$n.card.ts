import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { cardQuerySchema } from "~/domain/datasets/snapshot-files.server";
import { snapshotCard } from "~/domain/datasets/snapshots.server";
import { api, methodNotAllowed } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

/** The data card: ?format=json (default) or ?format=md. */
export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "datasets:read");
    const { format } = requireQuery(cardQuerySchema, new URL(request.url).searchParams);
    const card = await snapshotCard(getDb(), params.id!, Number(params.n), format, who);
    return new Response(card.body, { headers: { "Content-Type": card.contentType, "Content-Disposition": `inline; filename="${card.filename}"` } });
  });

export const action = () => methodNotAllowed(["GET"]);
