/** Small presentational pieces shared by the datasets pages. */
import type { ReactNode } from "react";

export const FORMAT_LABELS = { jsonl: "JSONL", csv: "CSV", parquet: "Parquet" } as const;
export const SPLIT_LABELS = { all: "All", train: "Train", validation: "Validation", test: "Test" } as const;

export function StatusBadge({ status }: { status: "building" | "ready" | "failed" }) {
  const cls = status === "ready" ? "bg-emerald-50 text-emerald-800" : status === "failed" ? "bg-red-50 text-red-800" : "bg-amber-50 text-amber-800";
  return <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${cls}`}>{status}</span>;
}

export function Progress({ processed, total, label }: { processed: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((100 * processed) / total)) : 0;
  if (total === 0 && processed === 0) return <span className="text-xs text-slate-600">counting examples…</span>;
  return (
    <div className="flex items-center gap-2">
      <progress className="h-2 w-32" value={processed} max={Math.max(total, 1)} aria-label={label} />
      <span className="text-xs text-slate-600">
        {processed.toLocaleString("en")} / {total.toLocaleString("en")} ({pct}%)
      </span>
    </div>
  );
}

export function Field({ label, htmlFor, error, hint, children }: { label: string; htmlFor: string; error?: string; hint?: string; children: ReactNode }) {
  return (
    <div>
      <label htmlFor={htmlFor} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
      {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
      {error ? (
        <p id={`${htmlFor}-error`} className="mt-1 text-sm text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function CountTable({ caption, counts, total }: { caption: string; counts: Record<string, number>; total?: number }) {
  const entries = Object.entries(counts);
  return (
    <table className="w-full text-sm">
      <caption className="mb-1 text-left font-medium text-slate-700">{caption}</caption>
      <thead>
        <tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-500">
          <th scope="col" className="py-1 pr-2 font-medium">
            Value
          </th>
          <th scope="col" className="py-1 pr-2 text-right font-medium">
            Count
          </th>
          {total ? (
            <th scope="col" className="py-1 text-right font-medium">
              Share
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {entries.length === 0 ? (
          <tr>
            <td colSpan={3} className="py-1 text-slate-500">
              none
            </td>
          </tr>
        ) : (
          entries.map(([k, v]) => (
            <tr key={k} className="border-b border-slate-100">
              <td className="py-1 pr-2 font-mono text-xs">{k}</td>
              <td className="py-1 pr-2 text-right tabular-nums">{v.toLocaleString("en")}</td>
              {total ? <td className="py-1 text-right tabular-nums text-slate-600">{((100 * v) / total).toFixed(1)}%</td> : null}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
