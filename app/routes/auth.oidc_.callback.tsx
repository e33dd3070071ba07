/** Where the identity provider sends the browser back: finish the sign-in, start a session, or say why not. */
import { data, redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { clearFlowCookie, finishSignIn, oidcSettings, SsoError } from "~/domain/auth/oidc.server";
import { PENDING_PATH, sessionSecret, startSession } from "~/domain/auth/session.server";
import { SsoRefused } from "~/components/auth/sso-refused";
import { invariantResponse } from "~/lib/invariant";

export const meta: MetaFunction = () => [{ title: "Single sign-on · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const settings = oidcSettings();
  invariantResponse(settings, "Single sign-on is not configured on this instance.", { status: 404 });
  const db = getDb();
  const secret = await sessionSecret(db);
  try {
    const { user, redirectTo } = await finishSignIn(db, request, settings, secret);
    const headers = new Headers();
    headers.append("Set-Cookie", await clearFlowCookie(secret));
    headers.append("Set-Cookie", await startSession(user));
    return redirect(user.role ? redirectTo : PENDING_PATH, { headers });
  } catch (e) {
    if (e instanceof SsoError) return data({ message: e.message }, { status: e.status, headers: { "Set-Cookie": await clearFlowCookie(secret) } });
    throw e;
  }
}

export default function SsoCallback() {
  const { message } = useLoaderData<typeof loader>();
  return <SsoRefused message={message} />;
}
