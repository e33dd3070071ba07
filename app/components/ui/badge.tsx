/** Small status labels. Tones carry meaning; the text always says it too. */
import type { ReactNode } from "react";

export type BadgeTone = "slate" | "indigo" | "amber" | "red" | "emerald" | "sky" | "violet";

const TONES: Record<BadgeTone, string> = {
  slate: "bg-slate-100 text-slate-700 ring-slate-200",
  indigo: "bg-indigo-50 text-indigo-800 ring-indigo-200",
  amber: "bg-amber-50 text-amber-900 ring-amber-200",
  red: "bg-red-50 text-red-800 ring-red-200",
  emerald: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  sky: "bg-sky-50 text-sky-800 ring-sky-200",
  violet: "bg-violet-50 text-violet-800 ring-violet-200",
};

export function Badge({ tone = "slate", children, className = "", title }: { tone?: BadgeTone; children: ReactNode; className?: string; title?: string }) {
  return (
    <span
      title={title}
      className={`inline-flex items-center whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${TONES[tone]} ${className}`}
    >
      {children}
    </span>
  );
}

const STATUS_TONE: Record<string, BadgeTone> = {
  pending_review: "amber",
  in_review: "sky",
  approved: "emerald",
  corrected: "indigo",
  rejected: "red",
  escalated: "violet",
  auto_approved: "slate",
};

/** A decision's status, in words and colour. */
export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONE[status] ?? "slate"}>{status.replace(/_/g, " ")}</Badge>;
}

export function RouteBadge({ route }: { route: string }) {
  return <Badge tone={route === "review" ? "sky" : "slate"}>{route}</Badge>;
}
