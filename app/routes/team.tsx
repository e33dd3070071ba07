/**
 * The team page: each reviewer's progress per queue, set against the peers on the same queue, for managers
 * (reports:read: reviewers never see it, nor each other's figures). Figures: domain/teams/figures.ts.
 */
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Form, useLoaderData, useNavigation } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { PERIODS, PERIOD_LABELS, type Period } from "~/domain/reports/query";
import { teamView } from "~/domain/teams/progress.server";
import { formatDuration, formatNumber, formatRate, formatTimestamp } from "~/lib/format";
import { PageHeader } from "~/components/ui/page-header";
import { EmptyRow, Table, TBody, TD, TH, THead } from "~/components/ui/table";
import { FilterSelect } from "~/components/ui/filter-select";
import { Badge } from "~/components/ui/badge";
import {
  RUBBER_STAMP_MAX_MEDIAN_MS,
  RUBBER_STAMP_MIN_APPROVAL_RATE,
  RUBBER_STAMP_MIN_VERDICTS,
  RUBBER_STAMP_PEER_SHARE,
  type Agreement,
} from "~/domain/teams/figures";

export const meta: MetaFunction = () => [{ title: "Team · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "reports:read");
  return teamView(getDb(), new URL(request.url).searchParams);
}

export default function Team() {
  const view = useLoaderData<typeof loader>();
  const busy = useNavigation().state === "loading";
  const r = view.report;
  const typeName = (key: string) => view.types.find((t) => t.key === key)?.name ?? key;
  return (
    <div className={busy ? "opacity-70 transition-opacity" : undefined}>
      <PageHeader
        title="Team"
        description={
          <>
            Each reviewer&apos;s work per queue. “Today” and “this week” (from Monday) are counted in the organisation&apos;s time zone,{" "}
            <strong data-testid="team-timezone">{r.timeZone}</strong>; the other review figures cover{" "}
            <span data-testid="team-period">
              {formatTimestamp(r.period.from)} – {formatTimestamp(r.period.to)}
            </span>
            ; assigned tasks are as of now.
          </>
        }
      />

      <Form method="get" className="mb-4 flex flex-wrap items-end gap-4 rounded-lg border border-slate-200 bg-white p-4" aria-label="Team filters">
        <FilterSelect
          idPrefix="team"
          label="Queue"
          name="type"
          value={r.type ?? ""}
          options={[["", "All queues"], ...view.types.map((t) => [t.key, t.name] as [string, string])]}
        />
        <FilterSelect
          idPrefix="team"
          label="Period"
          name="period"
          value={view.period === "custom" ? "" : view.period}
          options={[
            ...(view.period === "custom" ? [["", "Custom range"] as [string, string]] : []),
            ...Object.keys(PERIODS).map((p) => [p, PERIOD_LABELS[p as Period]] as [string, string]),
          ]}
        />
        <button type="submit" className="rounded bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700">
          Apply
        </button>
      </Form>
      {view.error ? (
        <div role="alert" className="mb-4 rounded border border-red-200 bg-red-50 px-4 py-2 text-sm text-red-800">
          {view.error.message}: {view.error.issues.map((i) => `${i.path || "query"}: ${i.message}`).join("; ")}. Showing every queue over the last 7 days
          instead.
        </div>
      ) : null}

      <Table label="Reviewer progress per queue" scrolls>
        <THead>
          <TH>Reviewer</TH>
          <TH>Queue</TH>
          <TH numeric>
            <Wrap>Reviews today</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Reviews this week</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Reviews in period</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Approves</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Median time per item</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Verdicts overturned</Wrap>
          </TH>
          <TH>
            <Wrap>Agrees when checked</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Reviews after due time</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Assigned, open</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Assigned, past due</Wrap>
          </TH>
          <TH numeric>
            <Wrap>Oldest assigned task</Wrap>
          </TH>
        </THead>
        <TBody>
          {r.rows.length === 0 ? <EmptyRow colSpan={13}>No reviews in this period and no assigned tasks.</EmptyRow> : null}
          {r.rows.map((row) => (
            <tr
              key={`${row.reviewer.email} ${row.type}`}
              data-testid="team-row"
              data-flagged={row.rubberStamping ? "rubber-stamping" : undefined}
              className={row.rubberStamping ? "bg-amber-50/60" : undefined}
            >
              <TH scope="row">
                <span className="font-medium text-slate-900">{row.reviewer.name}</span>
                <span className="block text-xs font-normal normal-case text-slate-500">{row.reviewer.email}</span>
                {row.rubberStamping ? (
                  <Badge tone="amber" className="mt-1 normal-case tracking-normal" title={FLAG_RULE}>
                    Looks like rubber-stamping
                  </Badge>
                ) : null}
              </TH>
              <TD>{typeName(row.type)}</TD>
              <TD numeric>{formatNumber(row.reviewsToday)}</TD>
              <TD numeric>{formatNumber(row.reviewsThisWeek)}</TD>
              <TD numeric>{formatNumber(row.reviews)}</TD>
              <TD numeric className={row.rubberStamping ? "font-medium text-amber-900" : undefined}>
                {formatRate(row.approvalRate, 0)}
                <Peers>{row.peers ? `peers ${formatRate(row.peers.approvalRate, 0)}` : "no peers"}</Peers>
              </TD>
              <TD numeric className={row.rubberStamping ? "font-medium text-amber-900" : undefined}>
                {formatDuration(row.medianHandlingMs)}
                <Peers>{row.peers ? `peers ${formatDuration(row.peers.medianHandlingMs)}` : "no peers"}</Peers>
              </TD>
              <TD numeric>
                {formatRate(row.overturnedShare)}
                <span className="block text-xs text-slate-500">
                  {row.overturned} of {row.verdicts}
                </span>
              </TD>
              <TD>
                <Agreements row={row} />
              </TD>
              <TD numeric className={row.lateReviews > 0 ? "text-amber-800" : undefined}>
                {formatNumber(row.lateReviews)}
              </TD>
              <TD numeric>{formatNumber(row.openAssigned)}</TD>
              <TD numeric className={row.overdueAssigned > 0 ? "font-medium text-red-700" : undefined}>
                {formatNumber(row.overdueAssigned)}
              </TD>
              <TD numeric>{formatDuration(row.oldestAssignedAgeMs)}</TD>
            </tr>
          ))}
        </TBody>
      </Table>

      <dl className="mt-4 grid gap-x-6 gap-y-1 text-xs text-slate-600 md:grid-cols-2">
        <div>
          <dt className="inline font-medium">Median time per item: </dt>
          <dd className="inline">from claiming a task to giving the verdict, over the period&apos;s reviews.</dd>
        </div>
        <div>
          <dt className="inline font-medium">Verdicts overturned: </dt>
          <dd className="inline">
            approvals, corrections and rejections that the last later review of the same decision by someone else contradicts (a four-eyes partner, a QA check
            or the owner resolving an escalation).
          </dd>
        </div>
        <div>
          <dt className="inline font-medium">Approves: </dt>
          <dd className="inline">the share of the period&apos;s verdicts (approvals, corrections, rejections) that approve.</dd>
        </div>
        <div>
          <dt className="inline font-medium">Peers: </dt>
          <dd className="inline">
            the other reviewers on the same queue in the period, taken together (their verdicts and handling times pooled, not averaged per person).
          </dd>
        </div>
        <div>
          <dt className="inline font-medium">Agrees when checked: </dt>
          <dd className="inline">
            of the verdicts a four-eyes second reviewer or a QA check later looked at, the share it agreed with (same action; for corrections, the same output).
          </dd>
        </div>
        <div>
          <dt className="inline font-medium">Looks like rubber-stamping: </dt>
          <dd className="inline" data-testid="team-flag-rule">
            {FLAG_RULE}. A prompt to look at the reviewer&apos;s work, not a finding; shown here only, never as an alert.
          </dd>
        </div>
        <div>
          <dt className="inline font-medium">Reviews after due time: </dt>
          <dd className="inline">reviews given after their task&apos;s SLA deadline (a breach).</dd>
        </div>
        <div>
          <dt className="inline font-medium">Assigned: </dt>
          <dd className="inline">tasks assigned to the reviewer and not yet done (escalations excluded); past due is a breach still open.</dd>
        </div>
      </dl>
    </div>
  );
}

const FLAG_RULE =
  `Approves at least ${Math.round(RUBBER_STAMP_MIN_APPROVAL_RATE * 100)}% of at least ${RUBBER_STAMP_MIN_VERDICTS} verdicts, ` +
  `with a median time per item under ${Math.round(RUBBER_STAMP_PEER_SHARE * 100)}% of the peers' and under ${RUBBER_STAMP_MAX_MEDIAN_MS / 1000} s`;

/** The peers' figure under the reviewer's own. */
function Peers({ children }: { children: React.ReactNode }) {
  return <span className="block text-xs text-slate-500">{children}</span>;
}

type AgreementRow = { fourEyes: Agreement; qa: Agreement; peers: { fourEyes: Agreement; qa: Agreement } | null };

/** Agreement with four-eyes partners and QA checks, each against the peers; a source nobody was checked by is left out. */
function Agreements({ row }: { row: AgreementRow }) {
  const sources = (
    [
      ["Four-eyes", row.fourEyes, row.peers?.fourEyes],
      ["QA", row.qa, row.peers?.qa],
    ] as const
  ).filter(([, mine, peers]) => mine.checked > 0 || (peers?.checked ?? 0) > 0);
  if (sources.length === 0) return <span className="text-slate-500">–</span>;
  return (
    <ul className="space-y-1">
      {sources.map(([label, mine, peers]) => (
        <li key={label}>
          <span className="whitespace-nowrap">
            {label} <span className="tabular-nums">{formatRate(mine.rate, 0)}</span>
          </span>
          <span className="block text-xs tabular-nums text-slate-500">{mine.checked ? `${mine.agreed} of ${mine.checked}` : "none checked"}</span>
          {peers?.checked ? <Peers>peers {formatRate(peers.rate, 0)}</Peers> : null}
        </li>
      ))}
    </ul>
  );
}

/** A column header that may wrap onto two lines (the table's headers do not by default): keeps the wide table on screen. */
function Wrap({ children }: { children: React.ReactNode }) {
  return <span className="inline-block min-w-[5rem] whitespace-normal">{children}</span>;
}
