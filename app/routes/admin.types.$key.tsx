/** Edit a decision type; a changed routing policy becomes a new version, listed below with its history. */
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData, useSearchParams } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { can } from "~/domain/auth/permissions";
import { listActiveUsers } from "~/domain/auth/users.server";
import { listMembers, reviewerCapable, setMembers } from "~/domain/teams/membership.server";
import { getDecisionType, policyHistory, typeToJson } from "~/domain/decision-types/decision-types.server";
import { previewTypeForm, proposalFromForm, saveTypeForm } from "~/domain/decision-types/type-form.server";
import { decidePolicyProposal, listPolicyProposals, proposePolicyChange, type ProposalAction } from "~/domain/governance/proposals.server";
import { AppError } from "~/lib/errors";
import type { RoutingPolicy } from "~/domain/routing/policy";
import { DecisionTypeForm } from "~/components/admin/decision-type-form";
import { rateToPercent, typeToForm } from "~/components/admin/type-form-values";
import { RouteErrorBoundary } from "~/components/route-error";
import { Badge } from "~/components/ui/badge";
import { CheckboxCards, FormMessage, PrimaryButton } from "~/components/ui/form-field";
import { PageHeader, Section } from "~/components/ui/page-header";
import { Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";
import { invariantResponse } from "~/lib/invariant";
import { formError, formFailure } from "~/lib/form-failure.server";
import { issuesUnder } from "~/lib/form-failure";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.type.name ?? "Decision type"} · Admin · Lastmile` }];

/** Admins edit the type; admins and managers edit who works its queue (managers see the rest read-only). */
export async function loader({ request, params }: LoaderFunctionArgs) {
  const who = await requireUser(request, ["types:write", "members:write"]);
  const db = getDb();
  const type = await getDecisionType(db, params.key!);
  invariantResponse(type, `There is no decision type "${params.key}".`, { status: 404 });
  const { validator: _validator, ...plain } = type;
  const active = await listActiveUsers(db);
  return {
    canEditType: can(who, "types:write"),
    canEditMembers: can(who, "members:write"),
    members: await listMembers(db, type.key),
    /** Who may be a member: enabled people whose role reviews tasks. */
    candidates: active.filter(reviewerCapable).map((u) => ({ email: u.email, name: u.name, role: u.role })),
    type: { ...typeToJson(plain), updatedAtMs: type.updatedAt },
    history: (await policyHistory(db, type.key)).map((h) => ({
      version: h.version,
      createdAt: h.createdAt,
      createdBy: h.createdBy,
      policy: h.policy as RoutingPolicy,
    })),
    owners: active.map((u) => ({ email: u.email, name: u.name, role: u.role })),
    // Every proposal: the pending ones are listed while approval is on, the approved ones explain their version in the history.
    proposals: await listPolicyProposals(db, type.key),
    me: who.user.email,
    canPropose: can(who, "policies:propose"),
    canApprove: can(who, "policies:approve"),
  };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const who = await requireUser(request, ["types:write", "members:write"]);
  const form = await readForm(request);
  // The members form posts to ?section=members: another permission than the definition's, named by the URL.
  if (new URL(request.url).searchParams.get("section") === "members") {
    invariantResponse(can(who, "members:write"), `Your role (${who.user.role}) does not allow this (members:write).`, { status: 403 });
    try {
      const members = await setMembers(getDb(), params.key!, { members: form.getAll("members").map(String) }, who.actor);
      return data({ ok: true as const, intent: "members" as const, count: members.length });
    } catch (e) {
      return formFailure(e, "members");
    }
  }
  // A policy proposal decided from its row: the proposer withdraws, another admin approves or rejects.
  if (form.get("intent") === "decide") {
    const decision = String(form.get("decision")) as ProposalAction;
    invariantResponse(["approve", "reject", "withdraw"].includes(decision), "Unknown decision", { status: 400 });
    const needs = decision === "withdraw" ? "policies:propose" : "policies:approve";
    invariantResponse(can(who, needs), `Your role (${who.user.role}) does not allow this (${needs}).`, { status: 403 });
    try {
      await decidePolicyProposal(getDb(), params.key!, String(form.get("proposal")), decision, { note: String(form.get("note") ?? "") || undefined }, who);
    } catch (e) {
      return formFailure(e, "decide");
    }
    throw redirect(`/admin/types/${params.key}?proposal=${decision}#proposals`);
  }
  if (form.get("intent") === "propose") {
    invariantResponse(can(who, "policies:propose"), `Your role (${who.user.role}) does not allow this (policies:propose).`, { status: 403 });
    const type = await getDecisionType(getDb(), params.key!);
    invariantResponse(type, `There is no decision type "${params.key}".`, { status: 404 });
    const { validator: _v, ...plain } = type;
    const { body, issues, map } = proposalFromForm(form, params.key!, typeToJson(plain));
    if (Object.keys(issues).length > 0) return formError("propose", "Fix the marked fields; nothing was proposed.", issues);
    try {
      await proposePolicyChange(getDb(), params.key!, body, who);
    } catch (e) {
      if (e instanceof AppError && e.status < 500) {
        return formError(
          "propose",
          `${e.message}; nothing was proposed.`,
          e.issues.map((i) => ({ ...i, path: i.path === "reason" ? "reason" : map(i.path) })),
        );
      }
      throw e;
    }
    throw redirect(`/admin/types/${params.key}?proposal=created#proposals`);
  }
  invariantResponse(can(who, "types:write"), `Your role (${who.user.role}) does not allow this (types:write).`, { status: 403 });
  if (form.get("intent") === "preview") {
    const preview = await previewTypeForm(getDb(), form, params.key!);
    return preview.ok ? data(preview) : formError(preview.intent, preview.message, preview.issues);
  }
  const result = await saveTypeForm(getDb(), form, { key: params.key!, mode: "update", actor: who.actor });
  if (!result.ok) return formError(result.intent, result.message, result.issues);
  throw redirect(`/admin/types/${result.type.key}?saved=${result.type.policyVersion}${result.policyChanged ? "&policy=new" : ""}`);
}

const DECIDED: Record<string, string> = { created: "Proposed: another admin approves it.", approve: "Approved.", reject: "Rejected.", withdraw: "Withdrawn." };

/** The proposal a policy version came from, in the history: who proposed it and why, who approved it, its replayed impact. */
function VersionProposal({ p }: { p: ReturnType<typeof useLoaderData<typeof loader>>["proposals"][number] | undefined }) {
  if (!p) return <span className="text-slate-500">Changed directly</span>;
  return (
    <div className="max-w-md space-y-0.5 text-sm" data-testid={`version-proposal-${p.policyVersion}`}>
      <p className="text-slate-800">“{p.reason}”</p>
      <p className="text-slate-600">
        Proposed by {p.proposedBy}, approved by {p.decidedBy}
      </p>
      {p.impact ? (
        <p className="text-slate-600">
          Replayed impact: automation {pct(p.impact.before.automationRate)} → {pct(p.impact.after.automationRate)}
        </p>
      ) : null}
    </div>
  );
}

/** The type's policy proposals: what each changes, its replayed impact, who proposed it and why, and its decision. */
function ProposalsSection() {
  const { proposals, me, canApprove } = useLoaderData<typeof loader>();
  const actionResult = useActionData<typeof action>();
  const failed = actionResult && !actionResult.ok && actionResult.intent === "decide" ? actionResult : undefined;
  const [params] = useSearchParams();
  const done = params.get("proposal");
  return (
    <Section title="Policy proposals" id="proposals" description="Changes to this type's policy wait here until another admin approves them.">
      {done && DECIDED[done] ? <FormMessage tone="success">{DECIDED[done]}</FormMessage> : null}
      {failed ? <FormMessage tone="error">{failed.message}</FormMessage> : null}
      {proposals.length === 0 ? (
        <p className="text-sm text-slate-600">No proposals yet.</p>
      ) : (
        <ul className="space-y-3" data-testid="proposals">
          {proposals.map((p) => (
            <li key={p.id} className="rounded-lg border border-slate-200 p-3 text-sm" data-testid={`proposal-${p.status}`}>
              <div className="flex flex-wrap items-center gap-2">
                <Badge tone={p.status === "approved" ? "emerald" : p.status === "pending" ? "amber" : "slate"}>{p.status}</Badge>
                <span>
                  by {p.proposedBy}, <Time value={p.proposedAt} />
                </span>
                {p.decidedBy && p.status !== "withdrawn" ? (
                  <span>
                    · {p.status} by {p.decidedBy}
                  </span>
                ) : null}
                {p.policyVersion ? <Badge tone="indigo">made v{p.policyVersion}</Badge> : null}
              </div>
              <p className="mt-1 text-slate-800">“{p.reason}”</p>
              <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2 text-xs">{JSON.stringify(p.change, null, 2)}</pre>
              {p.impact ? (
                <p className="mt-1 text-slate-700" data-testid="proposal-impact">
                  Replayed on {p.impact.replayed} decisions: automation {pct(p.impact.before.automationRate)} → {pct(p.impact.after.automationRate)};{" "}
                  {p.impact.routeChanges.toAuto} to auto, {p.impact.routeChanges.toReview} to review.
                </p>
              ) : null}
              {p.note ? <p className="mt-1 text-slate-600">Note: {p.note}</p> : null}
              {p.status === "pending" ? (
                <div className="mt-2 flex flex-wrap gap-2">
                  {canApprove && p.proposedBy !== me
                    ? (["approve", "reject"] as const).map((d) => <DecideButton key={d} proposal={p.id} decision={d} />)
                    : null}
                  {p.proposedBy === me ? <DecideButton proposal={p.id} decision="withdraw" /> : null}
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

const pct = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(1)}%`);

function DecideButton({ proposal, decision }: { proposal: string; decision: "approve" | "reject" | "withdraw" }) {
  return (
    <Form method="post">
      <input type="hidden" name="intent" value="decide" />
      <input type="hidden" name="proposal" value={proposal} />
      <input type="hidden" name="decision" value={decision} />
      <button
        type="submit"
        className={
          decision === "approve"
            ? "rounded bg-emerald-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-700"
            : "rounded border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50"
        }
      >
        {decision[0].toUpperCase() + decision.slice(1)}
      </button>
    </Form>
  );
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

/** Who works this type's queue: checkboxes over everyone who may review, saved as one set. */
function MembersSection() {
  const { type, members, candidates, canEditMembers } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const posted = useActionData<typeof action>();
  const busy = fetcher.state !== "idle";
  // The fetcher's answer; without JavaScript the form posts as a page, and the answer is the page's.
  const answer = fetcher.data ?? posted;
  const mine = answer && answer.intent === "members" ? answer : undefined;
  const current = new Set(members.map((m) => m.email));
  const eligible = new Set(candidates.map((c) => c.email));
  const leaving = members.filter((m) => !eligible.has(m.email));
  const description =
    "Who may work this type's queue. With no members it is open to every reviewer; with members, only they are offered its tasks. " +
    "Escalations stay with the type's owner.";
  return (
    <Section title="Queue members" id="members" description={description}>
      {mine?.ok ? (
        <div className="mb-3">
          <FormMessage tone="success">
            {mine.count === 0 ? "Saved. The queue is open to every reviewer." : `Saved. ${mine.count} member${mine.count === 1 ? "" : "s"} work this queue.`}
          </FormMessage>
        </div>
      ) : null}
      {mine && !mine.ok ? (
        <div className="mb-3">
          <FormMessage tone="error">{mine.message}; nothing was changed.</FormMessage>
        </div>
      ) : null}
      {canEditMembers ? (
        <fetcher.Form
          method="post"
          action={`/admin/types/${encodeURIComponent(type.key)}?section=members`}
          aria-label="Queue members"
          className="space-y-3"
          key={[...current].join(",")}
        >
          {candidates.length === 0 ? (
            <p className="text-sm text-slate-600">Nobody can be a member yet: add reviewers on the Users page.</p>
          ) : (
            <CheckboxCards
              legend={members.length ? `Members (${members.length})` : "Members (none: open to every reviewer)"}
              name="members"
              options={candidates.map((c) => c.email)}
              help={Object.fromEntries(candidates.map((c) => [c.email, `${c.name} · ${c.role}`]))}
              checked={(email) => current.has(email)}
              errorId="members-error"
              errors={mine && !mine.ok ? issuesUnder(mine.issues, "members") : []}
              columns="sm:grid-cols-2 lg:grid-cols-3"
            />
          )}
          {leaving.length ? (
            <p className="text-xs text-amber-800">
              {leaving.map((m) => m.email).join(", ")} can no longer review (disabled or another role) and will be removed when you save.
            </p>
          ) : null}
          <PrimaryButton type="submit" disabled={busy}>
            Save members
          </PrimaryButton>
        </fetcher.Form>
      ) : (
        <p className="text-sm text-slate-700">{members.length ? members.map((m) => m.email).join(", ") : "No members: open to every reviewer."}</p>
      )}
    </Section>
  );
}

export default function EditType() {
  const { type, history, owners, canEditType, proposals } = useLoaderData<typeof loader>();
  const proposalOf = new Map(proposals.filter((p) => p.status === "approved" && p.policyVersion !== null).map((p) => [p.policyVersion!, p]));
  const actionResult = useActionData<typeof action>();
  // The definition form's own answer (the members form answers for itself, in MembersSection).
  const result = actionResult && actionResult.intent !== "members" && !actionResult.ok ? actionResult : undefined;
  const impact = actionResult && actionResult.intent === "preview" && actionResult.ok && "impact" in actionResult ? actionResult.impact : undefined;
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
      <MembersSection />
      {canEditType ? (
        <DecisionTypeForm
          key={type.updatedAtMs}
          mode="edit"
          initial={typeToForm(type)}
          owners={owners}
          issues={result?.issues}
          message={result?.message}
          policyVersion={type.policyVersion}
          impact={impact}
          underApproval={type.policyApproval}
        />
      ) : (
        <p className="text-sm text-slate-600">Only admins change the type&apos;s definition and routing policy.</p>
      )}
      {type.policyApproval ? <ProposalsSection /> : null}
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
            <TH>Proposal</TH>
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
                <TD>
                  <VersionProposal p={proposalOf.get(h.version)} />
                </TD>
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
