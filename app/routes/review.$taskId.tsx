/**
 * The review screen for one claimed task, and work mode: every verdict (or
 * skip) claims the next task and loads it at once. Opening the page never
 * claims: a task the reviewer does not hold is offered with a button (POST). Conflicts (expired lease,
 * task taken) are explained and the next task is loaded; nothing half-saves.
 */
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useSubmit } from "@remix-run/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { readForm } from "~/lib/read-form.server";
import { requireUser } from "~/domain/auth/session.server";
import { advance, listUrl, readWorkMode, type WorkEvent } from "~/domain/queue/work-mode.server";
import { openReviewScreen } from "~/domain/review/review-screen.server";
import { compileOutputSchema } from "~/domain/decision-types/output-schema";
import { diffOutputs } from "~/domain/review/diff";
import { globMatch } from "~/domain/routing/glob";
import { formError, formFailure } from "~/lib/form-failure.server";
import { taskKindLabel } from "~/domain/queue/task-kinds";
import { parseJsonText } from "~/lib/json";
import { Badge } from "~/components/ui/badge";
import { Button, Kbd, buttonClass } from "~/components/ui/button";
import { DiffView } from "~/components/review/diff-view";
import { formatDuration, formatTimestamp, percent } from "~/lib/format";
import { ObjectView } from "~/components/review/input-view";
import { fieldMessage } from "~/components/review/messages";
import { LeaseTimer, useLease } from "~/components/review/lease-timer";
import { OutputForm, setAt, type FormErrors, type Path } from "~/components/review/output-form";
import { ShortcutHelp } from "~/components/review/shortcuts";
import { VerdictDialog, type VerdictKind } from "~/components/review/verdict-dialog";

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data?.screen.state === "held" ? `Review ${data.screen.decision.externalId} · Lastmile` : "Review · Lastmile" },
];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const who = await requireUser(request, "tasks:review");
  const url = new URL(request.url);
  const now = Date.now();
  const screen = await openReviewScreen(getDb(), who.user, params.taskId!, now);
  const mode = readWorkMode(url.searchParams);
  const page = { screen, now, notice: url.searchParams.get("notice"), mode: { from: mode.from, back: listUrl(mode) } };
  // A task of a queue the reviewer may not work: the page says so, with a 403.
  return data(page, { status: screen.state === "forbidden" ? 403 : 200 });
}

const intentSchema = z.enum(["next", "claim", "stop", "skip", "submit"]);

/** Each button of the page is one work-mode step. */
const STEPS: Record<z.infer<typeof intentSchema>, (taskId: string, form: FormData) => WorkEvent> = {
  next: () => ({ type: "next" }),
  // Claiming is a POST (the page's "Claim and review"); opening the page never takes a lease.
  claim: (taskId) => ({ type: "open", taskId }),
  stop: (taskId) => ({ type: "stop", taskId }),
  skip: (taskId) => ({ type: "skip", taskId }),
  // The verdict travels as JSON in a form field, read like an API body.
  submit: (taskId, form) => ({ type: "verdict", taskId, body: parseJsonText(String(form.get("payload") ?? ""), "The review") }),
};

/**
 * Work mode (domain/queue/work-mode.server.ts) claims, releases or submits and
 * answers where the reviewer goes next. A claim or a verdict the rules refuse
 * is shown on the page; nothing half-saves.
 */
export async function action({ request, params }: ActionFunctionArgs) {
  const who = await requireUser(request, "tasks:review");
  const mode = readWorkMode(new URL(request.url).searchParams);
  const form = await readForm(request);
  const raw = String(form.get("intent") ?? "");
  const intent = intentSchema.safeParse(raw);
  if (!intent.success) return formError(raw, "Unknown action.");
  try {
    return redirect(await advance(getDb(), who.user, mode, STEPS[intent.data](params.taskId!, form)));
  } catch (e) {
    if (intent.data === "claim" || intent.data === "submit") return formFailure(e, intent.data);
    throw e;
  }
}

export default function ReviewRoute() {
  const { screen, now, notice, mode } = useLoaderData<typeof loader>();
  if (screen.state === "conflict") return <Conflict message={screen.message} mode={mode} />;
  if (screen.state === "forbidden") return <Conflict title="This task is not in your queues" message={screen.message} mode={mode} />;
  if (screen.state === "claimable") return <ClaimOffer offer={screen} mode={mode} />;
  return <ReviewScreen key={screen.task.id} screen={screen} now={now} notice={notice} />;
}

/** A task the reviewer does not hold: claiming it is a deliberate POST, never a side effect of opening the link. */
function ClaimOffer({ offer, mode }: { offer: Offer; mode: Mode }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const actionData = useActionData<typeof action>();
  const busy = useNavigation().state !== "idle";
  const failure = actionData && "ok" in actionData && !actionData.ok ? actionData.message : null;
  return (
    <div className="mx-auto mt-10 max-w-lg rounded-lg border border-slate-200 bg-white p-6">
      <h1 className="text-lg font-semibold text-slate-900">Review {offer.externalId}?</h1>
      {offer.message ? (
        <p role="alert" className="mt-2 text-sm text-amber-900">
          {offer.message}
        </p>
      ) : null}
      <p className="mt-2 text-sm text-slate-600">
        You do not hold this {taskKindLabel(offer.task.kind).label.toLowerCase()}. Claim it to review it; the lease keeps it yours while you work.
      </p>
      {failure ? (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {failure}.
        </p>
      ) : null}
      <Form method="post" className="mt-4 flex gap-2">
        <button ref={ref} type="submit" name="intent" value="claim" disabled={busy} className={buttonClass("primary")}>
          Claim and review
        </button>
        <Link to={mode.back} className={buttonClass("secondary")}>
          Back to queue
        </Link>
      </Form>
    </div>
  );
}

function Conflict({ title = "This task is no longer yours", message, mode }: { title?: string; message: string; mode: Mode }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="mx-auto mt-10 max-w-lg rounded-lg border border-amber-200 bg-amber-50 p-6">
      <h1 className="text-lg font-semibold text-amber-950">{title}</h1>
      <p role="alert" className="mt-2 text-sm text-amber-900">
        {message}
      </p>
      <Form method="post" className="mt-4 flex gap-2">
        <button ref={ref} type="submit" name="intent" value="next" className={buttonClass("primary")}>
          {mode.from === "escalations" ? "Back to escalations" : "Load next task"}
        </button>
        <Link to={mode.from === "escalations" ? "/queue" : mode.back} className={buttonClass("secondary")}>
          Back to queue
        </Link>
      </Form>
    </div>
  );
}

type Mode = ReturnType<typeof useLoaderData<typeof loader>>["mode"];
type Offer = Extract<ReturnType<typeof useLoaderData<typeof loader>>["screen"], { state: "claimable" }>;
type Held = Extract<ReturnType<typeof useLoaderData<typeof loader>>["screen"], { state: "held" }>;

function ReviewScreen({ screen, now, notice }: { screen: Held; now: number; notice: string | null }) {
  const { task, decision, type } = screen;
  const original = decision.output as unknown as Record<string, unknown>;
  const [value, setValue] = useState<unknown>(() => structuredClone(original));
  const [errors, setErrors] = useState<FormErrors>({});
  const [dialog, setDialog] = useState<VerdictKind | "help" | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const validator = useMemo(() => compileOutputSchema(type.outputSchema), [type.outputSchema]);
  const submit = useSubmit();
  const navigation = useNavigation();
  const busy = navigation.state !== "idle";
  const actionData = useActionData<typeof action>();
  const { left, expired, settle } = useLease(task.id, task.leaseExpiresAt, now);
  const formRef = useRef<HTMLDivElement>(null);
  const changes = useMemo(() => diffOutputs(original, value), [original, value]);
  const canEscalate = task.kind === "review" || task.kind === "second";

  const threshold = useCallback(
    (path: string) => {
      const wild = path.replace(/\.\d+(?=\.|$)/g, ".*");
      for (const [pattern, min] of Object.entries(type.fieldMinConfidence)) if (globMatch(pattern, path, ".") || globMatch(pattern, wild, ".")) return min;
      return type.minConfidence ?? 0.9;
    },
    [type],
  );

  const focusRow = useCallback((key?: string) => {
    const root = formRef.current;
    if (!root) return;
    const row = key
      ? root.querySelector<HTMLElement>(`[data-field="${CSS.escape(key)}"]`)
      : (root.querySelector<HTMLElement>("[data-low]") ?? root.querySelector<HTMLElement>("[data-field]"));
    row?.focus();
    row?.scrollIntoView({ block: "nearest" });
  }, []);

  // Low-confidence fields first: the first one has focus when the task opens.
  useEffect(() => focusRow(), [focusRow]);

  // Server-side validation lands next to the fields: output fields in the form,
  // the verdict's reason codes and note in the dialog, anything else above the form.
  const [dialogErrors, setDialogErrors] = useState<Record<string, string>>({});
  // A refused verdict's issues become state while rendering (React's "adjust state when a prop changes"),
  // not in an effect; only the side effects (the lease bookkeeping, moving focus) run in one.
  const [shownAction, setShownAction] = useState(actionData);
  const refusedFields =
    actionData && !actionData.ok
      ? Object.keys(actionData.issues)
          .filter((p) => p.startsWith("output."))
          .map((p) => p.slice(7))
      : [];
  if (actionData !== shownAction) {
    setShownAction(actionData);
    if (actionData && !actionData.ok) {
      const fieldErrors: FormErrors = {};
      const inDialog: Record<string, string> = {};
      const other: string[] = [];
      for (const [path, messages] of Object.entries(actionData.issues)) {
        if (path.startsWith("output.")) fieldErrors[path.slice(7)] ??= messages[0];
        else if (path === "note" || path === "reasonCodes" || path.startsWith("reasonCodes.")) inDialog[path.split(".")[0]] ??= messages[0];
        else other.push(`${path}: ${messages.join("; ")}`);
      }
      setDialogErrors(inDialog);
      if (Object.keys(fieldErrors).length) {
        setErrors(fieldErrors);
        setDialog(null);
      }
      setMessage(other.length ? other.join(" ") : Object.keys(actionData.issues).length ? null : actionData.message);
    }
  }
  const firstRefusedField = refusedFields[0];
  useEffect(() => {
    if (!actionData || actionData.ok) return;
    settle(false); // the verdict was refused; the task is still ours to release on leave
    if (firstRefusedField !== undefined) setTimeout(() => focusRow(firstRefusedField), 0);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [actionData, focusRow]);
  const openDialog = (d: VerdictKind | "help") => {
    setDialogErrors({});
    setDialog(d);
  };

  const validate = (): boolean => {
    const parsed = validator.safeParse(value);
    if (parsed.success) {
      setErrors({});
      return true;
    }
    const e: FormErrors = {};
    for (const i of parsed.error.issues) {
      const k = i.path.map(String).join(".");
      e[k] ??= fieldMessage(i);
    }
    setErrors(e);
    setTimeout(() => focusRow(Object.keys(e)[0]), 0);
    setMessage("Fix the highlighted fields first.");
    return false;
  };

  const send = (body: Record<string, unknown>) => {
    settle();
    submit({ intent: "submit", payload: JSON.stringify(body) }, { method: "post" });
  };

  const actions = {
    approve: () => {
      if (changes.length > 0) {
        setMessage(`You edited ${changes.length} field${changes.length === 1 ? "" : "s"}. Press c to submit a correction, or undo your edits to approve.`);
        return;
      }
      send({ action: "approve" });
    },
    correct: () => {
      if (!validate()) return;
      if (changes.length === 0) {
        setMessage("Nothing is edited yet: change a field first, or approve with a.");
        return;
      }
      setMessage(null);
      openDialog("correct");
    },
    reject: () => openDialog("reject"),
    escalate: () => {
      if (!canEscalate) {
        setMessage(task.kind === "qa" ? "A QA check cannot be escalated; correct or reject it." : "An escalation is resolved by approve, correct or reject.");
        return;
      }
      openDialog("escalate");
    },
    skip: () => {
      settle();
      submit({ intent: "skip" }, { method: "post" });
    },
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || dialog || busy) return;
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable=true], [role=dialog]")) return;
      const rows = [...(formRef.current?.querySelectorAll<HTMLElement>("[data-field]") ?? [])];
      const at = rows.findIndex((r) => r === document.activeElement || r.contains(document.activeElement));
      switch (e.key) {
        case "a":
          actions.approve();
          break;
        case "c":
          actions.correct();
          break;
        case "r":
          actions.reject();
          break;
        case "e":
          actions.escalate();
          break;
        case "s":
          actions.skip();
          break;
        case "j":
          rows[Math.min(rows.length - 1, at + 1)]?.focus();
          break;
        case "k":
          rows[Math.max(0, at - 1)]?.focus();
          break;
        case "?":
          setDialog("help");
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const kind = taskKindLabel(task.kind);
  const overdue = task.dueAt < now;

  return (
    <div className="space-y-4">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2">
        <h1 className="text-lg font-semibold tracking-tight">
          {type.name} <span className="font-mono text-base font-normal text-slate-500">{decision.externalId}</span>
        </h1>
        <Badge tone={kind.tone}>{kind.label}</Badge>
        {task.priority !== 0 ? <Badge tone="slate">Priority {task.priority}</Badge> : null}
        <span className={`text-xs ${overdue ? "font-medium text-red-700" : "text-slate-600"}`}>
          {overdue ? `SLA overdue by ${formatDuration(now - task.dueAt)}` : `SLA due in ${formatDuration(task.dueAt - now)}`}
        </span>
        <div className="ml-auto flex items-center gap-2">
          <LeaseTimer left={left} />
          <Button size="sm" variant="ghost" onClick={() => setDialog("help")} aria-keyshortcuts="?">
            Shortcuts <Kbd>?</Kbd>
          </Button>
          <Form method="post" onSubmit={() => settle()}>
            <button type="submit" name="intent" value="stop" className={buttonClass("secondary", "sm")}>
              Stop reviewing
            </button>
          </Form>
        </div>
      </header>

      {notice ? (
        <p role="status" className="rounded-md border border-slate-200 bg-white px-3 py-2 text-sm text-slate-700">
          {notice}
        </p>
      ) : null}
      {expired ? (
        <div role="alert" className="flex flex-wrap items-center gap-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">
          <span>Your lease expired and the task went back to the queue; someone else may take it. Nothing was saved.</span>
          <Form method="post" className="ml-auto" onSubmit={() => settle()}>
            <button type="submit" name="intent" value="next" className={buttonClass("primary", "sm")}>
              Load next task
            </button>
          </Form>
        </div>
      ) : null}
      {task.kind === "second" ? (
        <p className="rounded-md border border-violet-200 bg-violet-50 px-3 py-2 text-sm text-violet-900">
          Independent second review: another reviewer already answered. Their answer stays hidden until you submit yours; if you disagree, the owner decides.
        </p>
      ) : null}
      {message ? (
        <p role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {message}
        </p>
      ) : null}

      {/* At 1024 px the output gets two thirds: line items with several amounts need the width. */}
      <div className="grid gap-4 lg:grid-cols-[minmax(0,4fr)_minmax(0,8fr)] xl:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
        <div className="space-y-4">
          <Card title="Input">
            <ObjectView value={(decision.input ?? {}) as Record<string, unknown>} />
          </Card>
          <Card title="Why it is here">
            {decision.reasons.length === 0 ? (
              <p className="text-sm text-slate-600">{task.kind === "qa" ? "Sampled for a QA check of the automated lane." : "No routing rule fired."}</p>
            ) : (
              <ul className="space-y-1 text-sm">
                {decision.reasons.map((r) => (
                  <li key={r} className="flex items-start gap-2">
                    <Badge tone={r.startsWith("flag") ? "violet" : r.startsWith("field") ? "amber" : "slate"}>{r.split(" ")[0]}</Badge>
                    <span className="text-slate-700">{r.split(" ").slice(1).join(" ")}</span>
                  </li>
                ))}
              </ul>
            )}
            <dl className="mt-3 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 border-t border-slate-100 pt-3 text-sm">
              <dt className="text-slate-500">Model</dt>
              <dd>
                {decision.model.name} <span className="font-mono text-xs text-slate-600">{decision.model.version}</span>
              </dd>
              <dt className="text-slate-500">Confidence</dt>
              <dd className="tabular-nums">{percent(decision.confidence)}</dd>
              <dt className="text-slate-500">Flags</dt>
              <dd className="flex flex-wrap gap-1">
                {decision.flags.length ? decision.flags.map((f) => <Badge key={f}>{f}</Badge>) : <span className="text-slate-500">none</span>}
              </dd>
            </dl>
          </Card>
          <Card title="History">
            <ol className="space-y-2 text-sm">
              <li className="text-slate-600">
                Received {formatTimestamp(decision.receivedAt)} · routed to {decision.route} (policy v{decision.policyVersion})
              </li>
              {decision.reviews.map((r, i) => (
                <li key={i} className="rounded-md bg-slate-50 px-2 py-1.5">
                  <span className="font-medium">{r.reviewer}</span> {pastTense(r.action)}
                  {r.kind !== "review" ? <span className="text-slate-500"> ({taskKindLabel(r.kind).label.toLowerCase()})</span> : null}
                  {r.changedFields.length ? <span className="text-slate-600"> · changed {r.changedFields.join(", ")}</span> : null}
                  {r.reasonCodes.length ? <span className="text-slate-600"> · {r.reasonCodes.join(", ")}</span> : null}
                  <span className="block text-xs text-slate-500">{formatTimestamp(r.at)}</span>
                  {r.note ? <blockquote className="mt-1 border-l-2 border-slate-300 pl-2 text-slate-700">{r.note}</blockquote> : null}
                </li>
              ))}
            </ol>
          </Card>
        </div>

        <section
          aria-labelledby="output-heading"
          className="flex flex-col rounded-lg border border-slate-200 bg-white shadow-sm lg:sticky lg:top-4 lg:max-h-[calc(100vh-2rem)] lg:self-start"
        >
          <div className="flex items-center justify-between border-b border-slate-100 px-4 py-2">
            <h2 id="output-heading" className="text-sm font-semibold text-slate-800">
              Model output
            </h2>
            <span className="text-xs text-slate-600">
              <Kbd>j</Kbd>/<Kbd>k</Kbd> move · <Kbd>Enter</Kbd> edit · <Kbd>Esc</Kbd> done
            </span>
          </div>
          <div ref={formRef} className="min-h-0 flex-1 overflow-y-auto px-2 py-2">
            <OutputForm
              schema={type.outputSchema}
              value={value}
              ctx={{
                root: value,
                original,
                fieldConfidence: decision.fieldConfidence,
                threshold,
                errors,
                disabled: busy,
                onChange: (p: Path, v: unknown) => {
                  setValue((cur: unknown) => setAt(cur, p, v));
                  setMessage(null);
                },
              }}
            />
          </div>
          <div className="sticky bottom-0 flex flex-wrap items-center gap-2 rounded-b-lg border-t border-slate-200 bg-white/95 px-4 py-3 backdrop-blur">
            <Button variant="success" onClick={actions.approve} disabled={busy} aria-keyshortcuts="a">
              Approve <Kbd>a</Kbd>
            </Button>
            <Button variant="primary" onClick={actions.correct} disabled={busy} aria-keyshortcuts="c">
              Correct{changes.length ? ` (${changes.length})` : ""} <Kbd>c</Kbd>
            </Button>
            <Button variant="danger" onClick={actions.reject} disabled={busy} aria-keyshortcuts="r">
              Reject <Kbd>r</Kbd>
            </Button>
            <Button variant="secondary" onClick={actions.escalate} disabled={busy || !canEscalate} aria-keyshortcuts="e">
              Escalate <Kbd>e</Kbd>
            </Button>
            <Button variant="ghost" onClick={actions.skip} disabled={busy} aria-keyshortcuts="s" className="ml-auto">
              Skip <Kbd>s</Kbd>
            </Button>
          </div>
        </section>
      </div>

      <VerdictDialog
        kind={dialog === "reject" || dialog === "escalate" || dialog === "correct" ? dialog : "correct"}
        open={dialog === "reject" || dialog === "escalate" || dialog === "correct"}
        onOpenChange={(o) => (o ? null : setDialog(null))}
        reasonCodes={type.reasonCodes}
        owner={type.owner}
        busy={busy}
        errors={dialogErrors}
        onSubmit={({ reasonCodes, note }) => {
          if (dialog === "correct") send({ action: "correct", output: value, reasonCodes, ...(note ? { note } : {}) });
          else if (dialog === "reject") send({ action: "reject", reasonCodes, ...(note ? { note } : {}) });
          else if (dialog === "escalate") send({ action: "escalate", reasonCodes, note });
        }}
      >
        {dialog === "correct" ? (
          <div className="rounded-md border border-slate-200 p-3">
            <h3 className="mb-2 text-sm font-medium text-slate-700">What changes</h3>
            <DiffView before={original} after={value} />
          </div>
        ) : null}
      </VerdictDialog>
      <ShortcutHelp open={dialog === "help"} onOpenChange={(o) => setDialog(o ? "help" : null)} />
    </div>
  );
}

function pastTense(action: string): string {
  return { approve: "approved", correct: "corrected", reject: "rejected", escalate: "escalated" }[action] ?? action;
}

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-label={title} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 className="mb-3 text-sm font-semibold text-slate-800">{title}</h2>
      {children}
    </section>
  );
}
