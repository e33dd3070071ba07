import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, isRouteErrorResponse, Link, Links, Meta, NavLink, Outlet, Scripts, ScrollRestoration, useLoaderData, useRouteError } from "@remix-run/react";
import { getOptionalUser } from "~/domain/auth/session.server";
import { can, type Permission } from "~/domain/auth/permissions";
import { hasRole, userPrincipal } from "~/domain/auth/users.server";
import { getDb } from "@db/client.server";
import { firingAlertCount } from "~/domain/monitors/alerts.server";
import { useNonce } from "~/lib/nonce";
import styles from "./tailwind.css";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: styles },
  { rel: "icon", href: "data:," },
];

export const meta: MetaFunction = () => [{ title: "Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  // A pending user (no role yet) sees the header and Sign out, and no navigation.
  const who = user && hasRole(user) ? userPrincipal(user) : null;
  return {
    user: user
      ? {
          email: user.email,
          name: user.name,
          role: user.role ?? "pending",
          nav: NAV.filter((n) => who && can(who, n.permission)).map(({ to, label }) => ({ to, label })),
          // Drift alerts firing on types this person watches (alerts:read, or the types they own): the banner.
          firingAlerts: who ? await firingAlertCount(getDb(), who) : 0,
        }
      : null,
  };
}

const NAV: { to: string; label: string; permission: Permission }[] = [
  { to: "/queue", label: "Queue", permission: "tasks:review" },
  { to: "/escalations", label: "Escalations", permission: "escalations:resolve" },
  { to: "/decisions", label: "Decisions", permission: "decisions:read" },
  { to: "/reports", label: "Reports", permission: "reports:read" },
  { to: "/team", label: "Team", permission: "reports:read" },
  { to: "/alerts", label: "Alerts", permission: "alerts:read" },
  { to: "/datasets", label: "Datasets", permission: "datasets:read" },
  { to: "/admin", label: "Admin", permission: "types:write" },
  { to: "/admin/audit", label: "Audit", permission: "audit:read" },
];

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en" className="h-full bg-slate-50">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full text-slate-900 antialiased">
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  const { user } = useLoaderData<typeof loader>();
  return (
    <div className="flex min-h-full flex-col">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex h-12 max-w-screen-2xl items-center gap-6 px-4">
          <Link to="/" className="font-semibold tracking-tight text-indigo-700">
            Lastmile
          </Link>
          {user ? (
            <nav aria-label="Main" className="flex flex-1 items-center gap-1 overflow-x-auto text-sm">
              {user.nav.map((n) => (
                <NavLink
                  key={n.to}
                  to={n.to}
                  className={({ isActive }) => `rounded px-2 py-1 ${isActive ? "bg-indigo-50 text-indigo-800" : "text-slate-600 hover:text-slate-900"}`}
                >
                  {n.label}
                </NavLink>
              ))}
            </nav>
          ) : (
            <div className="flex-1" />
          )}
          {user ? (
            <Form method="post" action="/logout" className="flex items-center gap-3 text-sm">
              <span className="text-slate-600">
                {user.email} <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{user.role}</span>
              </span>
              <button type="submit" className="rounded px-2 py-1 text-slate-600 hover:bg-slate-100">
                Sign out
              </button>
            </Form>
          ) : null}
        </div>
      </header>
      {user && user.firingAlerts > 0 ? (
        <aside aria-label="Drift alerts" className="border-b border-red-200 bg-red-50">
          <div className="mx-auto flex max-w-screen-2xl items-center gap-3 px-4 py-2 text-sm text-red-900">
            <span className="font-medium">
              {user.firingAlerts} drift {user.firingAlerts === 1 ? "alert" : "alerts"} firing
            </span>
            <Link to="/alerts?state=firing" className="underline hover:text-red-700">
              Review alerts
            </Link>
          </div>
        </aside>
      ) : null}
      <main className="mx-auto w-full max-w-screen-2xl flex-1 px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}

export function ErrorBoundary() {
  const error = useRouteError();
  const title = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : "Something went wrong";
  const detail = isRouteErrorResponse(error) ? String(error.data ?? "") : "An unexpected error occurred. It has been logged.";
  return (
    <div className="mx-auto max-w-xl px-4 py-16">
      <h1 className="text-xl font-semibold">{title}</h1>
      <p className="mt-2 text-slate-600">{detail}</p>
      <Link to="/" className="mt-6 inline-block text-indigo-700 underline">
        Back to Lastmile
      </Link>
    </div>
  );
}
