/**
 * The report's tables, defined once: the page renders them and the CSV
 * download writes them, with the same columns in the same order. CSV carries
 * raw values (rates as fractions 0–1, durations in ms); the page formats them.
 */
import { csvSafeValue } from "~/lib/csv-safe";
import type { BacklogOwner, BacklogQueue, ReportPage } from "./reports.server";
import { formatDuration, formatRate, formatTimestamp } from "~/lib/format";

export type ColumnFormat = "int" | "rate" | "ms" | "text" | "date";
/**
 * `value` is declared as a method so a table of specific rows is also a `Table`
 * (rows `unknown`): the tables are kept and rendered side by side, and a table's
 * columns only ever read that same table's rows.
 */
export type Column<R> = { key: string; label: string; format: ColumnFormat; value(r: R): string | number | null };
export type Table<R = unknown> = { name: string; title: string; columns: Column<R>[]; rows: R[] };

export const TABLE_NAMES = ["automation", "versions", "policies", "fields", "rules", "reasons", "backlog-queues", "backlog-owners"] as const;
export type TableName = (typeof TABLE_NAMES)[number];

type Page = Pick<ReportPage, "series" | "byVersion" | "byPolicy" | "fields" | "rules" | "reasons">;
type Backlog = { queues: BacklogQueue[]; owners: BacklogOwner[] };

function col<R>(key: string, label: string, format: ColumnFormat, value: (r: R) => string | number | null): Column<R> {
  return { key, label, format, value };
}

/** The figures of a side-by-side row (a model version's, a policy version's), the same columns for each. */
function sideBySide<R extends Page["byVersion"][number] | Page["byPolicy"][number]>(): Column<R>[] {
  return [
    col("volume", "Volume", "int", (r) => r.volume),
    col("auto", "Auto", "int", (r) => r.auto),
    col("reviewed", "Reviewed", "int", (r) => r.reviewed),
    col("pending", "Pending", "int", (r) => r.pending),
    col("automation_rate", "Automation rate", "rate", (r) => r.automationRate),
    col("override_rate", "Override rate", "rate", (r) => r.overrideRate),
    col("auto_lane_accuracy", "Auto-lane accuracy", "rate", (r) => r.autoLaneAccuracy.estimate),
    col("auto_lane_accuracy_low", "95% low", "rate", (r) => r.autoLaneAccuracy.low),
    col("auto_lane_accuracy_high", "95% high", "rate", (r) => r.autoLaneAccuracy.high),
    col("qa_n", "QA n", "int", (r) => r.autoLaneAccuracy.n),
    col("released_accuracy", "Est. released accuracy", "rate", (r) => r.estimatedReleasedAccuracy.estimate),
    col("review_ttd_p50_ms", "Review p50", "ms", (r) => r.reviewP50Ms),
    col("review_ttd_p95_ms", "Review p95", "ms", (r) => r.reviewP95Ms),
    col("escalated", "Escalated", "int", (r) => r.escalated),
  ];
}

export function reportTables(page: Page, backlog: Backlog): Record<TableName, Table> {
  const automation: Table<Page["series"][number]> = {
    name: "automation",
    title: "Automation per bucket",
    rows: page.series,
    columns: [
      col("start", "Bucket start (UTC)", "date", (r) => r.start),
      col("volume", "Volume", "int", (r) => r.volume),
      col("auto", "Auto", "int", (r) => r.auto),
      col("reviewed", "Reviewed", "int", (r) => r.reviewed),
      col("pending", "Pending", "int", (r) => r.pending),
      col("corrected", "Corrected", "int", (r) => r.corrected),
      col("rejected", "Rejected", "int", (r) => r.rejected),
      col("automation_rate", "Automation rate", "rate", (r) => r.automationRate),
      col("override_rate", "Override rate", "rate", (r) => r.overrideRate),
      col("auto_lane_accuracy", "Auto-lane accuracy", "rate", (r) => r.accuracy),
      col("auto_lane_accuracy_low", "Accuracy 95% low", "rate", (r) => r.accuracyLow),
      col("auto_lane_accuracy_high", "Accuracy 95% high", "rate", (r) => r.accuracyHigh),
      col("qa_n", "QA checks (n)", "int", (r) => r.qaN),
      col("ttd_p50_ms", "Time to decision p50", "ms", (r) => r.p50Ms),
      col("ttd_p95_ms", "Time to decision p95", "ms", (r) => r.p95Ms),
    ],
  };
  const versions: Table<Page["byVersion"][number]> = {
    name: "versions",
    title: "Model versions side by side",
    rows: page.byVersion,
    columns: [col("model_version", "Model version", "text", (r) => r.modelVersion), ...sideBySide<Page["byVersion"][number]>()],
  };
  const policies: Table<Page["byPolicy"][number]> = {
    name: "policies",
    title: "Routing policy versions side by side",
    rows: page.byPolicy,
    columns: [
      // 0: counted before the roll-ups recorded the policy version (an upgraded store; the split is being rebuilt).
      col("policy_version", "Policy version", "text", (r) => (r.policyVersion === 0 ? "not yet split" : String(r.policyVersion))),
      col("since", "In effect since", "date", (r) => r.since),
      ...sideBySide<Page["byPolicy"][number]>(),
    ],
  };
  const fields: Table<Page["fields"][number]> = {
    name: "fields",
    title: "Corrections per output field",
    rows: page.fields,
    columns: [
      col("field", "Field", "text", (r) => r.field),
      col("corrections", "Corrected in review", "int", (r) => r.corrections),
      col("correction_rate", "Share of reviewed", "rate", (r) => r.correctionRate),
      col("qa_misses", "Changed in QA", "int", (r) => r.qaMisses),
      col("qa_miss_rate", "Share of QA checks", "rate", (r) => r.qaMissRate),
    ],
  };
  const rules: Table<Page["rules"][number]> = {
    name: "rules",
    title: "Routing rules that send work to review",
    rows: page.rules,
    columns: [
      col("rule", "Rule", "text", (r) => r.rule),
      col("decisions", "Decisions", "int", (r) => r.decisions),
      col("share_of_review", "Share of routed to review", "rate", (r) => r.shareOfReviewed),
    ],
  };
  const reasons: Table<Page["reasons"][number]> = {
    name: "reasons",
    title: "Reason codes (Pareto)",
    rows: page.reasons,
    columns: [
      col("code", "Code", "text", (r) => r.code),
      col("label", "Label", "text", (r) => r.label),
      col("count", "Count", "int", (r) => r.count),
      col("share", "Share", "rate", (r) => r.share),
      col("cumulative_share", "Cumulative", "rate", (r) => r.cumulativeShare),
    ],
  };
  const backlogQueues: Table<BacklogQueue> = {
    name: "backlog-queues",
    title: "Backlog per queue",
    rows: backlog.queues,
    columns: [
      col("type", "Type", "text", (r) => r.typeKey),
      col("queue", "Queue", "text", (r) => r.kind),
      col("owner", "Accountable owner", "text", (r) => r.owner),
      col("open", "Open", "int", (r) => r.open),
      col("in_progress", "In progress", "int", (r) => r.claimed),
      col("oldest_age_ms", "Oldest", "ms", (r) => r.oldestAgeMs),
      col("past_sla", "Past SLA", "int", (r) => r.pastSla),
    ],
  };
  const backlogOwners: Table<BacklogOwner> = {
    name: "backlog-owners",
    title: "Backlog and SLA per accountable owner",
    rows: backlog.owners,
    columns: [
      col("owner", "Accountable owner", "text", (r) => r.owner),
      col("open", "Open", "int", (r) => r.open),
      col("in_progress", "In progress", "int", (r) => r.claimed),
      col("oldest_age_ms", "Oldest", "ms", (r) => r.oldestAgeMs),
      col("past_sla", "Past SLA", "int", (r) => r.pastSla),
    ],
  };
  return { automation, versions, policies, fields, rules, reasons, "backlog-queues": backlogQueues, "backlog-owners": backlogOwners };
}

/** A table as CSV records: a header of column keys, then raw values (text that a spreadsheet would run as a formula escaped, numbers as they are). */
export function tableRecords(t: Table): (string | number)[][] {
  return [t.columns.map((c) => c.key), ...t.rows.map((r) => t.columns.map((c) => csvSafeValue(c.value(r) ?? "")))];
}

export function formatCell(format: ColumnFormat, v: string | number | null): string {
  if (v == null || v === "") return "–";
  if (format === "rate") return formatRate(Number(v));
  if (format === "ms") return formatDuration(Number(v));
  if (format === "int") return Number(v).toLocaleString("en-US");
  if (format === "date") return formatTimestamp(v);
  return String(v);
}
