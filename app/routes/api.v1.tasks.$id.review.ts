import type { ActionFunctionArgs } from "@remix-run/node";
import { getDb } from "@db/client.server";
import { asReviewer, requireApi } from "~/domain/auth/session.server";
import { submitReview } from "~/domain/review/review.server";
import { api, json, methodNotAllowed, readJson } from "~/lib/http.server";

export const loader = () => methodNotAllowed(["POST"]);

export const action = async ({ request, params }: ActionFunctionArgs) =>
  api(async () => {
    if (request.method !== "POST") return methodNotAllowed(["POST"]);
    const reviewer = asReviewer(await requireApi(request, "tasks:review"));
    const decision = await submitReview(getDb(), reviewer, params.id!, await readJson(request));
    return json({ decision });
  });
