/**
 * Many reviewed decisions, fast: raw SQL (recursive CTEs) into an already
 * migrated database. For benchmarks and for tests that need a build big enough
 * to interrupt. Makes 20 reviewers (gen_00…gen_19), the decision type `typeKey`
 * with routing policy v1 (QA rate 5%), and `rows` decisions: every fifth is an
 * auto decision with a QA review, the others review-lane decisions; 60% of the
 * verdicts approve, 30% correct the total, 10% reject. A review-lane decision is
 * finalized by its reviewer; an auto decision by nobody (finalized_by is a user id).
 *
 * SQLite gets the raw SQL below on the writer connection (one transaction); Postgres
 * gets the same rows from the same statements rewritten with generate_series (tests
 * that need many decisions run on both stores).
 *
 * Row i (1…rows) occurs at start + i seconds by default; the options below space the rows
 * differently, number them from elsewhere (to add rows to a type an earlier call made), set
 * the decisions' monitored segment, or leave out the tasks and reviews (bench:monitors builds
 * a year of history with them). What the reports and monitors count of a row depends on i modulo 3,000 only.
 *
 * The roll-ups of the rows are written too (hourly and daily counters, under the rows' policy version),
 * equal to what the app's write paths would have added for them (reports/contributions.ts): each kind of
 * row's facts go through contributions() once, and SQL multiplies them by the rows of each hour. So is the
 * reviewer roll-up of the rows' reviews (one per decision, never late, never looked at again: what reviewMetrics
 * gives such a review, by action, times the reviews per reviewer and hour or day). Not the drift monitors'
 * counters (bench:monitors derives its own, and leaves these out).
 */
import { sql } from "drizzle-orm";
import { sqliteClientOf, sqlRun, transaction, type Db } from "@db/client.server";
import { factsFromHistory, type ReviewRowLike } from "~/domain/decisions/facts.server";
import { contributions, type DecisionStatus } from "~/domain/reports/contributions";
import { DAILY_PREFIX } from "~/domain/reports/rollups.server";
import { reviewMetrics, SPANS } from "~/domain/teams/reviewer-metrics";
import { DAY, HOUR } from "~/lib/time";

export type GenerateOptions = {
  typeKey?: string;
  /** Row i occurs at start + i × spacingMs (default 2026-01-01T00:00Z). */
  start?: number;
  /** Milliseconds between two rows (default 1,000). */
  spacingMs?: number;
  /**
   * The first row's number (default 1): rows first … first + rows − 1. Only a call whose first row is 1
   * makes the reviewers, the type and its routing policy; a later one adds rows to them.
   */
  first?: number;
  /** Each decision's monitored segment (decisions.segment) is its `pages` input, as for a type whose monitors segment by pages. */
  segment?: boolean;
  /** The decisions alone, without their tasks and reviews (the bulk of a big store's old history, written faster). */
  decisionsOnly?: boolean;
  /** Write the rows' roll-ups (default true; bench:monitors derives them itself after reshaping the queue). */
  rollups?: boolean;
};

/** What the rows hold, shared by their SQL and by the facts their roll-ups are derived from. */
const REVIEW_REASON = "confidence 0.62 < 0.9";
/** received_at and finalized_at, after occurred_at (ms). */
const RECEIVED_AFTER = 300;
const FINALIZED_AFTER = 60_000;
/** The one review each row gets (unless decisionsOnly), by the decision's status: a QA approval for the automatic lane. */
const VERDICTS: Record<string, Omit<ReviewRowLike, "seq">> = {
  auto_approved: { taskKind: "qa", action: "approve", changedFields: [], reasonCodes: [] },
  approved: { taskKind: "review", action: "approve", changedFields: [], reasonCodes: [] },
  corrected: { taskKind: "review", action: "correct", changedFields: ["total"], reasonCodes: ["WRONG_TOTAL"] },
  rejected: { taskKind: "review", action: "reject", changedFields: [], reasonCodes: ["NOT_AN_INVOICE"] },
};
const json = (v: unknown) => `'${JSON.stringify(v).replace(/'/g, "''")}'`;

/**
 * The counters one generated row adds, by its status (which decides its route, its QA sample and its review):
 * the app's contributions() of the facts such a row has. Rows: (status, metric, value).
 */
function contributionRows(typeKey: string, full: boolean): [string, string, number][] {
  const out: [string, string, number][] = [];
  for (const [status, verdict] of Object.entries(VERDICTS)) {
    const auto = status === "auto_approved";
    const facts = factsFromHistory(
      {
        typeKey,
        modelVersion: "",
        policyVersion: 1,
        confidence: 0,
        segment: null,
        occurredAt: 0,
        receivedAt: RECEIVED_AFTER,
        route: auto ? "auto" : "review",
        status: status as DecisionStatus,
        qaSampled: auto,
        finalizedAt: FINALIZED_AFTER,
        reasons: auto ? [] : [REVIEW_REASON],
      },
      full ? [{ ...verdict, seq: 1 }] : [],
    );
    for (const [metric, value] of contributions(facts)) out.push([status, metric, value]);
  }
  return out;
}

/**
 * The roll-ups of rows first…last of the type: the rows counted per (model version, policy version, hour, status)
 * through the id index, times what each status contributes; hourly counters, then the daily ones. Added to any
 * counters already there (an earlier call may have filled the same hours). The same SQL on both stores.
 */
function rollupStatements(g: Generation, q: (s: string) => string): string[] {
  const id = (i: number) => q(`dec_${g.type}_${String(i).padStart(8, "0")}`);
  const values = contributionRows(g.type, g.full)
    .map(([status, metric, value]) => `(${q(status)}, ${q(metric)}, ${value})`)
    .join(", ");
  const upsert = (hour: string, metric: string) => `
    WITH m(status, metric, value) AS (VALUES ${values}),
    c AS (SELECT model_version AS v, policy_version AS pv, occurred_at - occurred_at % ${HOUR} AS hour, status, count(*) AS n
          FROM decisions WHERE type_key = ${q(g.type)} AND id BETWEEN ${id(g.first)} AND ${id(g.last)} GROUP BY 1, 2, 3, 4)
    INSERT INTO rollups (type_key, model_version, policy_version, hour, metric, value)
    SELECT ${q(g.type)}, c.v, c.pv, ${hour}, ${metric}, sum(c.n * m.value) FROM c JOIN m ON m.status = c.status WHERE true GROUP BY 2, 3, 4, 5
    ON CONFLICT (type_key, hour, model_version, policy_version, metric) DO UPDATE SET value = rollups.value + excluded.value`;
  return [upsert("c.hour", "m.metric"), upsert(`c.hour - c.hour % ${DAY}`, `${q(DAILY_PREFIX)} || m.metric`)];
}

/** The reviewer roll-up of the rows' reviews (added to any counters already there), the same SQL on both stores. */
function reviewerRollupStatements(g: Generation, q: (s: string) => string): string[] {
  if (!g.full) return [];
  const id = (i: number) => q(`rev_${g.type}_${String(i).padStart(8, "0")}`);
  const metrics = [...new Set(Object.values(VERDICTS).map((v) => v.action))]
    .flatMap((action) =>
      reviewMetrics({ action, handlingMs: null, late: false, overturned: false, fourEyesAgreed: null, qaAgreed: null }).map(
        ([metric, value]) => `(${q(action)}, ${q(metric)}, ${value})`,
      ),
    )
    .join(", ");
  return [
    `WITH m(action, metric, value) AS (VALUES ${metrics}),
    s(span) AS (VALUES ${SPANS.map((span) => `(${span})`).join(", ")}),
    c AS (SELECT reviewer_id AS r, created_at - created_at % ${HOUR} AS hour, action, count(*) AS n
          FROM reviews WHERE id BETWEEN ${id(g.first)} AND ${id(g.last)} GROUP BY 1, 2, 3)
    INSERT INTO reviewer_rollups (type_key, reviewer_id, span, start, metric, value)
    SELECT ${q(g.type)}, c.r, s.span, c.hour - c.hour % s.span, m.metric, sum(c.n * m.value) FROM c JOIN m ON m.action = c.action CROSS JOIN s WHERE true GROUP BY 2, 3, 4, 5
    ON CONFLICT (span, start, type_key, reviewer_id, metric) DO UPDATE SET value = reviewer_rollups.value + excluded.value`,
  ];
}

export async function generateReviewedInvoices(db: Db, rows: number, opts: GenerateOptions = {}): Promise<void> {
  const type = opts.typeKey ?? "invoice";
  const t0 = opts.start ?? Date.UTC(2026, 0, 1);
  const spacing = Math.round(opts.spacingMs ?? 1000);
  const first = opts.first ?? 1;
  const last = first + rows - 1;
  const setup = first === 1;
  const full = !opts.decisionsOnly;
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const g = { type, t0, spacing, first, last, setup, full, segment: Boolean(opts.segment) };
  const rollups = opts.rollups === false ? [] : [...rollupStatements(g, q), ...reviewerRollupStatements(g, q)];
  // The writer connection (a handle reads on a read-only one); null on Postgres.
  const writer = await transaction(db, async (tx) => sqliteClientOf(tx));
  if (!writer) {
    await transaction(db, async (tx) => {
      for (const statement of [...postgresStatements(g, q), ...rollups]) await sqlRun(tx, sql.raw(statement));
    });
    return;
  }
  writer.pragma("synchronous = OFF");
  try {
    const setupSql = `
      INSERT OR IGNORE INTO users (id, email, name, role, password_hash, created_at)
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
        SELECT printf('gen_%02d', i), printf('generated%02d@example.com', i), printf('Reviewer %d', i), 'reviewer', 'x', ${t0} FROM n;
      INSERT INTO decision_types (key, name, owner_id, output_schema, reason_codes, sla_minutes, policy_version, created_at, updated_at)
        VALUES (${q(type)}, 'Invoice extraction (generated)', 'gen_00',
          '{"type":"object","required":["total","currency"],"properties":{"total":{"type":"number"},"currency":{"type":"string","enum":["EUR","USD"]},"lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"amount":{"type":"number"}}}}}}',
          '[{"code":"WRONG_TOTAL","label":"Total misread"},{"code":"NOT_AN_INVOICE","label":"Not an invoice"}]', 240, 1, ${t0}, ${t0});
      INSERT INTO routing_policies (type_key, version, policy, created_at)
        VALUES (${q(type)}, 1, '{"minConfidence":0.9,"fieldMinConfidence":{},"reviewFlags":[],"qaSampleRate":0.05}', ${t0});`;
    const at = (offset = "") => `${t0} + i * ${spacing}${offset}`;
    const decisionsSql = `
      CREATE TEMP TABLE gen AS
        WITH RECURSIVE n(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM n WHERE i < ${last}) SELECT i FROM n;
      INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence, field_confidence, flags,
                             priority, occurred_at, received_at, route, reasons, policy_version, qa_sampled, status, final_output, finalized_at, finalized_by, updated_at${g.segment ? ", segment" : ""})
      SELECT printf('dec_%s_%08d', ${q(type)}, i), ${q(type)}, printf('INV-%08d', i), 'h', 'invoice-extractor', CASE WHEN i % 3 = 0 THEN '2.0.0' ELSE '1.0.0' END,
        json_object('vendor', 'Vendor ' || (i % 500), 'pages', 1 + i % 4, 'text', 'Invoice ' || i || ' payable within 30 days, see attached delivery note'),
        json_object('total', (i % 1000) + 0.5, 'currency', CASE WHEN i % 2 THEN 'EUR' ELSE 'USD' END,
                    'lines', json_array(json_object('sku', 'A-' || (i % 50), 'amount', (i % 1000) + 0.5))),
        0.5 + (i % 50) / 100.0, json_object('total', 0.91, 'currency', 0.99), '[]', 0,
        ${at()}, ${at(` + ${RECEIVED_AFTER}`)},
        CASE WHEN i % 5 = 0 THEN 'auto' ELSE 'review' END,
        CASE WHEN i % 5 = 0 THEN '[]' ELSE ${json([REVIEW_REASON])} END, 1, i % 5 = 0,
        CASE WHEN i % 5 = 0 THEN 'auto_approved' WHEN i % 10 < 6 THEN 'approved' WHEN i % 10 < 9 THEN 'corrected' ELSE 'rejected' END,
        NULL, ${at(` + ${FINALIZED_AFTER}`)}, CASE WHEN i % 5 = 0 THEN NULL ELSE printf('gen_%02d', i % 20) END, ${at(` + ${FINALIZED_AFTER}`)}${g.segment ? ", CAST(1 + i % 4 AS TEXT)" : ""}
      FROM gen;`;
    const tasksSql = `
      INSERT INTO tasks (id, decision_id, type_key, kind, status, priority, due_at, created_at, claimed_by, completed_at)
      SELECT printf('tsk_%s_%08d', ${q(type)}, i), printf('dec_%s_%08d', ${q(type)}, i), ${q(type)}, CASE WHEN i % 5 = 0 THEN 'qa' ELSE 'review' END,
        'done', 0, ${at(" + 3600000")}, ${at(` + ${RECEIVED_AFTER}`)}, printf('gen_%02d', i % 20), ${at(` + ${FINALIZED_AFTER}`)}
      FROM gen;
      INSERT INTO reviews (id, decision_id, task_id, task_kind, reviewer_id, action, output, changed_fields, reason_codes, note, created_at)
      SELECT printf('rev_%s_%08d', ${q(type)}, i), printf('dec_%s_%08d', ${q(type)}, i), printf('tsk_%s_%08d', ${q(type)}, i),
        CASE WHEN i % 5 = 0 THEN 'qa' ELSE 'review' END, printf('gen_%02d', i % 20),
        CASE WHEN i % 10 < 6 THEN 'approve' WHEN i % 10 < 9 THEN 'correct' ELSE 'reject' END,
        CASE WHEN i % 10 BETWEEN 6 AND 8 THEN json_object('total', (i % 1000) + 10.5, 'currency', CASE WHEN i % 2 THEN 'EUR' ELSE 'USD' END,
                    'lines', json_array(json_object('sku', 'A-' || (i % 50), 'amount', (i % 1000) + 0.5))) END,
        CASE WHEN i % 10 BETWEEN 6 AND 8 THEN '["total"]' ELSE '[]' END,
        CASE WHEN i % 10 BETWEEN 6 AND 8 THEN '["WRONG_TOTAL"]' WHEN i % 10 = 9 THEN '["NOT_AN_INVOICE"]' ELSE '[]' END,
        CASE WHEN i % 10 = 9 THEN 'not an invoice, a delivery note' END,
        ${at(` + ${FINALIZED_AFTER}`)}
      FROM gen;`;
    await transaction(db, async (tx) => {
      sqliteClientOf(tx)!.exec(`${setup ? setupSql : ""}${decisionsSql}${full ? tasksSql : ""}
      DROP TABLE gen;${rollups.map((r) => `${r};`).join("")}`);
    });
  } finally {
    writer.pragma("synchronous = NORMAL");
  }
}

type Generation = { type: string; t0: number; spacing: number; first: number; last: number; setup: boolean; full: boolean; segment: boolean };

/** The same rows on Postgres: generate_series for the recursive CTE, format/lpad for printf, json_build_object for json_object. */
function postgresStatements(g: Generation, q: (s: string) => string): string[] {
  const { type, t0 } = g;
  const id = (prefix: string) => `format('${prefix}_%s_%s', ${q(type)}, lpad(i::text, 8, '0'))`;
  const reviewer = (expr: string) => `'gen_' || lpad((${expr})::text, 2, '0')`;
  const corrected = `json_build_object('total', (i % 1000) + 10.5, 'currency', CASE WHEN i % 2 = 1 THEN 'EUR' ELSE 'USD' END,
                    'lines', json_build_array(json_build_object('sku', 'A-' || (i % 50), 'amount', (i % 1000) + 0.5)))::text`;
  // bigint row numbers: i × spacing passes 2^31 after a few million rows.
  const rows = `generate_series(${g.first}::bigint, ${g.last}::bigint) AS g(i)`;
  const at = (offset = "") => `${t0}::bigint + i * ${g.spacing}${offset}`;
  const setup = [
    `INSERT INTO users (id, email, name, role, password_hash, created_at)
       SELECT ${reviewer("i")}, 'generated' || lpad(i::text, 2, '0') || '@example.com', 'Reviewer ' || i, 'reviewer', 'x', ${t0} FROM generate_series(0, 19) AS g(i)
       ON CONFLICT DO NOTHING`,
    `INSERT INTO decision_types (key, name, owner_id, output_schema, reason_codes, sla_minutes, policy_version, created_at, updated_at)
       VALUES (${q(type)}, 'Invoice extraction (generated)', 'gen_00',
         '{"type":"object","required":["total","currency"],"properties":{"total":{"type":"number"},"currency":{"type":"string","enum":["EUR","USD"]},"lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"amount":{"type":"number"}}}}}}',
         '[{"code":"WRONG_TOTAL","label":"Total misread"},{"code":"NOT_AN_INVOICE","label":"Not an invoice"}]', 240, 1, ${t0}, ${t0})`,
    `INSERT INTO routing_policies (type_key, version, policy, created_at)
       VALUES (${q(type)}, 1, '{"minConfidence":0.9,"fieldMinConfidence":{},"reviewFlags":[],"qaSampleRate":0.05}', ${t0})`,
  ];
  const decisions = `INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence, field_confidence, flags,
                            priority, occurred_at, received_at, route, reasons, policy_version, qa_sampled, status, final_output, finalized_at, finalized_by, updated_at${g.segment ? ", segment" : ""})
     SELECT ${id("dec")}, ${q(type)}, 'INV-' || lpad(i::text, 8, '0'), 'h', 'invoice-extractor', CASE WHEN i % 3 = 0 THEN '2.0.0' ELSE '1.0.0' END,
       json_build_object('vendor', 'Vendor ' || (i % 500), 'pages', 1 + i % 4, 'text', 'Invoice ' || i || ' payable within 30 days, see attached delivery note')::text,
       json_build_object('total', (i % 1000) + 0.5, 'currency', CASE WHEN i % 2 = 1 THEN 'EUR' ELSE 'USD' END,
                         'lines', json_build_array(json_build_object('sku', 'A-' || (i % 50), 'amount', (i % 1000) + 0.5)))::text,
       0.5 + (i % 50) / 100.0, json_build_object('total', 0.91, 'currency', 0.99)::text, '[]', 0,
       ${at()}, ${at(` + ${RECEIVED_AFTER}`)},
       CASE WHEN i % 5 = 0 THEN 'auto' ELSE 'review' END,
       CASE WHEN i % 5 = 0 THEN '[]' ELSE ${json([REVIEW_REASON])} END, 1, i % 5 = 0,
       CASE WHEN i % 5 = 0 THEN 'auto_approved' WHEN i % 10 < 6 THEN 'approved' WHEN i % 10 < 9 THEN 'corrected' ELSE 'rejected' END,
       NULL, ${at(` + ${FINALIZED_AFTER}`)}, CASE WHEN i % 5 = 0 THEN NULL ELSE ${reviewer("i % 20")} END, ${at(` + ${FINALIZED_AFTER}`)}${g.segment ? ", (1 + i % 4)::text" : ""}
     FROM ${rows}`;
  const tasks = [
    // The task counters once per (type, kind, status) rather than by the row trigger: in one transaction every
    // row's update of the same counter row adds a version the next one walks past (quadratic in the rows).
    `ALTER TABLE tasks DISABLE TRIGGER tasks_counters_insert`,
    `WITH added AS (
       INSERT INTO tasks (id, decision_id, type_key, kind, status, priority, due_at, created_at, claimed_by, completed_at)
       SELECT ${id("tsk")}, ${id("dec")}, ${q(type)}, CASE WHEN i % 5 = 0 THEN 'qa' ELSE 'review' END,
         'done', 0, ${at(" + 3600000")}, ${at(` + ${RECEIVED_AFTER}`)}, ${reviewer("i % 20")}, ${at(` + ${FINALIZED_AFTER}`)}
       FROM ${rows}
       RETURNING type_key, kind, status)
     INSERT INTO task_counters (type_key, kind, status, n) SELECT type_key, kind, status, count(*) FROM added GROUP BY 1, 2, 3
       ON CONFLICT (type_key, kind, status) DO UPDATE SET n = task_counters.n + excluded.n`,
    `ALTER TABLE tasks ENABLE TRIGGER tasks_counters_insert`,
    `INSERT INTO reviews (id, decision_id, task_id, task_kind, reviewer_id, action, output, changed_fields, reason_codes, note, created_at)
     SELECT ${id("rev")}, ${id("dec")}, ${id("tsk")},
       CASE WHEN i % 5 = 0 THEN 'qa' ELSE 'review' END, ${reviewer("i % 20")},
       CASE WHEN i % 10 < 6 THEN 'approve' WHEN i % 10 < 9 THEN 'correct' ELSE 'reject' END,
       CASE WHEN i % 10 BETWEEN 6 AND 8 THEN ${corrected} END,
       CASE WHEN i % 10 BETWEEN 6 AND 8 THEN '["total"]' ELSE '[]' END,
       CASE WHEN i % 10 BETWEEN 6 AND 8 THEN '["WRONG_TOTAL"]' WHEN i % 10 = 9 THEN '["NOT_AN_INVOICE"]' ELSE '[]' END,
       CASE WHEN i % 10 = 9 THEN 'not an invoice, a delivery note' END,
       ${at(` + ${FINALIZED_AFTER}`)}
     FROM ${rows}`,
  ];
  return [...(g.setup ? setup : []), decisions, ...(g.full ? tasks : [])];
}
