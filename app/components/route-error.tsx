/**
 * The error boundary for page routes: keeps the app's header and shows a
 * clear 403/404 page (the server already answered with that status).
 */
import { isRouteErrorResponse, Link, useRouteError } from "@remix-run/react";

export function RouteErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error)) {
    const title = error.status === 403 ? "403 · Not allowed" : error.status === 404 ? "404 · Not found" : `${error.status} ${error.statusText}`;
    return (
      <div className="mx-auto max-w-xl py-12">
        <h1 className="text-xl font-semibold">{title}</h1>
        <p className="mt-2 text-slate-600">{typeof error.data === "string" ? error.data : error.statusText}</p>
        <Link to="/" className="mt-6 inline-block text-indigo-700 underline">
          Back to Lastmile
        </Link>
      </div>
    );
  }
  return (
    <div className="mx-auto max-w-xl py-12">
      <h1 className="text-xl font-semibold">Something went wrong</h1>
      <p className="mt-2 text-slate-600">An unexpected error occurred. It has been logged.</p>
    </div>
  );
}
