/** Starts single sign-on: remembers state, nonce and PKCE verifier in a short-lived cookie, then sends the browser to the provider. */
import { data, redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { oidcSettings, SsoError, startSignIn } from "~/domain/auth/oidc.server";
import { sessionSecret } from "~/domain/auth/session.server";
import { SsoRefused } from "~/components/auth/sso-refused";
import { invariantResponse } from "~/lib/invariant";

export const meta: MetaFunction = () => [{ title: "Single sign-on · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const settings = oidcSettings();
  invariantResponse(settings, "Single sign-on is not configured on this instance.", { status: 404 });
  try {
    const { url, cookie } = await startSignIn(request, settings, await sessionSecret(getDb()), new URL(request.url).searchParams.get("redirectTo"));
    return redirect(url, { headers: { "Set-Cookie": cookie } });
  } catch (e) {
    if (e instanceof SsoError) return data({ message: e.message }, { status: e.status });
    throw e;
  }
}

export default function StartSso() {
  const { message } = useLoaderData<typeof loader>();
  return <SsoRefused message={message} />;
}
