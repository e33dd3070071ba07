/**
 * Timestamps rendered identically on the server and in the browser (UTC, no
 * locale, lib/format.ts), so hydration never disagrees; the full ISO time is in the tooltip.
 */
import { formatTimestamp } from "~/lib/format";

export function Time({ value }: { value: number | string | null | undefined }) {
  if (value == null) return <span className="text-slate-500">—</span>;
  const iso = new Date(value).toISOString();
  return (
    <time dateTime={iso} title={iso} className="whitespace-nowrap tabular-nums">
      {formatTimestamp(value)}
    </time>
  );
}
