/**
 * Labelled examples, derived from what reviewers wrote (never stored twice).
 *
 * One example per decision whose human verdict is final: the decision's latest
 * review (review, qa, second or escalation task) when it is approve, correct or
 * reject and no follow-up task (four-eyes second review, escalation) is still
 * waiting on it. An escalation is therefore represented by the owner's verdict,
 * and a four-eyes decision by its last independent verdict, with the first and
 * second reviewer and whether they agreed.
 *
 * Everything is read "as of" a review watermark (reviews.seq) and a time: the
 * same watermark gives the same examples however many reviews arrive later,
 * which is what makes snapshots reproducible and resumable.
 *
 * Rows are read by keyset pagination on reviews.seq (pages of PAGE_SIZE), so a
 * million examples never sit in memory and the connection is free between pages.
 * JSON columns stay JSON text end to end: writers splice them as they are.
 */
import { instanceSecret } from "../auth/secrets.server";
import crypto from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { openScanReader, sqlOne, sqlRows, type Db } from "@db/client.server";
import { joinInOrder, jsonArrayHasAny, jsonEqual, jsonNumber } from "@db/sql";
import { users } from "@db/schema/index";
import type { ExampleAction, ExampleFilter, Split, SplitFractions } from "./filter";
import { z } from "zod";
import { DEFAULT_SPLIT, exampleFilterSchema } from "./filter";
import { splitOf } from "./split.server";

export type SeenBecause = "review_rule" | "qa_sample" | "escalation";

/** A labelled example. Fields typed `Json` hold JSON text (objects/arrays), spliced as-is by writers. */
type Json = string;
export type ExampleRecord = {
  exampleId: string;
  decisionId: string;
  type: string;
  externalId: string;
  split: Split;
  input: Json;
  modelOutput: Json;
  finalOutput: Json | null;
  action: ExampleAction;
  changedFields: Json;
  reasonCodes: Json;
  note: string | null;
  confidence: number;
  fieldConfidence: Json;
  modelName: string;
  modelVersion: string;
  route: "auto" | "review";
  routeReasons: Json;
  policyVersion: number;
  flags: Json;
  seenBecause: SeenBecause;
  samplingProbability: number | null;
  weight: number | null;
  reviewer: string;
  finalReviewer: string;
  secondReviewer: string | null;
  agreement: boolean | null;
  occurredAt: number;
  receivedAt: number;
  reviewedAt: number;
};

/** Column order and kinds: the one schema every format writes (JSONL keys, CSV header, Parquet schema). */
export type ColumnKind = "string" | "json" | "double" | "int" | "bool" | "timestamp";
export const EXAMPLE_COLUMNS: { name: keyof ExampleRecord; kind: ColumnKind; nullable: boolean; doc: string }[] = [
  { name: "exampleId", kind: "string", nullable: false, doc: "id of the final review" },
  { name: "decisionId", kind: "string", nullable: false, doc: "Lastmile decision id" },
  { name: "type", kind: "string", nullable: false, doc: "decision type key" },
  { name: "externalId", kind: "string", nullable: false, doc: "the source system's id" },
  { name: "split", kind: "string", nullable: false, doc: "train | validation | test (hash of externalId)" },
  { name: "input", kind: "json", nullable: false, doc: "decision input" },
  { name: "modelOutput", kind: "json", nullable: false, doc: "what the model answered" },
  { name: "finalOutput", kind: "json", nullable: true, doc: "the human's final output (null when rejected)" },
  { name: "action", kind: "string", nullable: false, doc: "approved | corrected | rejected" },
  { name: "changedFields", kind: "json", nullable: false, doc: "output field paths the human changed" },
  { name: "reasonCodes", kind: "json", nullable: false, doc: "reason codes of the final verdict" },
  { name: "note", kind: "string", nullable: true, doc: "reviewer's note" },
  { name: "confidence", kind: "double", nullable: false, doc: "model confidence" },
  { name: "fieldConfidence", kind: "json", nullable: false, doc: "per-field model confidence" },
  { name: "modelName", kind: "string", nullable: false, doc: "model name" },
  { name: "modelVersion", kind: "string", nullable: false, doc: "model version" },
  { name: "route", kind: "string", nullable: false, doc: "auto | review" },
  { name: "routeReasons", kind: "json", nullable: false, doc: "routing rules that fired" },
  { name: "policyVersion", kind: "int", nullable: false, doc: "routing policy version" },
  { name: "flags", kind: "json", nullable: false, doc: "flags sent with the decision" },
  { name: "seenBecause", kind: "string", nullable: false, doc: "review_rule | qa_sample | escalation" },
  { name: "samplingProbability", kind: "double", nullable: true, doc: "probability a human saw it (1 in review lane, QA rate in auto lane)" },
  { name: "weight", kind: "double", nullable: true, doc: "inverse-probability weight, 1 / samplingProbability" },
  { name: "reviewer", kind: "string", nullable: false, doc: "first reviewer (pseudonym unless identities)" },
  { name: "finalReviewer", kind: "string", nullable: false, doc: "who gave the final verdict" },
  { name: "secondReviewer", kind: "string", nullable: true, doc: "four-eyes second reviewer" },
  { name: "agreement", kind: "bool", nullable: true, doc: "first and second verdicts agree (null without four-eyes)" },
  { name: "occurredAt", kind: "timestamp", nullable: false, doc: "when the decision happened upstream" },
  { name: "receivedAt", kind: "timestamp", nullable: false, doc: "arrival in Lastmile" },
  { name: "reviewedAt", kind: "timestamp", nullable: false, doc: "time of the final verdict" },
];

export type ExampleWindow = {
  /** Only reviews with seq <= watermark. Defaults to the newest review. */
  watermarkSeq?: number;
  /** Follow-up tasks created after this time are ignored. Defaults to now. */
  asOf?: number;
};

export type ExampleReadOptions = ExampleWindow & {
  split?: SplitFractions;
  /** Real reviewer emails instead of pseudonyms. The caller checks the permission. */
  identities?: boolean;
  /** Only rows with seq > afterSeq (resume); pages are PAGE_SIZE rows. */
  afterSeq?: number;
  pageSize?: number;
  /** A pass over every page (an export, a snapshot): the pages are read through a scan connection (openScanReader). */
  scan?: boolean;
};

const PAGE_SIZE = 2000;
const ACTION_OF_VERDICT: Record<string, ExampleAction> = { approve: "approved", correct: "corrected", reject: "rejected" };
const VERDICT_OF_ACTION: Record<ExampleAction, string> = { approved: "approve", corrected: "correct", rejected: "reject" };

// Four-eyes, as the workbench records it: the first verdict is the review (or qa) task's, the
// second an independent "second" task's; they agree when they are the same verdict with the same
// output. A review or qa verdict that is final had no second review, so the subqueries only run
// for examples whose final verdict came from a second review or an escalation.
const FIRST_REVIEW = `(SELECT min(x.seq) FROM reviews x WHERE x.decision_id = r.decision_id AND x.task_kind IN ('review', 'qa'))`;
const SECOND_REVIEW = `(SELECT max(x.seq) FROM reviews x WHERE x.decision_id = r.decision_id AND x.task_kind = 'second' AND x.seq <= r.seq)`;
const FIRST_REVIEWER = `CASE WHEN r.task_kind IN ('review', 'qa') THEN r.reviewer_id ELSE (SELECT f.reviewer_id FROM reviews f WHERE f.seq = ${FIRST_REVIEW}) END`;
const SECOND_REVIEWER = `CASE WHEN r.task_kind = 'second' THEN r.reviewer_id WHEN r.task_kind = 'escalation' THEN (SELECT s.reviewer_id FROM reviews s WHERE s.seq = ${SECOND_REVIEW}) END`;
const agreement = (db: Db): SQL => sql`CASE WHEN r.task_kind IN ('review', 'qa') THEN NULL ELSE (
  SELECT CASE WHEN f.action = s.action AND (f.action <> 'correct' OR ${jsonEqual(db, sql`f.output`, sql`s.output`)}) THEN 1 ELSE 0 END
  FROM reviews s, reviews f WHERE s.seq = ${sql.raw(SECOND_REVIEW)} AND f.seq = ${sql.raw(FIRST_REVIEW)}) END`;

// The join walks reviews by seq, which is what keyset pagination needs, instead of scanning
// the type's decisions and sorting (on SQLite a CROSS JOIN pins that loop order).
const from = (db: Db): SQL => sql`
FROM reviews r
${joinInOrder(db)} decisions d ON d.id = r.decision_id
LEFT JOIN routing_policies rp ON rp.type_key = d.type_key AND rp.version = d.policy_version`;

type Window = { watermark: number; asOf: number };

// The final verdict: the decision's latest review as of the watermark, not an escalation,
// with no second review or escalation opened since that is still unanswered at the watermark.
const final = (w: Window): SQL => sql`
r.seq <= ${w.watermark} AND r.action <> 'escalate'
AND NOT EXISTS (SELECT 1 FROM reviews l WHERE l.decision_id = r.decision_id AND l.seq > r.seq AND l.seq <= ${w.watermark})
AND NOT EXISTS (
  SELECT 1 FROM tasks t WHERE t.decision_id = r.decision_id AND t.kind IN ('second', 'escalation') AND t.status <> 'cancelled'
    AND t.created_at >= r.created_at AND t.created_at <= ${w.asOf}
    AND NOT EXISTS (SELECT 1 FROM reviews tr WHERE tr.decision_id = r.decision_id AND tr.task_id = t.id AND tr.seq <= ${w.watermark}))`;

// Read as arrays, which is about twice as fast as objects: C_* are the positions.
const columns = (db: Db): SQL => sql`
r.seq, r.id, r.task_kind, r.reviewer_id, r.action, r.changed_fields, r.reason_codes, r.note, r.created_at,
d.id, d.type_key, d.external_id, d.input, d.output,
CASE r.action WHEN 'correct' THEN r.output WHEN 'approve' THEN d.output ELSE NULL END,
d.confidence, COALESCE(d.field_confidence, '{}'), d.model_name, d.model_version, d.route, d.reasons, d.policy_version,
d.flags, d.occurred_at, d.received_at, ${jsonNumber(db, sql`rp.policy`, "qaSampleRate")},
${sql.raw(FIRST_REVIEWER)}, ${sql.raw(SECOND_REVIEWER)}, ${agreement(db)}`;

const enum C {
  seq,
  exampleId,
  kind,
  finalReviewerId,
  verdict,
  changedFields,
  reasonCodes,
  note,
  reviewedAt,
  decisionId,
  type,
  externalId,
  input,
  modelOutput,
  finalOutput,
  confidence,
  fieldConfidence,
  modelName,
  modelVersion,
  route,
  routeReasons,
  policyVersion,
  flags,
  occurredAt,
  receivedAt,
  qaSampleRate,
  firstReviewerId,
  secondReviewerId,
  agreement,
}

/** A row read as an array (see columns()): positions C.*, values as the driver returns them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- positional raw rows; toRecord gives each position its type
type RawRow = any[];

function filterSql(db: Db, f: ExampleFilter): SQL {
  const parts: SQL[] = [sql`d.type_key = ${f.type}`];
  const list = (values: string[]) =>
    sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    );
  if (f.from) parts.push(sql`r.created_at >= ${Date.parse(f.from)}`);
  if (f.to) parts.push(sql`r.created_at < ${Date.parse(f.to)}`);
  if (f.modelVersions.length) parts.push(sql`d.model_version IN (${list(f.modelVersions)})`);
  if (f.routes.length) parts.push(sql`d.route IN (${list(f.routes)})`);
  if (f.actions.length) parts.push(sql`r.action IN (${list(f.actions.map((a) => VERDICT_OF_ACTION[a]))})`);
  if (f.reasonCodes.length) parts.push(jsonArrayHasAny(db, sql`r.reason_codes`, f.reasonCodes));
  if (f.agreementOnly) parts.push(sql`${agreement(db)} = 1`);
  return sql.join(parts, sql` AND `);
}

/** The newest review and the current time: the window a new snapshot is pinned to. */
export async function currentWindow(db: Db, now = Date.now()): Promise<Required<ExampleWindow>> {
  const row = await sqlOne<{ w: number }>(db, sql`SELECT COALESCE(max(seq), 0) AS w FROM reviews`);
  return { watermarkSeq: Number(row?.w ?? 0), asOf: now };
}

async function windowOf(db: Db, w: ExampleWindow): Promise<Window> {
  const cur = w.watermarkSeq === undefined || w.asOf === undefined ? await currentWindow(db) : null;
  return { watermark: w.watermarkSeq ?? cur!.watermarkSeq, asOf: w.asOf ?? cur!.asOf };
}

/** GET /api/v1/datasets/preview: the filter as read, and how many examples it selects (exact up to the cap). */
export const previewAnswerSchema = z.object({ filter: exampleFilterSchema, count: z.number().int(), exact: z.boolean() });

/**
 * The live preview's count, bounded: it runs in the request, so it stops at `cap`
 * rows instead of blocking the server on a scan of millions ("more than cap").
 */
export async function previewCount(db: Db, filter: ExampleFilter, cap = 200_000): Promise<{ count: number; exact: boolean }> {
  const w = await windowOf(db, {});
  const row = await sqlOne<{ n: number }>(
    db,
    sql`SELECT count(*) AS n FROM (SELECT 1 ${from(db)} WHERE ${final(w)} AND ${filterSql(db, filter)} LIMIT ${cap + 1}) AS capped`,
  );
  const n = Number(row?.n ?? 0);
  return n > cap ? { count: cap, exact: false } : { count: n, exact: true };
}

/** How many examples match (a snapshot's progress total, counted slice by slice). */
export async function countExamples(db: Db, filter: ExampleFilter, w: ExampleWindow & { afterSeq?: number; untilSeq?: number } = {}): Promise<number> {
  const range: SQL[] = [];
  if (w.afterSeq !== undefined) range.push(sql`r.seq > ${w.afterSeq} AND `);
  if (w.untilSeq !== undefined) range.push(sql`r.seq <= ${w.untilSeq} AND `);
  const row = await sqlOne<{ n: number }>(
    db,
    sql`SELECT count(*) AS n ${from(db)} WHERE ${sql.join(range)}${final(await windowOf(db, w))} AND ${filterSql(db, filter)}`,
  );
  return Number(row?.n ?? 0);
}

/** One page of examples after `after` (exported for EXPLAIN in the benchmark). */
export function examplesPageSql(db: Db, filter: ExampleFilter, w: Window, after: number, limit: number): SQL {
  return sql`SELECT ${columns(db)} ${from(db)} WHERE r.seq > ${after} AND ${final(w)} AND ${filterSql(db, filter)} ORDER BY r.seq LIMIT ${limit}`;
}

/** The example matching the filter, in final-review order, page by page. */
export async function* iterateExamples(db: Db, filter: ExampleFilter, opts: ExampleReadOptions = {}): AsyncGenerator<ExampleRecord & { seq: number }> {
  const w = await windowOf(db, opts);
  const limit = opts.pageSize ?? PAGE_SIZE;
  let after = opts.afterSeq ?? 0;
  const reviewerName = await reviewerNamer(db, opts.identities ?? false);
  const fractions = opts.split ?? DEFAULT_SPLIT;
  const scan = opts.scan ? openScanReader(db) : null;
  try {
    for (;;) {
      const page = (await sqlRows(scan?.db ?? db, examplesPageSql(db, filter, w, after, limit))) as RawRow[];
      for (const row of page) yield toRecord(row, reviewerName, fractions);
      if (page.length < limit) return;
      after = Number(page[page.length - 1][C.seq]);
    }
  } finally {
    scan?.close();
  }
}

function toRecord(row: RawRow, name: (userId: string) => string, fractions: SplitFractions): ExampleRecord & { seq: number } {
  const route = row[C.route] as "auto" | "review";
  const seenBecause: SeenBecause = row[C.kind] === "escalation" ? "escalation" : route === "review" ? "review_rule" : "qa_sample";
  // Review lane: every such decision is seen (p = 1). Auto lane: a QA sample at the policy version's rate.
  const rate = row[C.qaSampleRate] as number | null;
  const p = route === "review" ? 1 : rate && rate > 0 ? rate : null;
  const agreement = row[C.agreement] as 0 | 1 | null;
  return {
    seq: row[C.seq],
    exampleId: row[C.exampleId],
    decisionId: row[C.decisionId],
    type: row[C.type],
    externalId: row[C.externalId],
    split: splitOf(row[C.externalId], fractions),
    input: row[C.input],
    modelOutput: row[C.modelOutput],
    finalOutput: row[C.finalOutput],
    action: ACTION_OF_VERDICT[row[C.verdict]],
    changedFields: row[C.changedFields],
    reasonCodes: row[C.reasonCodes],
    note: row[C.note],
    confidence: row[C.confidence],
    fieldConfidence: row[C.fieldConfidence],
    modelName: row[C.modelName],
    modelVersion: row[C.modelVersion],
    route,
    routeReasons: row[C.routeReasons],
    policyVersion: row[C.policyVersion],
    flags: row[C.flags],
    seenBecause,
    samplingProbability: p,
    weight: p ? 1 / p : null,
    reviewer: name(row[C.firstReviewerId] ?? row[C.finalReviewerId]),
    finalReviewer: name(row[C.finalReviewerId]),
    secondReviewer: row[C.secondReviewerId] ? name(row[C.secondReviewerId]) : null,
    agreement: agreement === null ? null : agreement === 1,
    occurredAt: row[C.occurredAt],
    receivedAt: row[C.receivedAt],
    reviewedAt: row[C.reviewedAt],
  };
}

/** An example with its JSON fields parsed and times as ISO strings: the shape of one JSONL line. */
export function exampleToObject(r: ExampleRecord): Record<string, unknown> {
  return JSON.parse(exampleToJsonLine(r));
}

const str = (v: string | null) => (v === null ? "null" : JSON.stringify(v));
const num = (v: number | null) => (v === null ? "null" : String(v));
const time = (v: number) => '"' + new Date(v).toISOString() + '"';

/**
 * One JSONL line (no newline), keys in EXAMPLE_COLUMNS order, JSON text spliced unchanged:
 * equal data, equal bytes. Written out field by field because it runs for every row of every
 * export (a loop over the column list with keyed property reads is about twice as slow);
 * the format round-trip tests compare it with the column list.
 */
export function exampleToJsonLine(r: ExampleRecord): string {
  return (
    '{"exampleId":' +
    str(r.exampleId) +
    ',"decisionId":' +
    str(r.decisionId) +
    ',"type":' +
    str(r.type) +
    ',"externalId":' +
    str(r.externalId) +
    ',"split":"' +
    r.split +
    '","input":' +
    r.input +
    ',"modelOutput":' +
    r.modelOutput +
    ',"finalOutput":' +
    (r.finalOutput ?? "null") +
    ',"action":"' +
    r.action +
    '","changedFields":' +
    r.changedFields +
    ',"reasonCodes":' +
    r.reasonCodes +
    ',"note":' +
    str(r.note) +
    ',"confidence":' +
    num(r.confidence) +
    ',"fieldConfidence":' +
    r.fieldConfidence +
    ',"modelName":' +
    str(r.modelName) +
    ',"modelVersion":' +
    str(r.modelVersion) +
    ',"route":"' +
    r.route +
    '","routeReasons":' +
    r.routeReasons +
    ',"policyVersion":' +
    num(r.policyVersion) +
    ',"flags":' +
    r.flags +
    ',"seenBecause":"' +
    r.seenBecause +
    '","samplingProbability":' +
    num(r.samplingProbability) +
    ',"weight":' +
    num(r.weight) +
    ',"reviewer":' +
    str(r.reviewer) +
    ',"finalReviewer":' +
    str(r.finalReviewer) +
    ',"secondReviewer":' +
    str(r.secondReviewer) +
    ',"agreement":' +
    (r.agreement === null ? "null" : r.agreement ? "true" : "false") +
    ',"occurredAt":' +
    time(r.occurredAt) +
    ',"receivedAt":' +
    time(r.receivedAt) +
    ',"reviewedAt":' +
    time(r.reviewedAt) +
    "}"
  );
}

/**
 * Reviewers in exports: a stable pseudonym, HMAC-SHA256(instance secret, user id),
 * unless identities are asked for (and allowed). The secret is DATASET_PSEUDONYM_SECRET
 * or one generated on first use and kept in settings, so pseudonyms stay stable
 * across snapshots and restarts but cannot be reversed without the instance.
 */
export async function reviewerNamer(db: Db, identities: boolean): Promise<(userId: string) => string> {
  const cache = new Map<string, string>();
  if (identities) {
    // People are few next to examples: one read names them all.
    for (const u of await db.select({ id: users.id, email: users.email }).from(users)) cache.set(u.id, u.email);
    return (id) => cache.get(id) ?? id;
  }
  const secret = await pseudonymSecret(db);
  return (id) => {
    let v = cache.get(id);
    if (v === undefined) {
      v = "rv_" + crypto.createHmac("sha256", secret).update(id).digest("hex").slice(0, 16);
      cache.set(id, v);
    }
    return v;
  };
}

export async function pseudonymSecret(db: Db): Promise<string> {
  return process.env.DATASET_PSEUDONYM_SECRET || instanceSecret(db, "pseudonym_secret");
}
