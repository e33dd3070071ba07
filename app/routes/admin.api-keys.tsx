/** API keys: list, create (the key is shown once), revoke. Keys are stored only as hashes. */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { readForm } from "~/lib/read-form.server";
import { SCOPES } from "~/domain/auth/permissions";
import { requireUser } from "~/domain/auth/session.server";
import { createApiKey, listApiKeys, listActiveUsers, revokeApiKey } from "~/domain/auth/users.server";
import { formError, formFailure } from "~/lib/form-failure.server";
import { issuesUnder, type FormFailure } from "~/lib/form-failure";
import { Badge } from "~/components/ui/badge";
import { CopyButton } from "~/components/ui/copy-button";
import { ConfirmSubmit } from "~/components/ui/confirm-submit";
import { CheckboxCards, FormField, FormMessage, inputClass, PrimaryButton, useResetOnSuccess } from "~/components/ui/form-field";
import { PageHeader, Section } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction = () => [{ title: "API keys · Admin · Lastmile" }];

const SCOPE_HELP: Record<(typeof SCOPES)[number], string> = {
  ingest: "send decisions (and read them back)",
  review: "claim and review tasks through the API",
  read: "read decisions, reports and datasets",
  admin: "everything, including types, users and keys",
};

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "apikeys:write");
  const db = getDb();
  return {
    now: Date.now(),
    keys: await listApiKeys(db),
    users: (await listActiveUsers(db)).map((u) => ({ email: u.email, role: u.role })),
  };
}

const intentSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("create") }),
  z.object({ intent: z.literal("revoke"), id: z.string().min(1) }),
]);

type ActionResult = { ok: true; intent: "create"; name: string; key: string } | { ok: true; intent: "revoke"; name: string } | FormFailure;

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "apikeys:write");
  const form = await readForm(request);
  const parsed = intentSchema.safeParse({ intent: form.get("intent"), id: form.get("id") ?? undefined });
  if (!parsed.success) return formError("unknown", "Unknown action.");
  const db = getDb();
  try {
    if (parsed.data.intent === "create") {
      const name = String(form.get("name") ?? "").trim();
      const user = String(form.get("user") ?? "");
      const expiresAt = String(form.get("expiresAt") ?? "").trim();
      const { key } = await createApiKey(
        db,
        { name, scopes: form.getAll("scopes").map(String), ...(user ? { user } : {}), ...(expiresAt ? { expiresAt } : {}) },
        who.actor,
      );
      return data<ActionResult>({ ok: true, intent: "create", name, key });
    }
    const { name } = await revokeApiKey(db, parsed.data.id, who.actor);
    return data<ActionResult>({ ok: true, intent: "revoke", name });
  } catch (e) {
    return formFailure(e, parsed.data.intent);
  }
}

export default function ApiKeys() {
  const { keys, users, now } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const formRef = useResetOnSuccess(result, "create");
  const errors = result && !result.ok && result.intent === "create" ? result.issues : {};
  const scopeErrors = issuesUnder(errors, "scopes");
  return (
    <div className="space-y-6">
      <PageHeader
        title="API keys"
        description="Keys let upstream systems send decisions and integrations read or review them. A key tied to a user acts as that user and never exceeds their role."
      />
      {result?.ok && result.intent === "create" ? (
        <FormMessage tone="success">
          <p>
            Created key <strong>{result.name}</strong>. Copy it now: it is shown only once and cannot be recovered.
          </p>
          <p className="mt-2 flex flex-wrap items-center gap-2">
            <code data-testid="new-api-key" className="break-all rounded bg-white px-2 py-1 font-mono text-sm ring-1 ring-emerald-200">
              {result.key}
            </code>
            <CopyButton value={result.key} label="Copy key" />
          </p>
        </FormMessage>
      ) : null}
      {result?.ok && result.intent === "revoke" ? (
        <FormMessage tone="success">{`Key ${result.name} is revoked; requests with it now get 401.`}</FormMessage>
      ) : null}
      {result && !result.ok && result.intent === "revoke" ? <FormMessage tone="error">{result.message}</FormMessage> : null}

      <Section title="Create a key" id="create-key">
        <Form ref={formRef} method="post" className="space-y-4" noValidate>
          <input type="hidden" name="intent" value="create" />
          <div className="grid grid-cols-1 gap-4 md:grid-cols-3">
            <FormField id="key-name" label="Name" hint="What uses it, e.g. “loan-origination prod”." errors={errors.name}>
              <input name="name" type="text" autoComplete="off" className={inputClass} />
            </FormField>
            <FormField
              id="key-user"
              label="Acts as user"
              hint="Optional. Needed for the review API; the key then never exceeds that user's role."
              errors={errors.user}
            >
              <select name="user" defaultValue="" className={inputClass}>
                <option value="">No user (a system key)</option>
                {users.map((u) => (
                  <option key={u.email} value={u.email}>
                    {u.email} ({u.role})
                  </option>
                ))}
              </select>
            </FormField>
            <FormField
              id="key-expires"
              label="Expires on"
              hint="Optional. From midnight UTC of this day, requests with the key get 401."
              errors={errors.expiresAt}
            >
              <input name="expiresAt" type="date" className={inputClass} />
            </FormField>
          </div>
          <CheckboxCards
            legend="Scopes"
            name="scopes"
            options={SCOPES}
            help={SCOPE_HELP}
            checked={(s) => s === "ingest"}
            errorId="key-scopes-error"
            errors={scopeErrors}
            columns="sm:grid-cols-2 lg:grid-cols-4"
          />
          <PrimaryButton type="submit" disabled={busy}>
            Create key
          </PrimaryButton>
        </Form>
      </Section>

      <Table label="API keys">
        <THead>
          <TH>Name</TH>
          <TH>Prefix</TH>
          <TH>Scopes</TH>
          <TH>User</TH>
          <TH>Created</TH>
          <TH>Last used</TH>
          <TH>Expires</TH>
          <TH>Status</TH>
          <TH>
            <span className="sr-only">Actions</span>
          </TH>
        </THead>
        <TBody>
          {keys.length === 0 ? <EmptyRow colSpan={9}>No API keys yet.</EmptyRow> : null}
          {keys.map((k) => (
            <tr key={k.id} className={k.revokedAt ? "text-slate-500" : undefined}>
              <TD className="font-medium">{k.name}</TD>
              <TD>
                <code className="font-mono text-xs">lm_{k.prefix}…</code>
              </TD>
              <TD>
                <span className="flex flex-wrap gap-1">
                  {k.scopes.map((s) => (
                    <Badge key={s} tone={s === "admin" ? "red" : "slate"}>
                      {s}
                    </Badge>
                  ))}
                </span>
              </TD>
              <TD>{k.user ?? <span className="text-slate-500">—</span>}</TD>
              <TD>
                <Time value={k.createdAt} />
              </TD>
              <TD>{k.lastUsedAt ? <Time value={k.lastUsedAt} /> : <span className="text-slate-500">never</span>}</TD>
              <TD>{k.expiresAt ? <Time value={k.expiresAt} /> : <span className="text-slate-500">—</span>}</TD>
              <TD>
                {k.revokedAt ? (
                  <span>
                    <Badge tone="red">revoked</Badge>{" "}
                    <span className="text-xs">
                      <Time value={k.revokedAt} />
                    </span>
                  </span>
                ) : k.expiresAt !== null && k.expiresAt <= now ? (
                  <Badge tone="amber" title="Past its expiry date, so requests with it get 401">
                    expired
                  </Badge>
                ) : k.userDisabled ? (
                  <Badge tone="amber" title="Its user is disabled, so requests with it get 401">
                    user disabled
                  </Badge>
                ) : (
                  <Badge tone="emerald">active</Badge>
                )}
              </TD>
              <TD className="text-right">
                {k.revokedAt ? null : (
                  <Form method="post" aria-label={`Revoke ${k.name}`}>
                    <input type="hidden" name="id" value={k.id} />
                    <ConfirmSubmit label="Revoke" confirmLabel={`Revoke ${k.name}`} name="intent" value="revoke" />
                  </Form>
                )}
              </TD>
            </tr>
          ))}
        </TBody>
      </Table>
    </div>
  );
}
