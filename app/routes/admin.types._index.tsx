/** Decision types: what exists, who owns it, its policy version, SLA and the work waiting. */
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { can } from "~/domain/auth/permissions";
import { requireUser } from "~/domain/auth/session.server";
import { memberCounts } from "~/domain/teams/membership.server";
import { listTypeOverview } from "~/domain/decision-types/overview.server";
import { Badge } from "~/components/ui/badge";
import { PageHeader } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction = () => [{ title: "Decision types · Admin · Lastmile" }];

/** Admins (who edit types) and managers (who choose each queue's members) see the list. */
export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, ["types:write", "members:write"]);
  const db = getDb();
  const members = await memberCounts(db);
  return {
    canCreate: can(who, "types:write"),
    types: (await listTypeOverview(db)).map((t) => ({ ...t, members: members.get(t.key) ?? 0 })),
  };
}

function sla(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${minutes} min`;
}

export default function Types() {
  const { types, canCreate } = useLoaderData<typeof loader>();
  return (
    <div>
      <PageHeader
        title="Decision types"
        description="Each type has an output schema, a routing policy, an SLA and an accountable owner."
        actions={
          canCreate ? (
            <Link to="/admin/types/new" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-700">
              New decision type
            </Link>
          ) : null
        }
      />
      <Table label="Decision types">
        <THead>
          <TH>Name</TH>
          <TH>Key</TH>
          <TH>Owner</TH>
          <TH numeric>Members</TH>
          <TH numeric>Policy</TH>
          <TH numeric>SLA</TH>
          <TH numeric>Open reviews</TH>
          <TH numeric>QA</TH>
          <TH numeric>Escalations</TH>
          <TH numeric>In progress</TH>
          <TH>Updated</TH>
        </THead>
        <TBody>
          {types.length === 0 ? (
            <EmptyRow colSpan={11}>
              No decision types yet.
              {canCreate ? (
                <>
                  {" "}
                  <Link to="/admin/types/new" className="text-indigo-700 underline">
                    Create the first one
                  </Link>
                  .
                </>
              ) : null}
            </EmptyRow>
          ) : null}
          {types.map((t) => (
            <tr key={t.key} className="hover:bg-slate-50">
              <TD className="whitespace-nowrap font-medium">
                <Link to={`/admin/types/${t.key}`} className="text-indigo-700 hover:underline">
                  {t.name}
                </Link>
              </TD>
              <TD>
                <code className="font-mono text-xs">{t.key}</code>
              </TD>
              <TD>{t.owner}</TD>
              <TD numeric>{t.members === 0 ? <span className="text-slate-500">everyone</span> : t.members}</TD>
              <TD numeric>
                <Badge>v{t.policyVersion}</Badge>
              </TD>
              <TD numeric>{sla(t.slaMinutes)}</TD>
              <TD numeric>{t.open.review + t.open.second}</TD>
              <TD numeric>{t.open.qa}</TD>
              <TD numeric>{t.open.escalation}</TD>
              <TD numeric>{t.claimed}</TD>
              <TD>
                <Time value={t.updatedAt} />
              </TD>
            </tr>
          ))}
        </TBody>
      </Table>
    </div>
  );
}
