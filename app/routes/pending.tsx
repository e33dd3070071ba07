/** Where a signed-in user without a role waits: requireUser sends them here from every page. */
import { redirect, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { getOptionalUser, PENDING_MESSAGE } from "~/domain/auth/session.server";
import { PageHeader } from "~/components/ui/page-header";

export const meta: MetaFunction = () => [{ title: "Waiting for access · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (!user) throw redirect("/login");
  if (user.role) throw redirect("/");
  // The message travels with the data: a *.server module's exports do not reach the browser bundle.
  return { email: user.email, message: PENDING_MESSAGE };
}

export default function Pending() {
  const { email, message } = useLoaderData<typeof loader>();
  return (
    <div className="mx-auto mt-10 max-w-xl">
      <PageHeader title="Waiting for an administrator" description={message} />
      <p className="mt-4 text-sm text-slate-600">
        You are signed in as <strong>{email}</strong> and have no access yet. Ask an administrator to give you a role on the Users page; then reload this page.
      </p>
    </div>
  );
}
