import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { requireUser } from "~/domain/auth/session.server";
import { can } from "~/domain/auth/permissions";
import { invariantResponse } from "~/lib/invariant";

/** /admin opens the first admin page this person may see. */
export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request);
  if (can(who, "types:write") || can(who, "members:write")) throw redirect("/admin/types");
  if (can(who, "audit:read")) throw redirect("/admin/audit");
  invariantResponse(false, `Your role (${who.user.role}) has no admin pages.`, { status: 403 });
}

/** Never rendered (the loader always redirects or refuses); its presence makes this a page, so a refusal renders the 403 page. */
export default function AdminIndex() {
  return null;
}
