/** Edit a decision type; a changed routing policy becomes a new version, listed below with its history. */
import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Link, useActionData, useLoaderData, useSearchParams } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { listActiveUsers } from "~/domain/auth/users.server";
import { getDecisionType, policyHistory, typeToJson } from "~/domain/decision-types/decision-types.server";
import { saveTypeForm } from "~/domain/decision-types/type-form.server";
import type { RoutingPolicy } from "~/domain/routing/policy";
import { DecisionTypeForm } from "~/components/admin/decision-type-form";
import { rateToPercent, typeToForm } from "~/components/admin/type-form-values";
import { RouteErrorBoundary } from "~/components/route-error";
import { Badge } from "~/components/ui/badge";
import { FormMessage } from "~/components/ui/form-field";
import { PageHeader, Section } from "~/components/ui/page-header";
import { Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";
import { invariantResponse } from "~/lib/invariant";
import { formError } from "~/lib/form-failure.server";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.type.name ?? "Decision type"} · Admin · Lastmile` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request, "types:write");
  const db = getDb();
  const type = await getDecisionType(db, params.key!);
  invariantResponse(type, `There is no decision type "${params.key}".`, { status: 404 });
  const { validator: _validator, ...plain } = type;
  return {
    type: { ...typeToJson(plain), updatedAtMs: type.updatedAt },
    history: (await policyHistory(db, type.key)).map((h) => ({
      version: h.version,
      createdAt: h.createdAt,
      createdBy: h.createdBy,
      policy: h.policy as RoutingPolicy,
    })),
    owners: (await listActiveUsers(db)).map((u) => ({ email: u.email, name: u.name, role: u.role })),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const who = await requireUser(request, "types:write");
  const result = await saveTypeForm(getDb(), await readForm(request), { key: params.key!, mode: "update", actor: who.actor });
  if (!result.ok) return formError(result.intent, result.message, result.issues);
  throw redirect(`/admin/types/${result.type.key}?saved=${result.type.policyVersion}${result.policyChanged ? "&policy=new" : ""}`);
}

function PolicySummary({ p }: { p: RoutingPolicy }) {
  const fields = Object.entries(p.fieldMinConfidence ?? {});
  return (
    <ul className="space-y-0.5 text-xs text-slate-700">
      <li>overall ≥ {p.minConfidence ?? "—"}</li>
      {fields.length ? <li>fields: {fields.map(([f, m]) => `${f} ≥ ${m}`).join(", ")}</li> : null}
      {p.reviewFlags?.length ? <li>flags: {p.reviewFlags.join(", ")}</li> : null}
      <li>QA sample {rateToPercent(p.qaSampleRate ?? 0)}%</li>
    </ul>
  );
}

export default function EditType() {
  const { type, history, owners } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const saved = params.get("saved");
  return (
    <div className="space-y-6">
      <PageHeader
        title={type.name}
        description={
          <>
            <code className="font-mono">{type.key}</code> · routing policy <Badge tone="indigo">v{type.policyVersion}</Badge> · owner {type.owner}
          </>
        }
        actions={
          <>
            <Link to={`/decisions?type=${encodeURIComponent(type.key)}`} className="text-sm text-indigo-700 hover:underline">
              Decisions of this type
            </Link>
            <Link to="/admin/types" className="text-sm text-slate-600 hover:text-slate-900">
              ← All types
            </Link>
          </>
        }
      />
      {params.get("created") ? <FormMessage tone="success">Decision type created with routing policy v{type.policyVersion}.</FormMessage> : null}
      {saved && !result ? (
        <FormMessage tone="success">
          {params.get("policy") ? `Saved. Routing policy is now v${saved}; new decisions are routed under it.` : `Saved. Routing policy unchanged (v${saved}).`}
        </FormMessage>
      ) : null}
      <DecisionTypeForm
        key={type.updatedAtMs}
        mode="edit"
        initial={typeToForm(type)}
        owners={owners}
        issues={result?.issues}
        message={result?.message}
        policyVersion={type.policyVersion}
      />
      <Section
        title="Routing policy history"
        id="history"
        description="Every version this type has had; each decision records the version it was routed under."
      >
        <Table label="Routing policy versions">
          <THead>
            <TH>Version</TH>
            <TH>Rules</TH>
            <TH>Created</TH>
            <TH>By</TH>
          </THead>
          <TBody>
            {history.map((h) => (
              <tr key={h.version}>
                <TD>
                  <Badge tone={h.version === type.policyVersion ? "indigo" : "slate"}>
                    v{h.version}
                    {h.version === type.policyVersion ? " · current" : ""}
                  </Badge>
                </TD>
                <TD>
                  <PolicySummary p={h.policy} />
                </TD>
                <TD>
                  <Time value={h.createdAt} />
                </TD>
                <TD>{h.createdBy ?? "—"}</TD>
              </tr>
            ))}
          </TBody>
        </Table>
      </Section>
    </div>
  );
}

export function ErrorBoundary() {
  return <RouteErrorBoundary />;
}
