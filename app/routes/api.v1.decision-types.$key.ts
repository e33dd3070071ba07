import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { requireDecisionType, typeToJson, upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import { invalid } from "~/lib/errors";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "decisions:read");
    return json(typeToJson(await requireDecisionType(getDb(), params.key!)));
  });

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "PUT") return methodNotAllowed(["GET", "PUT"]);
    const who = await requireApi(request, "types:write");
    const body = await readJson(request);
    if (body && typeof body === "object" && "key" in body && (body as { key: unknown }).key !== params.key) {
      throw invalid("Invalid decision type", [{ path: "key", message: `must equal the key in the URL (${params.key})` }]);
    }
    const { type, created } = await upsertDecisionType(getDb(), { ...(body as object), key: params.key }, who.actor);
    return json(typeToJson(type), created ? 201 : 200);
  });
