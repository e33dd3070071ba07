import { Fragment } from "react";
import { Link } from "@remix-run/react";

/** Where a page sits: links to the pages above it, then the page itself. */
export function Breadcrumb({ trail, current }: { trail: { to: string; label: string }[]; current: string }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm">
      {trail.map((t) => (
        <Fragment key={t.to}>
          <Link to={t.to} className="text-indigo-700 underline-offset-2 hover:underline">
            {t.label}
          </Link>{" "}
          /{" "}
        </Fragment>
      ))}
      {current}
    </nav>
  );
}
