import { redirect, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { readForm } from "~/lib/read-form.server";
import { formError, formFailure, parseForm } from "~/lib/form-failure.server";
import { issueAt } from "~/lib/form-failure";
import { FieldError, FormMessage } from "~/components/ui/form-field";
import { signIn, waitInWords } from "~/domain/auth/login.server";
import { getOptionalUser, startSession } from "~/domain/auth/session.server";
import { safeRedirectPath } from "~/lib/safe-redirect";
import { oidcSettings, passwordSignInAllowed } from "~/domain/auth/oidc.server";

export const meta: MetaFunction = () => [{ title: "Sign in · Lastmile" }];

const loginSchema = z.object({
  email: z.email("enter your email address").max(254, "enter your email address"),
  password: z.string().min(1, "enter your password"),
  redirectTo: z.string().optional(),
});

// A document POST takes its headers from here, not from the action's data().
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const retryAfter = actionHeaders.get("Retry-After");
  return retryAfter ? { "Retry-After": retryAfter } : new Headers();
};

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getOptionalUser(request)) throw redirect(safeRedirectPath(new URL(request.url).searchParams.get("redirectTo")));
  const sso = oidcSettings();
  return { sso: sso ? { passwordsOff: sso.only } : null };
}

export async function action({ request, context }: ActionFunctionArgs) {
  let input: z.infer<typeof loginSchema>;
  try {
    input = parseForm(loginSchema, await readForm(request));
  } catch (e) {
    return formFailure(e, "login");
  }
  // OIDC_ONLY: refused here, not just hidden, for everyone but the break-glass admin.
  if (!passwordSignInAllowed(input.email)) return formError("login", "Password sign-in is turned off; use Sign in with SSO.", [], { status: 403 });
  const result = await signIn(getDb(), { email: input.email, password: input.password, address: context?.clientAddress ?? "unknown" });
  if (!result.ok && result.reason === "throttled") {
    const message = `Too many failed sign-ins. Sign-in is paused for this account or network; try again in ${waitInWords(result.retryAfterSeconds)}.`;
    return formError("login", message, [], { status: 429, headers: { "Retry-After": String(result.retryAfterSeconds) } });
  }
  if (!result.ok) return formError("login", "Wrong email or password.");
  return redirect(safeRedirectPath(input.redirectTo), { headers: { "Set-Cookie": await startSession(result.user) } });
}

export default function Login() {
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const busy = useNavigation().state !== "idle";
  const sso = useLoaderData<typeof loader>()?.sso;
  const emailError = issueAt(result?.issues, "email");
  const passwordError = issueAt(result?.issues, "password");
  // A field's own message says it all; the form-level message is for everything else.
  const formMessage = result && Object.keys(result.issues).length === 0 ? result.message : null;
  return (
    <div className="mx-auto mt-16 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <h1 className="text-lg font-semibold">Sign in to Lastmile</h1>
      {sso ? (
        <div className="mt-4 border-b border-slate-200 pb-4">
          {/* A document navigation, not a fetch: the provider's page must replace this one. */}
          <a
            href={`/auth/oidc?redirectTo=${encodeURIComponent(params.get("redirectTo") ?? "/")}`}
            className="block w-full rounded bg-indigo-600 px-3 py-2 text-center font-medium text-white hover:bg-indigo-700"
          >
            Sign in with SSO
          </a>
          <p className="mt-3 text-xs text-slate-500">
            {sso.passwordsOff
              ? "Passwords are turned off. Only the break-glass administrator signs in with a password below."
              : "Or sign in with your Lastmile password:"}
          </p>
        </div>
      ) : null}
      <Form method="post" className="mt-4 space-y-4" noValidate>
        <input type="hidden" name="redirectTo" value={params.get("redirectTo") ?? "/"} />
        <div>
          <label htmlFor="email" className="block text-sm font-medium text-slate-700">
            Email
          </label>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            aria-invalid={Boolean(emailError)}
            aria-describedby="email-error"
            className="mt-1 w-full rounded border border-slate-300 px-3 py-2"
          />
          <FieldError id="email-error" messages={emailError} />
        </div>
        <div>
          <label htmlFor="password" className="block text-sm font-medium text-slate-700">
            Password
          </label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={Boolean(passwordError)}
            aria-describedby="password-error"
            className="mt-1 w-full rounded border border-slate-300 px-3 py-2"
          />
          <FieldError id="password-error" messages={passwordError} />
        </div>
        {formMessage ? <FormMessage tone="error">{formMessage}</FormMessage> : null}
        <button type="submit" disabled={busy} className="w-full rounded bg-indigo-600 px-3 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60">
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </Form>
    </div>
  );
}
