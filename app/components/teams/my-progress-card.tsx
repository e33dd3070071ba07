/** The queue page's summary of the signed-in reviewer's own figures (domain/teams/progress.server.ts: myProgress). */
import type { MyProgress } from "~/domain/teams/progress.server";
import { formatDuration, formatNumber } from "~/lib/format";

export function MyProgressCard({ progress }: { progress: MyProgress }) {
  const p = progress;
  const items: { id: string; label: string; value: string; alert?: boolean }[] = [
    { id: "today", label: "Reviews today", value: formatNumber(p.reviewsToday) },
    { id: "week", label: "Reviews this week", value: formatNumber(p.reviewsThisWeek) },
    { id: "median", label: "Median time per item (7 days)", value: formatDuration(p.medianHandlingMs) },
    { id: "late", label: "Reviews after due time (7 days)", value: formatNumber(p.lateReviews), alert: p.lateReviews > 0 },
    { id: "assigned", label: "Assigned to you", value: formatNumber(p.openAssigned) },
    { id: "overdue", label: "Assigned, past due", value: formatNumber(p.overdueAssigned), alert: p.overdueAssigned > 0 },
  ];
  return (
    <section aria-labelledby="my-progress-heading" className="rounded-lg border border-slate-200 bg-white px-4 py-3 shadow-sm" data-testid="my-progress">
      <h2 id="my-progress-heading" className="text-sm font-semibold text-slate-900">
        Your progress <span className="font-normal text-slate-500">(days and weeks in {p.timeZone})</span>
      </h2>
      <dl className="mt-2 grid grid-cols-2 gap-x-6 gap-y-2 sm:grid-cols-3 lg:grid-cols-6">
        {items.map((i) => (
          <div key={i.id} data-testid={`my-progress-${i.id}`}>
            <dt className="text-xs text-slate-600">{i.label}</dt>
            <dd className={`text-lg font-semibold tabular-nums ${i.alert ? "text-red-700" : "text-slate-900"}`}>{i.value}</dd>
          </div>
        ))}
      </dl>
      {p.oldestAssignedAgeMs != null ? (
        <p className="mt-1 text-xs text-slate-600">Your oldest assigned task is {formatDuration(p.oldestAssignedAgeMs)} old.</p>
      ) : null}
    </section>
  );
}
