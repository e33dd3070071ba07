import type { LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { renderEvidenceHtml } from "~/domain/audit/evidence-html.server";
import { buildEvidencePack, evidenceQuerySchema } from "~/domain/audit/evidence.server";
import { requireApi } from "~/domain/auth/session.server";
import { requireQuery } from "~/lib/query";
import { api, json, methodNotAllowed } from "~/lib/http.server";

/** GET /api/v1/decisions/:id/evidence[?format=html]: the decision's evidence pack, as a JSON download or a printable page. */
export const loader = async ({ request, params, context }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "decisions:read");
    const { format } = requireQuery(evidenceQuerySchema, new URL(request.url).searchParams);
    const pack = await buildEvidencePack(getDb(), params.id!);
    if (format === "html") {
      return new Response(renderEvidenceHtml(pack, context.cspNonce), { headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } });
    }
    return json(pack, 200, { "Content-Disposition": `attachment; filename="evidence-${pack.decision.id}.json"`, "Cache-Control": "no-store" });
  });

export const action = () => methodNotAllowed(["GET"]);
