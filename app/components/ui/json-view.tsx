/**
 * Any JSON value as a readable tree: objects as labelled rows, arrays as
 * numbered items, scalars formatted by kind. For inputs reviewers and auditors read.
 */
export function JsonValue({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="text-slate-500">{value === null ? "null" : "—"}</span>;
  if (typeof value === "boolean") return <span className="font-mono text-sky-800">{String(value)}</span>;
  if (typeof value === "number") return <span className="font-mono tabular-nums text-emerald-800">{value}</span>;
  if (typeof value === "string")
    return <span className="whitespace-pre-wrap break-words">{value === "" ? <span className="text-slate-500">(empty)</span> : value}</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="text-slate-500">(none)</span>;
    return (
      <ol className="space-y-1">
        {value.map((v, i) => (
          <li key={i} className="flex gap-2">
            <span className="w-6 shrink-0 text-right font-mono text-xs text-slate-500">{i + 1}.</span>
            <div className="min-w-0 flex-1">
              <JsonValue value={v} />
            </div>
          </li>
        ))}
      </ol>
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="text-slate-500">(empty)</span>;
  return (
    <dl className="grid grid-cols-[minmax(6rem,max-content)_1fr] gap-x-4 gap-y-1 rounded border border-slate-100 bg-slate-50/60 p-2">
      {entries.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="font-mono text-xs leading-5 text-slate-500">{k}</dt>
          <dd className="min-w-0 text-sm">
            <JsonValue value={v} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Raw JSON, collapsed by default. */
export function RawJson({ value, label = "Raw JSON" }: { value: unknown; label?: string }) {
  return (
    <details className="mt-2 text-sm">
      <summary className="cursor-pointer text-slate-600 hover:text-slate-900">{label}</summary>
      <pre className="mt-2 max-h-96 overflow-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-100">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}
