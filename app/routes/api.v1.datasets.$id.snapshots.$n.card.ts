import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { snapshotCard } from "~/domain/datasets/snapshots.server";
import { z } from "zod";
import { requireQuery } from "~/lib/query";

const query = z.object({ format: z.enum(["json", "md"], { message: "format must be json or md" }).default("json") });
import { api, methodNotAllowed } from "~/lib/http.server";

/** The data card: ?format=json (default) or ?format=md. */
export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    const who = await requireApi(request, "datasets:read");
    const { format } = requireQuery(query, new URL(request.url).searchParams);
    const card = await snapshotCard(getDb(), params.id!, Number(params.n), format, who);
    return new Response(card.body, { headers: { "Content-Type": card.contentType, "Content-Disposition": `inline; filename="${card.filename}"` } });
  });

export const action = () => methodNotAllowed(["GET"]);
