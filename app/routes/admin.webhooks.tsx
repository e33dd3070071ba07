/** Webhooks: subscribe (the signing secret is shown once), enable/disable, delete, rotate the secret, and see deliveries, dead letters included, with retry. */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { WEBHOOK_DELIVERY_STATUSES } from "@db/schema/tables";
import { requireUser } from "~/domain/auth/session.server";
import {
  createWebhook,
  deleteWebhook,
  listDeliveries,
  listWebhooks,
  retryDelivery,
  rotateWebhookSecret,
  updateWebhook,
} from "~/domain/webhooks/subscriptions.server";
import { WEBHOOK_EVENTS } from "~/domain/webhooks/events";
import { readForm } from "~/lib/read-form.server";
import { formError, formFailure } from "~/lib/form-failure.server";
import { issuesUnder, type FormFailure } from "~/lib/form-failure";
import { Badge } from "~/components/ui/badge";
import { CopyButton } from "~/components/ui/copy-button";
import { ConfirmSubmit } from "~/components/ui/confirm-submit";
import { CheckboxCards, FieldError, FormField, FormMessage, inputClass, PrimaryButton, useResetOnSuccess } from "~/components/ui/form-field";
import { PageHeader, Section } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { Time } from "~/components/ui/time";

export const meta: MetaFunction = () => [{ title: "Webhooks · Admin · Lastmile" }];

const EVENT_HELP: Record<(typeof WEBHOOK_EVENTS)[number], string> = {
  "decision.finalized": "the outcome is final (reviewed, or released automatically)",
  "decision.escalated": "a reviewer sent it to the type's owner",
  "decision.corrected_after_release": "a QA review found an automatically released output wrong",
  "decision.qa_reviewed": "a QA review of an automatic decision was given",
  "alert.fired": "a drift monitor raised an alert for the type",
  "alert.resolved": "a drift monitor's alert resolved",
};

const viewSchema = z.object({
  webhook: z.string().min(1).max(100).optional(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
});

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "webhooks:write");
  const db = getDb();
  const params = new URL(request.url).searchParams;
  const view = viewSchema.safeParse({ webhook: params.get("webhook") || undefined, status: params.get("status") || undefined });
  const webhooks = await listWebhooks(db);
  const selected = view.success && view.data.webhook ? webhooks.find((w) => w.id === view.data.webhook) : undefined;
  const status = view.success ? view.data.status : undefined;
  return {
    webhooks,
    selected: selected ?? null,
    status: status ?? null,
    deliveries: selected ? (await listDeliveries(db, selected.id, { status, limit: 100 })).deliveries : [],
  };
}

const intentSchema = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("create") }),
  z.object({ intent: z.enum(["enable", "disable", "delete", "rotate"]), id: z.string().min(1) }),
  z.object({ intent: z.literal("retry"), id: z.string().min(1), delivery: z.string().min(1) }),
]);

type ActionResult =
  | { ok: true; intent: "create" | "rotate"; url: string; secret: string }
  | { ok: true; intent: "enable" | "disable" | "delete" | "retry"; message: string }
  | FormFailure;

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "webhooks:write");
  const form = await readForm(request);
  const parsed = intentSchema.safeParse({
    intent: form.get("intent"),
    id: form.get("id") ?? undefined,
    delivery: form.get("delivery") ?? undefined,
  });
  if (!parsed.success) return formError("unknown", "Unknown action.");
  const db = getDb();
  const p = parsed.data;
  try {
    switch (p.intent) {
      case "create": {
        const types = String(form.get("types") ?? "")
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean);
        const description = String(form.get("description") ?? "").trim();
        const created = await createWebhook(
          db,
          {
            url: String(form.get("url") ?? ""),
            events: form.getAll("events").map(String),
            ...(types.length ? { types } : {}),
            ...(description ? { description } : {}),
          },
          who.actor,
        );
        return data<ActionResult>({ ok: true, intent: "create", url: created.url, secret: created.secret });
      }
      case "rotate": {
        const rotated = await rotateWebhookSecret(db, p.id, who.actor);
        return data<ActionResult>({ ok: true, intent: "rotate", url: rotated.url, secret: rotated.secret });
      }
      case "enable":
      case "disable": {
        const w = await updateWebhook(db, p.id, { enabled: p.intent === "enable" }, who.actor);
        return data<ActionResult>({ ok: true, intent: p.intent, message: `${w.url} is ${w.enabled ? "enabled" : "disabled"}.` });
      }
      case "delete": {
        await deleteWebhook(db, p.id, who.actor);
        return data<ActionResult>({ ok: true, intent: "delete", message: "The webhook is deleted." });
      }
      case "retry": {
        await retryDelivery(db, p.id, p.delivery, who.actor);
        return data<ActionResult>({ ok: true, intent: "retry", message: `Delivery ${p.delivery} will be sent again shortly.` });
      }
    }
  } catch (e) {
    return formFailure(e, p.intent);
  }
}

const STATUS_TONE = { pending: "amber", delivered: "emerald", dead: "red" } as const;

export default function Webhooks() {
  const { webhooks, selected, status, deliveries } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const formRef = useResetOnSuccess(result, "create");
  const errors = result && !result.ok && result.intent === "create" ? result.issues : {};
  const eventErrors = issuesUnder(errors, "events");
  const typeErrors = issuesUnder(errors, "types");
  return (
    <div className="space-y-6">
      <PageHeader
        title="Webhooks"
        description="Signed HTTP callbacks (Standard Webhooks) for decision events, sent in order per decision and retried until they are delivered or dead."
      />
      {result?.ok && (result.intent === "create" || result.intent === "rotate") ? (
        <FormMessage tone="success">
          <p>
            {result.intent === "create" ? "Created the webhook for " : "New signing secret for "}
            <strong>{result.url}</strong>. Copy the secret now: it is shown only once.
            {result.intent === "rotate" ? " The previous secret keeps signing beside it for 24 hours." : null}
          </p>
          <p className="mt-2 flex flex-wrap items-center gap-2">
            <code data-testid="webhook-secret" className="break-all rounded bg-white px-2 py-1 font-mono text-sm ring-1 ring-emerald-200">
              {result.secret}
            </code>
            <CopyButton value={result.secret} label="Copy secret" />
          </p>
        </FormMessage>
      ) : null}
      {result?.ok && "message" in result ? <FormMessage tone="success">{result.message}</FormMessage> : null}
      {result && !result.ok && result.intent !== "create" ? <FormMessage tone="error">{result.message}</FormMessage> : null}

      <Section title="Add a webhook" id="create-webhook">
        <Form ref={formRef} method="post" className="space-y-4" noValidate>
          <input type="hidden" name="intent" value="create" />
          <div className="grid grid-cols-1 gap-4 md:grid-cols-3">
            <FormField id="webhook-url" label="URL" hint="http:// or https://; link-local and cloud metadata addresses are refused." errors={errors.url}>
              <input name="url" type="url" autoComplete="off" placeholder="https://erp.example.com/hooks/lastmile" className={inputClass} />
            </FormField>
            <FormField id="webhook-types" label="Decision types" hint="Optional, comma-separated keys; empty for every type.">
              <input name="types" type="text" autoComplete="off" className={inputClass} aria-describedby="webhook-types-error" />
            </FormField>
            <FormField id="webhook-description" label="Description" hint="Optional: who receives it." errors={errors.description}>
              <input name="description" type="text" autoComplete="off" className={inputClass} />
            </FormField>
          </div>
          <FieldError id="webhook-types-error" messages={typeErrors} />
          <CheckboxCards
            legend="Events"
            name="events"
            options={WEBHOOK_EVENTS}
            help={EVENT_HELP}
            checked={(e) => e === "decision.finalized"}
            errorId="webhook-events-error"
            errors={eventErrors}
            mono
          />
          <PrimaryButton type="submit" disabled={busy}>
            Add webhook
          </PrimaryButton>
        </Form>
      </Section>

      <Table label="Webhooks">
        <THead>
          <TH>URL</TH>
          <TH>Events</TH>
          <TH>Types</TH>
          <TH>Created</TH>
          <TH>Status</TH>
          <TH>
            <span className="sr-only">Actions</span>
          </TH>
        </THead>
        <TBody>
          {webhooks.length === 0 ? <EmptyRow colSpan={6}>No webhooks yet.</EmptyRow> : null}
          {webhooks.map((w) => (
            <tr key={w.id} className={w.enabled ? undefined : "text-slate-500"}>
              <TD className="max-w-xs break-all">
                <Link to={`?webhook=${w.id}`} className="font-medium text-indigo-700 hover:underline">
                  {w.url}
                </Link>
                {w.description ? <span className="block text-xs text-slate-500">{w.description}</span> : null}
              </TD>
              <TD>
                <span className="flex flex-wrap gap-1">
                  {w.events.map((e) => (
                    <Badge key={e}>{e}</Badge>
                  ))}
                </span>
              </TD>
              <TD>{w.types ? w.types.join(", ") : <span className="text-slate-500">all</span>}</TD>
              <TD>
                <Time value={w.createdAt} />
              </TD>
              <TD>
                {w.enabled ? <Badge tone="emerald">enabled</Badge> : <Badge tone="amber">disabled</Badge>}
                {w.previousSecretExpiresAt ? (
                  <span className="block text-xs text-slate-500">
                    old secret signs until <Time value={w.previousSecretExpiresAt} />
                  </span>
                ) : null}
              </TD>
              <TD className="whitespace-nowrap text-right">
                <Form method="post" aria-label={`Actions for ${w.url}`} className="inline-flex items-center gap-1">
                  <input type="hidden" name="id" value={w.id} />
                  <button
                    type="submit"
                    name="intent"
                    value={w.enabled ? "disable" : "enable"}
                    className="rounded-md px-2 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100"
                  >
                    {w.enabled ? "Disable" : "Enable"}
                  </button>
                  <ConfirmSubmit label="Rotate secret" confirmLabel="Rotate" name="intent" value="rotate" />
                  <ConfirmSubmit label="Delete" confirmLabel={`Delete ${w.url}`} name="intent" value="delete" />
                </Form>
              </TD>
            </tr>
          ))}
        </TBody>
      </Table>

      {selected ? (
        <Section
          title={`Deliveries to ${selected.url}`}
          id="deliveries"
          description="Newest events first. A dead delivery has used up its attempts; later events about the same decision wait behind it until it is retried."
          actions={
            <nav aria-label="Delivery status" className="flex gap-2 text-sm">
              {[null, ...WEBHOOK_DELIVERY_STATUSES].map((s) => (
                <Link
                  key={s ?? "all"}
                  to={`?webhook=${selected.id}${s ? `&status=${s}` : ""}`}
                  aria-current={status === s ? "page" : undefined}
                  className={status === s ? "font-semibold text-indigo-800" : "text-slate-600 hover:text-slate-900"}
                >
                  {s ?? "all"}
                </Link>
              ))}
            </nav>
          }
        >
          <Table label="Deliveries">
            <THead>
              <TH>Event</TH>
              <TH>Decision</TH>
              <TH>Status</TH>
              <TH numeric>Attempts</TH>
              <TH>Last attempt</TH>
              <TH>Last error</TH>
              <TH>
                <span className="sr-only">Actions</span>
              </TH>
            </THead>
            <TBody>
              {deliveries.length === 0 ? <EmptyRow colSpan={7}>No deliveries.</EmptyRow> : null}
              {deliveries.map((d) => (
                <tr key={d.id}>
                  <TD className="font-mono text-xs">
                    {d.eventType}
                    <span className="block text-slate-500">{d.webhookId}</span>
                  </TD>
                  <TD>
                    <Link to={`/decisions/${d.decisionId}`} className="font-mono text-xs text-indigo-700 hover:underline">
                      {d.decisionId}
                    </Link>
                  </TD>
                  <TD>
                    <Badge tone={STATUS_TONE[d.status]}>{d.status}</Badge>
                  </TD>
                  <TD numeric>{d.attempts}</TD>
                  <TD>{d.lastAttemptAt ? <Time value={d.lastAttemptAt} /> : <span className="text-slate-500">—</span>}</TD>
                  <TD className="max-w-xs break-words text-xs">{d.lastError ?? ""}</TD>
                  <TD className="text-right">
                    {d.status === "delivered" ? null : (
                      <Form method="post" aria-label={`Retry delivery ${d.id}`}>
                        <input type="hidden" name="id" value={selected.id} />
                        <input type="hidden" name="delivery" value={d.id} />
                        <button
                          type="submit"
                          name="intent"
                          value="retry"
                          className="rounded-md px-2 py-1 text-sm font-medium text-indigo-700 hover:bg-indigo-50"
                        >
                          Retry now
                        </button>
                      </Form>
                    )}
                  </TD>
                </tr>
              ))}
            </TBody>
          </Table>
        </Section>
      ) : null}
    </div>
  );
}
