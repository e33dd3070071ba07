/**
 * The decision's input, rendered for people: nested objects as labelled
 * sections, arrays of objects as tables, long text wrapped, numbers and dates
 * formatted. Read-only.
 */
import { formatDate, formatNumber, humanize, looksLikeDate } from "~/lib/format";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function Scalar({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="text-slate-500">—</span>;
  if (typeof value === "boolean") return <span>{value ? "Yes" : "No"}</span>;
  if (typeof value === "number") return <span className="tabular-nums">{formatNumber(value)}</span>;
  if (typeof value === "string") {
    if (looksLikeDate(value)) return <time dateTime={value}>{formatDate(value)}</time>;
    // Layout-bearing text (OCR, tables in text) keeps its columns.
    if (value.includes("\n") && / {2,}/.test(value))
      return <pre className="overflow-x-auto whitespace-pre rounded bg-slate-50 p-2 font-mono text-xs leading-5 text-slate-800">{value}</pre>;
    return <span className="whitespace-pre-wrap break-words">{value}</span>;
  }
  return <span className="break-all font-mono text-xs">{JSON.stringify(value)}</span>;
}

function TableOf({ rows, label }: { rows: Record<string, Json>[]; label: string }) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return (
    <div className="relative overflow-x-auto rounded border border-slate-200">
      <table className="min-w-full text-sm">
        <caption className="sr-only">{label}</caption>
        <thead className="bg-slate-50 text-left text-xs text-slate-600">
          <tr>
            <th scope="col" className="px-2 py-1 font-medium">
              #
            </th>
            {cols.map((c) => (
              <th key={c} scope="col" className="px-2 py-1 font-medium">
                {humanize(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((r, i) => (
            <tr key={i}>
              <td className="px-2 py-1 text-slate-500 tabular-nums">{i + 1}</td>
              {cols.map((c) => (
                <td key={c} className={`px-2 py-1 align-top ${typeof r[c] === "number" ? "text-right" : ""}`}>
                  {isObject(r[c]) || Array.isArray(r[c]) ? <ValueView value={r[c]} label={c} depth={3} /> : <Scalar value={r[c]} />}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ValueView({ value, label, depth = 0 }: { value: unknown; label: string; depth?: number }) {
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="text-slate-500">none</span>;
    if (value.every(isObject)) return <TableOf rows={value as Record<string, Json>[]} label={humanize(label)} />;
    return (
      <ul className="list-inside list-disc">
        {value.map((v, i) => (
          <li key={i}>
            <ValueView value={v} label={label} depth={depth + 1} />
          </li>
        ))}
      </ul>
    );
  }
  if (isObject(value)) return <ObjectView value={value} depth={depth + 1} />;
  return <Scalar value={value} />;
}

export function ObjectView({ value, depth = 0 }: { value: Record<string, unknown>; depth?: number }) {
  const entries = Object.entries(value);
  if (entries.length === 0) return <p className="text-sm text-slate-500">Empty</p>;
  const scalars = entries.filter(([, v]) => !isObject(v) && !(Array.isArray(v) && v.some((x) => typeof x === "object")));
  const nested = entries.filter(([, v]) => isObject(v) || (Array.isArray(v) && v.some((x) => typeof x === "object")));
  return (
    <div className="space-y-3">
      {scalars.length > 0 ? (
        <dl className="grid grid-cols-[minmax(7rem,max-content)_1fr] gap-x-4 gap-y-1 text-sm">
          {scalars.map(([k, v]) => (
            <div key={k} className="contents">
              <dt className="text-slate-500">{humanize(k)}</dt>
              <dd className="min-w-0 text-slate-900">
                <ValueView value={v} label={k} depth={depth} />
              </dd>
            </div>
          ))}
        </dl>
      ) : null}
      {nested.map(([k, v]) => (
        <section key={k} aria-label={humanize(k)} className={depth > 1 ? "pl-3 border-l border-slate-200" : ""}>
          <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">{humanize(k)}</h4>
          <ValueView value={v} label={k} depth={depth} />
        </section>
      ))}
    </div>
  );
}
