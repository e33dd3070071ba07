/**
 * Timestamps rendered identically on the server and in the browser (UTC, no
 * locale), so hydration never disagrees; the full ISO time is in the tooltip.
 */
export function formatUtc(ms: number | string | null | undefined): string {
  if (ms == null) return "—";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export function Time({ value }: { value: number | string | null | undefined }) {
  if (value == null) return <span className="text-slate-500">—</span>;
  const iso = new Date(value).toISOString();
  return (
    <time dateTime={iso} title={iso} className="whitespace-nowrap tabular-nums">
      {formatUtc(value)}
    </time>
  );
}
