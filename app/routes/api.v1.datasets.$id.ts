import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireApi } from "~/domain/auth/session.server";
import { getDataset } from "~/domain/datasets/datasets.server";
import { api, json, methodNotAllowed } from "~/lib/http.server";

export const loader = async ({ request, params }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "datasets:read");
    return json(await getDataset(getDb(), params.id!));
  });

export const action = () => methodNotAllowed(["GET"]);
