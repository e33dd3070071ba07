import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireUser } from "~/domain/auth/session.server";
import { previewCount } from "~/domain/datasets/examples.server";
import { filterInputFromParams, parseFilter } from "~/domain/datasets/filter";
import { failureOf } from "~/lib/form-failure";

/** Live count for the create form (a fetcher): always 200, with the form failure when the filter is not valid yet. */
export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "datasets:read");
  const parsed = parseFilter(filterInputFromParams(new URL(request.url).searchParams));
  if (!parsed.ok) return { count: null, exact: true, failure: failureOf("preview", "Invalid filter", parsed.issues) };
  return { ...(await previewCount(getDb(), parsed.filter)), failure: null };
}
