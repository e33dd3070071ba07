/**
 * The dialog that completes a correction, rejection or escalation: reason
 * codes from the type's taxonomy (digits toggle them), a note, and one submit.
 * Enter submits, Escape cancels. What is required comes from the domain's
 * verdict rules; a missing field is reported by the server's validation and
 * shown next to the field (`errors`), so the page and the API never disagree.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { verdictNeeds } from "~/domain/review/verdict-rules";
import { Dialog } from "../ui/dialog";
import { Button, Kbd } from "../ui/button";

export type VerdictKind = "correct" | "reject" | "escalate";

const TITLES: Record<VerdictKind, string> = {
  correct: "Submit correction",
  reject: "Reject decision",
  escalate: "Escalate to the type owner",
};

export function VerdictDialog({
  kind,
  open,
  onOpenChange,
  reasonCodes,
  owner,
  busy,
  errors,
  onSubmit,
  children,
}: {
  kind: VerdictKind;
  open: boolean;
  onOpenChange: (o: boolean) => void;
  reasonCodes: { code: string; label: string }[];
  owner: string;
  busy: boolean;
  /** The server's field messages for this submit, by field: reasonCodes, note. */
  errors: Record<string, string>;
  onSubmit: (v: { reasonCodes: string[]; note: string }) => void;
  children?: ReactNode;
}) {
  const [codes, setCodes] = useState<string[]>([]);
  const [note, setNote] = useState("");
  // A field's message goes away once the reviewer changes that field.
  const [fixed, setFixed] = useState<string[]>([]);
  const formRef = useRef<HTMLFormElement>(null);
  // Opening the dialog (or switching its kind while open) starts with empty fields;
  // a new set of server messages starts with none of them fixed. Both are adjusted
  // during render, from the props they follow, rather than in an effect.
  const [shownFor, setShownFor] = useState({ open, kind });
  if (shownFor.open !== open || shownFor.kind !== kind) {
    setShownFor({ open, kind });
    if (open) {
      setCodes([]);
      setNote("");
    }
  }
  const [errorsFor, setErrorsFor] = useState(errors);
  if (errorsFor !== errors) {
    setErrorsFor(errors);
    setFixed([]);
  }
  const needs = verdictNeeds(kind, reasonCodes.length);
  const shown = Object.fromEntries(
    Object.entries(errors)
      .filter(([k]) => !fixed.includes(k))
      .map(([k, m]) => [k, sentence(m)]),
  );
  const touch = (field: string) => setFixed((f) => (f.includes(field) ? f : [...f, field]));

  const toggle = (code: string) => {
    touch("reasonCodes");
    setCodes((cs) => (cs.includes(code) ? cs.filter((c) => c !== code) : [...cs, code]));
  };
  const submit = () => {
    if (!busy) onSubmit({ reasonCodes: codes, note: note.trim() });
  };
  // The first field with a message takes focus, so the keyboard flow continues there.
  useEffect(() => {
    const first = errors.reasonCodes ? "input" : errors.note ? "textarea" : null;
    if (open && first) formRef.current?.querySelector<HTMLElement>(first)?.focus();
  }, [errors, open]);
  // The shortcuts are the dialog's (a form takes no key handlers), for keys pressed in its form.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const t = e.target as HTMLElement;
    if (!formRef.current?.contains(t)) return;
    const inText = t.tagName === "TEXTAREA";
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey || (!inText && t.tagName !== "BUTTON"))) {
      e.preventDefault();
      submit();
    } else if (!inText && /^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const rc = reasonCodes[Number(e.key) - 1];
      if (rc) {
        e.preventDefault();
        toggle(rc.code);
      }
    }
  };

  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={TITLES[kind]}
      wide={kind === "correct"}
      onKeyDown={onKeyDown}
      description={kind === "escalate" ? <>The decision goes to its owner, {owner}, with your note.</> : undefined}
      onOpenAutoFocus={(e) => {
        // Start on the first reason code (or the note), not on the close button.
        e.preventDefault();
        formRef.current?.querySelector<HTMLElement>("input, textarea")?.focus();
      }}
    >
      <form
        ref={formRef}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        className="space-y-4"
      >
        {children}
        {reasonCodes.length > 0 ? (
          <fieldset aria-describedby={shown.reasonCodes ? "verdict-reason-error" : undefined}>
            <legend className="text-sm font-medium text-slate-700">
              {kind === "escalate" ? "Reason" : "Reason codes"}
              {needs.reasonCodes ? <span className="text-slate-500"> (required)</span> : <span className="text-slate-500"> (optional)</span>}
            </legend>
            <div className="mt-2 grid gap-1 sm:grid-cols-2">
              {reasonCodes.map((rc, i) => (
                <label
                  key={rc.code}
                  className={`flex cursor-pointer items-center gap-2 rounded-md border px-2 py-1.5 text-sm ${codes.includes(rc.code) ? "border-indigo-400 bg-indigo-50" : "border-slate-200"}`}
                >
                  <input
                    type="checkbox"
                    checked={codes.includes(rc.code)}
                    onChange={() => toggle(rc.code)}
                    className="h-4 w-4 rounded border-slate-300 text-indigo-600"
                  />
                  <span className="flex-1">{rc.label}</span>
                  {i < 9 ? <Kbd>{i + 1}</Kbd> : null}
                </label>
              ))}
            </div>
            {shown.reasonCodes ? (
              <p id="verdict-reason-error" role="alert" className="mt-1 text-xs text-red-700">
                {shown.reasonCodes}
              </p>
            ) : null}
          </fieldset>
        ) : null}
        <div>
          <label htmlFor="verdict-note" className="block text-sm font-medium text-slate-700">
            Note {needs.note ? <span className="text-slate-500">(required)</span> : <span className="text-slate-500">(optional)</span>}
          </label>
          <textarea
            id="verdict-note"
            value={note}
            onChange={(e) => {
              touch("note");
              setNote(e.target.value);
            }}
            rows={3}
            maxLength={5000}
            aria-invalid={Boolean(shown.note) || undefined}
            aria-describedby={shown.note ? "verdict-note-error" : undefined}
            className="mt-1 w-full rounded-md border border-slate-300 px-2 py-1 text-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500"
          />
          {shown.note ? (
            <p id="verdict-note-error" role="alert" className="mt-1 text-xs text-red-700">
              {shown.note}
            </p>
          ) : null}
        </div>
        <div className="flex items-center justify-end gap-2">
          <span className="mr-auto text-xs text-slate-600">
            <Kbd>Enter</Kbd> submit · <Kbd>Esc</Kbd> cancel
          </span>
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" variant={kind === "reject" ? "danger" : "primary"} disabled={busy}>
            {kind === "correct" ? "Submit correction" : kind === "reject" ? "Reject" : "Escalate"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A domain message ("say why you escalate") as a sentence under its field. */
function sentence(m: string): string {
  const t = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}
