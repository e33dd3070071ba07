/**
 * Form building blocks: a labelled field with hint and inline error wired up
 * through aria-describedby / aria-invalid, and the house input styles.
 */
import { cloneElement, isValidElement, useEffect, useRef } from "react";

export const inputClass =
  "block w-full rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-sm placeholder:text-slate-400 focus:border-indigo-500 aria-[invalid=true]:border-red-500 disabled:bg-slate-50 disabled:text-slate-500";

export function FieldError({ id, messages }: { id: string; messages?: string[] | string | null }) {
  const list = messages == null ? [] : Array.isArray(messages) ? messages : [messages];
  if (list.length === 0) return null;
  return (
    <div id={id} className="mt-1 space-y-0.5 text-sm text-red-700">
      {list.map((m, i) => (
        <p key={i}>{m}</p>
      ))}
    </div>
  );
}

/**
 * A label, the control (its id must equal `id`), a hint and errors. The control gets
 * aria-invalid and aria-describedby so screen readers announce both.
 */
export function FormField({
  id,
  label,
  hint,
  errors,
  children,
  className = "",
}: {
  id: string;
  label: React.ReactNode;
  hint?: React.ReactNode;
  errors?: string[] | string | null;
  children: React.ReactElement;
  className?: string;
}) {
  const hasError = errors != null && (Array.isArray(errors) ? errors.length > 0 : true);
  const describedBy = [hint ? `${id}-hint` : null, hasError ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  const control = isValidElement(children)
    ? cloneElement(children as React.ReactElement<Record<string, unknown>>, { id, "aria-invalid": hasError || undefined, "aria-describedby": describedBy })
    : children;
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <div className="mt-1">{control}</div>
      {hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
      <FieldError id={`${id}-error`} messages={errors} />
    </div>
  );
}

/** A form-level message: what went wrong overall, or that it worked. */
export function FormMessage({ tone, children }: { tone: "error" | "success" | "info"; children: React.ReactNode }) {
  const cls =
    tone === "error"
      ? "border-red-200 bg-red-50 text-red-900"
      : tone === "success"
        ? "border-emerald-200 bg-emerald-50 text-emerald-900"
        : "border-sky-200 bg-sky-50 text-sky-900";
  return (
    <div role={tone === "error" ? "alert" : "status"} className={`rounded-md border px-3 py-2 text-sm ${cls}`}>
      {children}
    </div>
  );
}

export function PrimaryButton({ children, className = "", ...props }: React.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button
      {...props}
      className={`inline-flex items-center justify-center rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-700 disabled:opacity-60 ${className}`}
    >
      {children}
    </button>
  );
}

export function SecondaryButton({ children, className = "", ...props }: React.ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button
      {...props}
      className={`inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50 disabled:opacity-60 ${className}`}
    >
      {children}
    </button>
  );
}

/**
 * A group of checkboxes shown as cards, each with its own help line (API key scopes, webhook events):
 * the legend names the group, and the group's error is announced with it.
 */
export function CheckboxCards<V extends string>({
  legend,
  name,
  options,
  help,
  checked,
  errorId,
  errors,
  columns = "sm:grid-cols-2",
  mono = false,
}: {
  legend: string;
  name: string;
  options: readonly V[];
  help: Record<V, string>;
  checked: (v: V) => boolean;
  errorId: string;
  errors: string[];
  columns?: string;
  mono?: boolean;
}) {
  return (
    <fieldset aria-describedby={errors.length ? errorId : undefined}>
      <legend className="text-sm font-medium text-slate-700">{legend}</legend>
      <div className={`mt-1 grid grid-cols-1 gap-2 ${columns}`}>
        {options.map((v) => (
          <div key={v} className="flex items-start gap-2 rounded-md border border-slate-200 px-3 py-2 text-sm hover:bg-slate-50">
            <input
              id={`${name}-${v}`}
              type="checkbox"
              name={name}
              value={v}
              defaultChecked={checked(v)}
              aria-describedby={`${name}-${v}-help`}
              className="mt-0.5"
            />
            <div>
              <label htmlFor={`${name}-${v}`} className={mono ? "font-mono font-medium" : "font-medium"}>
                {v}
              </label>
              <span id={`${name}-${v}-help`} className="block text-xs text-slate-500">
                {help[v]}
              </span>
            </div>
          </div>
        ))}
      </div>
      <FieldError id={errorId} messages={errors} />
    </fieldset>
  );
}

/** A ref for a create form that is cleared once its action answers `{ ok: true, intent }` (the admin pages' "add" forms). */
export function useResetOnSuccess(result: { ok: boolean; intent?: string } | undefined, intent: string) {
  const ref = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (result?.ok && result.intent === intent) ref.current?.reset();
  }, [result, intent]);
  return ref;
}
