import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { requireUser } from "~/domain/auth/session.server";
import { can } from "~/domain/auth/permissions";

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request);
  if (can(who, "tasks:review")) throw redirect("/queue");
  if (can(who, "reports:read")) throw redirect("/reports");
  throw redirect("/decisions");
}
