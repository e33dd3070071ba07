/** The admin area's frame: tabs for what this person may open; each page checks its own permission. */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { NavLink, Outlet, useLoaderData } from "@remix-run/react";
import { requireUser } from "~/domain/auth/session.server";
import { can, type Permission } from "~/domain/auth/permissions";
import { RouteErrorBoundary } from "~/components/route-error";

/** Each tab shows for anyone holding one of its permissions (managers open types and users for queue membership). */
const TABS: { to: string; label: string; permission: Permission[] }[] = [
  { to: "/admin/types", label: "Decision types", permission: ["types:write", "members:write"] },
  { to: "/admin/users", label: "Users", permission: ["users:write", "members:write"] },
  { to: "/admin/api-keys", label: "API keys", permission: ["apikeys:write"] },
  { to: "/admin/webhooks", label: "Webhooks", permission: ["webhooks:write"] },
  { to: "/admin/audit", label: "Audit trail", permission: ["audit:read"] },
  { to: "/admin/settings", label: "Settings", permission: ["settings:write"] },
];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request);
  return { tabs: TABS.filter((t) => t.permission.some((p) => can(who, p))).map(({ to, label }) => ({ to, label })) };
}

export default function Admin() {
  const { tabs } = useLoaderData<typeof loader>();
  return (
    <div>
      {tabs.length > 0 ? (
        <nav aria-label="Admin" className="mb-6 flex gap-1 border-b border-slate-200 text-sm">
          {tabs.map((t) => (
            <NavLink
              key={t.to}
              to={t.to}
              className={({ isActive }) =>
                `-mb-px border-b-2 px-3 py-2 ${isActive ? "border-indigo-600 font-medium text-indigo-800" : "border-transparent text-slate-600 hover:text-slate-900"}`
              }
            >
              {t.label}
            </NavLink>
          ))}
        </nav>
      ) : null}
      <Outlet />
    </div>
  );
}

export function ErrorBoundary() {
  return <RouteErrorBoundary />;
}
