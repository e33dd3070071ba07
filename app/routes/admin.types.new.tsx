/** Create a decision type in the browser: the same definition and validation as PUT /api/v1/decision-types/:key. */
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { listActiveUsers } from "~/domain/auth/users.server";
import { saveTypeForm } from "~/domain/decision-types/type-form.server";
import { DecisionTypeForm } from "~/components/admin/decision-type-form";
import { emptyTypeForm } from "~/components/admin/type-form-values";
import { PageHeader } from "~/components/ui/page-header";
import { formError } from "~/lib/form-failure.server";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction = () => [{ title: "New decision type · Admin · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "types:write");
  return {
    me: who.user.email,
    owners: (await listActiveUsers(getDb())).map((u) => ({ email: u.email, name: u.name, role: u.role })),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "types:write");
  const form = await readForm(request);
  const result = await saveTypeForm(getDb(), form, { key: String(form.get("key") ?? "").trim(), mode: "create", actor: who.actor });
  if (!result.ok) return formError(result.intent, result.message, result.issues);
  throw redirect(`/admin/types/${result.type.key}?created=1`);
}

export default function NewType() {
  const { me, owners } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <div>
      <PageHeader
        title="New decision type"
        description={
          <>
            Integrators can do the same with <code className="font-mono">PUT /api/v1/decision-types/:key</code> or{" "}
            <code className="font-mono">lastmile types apply</code>.
          </>
        }
        actions={
          <Link to="/admin/types" className="text-sm text-slate-600 hover:text-slate-900">
            ← All types
          </Link>
        }
      />
      <DecisionTypeForm mode="create" initial={emptyTypeForm(me)} owners={owners} issues={result?.issues} message={result?.message} />
    </div>
  );
}
