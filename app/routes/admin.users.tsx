/**
 * People: list, create with a role (one-time password shown once), disable and re-enable, sign out everywhere
 * (admins); the queues each person works (admins and managers; managers see the rest read-only).
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { useState } from "react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { readForm } from "~/lib/read-form.server";
import { can, ROLES } from "~/domain/auth/permissions";
import { requireUser } from "~/domain/auth/session.server";
import { activeSessionCounts, createUser, disableUser, enableUser, endUserSessions, listUsers, setUserRole } from "~/domain/auth/users.server";
import { listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { queuesByUser, reviewerCapable, setUserQueues } from "~/domain/teams/membership.server";
import { invariantResponse } from "~/lib/invariant";
import { describeIssues, issuesUnder } from "~/lib/form-failure";
import { formError, formFailure } from "~/lib/form-failure.server";
import type { FormFailure } from "~/lib/form-failure";
import { Badge } from "~/components/ui/badge";
import { CopyButton } from "~/components/ui/copy-button";
import { ConfirmSubmit } from "~/components/ui/confirm-submit";
import { CheckboxCards, FormField, FormMessage, inputClass, PrimaryButton, useResetOnSuccess } from "~/components/ui/form-field";
import { Dialog } from "~/components/ui/dialog";
import { PageHeader, Section } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction = () => [{ title: "Users · Admin · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, ["users:write", "members:write"]);
  const db = getDb();
  const sessionsOf = await activeSessionCounts(db);
  const queuesOf = await queuesByUser(db);
  return {
    me: who.user.id,
    canManageUsers: can(who, "users:write"),
    canEditQueues: can(who, "members:write"),
    types: (await listDecisionTypes(db)).map((t) => ({ key: t.key, name: t.name })),
    users: (await listUsers(db)).map((u) => ({
      queues: queuesOf.get(u.id) ?? [],
      /** Enabled, with a role that reviews tasks: may be a queue's member. */
      mayReview: reviewerCapable(u),
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      createdAt: u.createdAt,
      disabledAt: u.disabledAt,
      sessions: sessionsOf.get(u.id) ?? 0,
    })),
  };
}

const intentSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("create"), email: z.string(), name: z.string().optional(), role: z.string() }),
  z.object({ intent: z.literal("disable"), id: z.string().min(1) }),
  z.object({ intent: z.literal("enable"), id: z.string().min(1) }),
  z.object({ intent: z.literal("end-sessions"), id: z.string().min(1) }),
  z.object({ intent: z.literal("role"), id: z.string().min(1), role: z.enum(ROLES) }),
]);

type ActionResult =
  | { ok: true; intent: "create"; email: string; password: string }
  | { ok: true; intent: "disable" | "enable"; email: string }
  | { ok: true; intent: "end-sessions"; email: string; ended: number }
  | { ok: true; intent: "role"; email: string; role: string }
  | { ok: true; intent: "queues"; email: string; queues: string[] }
  | FormFailure;

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, ["users:write", "members:write"]);
  const form = await readForm(request);
  // The queues dialog posts to ?section=queues: another permission than the rest of the page's, named by the URL.
  const queues = new URL(request.url).searchParams.get("section") === "queues";
  // Managers change only the queues people work; everything else here is an admin's.
  const needs = queues ? "members:write" : "users:write";
  invariantResponse(can(who, needs), `Your role (${who.user.role}) does not allow this (${needs}).`, { status: 403 });
  const db = getDb();
  if (queues) {
    const id = form.get("id");
    if (typeof id !== "string" || id === "") return formError("queues", "Choose a user.");
    try {
      const saved = await setUserQueues(db, id, { queues: form.getAll("queues").map(String) }, who.actor);
      return data<ActionResult>({ ok: true, intent: "queues", ...saved });
    } catch (e) {
      return formFailure(e, "queues");
    }
  }
  const parsed = intentSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return formError("unknown", "Unknown action.");
  const input = parsed.data;
  try {
    if (input.intent === "create") {
      const { user, password } = await createUser(db, { email: input.email, role: input.role, name: input.name?.trim() || undefined }, who.actor);
      return data<ActionResult>({ ok: true, intent: "create", email: user.email, password });
    }
    if (input.intent === "end-sessions") {
      const { user, ended } = await endUserSessions(db, input.id, who.actor);
      return data<ActionResult>({ ok: true, intent: "end-sessions", email: user.email, ended });
    }
    if (input.intent === "role") {
      const user = await setUserRole(db, input.id, input.role, who.actor);
      return data<ActionResult>({ ok: true, intent: "role", email: user.email, role: input.role });
    }
    const user = input.intent === "disable" ? await disableUser(db, input.id, who.user) : await enableUser(db, input.id, who.actor);
    return data<ActionResult>({ ok: true, intent: input.intent, email: user.email });
  } catch (e) {
    return formFailure(e, input.intent);
  }
}

type UserItem = ReturnType<typeof useLoaderData<typeof loader>>["users"][number];

/** The queues a person works, and (for admins and managers) a dialog that changes them as one set. */
function QueuesCell({ user }: { user: UserItem }) {
  const { types, canEditQueues } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const busy = fetcher.state !== "idle";
  const answer = fetcher.data;
  // Open since `opened.answer` was the latest answer: a new success closes it (the page's data reloads); a refusal keeps
  // it open with its messages.
  const [opened, setOpened] = useState<{ answer: typeof answer } | null>(null);
  const open = opened !== null && !(answer?.ok && answer !== opened.answer);
  const setOpen = (o: boolean) => setOpened(o ? { answer } : null);
  const nameOf = new Map(types.map((t) => [t.key, t.name]));
  const held = new Set(user.queues);
  const failure = answer && !answer.ok && answer !== opened?.answer ? answer : undefined;
  return (
    <div className="flex flex-wrap items-center gap-1">
      {answer?.ok ? (
        <span role="status" className="sr-only">
          Saved the queues of {user.email}
        </span>
      ) : null}
      {user.queues.length === 0 ? <span className="text-xs text-slate-500">open queues only</span> : null}
      {user.queues.map((k) => (
        <Badge key={k} tone="slate">
          {nameOf.get(k) ?? k}
        </Badge>
      ))}
      {canEditQueues && (user.mayReview || user.queues.length > 0) ? (
        <>
          <button
            type="button"
            onClick={() => setOpen(true)}
            className="rounded-md px-2 py-0.5 text-xs font-medium text-indigo-700 hover:bg-indigo-50"
            aria-label={`Edit queues of ${user.email}`}
          >
            Edit
          </button>
          <Dialog
            open={open}
            onOpenChange={setOpen}
            title={`Queues of ${user.email}`}
            description="A queue with members is worked only by them; a queue without members is open to every reviewer, so adding the first member closes it to the others."
            wide
          >
            <fetcher.Form method="post" action="/admin/users?section=queues" className="space-y-3" aria-label={`Queues of ${user.email}`}>
              <input type="hidden" name="id" value={user.id} />
              {failure ? <FormMessage tone="error">{failure.message}; nothing was changed.</FormMessage> : null}
              {types.length === 0 ? (
                <p className="text-sm text-slate-600">No decision types yet.</p>
              ) : (
                <CheckboxCards
                  legend="Member of"
                  name="queues"
                  options={types.map((t) => t.key)}
                  help={Object.fromEntries(types.map((t) => [t.key, t.name]))}
                  checked={(k) => held.has(k)}
                  errorId={`queues-${user.id}-error`}
                  errors={failure ? [...issuesUnder(failure.issues, "queues"), ...issuesUnder(failure.issues, "user")] : []}
                  mono
                />
              )}
              <PrimaryButton type="submit" disabled={busy}>
                Save queues
              </PrimaryButton>
            </fetcher.Form>
          </Dialog>
        </>
      ) : null}
    </div>
  );
}

export default function Users() {
  const { users, me, canManageUsers } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const formRef = useResetOnSuccess(result, "create");
  const createErrors = result && !result.ok && result.intent === "create" ? result.issues : {};
  return (
    <div className="space-y-6">
      <PageHeader title="Users" description="People who sign in to Lastmile, and what their role lets them do." />
      {result?.ok && result.intent === "create" ? (
        <FormMessage tone="success">
          <p>
            Created <strong>{result.email}</strong>. Their one-time password is shown only now; hand it over securely:
          </p>
          <p className="mt-2 flex items-center gap-2">
            <code data-testid="one-time-password" className="rounded bg-white px-2 py-1 font-mono text-sm ring-1 ring-emerald-200">
              {result.password}
            </code>
            <CopyButton value={result.password} label="Copy password" />
          </p>
        </FormMessage>
      ) : null}
      {result?.ok && result.intent === "end-sessions" ? (
        <FormMessage tone="success">{`${result.email} is signed out everywhere (${result.ended} session${result.ended === 1 ? "" : "s"} ended).`}</FormMessage>
      ) : null}
      {result?.ok && result.intent === "role" ? <FormMessage tone="success">{`${result.email} is now ${result.role}.`}</FormMessage> : null}
      {result?.ok && (result.intent === "disable" || result.intent === "enable") ? (
        <FormMessage tone="success">{`${result.email} is ${result.intent}d.`}</FormMessage>
      ) : null}
      {result && !result.ok && result.intent !== "create" ? (
        <FormMessage tone="error">{result.intent === "queues" ? `${describeIssues(result)}; nothing was changed.` : result.message}</FormMessage>
      ) : null}

      {canManageUsers ? (
        <Section title="Add a user" id="add-user">
          <Form ref={formRef} method="post" className="grid grid-cols-1 items-start gap-4 md:grid-cols-[2fr_2fr_1fr_auto]" noValidate>
            <input type="hidden" name="intent" value="create" />
            <FormField id="user-email" label="Email" errors={createErrors.email}>
              <input name="email" type="email" autoComplete="off" required className={inputClass} />
            </FormField>
            <FormField id="user-name" label="Name" hint="Optional; defaults to the part of the email before @." errors={createErrors.name}>
              <input name="name" type="text" autoComplete="off" className={inputClass} />
            </FormField>
            <FormField id="user-role" label="Role" errors={createErrors.role}>
              <select name="role" defaultValue="reviewer" className={inputClass}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </FormField>
            <PrimaryButton type="submit" disabled={busy} className="md:mt-6">
              Create user
            </PrimaryButton>
          </Form>
          {result && !result.ok && result.intent === "create" && Object.keys(createErrors).length === 0 ? (
            <div className="mt-3">
              <FormMessage tone="error">{result.message}</FormMessage>
            </div>
          ) : null}
          <p className="mt-3 text-xs text-slate-500">
            Roles: <strong>admin</strong> manages types, users and keys · <strong>manager</strong> reads reports, datasets and resolves escalations ·{" "}
            <strong>reviewer</strong> works the queues · <strong>auditor</strong> reads everything and changes nothing.
          </p>
        </Section>
      ) : null}

      <Table label="Users">
        <THead>
          <TH>Email</TH>
          <TH>Name</TH>
          <TH>Role</TH>
          <TH>Queues</TH>
          <TH>Created</TH>
          <TH>Status</TH>
          <TH>Sessions</TH>
          <TH>
            <span className="sr-only">Actions</span>
          </TH>
        </THead>
        <TBody>
          {users.length === 0 ? <EmptyRow colSpan={8}>No users yet.</EmptyRow> : null}
          {users.map((u) => (
            <tr key={u.id} className={u.disabledAt ? "text-slate-500" : undefined}>
              <TD className="font-medium">{u.email}</TD>
              <TD>{u.name}</TD>
              <TD>
                {u.role ? (
                  <Badge tone={u.role === "admin" ? "indigo" : "slate"}>{u.role}</Badge>
                ) : !canManageUsers ? (
                  <Badge tone="amber">pending</Badge>
                ) : (
                  // Pending: signed in through SSO without a role claim; no access until given a role here.
                  <Form method="post" className="flex items-center gap-2" aria-label={`Give ${u.email} a role`}>
                    <Badge tone="amber">pending</Badge>
                    <input type="hidden" name="id" value={u.id} />
                    <select
                      name="role"
                      defaultValue="reviewer"
                      aria-label={`Role for ${u.email}`}
                      className="rounded border border-slate-300 px-1 py-0.5 text-sm"
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                    <button type="submit" name="intent" value="role" className="rounded-md px-2 py-1 text-sm font-medium text-indigo-700 hover:bg-indigo-50">
                      Give role
                    </button>
                  </Form>
                )}
              </TD>
              <TD>
                <QueuesCell user={u} />
              </TD>
              <TD>
                <Time value={u.createdAt} />
              </TD>
              <TD>
                {u.disabledAt ? (
                  <span>
                    <Badge tone="red">disabled</Badge>{" "}
                    <span className="text-xs">
                      since <Time value={u.disabledAt} />
                    </span>
                  </span>
                ) : (
                  <Badge tone="emerald">active</Badge>
                )}
              </TD>
              <TD>{u.sessions}</TD>
              <TD className="text-right">
                {u.id === me ? (
                  <span className="text-xs text-slate-500">you</span>
                ) : !canManageUsers ? null : (
                  <span className="inline-flex items-center gap-1">
                    {u.sessions > 0 ? (
                      <Form method="post" aria-label={`End sessions of ${u.email}`}>
                        <input type="hidden" name="id" value={u.id} />
                        <ConfirmSubmit label="End sessions" confirmLabel={`Sign ${u.email} out everywhere`} name="intent" value="end-sessions" />
                      </Form>
                    ) : null}
                    <Form method="post" aria-label={`${u.disabledAt ? "Enable" : "Disable"} ${u.email}`}>
                      <input type="hidden" name="id" value={u.id} />
                      {u.disabledAt ? (
                        <button
                          type="submit"
                          name="intent"
                          value="enable"
                          className="rounded-md px-2 py-1 text-sm font-medium text-indigo-700 hover:bg-indigo-50"
                        >
                          Enable
                        </button>
                      ) : (
                        <ConfirmSubmit label="Disable" confirmLabel={`Disable ${u.email}`} name="intent" value="disable" />
                      )}
                    </Form>
                  </span>
                )}
              </TD>
            </tr>
          ))}
        </TBody>
      </Table>
    </div>
  );
}
