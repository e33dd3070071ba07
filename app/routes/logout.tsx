import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { endSession } from "~/domain/auth/session.server";

export async function action({ request }: ActionFunctionArgs) {
  return redirect("/login", { headers: { "Set-Cookie": await endSession(request) } });
}

export const loader = () => redirect("/");
