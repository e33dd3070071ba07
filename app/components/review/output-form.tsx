/**
 * The correction form, generated from a decision type's output schema.
 * Every leaf field shows the model's confidence; fields under their threshold
 * are highlighted. Each field sits in a focusable row (`data-field`): j/k move
 * between rows, Enter edits, Escape returns to the row, so single-key
 * shortcuts never type into a field by accident.
 */
import { useEffect, useRef, useState, type ReactNode } from "react";
import type { FieldSchema, ObjectSchema } from "~/domain/decision-types/output-schema";
import { Button } from "../ui/button";
import { humanize, percent } from "~/lib/format";

export type Path = (string | number)[];
export type FormErrors = Record<string, string>;

export type FormContext = {
  /** The whole output being edited; fields read their value by path from it. */
  root: unknown;
  original: unknown;
  fieldConfidence: Record<string, number>;
  /** The confidence a field needs; below it the field is flagged. */
  threshold: (path: string) => number | null;
  errors: FormErrors;
  onChange: (path: Path, value: unknown) => void;
  disabled?: boolean;
};

export const pathKey = (p: Path) => p.map(String).join(".");

/** "lines.3.amount" falls back to "lines.*.amount". */
export function confidenceAt(fc: Record<string, number>, p: Path): number | undefined {
  const k = pathKey(p);
  if (k in fc) return fc[k];
  const wild = p.map((s) => (typeof s === "number" ? "*" : s)).join(".");
  return fc[wild];
}

export function getAt(v: unknown, p: Path): unknown {
  let cur = v;
  for (const s of p) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** Immutable set; `undefined` removes an object key. */
export function setAt(root: unknown, p: Path, value: unknown): unknown {
  if (p.length === 0) return value;
  const [head, ...rest] = p;
  if (typeof head === "number") {
    const arr = Array.isArray(root) ? [...root] : [];
    arr[head] = setAt(arr[head], rest, value);
    return arr;
  }
  const obj = root && typeof root === "object" && !Array.isArray(root) ? { ...(root as Record<string, unknown>) } : {};
  const next = setAt(obj[head], rest, value);
  if (next === undefined) delete obj[head];
  else obj[head] = next;
  return obj;
}

/** An empty row for an array of objects: required fields get a neutral starting value. */
export function emptyItem(schema: ObjectSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const f = schema.properties[name];
    if (f.type === "boolean") out[name] = false;
    else if (f.type === "string" && !f.enum && f.format !== "date") out[name] = "";
    else if (f.type === "array") out[name] = [];
    else if (f.type === "object") out[name] = emptyItem(f);
  }
  return out;
}

export function OutputForm({ schema, value, ctx }: { schema: ObjectSchema; value: unknown; ctx: FormContext }) {
  // The rows' keys are handled once for the whole form: a row is a group, which takes no key handlers.
  const formRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = formRef.current;
    if (!el) return;
    el.addEventListener("keydown", rowKeys);
    return () => el.removeEventListener("keydown", rowKeys);
  }, []);
  return (
    <div ref={formRef} className="space-y-1">
      <ObjectFields schema={schema} value={value} path={[]} ctx={ctx} />
    </div>
  );
}

function ObjectFields({
  schema,
  value,
  path,
  ctx,
  compact = false,
}: {
  schema: ObjectSchema;
  value: unknown;
  path: Path;
  ctx: FormContext;
  compact?: boolean;
}) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties).map(([name, f]) => {
        const p = [...path, name];
        const label = f.title ?? humanize(name);
        if (f.type === "array") return <ArrayField key={name} schema={f} label={label} value={getAt(value, p)} path={p} ctx={ctx} />;
        if (f.type === "object")
          return (
            <fieldset key={name} className="mt-3 rounded-md border border-slate-200 p-3">
              <legend className="px-1 text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</legend>
              <ObjectFields schema={f} value={value} path={p} ctx={ctx} />
            </fieldset>
          );
        return <LeafRow key={name} field={f} label={label} required={required.has(name)} value={getAt(value, p)} path={p} ctx={ctx} compact={compact} />;
      })}
    </>
  );
}

/** Leaves edit mode back to the row, or enters it from the row. */
function rowKeys(e: KeyboardEvent) {
  if (!(e.target instanceof HTMLElement)) return;
  const target = e.target;
  const row = target.closest<HTMLElement>("[data-field]");
  if (!row) return;
  if (e.key === "Escape" && target !== row) {
    e.preventDefault();
    e.stopPropagation();
    row.focus();
  } else if ((e.key === "Enter" || e.key === "i") && target === row) {
    const input = row.querySelector<HTMLElement>("input, select, textarea");
    if (input) {
      e.preventDefault();
      input.focus();
      if (input instanceof HTMLInputElement && input.type === "text") input.select();
    }
  }
}

function ConfidenceBadge({ c, low, compact }: { c: number | undefined; low: boolean; compact: boolean }) {
  if (c === undefined) return compact ? null : <span className="text-[11px] text-slate-500">no score</span>;
  return (
    <span
      className={`rounded px-1.5 py-0.5 text-[11px] font-medium tabular-nums ${low ? "bg-amber-100 text-amber-900" : "bg-slate-100 text-slate-600"}`}
      title="Model confidence for this field"
    >
      {low ? "Low · " : ""}
      {percent(c)}
    </span>
  );
}

function LeafRow({
  field,
  label,
  required,
  value,
  path,
  ctx,
  compact,
}: {
  field: FieldSchema;
  label: string;
  required: boolean;
  value: unknown;
  path: Path;
  ctx: FormContext;
  compact: boolean;
}) {
  const key = pathKey(path);
  const id = `f-${key}`;
  const c = confidenceAt(ctx.fieldConfidence, path);
  const min = ctx.threshold(key);
  const low = c !== undefined && min !== null && c < min;
  const error = ctx.errors[key];
  const changed = JSON.stringify(getAt(ctx.original, path)) !== JSON.stringify(value);
  const describedBy = error ? `${id}-error` : undefined;
  const input = <FieldInput field={field} id={id} value={value} required={required} path={path} ctx={ctx} describedBy={describedBy} invalid={Boolean(error)} />;
  return (
    <div
      data-field={key}
      data-low={low ? "true" : undefined}
      role="group"
      tabIndex={-1}
      aria-label={`${label}${low ? ", low confidence" : ""}${changed ? ", edited" : ""}. Press Enter to edit.`}
      className={`group rounded-md py-1.5 outline-none focus:ring-2 focus:ring-indigo-500 ${low ? "bg-amber-50/80 ring-1 ring-inset ring-amber-200" : ""} ${compact ? "px-1" : "grid grid-cols-[minmax(8rem,12rem)_1fr] items-start gap-3 px-2"}`}
    >
      <div className={`flex items-center gap-2 ${compact ? "sr-only" : "pt-1.5"}`}>
        <label htmlFor={id} className="text-sm font-medium text-slate-700">
          {label}
          {required ? <span className="text-slate-500"> *</span> : null}
        </label>
      </div>
      <div className={compact ? "" : "min-w-0"}>
        {/* In a table cell the badges go under the input, so they never take width from the value. */}
        <div className={compact ? "space-y-1" : "flex items-center gap-2"}>
          <div className={compact ? "" : "min-w-0 flex-1"}>{input}</div>
          {compact && c === undefined && !changed ? null : (
            <div className={compact ? "flex flex-wrap items-center gap-1" : "contents"}>
              <ConfidenceBadge c={c} low={low} compact={compact} />
              {changed ? (
                <span className="text-[11px] font-medium text-indigo-700" title="Changed from the model output">
                  edited
                </span>
              ) : null}
            </div>
          )}
        </div>
        {error ? (
          <p id={`${id}-error`} className="mt-1 text-xs text-red-700">
            {error}
          </p>
        ) : null}
      </div>
    </div>
  );
}

const inputClass = (invalid: boolean) =>
  `w-full rounded-md border bg-white px-2 py-1 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500 disabled:bg-slate-50 ${invalid ? "border-red-400" : "border-slate-300"}`;

function FieldInput({
  field,
  id,
  value,
  required,
  path,
  ctx,
  describedBy,
  invalid,
}: {
  field: FieldSchema;
  id: string;
  value: unknown;
  required: boolean;
  path: Path;
  ctx: FormContext;
  describedBy?: string;
  invalid: boolean;
}) {
  const common = { id, "aria-describedby": describedBy, "aria-invalid": invalid || undefined, disabled: ctx.disabled };
  if (field.type === "boolean") {
    return (
      <input
        {...common}
        type="checkbox"
        checked={value === true}
        onChange={(e) => ctx.onChange(path, e.target.checked)}
        className="h-4 w-4 rounded border-slate-300 text-indigo-600"
      />
    );
  }
  if (field.type === "number" || field.type === "integer") {
    return <NumberInput {...common} value={value} integer={field.type === "integer"} onValue={(v) => ctx.onChange(path, v)} className={inputClass(invalid)} />;
  }
  if (field.type === "string") {
    const set = (v: string) => ctx.onChange(path, v === "" && !required ? undefined : v);
    if (field.enum) {
      return (
        <select {...common} value={typeof value === "string" ? value : ""} onChange={(e) => set(e.target.value)} className={inputClass(invalid)}>
          {typeof value !== "string" || !field.enum.includes(value) ? (
            <option value="">{value === undefined ? "— choose —" : `(invalid: ${String(value)})`}</option>
          ) : null}
          {field.enum.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
    }
    if (field.format === "date") {
      return (
        <input {...common} type="date" value={typeof value === "string" ? value : ""} onChange={(e) => set(e.target.value)} className={inputClass(invalid)} />
      );
    }
    const text = typeof value === "string" ? value : value == null ? "" : String(value);
    if ((field.maxLength ?? 0) > 200 || text.length > 80) {
      return <textarea {...common} value={text} rows={3} onChange={(e) => set(e.target.value)} className={inputClass(invalid)} />;
    }
    return <input {...common} type="text" value={text} autoComplete="off" onChange={(e) => set(e.target.value)} className={inputClass(invalid)} />;
  }
  return null;
}

/** A number typed as text (no scroll-wheel surprises); unparsable text is kept and reported by validation. */
function NumberInput({
  value,
  integer,
  onValue,
  ...rest
}: { value: unknown; integer: boolean; onValue: (v: unknown) => void } & Omit<React.InputHTMLAttributes<HTMLInputElement>, "value">) {
  const fromValue = (v: unknown) => (typeof v === "number" ? String(v) : typeof v === "string" ? v : "");
  const [text, setText] = useState(fromValue(value));
  // Follow outside changes (row reorder, reset) without fighting the user's typing:
  // adjusted during render when the value changes, not in an effect.
  const [valueFor, setValueFor] = useState(value);
  if (!Object.is(valueFor, value)) {
    setValueFor(value);
    if (parseNumber(text) !== value) setText(fromValue(value));
  }
  return (
    <input
      {...rest}
      type="text"
      inputMode={integer ? "numeric" : "decimal"}
      autoComplete="off"
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        onValue(parseNumber(e.target.value));
      }}
      // Never narrower than the number it shows: a clipped amount is a misread amount.
      style={{ minWidth: `calc(${Math.max(text.length, 4)}ch + 1.25rem)` }}
      className={`${rest.className} text-right tabular-nums`}
    />
  );
}

export function parseNumber(text: string): unknown {
  const t = text.trim().replace(/,/g, "");
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? n : text;
}

function ArrayField({
  schema,
  label,
  value,
  path,
  ctx,
}: {
  schema: Extract<FieldSchema, { type: "array" }>;
  label: string;
  value: unknown;
  path: Path;
  ctx: FormContext;
}) {
  const rows = Array.isArray(value) ? value : [];
  const cols = Object.entries(schema.items.properties);
  const error = ctx.errors[pathKey(path)];
  const set = (next: unknown[]) => ctx.onChange(path, next);
  const move = (i: number, d: number) => {
    const next = [...rows];
    const [r] = next.splice(i, 1);
    next.splice(i + d, 0, r);
    set(next);
  };
  return (
    <section aria-label={label} className="mt-3">
      <div className="mb-1 flex items-center justify-between px-2">
        <h3 className="text-sm font-medium text-slate-700">
          {label} <span className="font-normal text-slate-500">({rows.length})</span>
        </h3>
      </div>
      {error ? <p className="px-2 text-xs text-red-700">{error}</p> : null}
      <div className="relative overflow-x-auto rounded-md border border-slate-200">
        <table className="min-w-full text-sm">
          <thead className="bg-slate-50 text-left text-xs text-slate-600">
            <tr>
              <th scope="col" className="w-8 px-2 py-1 font-medium">
                #
              </th>
              {cols.map(([name, f]) => (
                <th key={name} scope="col" className="px-2 py-1 font-medium">
                  {f.title ?? humanize(name)}
                </th>
              ))}
              <th scope="col" className="px-2 py-1 text-right font-medium">
                <span className="sr-only">Row actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((row, i) => (
              <tr key={i} className="align-top">
                <td className="px-2 py-2 text-slate-500 tabular-nums">{i + 1}</td>
                {cols.map(([name, f]) => (
                  <td
                    key={name}
                    className={`px-0 py-0.5 ${f.type === "number" || f.type === "integer" ? "" : f.type === "string" && !f.enum && f.format !== "date" ? "min-w-[5rem]" : "min-w-[6.5rem]"}`}
                  >
                    {f.type === "array" || f.type === "object" ? (
                      <Cell>
                        <ObjectFields schema={{ type: "object", properties: { [name]: f } }} value={ctx.root} path={[...path, i]} ctx={ctx} compact />
                      </Cell>
                    ) : (
                      <LeafRow
                        field={f}
                        label={`${label} row ${i + 1} ${f.title ?? humanize(name)}`}
                        required={(schema.items.required ?? []).includes(name)}
                        value={getAt(row, [name])}
                        path={[...path, i, name]}
                        ctx={ctx}
                        compact
                      />
                    )}
                  </td>
                ))}
                {/* Not sticky: if the row is wider than the panel, the actions scroll away, never the values. */}
                <td className="whitespace-nowrap px-1 py-1.5 text-right">
                  <Button size="sm" variant="ghost" aria-label={`Move ${label} row ${i + 1} up`} disabled={ctx.disabled || i === 0} onClick={() => move(i, -1)}>
                    ↑
                  </Button>
                  <Button
                    size="sm"
                    variant="ghost"
                    aria-label={`Move ${label} row ${i + 1} down`}
                    disabled={ctx.disabled || i === rows.length - 1}
                    onClick={() => move(i, 1)}
                  >
                    ↓
                  </Button>
                  <Button
                    size="sm"
                    variant="ghost"
                    aria-label={`Remove ${label} row ${i + 1}`}
                    disabled={ctx.disabled}
                    onClick={() => set(rows.filter((_, j) => j !== i))}
                  >
                    ✕
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="mt-1 px-2">
        <Button
          size="sm"
          variant="secondary"
          disabled={ctx.disabled || (schema.maxItems !== undefined && rows.length >= schema.maxItems)}
          onClick={() => set([...rows, emptyItem(schema.items)])}
        >
          + Add {label.toLowerCase()} row
        </Button>
      </div>
    </section>
  );
}

function Cell({ children }: { children: ReactNode }) {
  return <div className="px-1">{children}</div>;
}
