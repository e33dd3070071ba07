/** The type editor's "Preview impact": a routing change replayed on the last 30 days, beside the current policy. */
import { Link } from "@remix-run/react";
import type { Impact } from "~/domain/governance/impact.server";
import { Section } from "~/components/ui/page-header";

const pctOf = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(1)}%`);
const perDay = (v: number | null) => (v === null ? "–" : v.toFixed(1));

/** What the posted routing rules would have done over the last 30 days, beside what the current policy did. */
export function ImpactPanel({ impact }: { impact: Impact }) {
  const rows: [string, string, string][] = [
    ["Automation rate", pctOf(impact.before.automationRate), pctOf(impact.after.automationRate)],
    ["Reviews a day", perDay(impact.before.reviewsPerDay), perDay(impact.after.reviewsPerDay)],
    ["QA reviews a day", perDay(impact.before.qaReviewsPerDay), perDay(impact.after.qaReviewsPerDay)],
    ["Reviewer hours a day", perDay(impact.before.reviewerHoursPerDay), perDay(impact.after.reviewerHoursPerDay)],
  ];
  const errors = (e: Impact["releasedErrorsPerDay"]["extra"]) =>
    e.estimate === null ? "no verdicts to estimate from" : `${e.estimate.toFixed(2)} (95%: ${e.low!.toFixed(2)}–${e.high!.toFixed(2)}, ${e.verdicts} verdicts)`;
  return (
    <Section
      title="Impact of these routing rules"
      id="impact"
      description={`Replayed on the ${impact.replayed.toLocaleString("en-US")} decisions of the last 30 days, against the current policy. Nothing was saved.`}
    >
      <div data-testid="impact-panel" className="space-y-3 text-sm">
        <table className="w-full max-w-xl">
          <thead>
            <tr className="border-b border-slate-200 text-left text-slate-600">
              <th className="py-1 pr-4 font-medium" />
              <th className="py-1 pr-4 font-medium">Current policy</th>
              <th className="py-1 pr-4 font-medium">These rules</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([label, before, after]) => (
              <tr key={label} className="border-b border-slate-100">
                <th scope="row" className="py-1 pr-4 text-left font-normal text-slate-700">
                  {label}
                </th>
                <td className="py-1 pr-4 tabular-nums">{before}</td>
                <td className="py-1 pr-4 tabular-nums">{after}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          {impact.routeChanges.toAuto.toLocaleString("en-US")} decisions would have been released automatically instead of reviewed, and{" "}
          {impact.routeChanges.toReview.toLocaleString("en-US")} reviewed instead of released.
        </p>
        <p>Errors a day newly released: {errors(impact.releasedErrorsPerDay.extra)}.</p>
        <p>Errors a day no longer released: {errors(impact.releasedErrorsPerDay.avoided)}.</p>
        {impact.routeChanges.sampleToAuto.length + impact.routeChanges.sampleToReview.length > 0 ? (
          <details>
            <summary className="cursor-pointer text-indigo-700">Decisions whose route would change (a sample)</summary>
            <ul className="mt-1 flex flex-wrap gap-x-3 gap-y-1 font-mono text-xs">
              {impact.routeChanges.sampleToAuto.map((id) => (
                <li key={id}>
                  <Link to={`/decisions/${id}`} className="text-indigo-700 hover:underline">
                    {id}
                  </Link>{" "}
                  → auto
                </li>
              ))}
              {impact.routeChanges.sampleToReview.map((id) => (
                <li key={id}>
                  <Link to={`/decisions/${id}`} className="text-indigo-700 hover:underline">
                    {id}
                  </Link>{" "}
                  → review
                </li>
              ))}
            </ul>
          </details>
        ) : null}
      </div>
    </Section>
  );
}
