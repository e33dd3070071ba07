/**
 * Where a decision enters: validation (envelope + the type's output schema),
 * idempotency on (type, externalId), routing, and one transaction that writes
 * the decisions, their tasks, the roll-ups, the audit entries and the outbox.
 * An API batch is atomic: any invalid item rejects the whole batch. The batch
 * import (ingestEach) takes the same path but answers for each item.
 */
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { preparedInList, transaction, writeBehind, type Db, type DbOrTx } from "@db/client.server";
import { isUniqueViolation, markFeedPosition } from "@db/sql";
import { decisions, tasks } from "@db/schema/index";
import { autoAssigner } from "../teams/membership.server";
import { DECISION_ROUTES, DECISION_STATUSES } from "@db/schema/tables";
import { canonicalJson, newId, sha256 } from "~/lib/crypto.server";
import { conflict, invalid, type Issue, zodIssues } from "~/lib/errors";
import { insertRows, jsonText } from "@db/bulk-insert.server";
import { isPlainObject, jsonObjectSchema } from "~/lib/json";
import { MINUTE } from "~/lib/time";
import { appendAudit, BATCH_FIELDS, BATCH_INGESTED, DECISION_INGESTED } from "../audit/audit.server";
import { getDecisionType, type LoadedType } from "../decision-types/decision-types.server";
import { applyRollupChanges } from "../reports/rollups.server";
import { routeDecision } from "../routing/policy";
import { enqueueEvents } from "../webhooks/outbox.server";
import { factsOf } from "../decisions/facts.server";
import { recordDecisionsIngested } from "../metrics/metrics.server";
import { newDecisionJsonText } from "../decisions/decisions.server";
import { segmentOf } from "../monitors/settings";
import { countInputs } from "../monitors/counters";
import { valueAt } from "../review/four-eyes";

export const MAX_BATCH = 1000;

export const decisionInputSchema = z
  .object({
    type: z.string().min(1).max(64),
    externalId: z.string().min(1).max(200),
    model: z.object({ name: z.string().min(1).max(200), version: z.string().min(1).max(100) }).strict(),
    input: jsonObjectSchema,
    output: jsonObjectSchema,
    confidence: z.number().min(0).max(1),
    fieldConfidence: z.record(z.string().min(1).max(300), z.number().min(0).max(1)).optional(),
    flags: z.array(z.string().min(1).max(200)).max(100).default([]),
    priority: z.number().int().min(-1000).max(1000).default(0),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export type DecisionInput = z.infer<typeof decisionInputSchema>;

const ENVELOPE_KEYS = new Set(Object.keys(decisionInputSchema.shape));
const occurredAtSchema = decisionInputSchema.shape.occurredAt;
const str = (v: unknown, max: number): v is string => typeof v === "string" && v.length >= 1 && v.length <= max;
const unit = (v: unknown): v is number => typeof v === "number" && v >= 0 && v <= 1;

/**
 * The common case of decisionInputSchema without zod's per-field machinery:
 * returns exactly what the schema's parse returns when the item plainly
 * satisfies it, and null whenever in doubt (anything invalid or unusual), so
 * the caller falls back to the schema, which also words every error.
 */
export function parseEnvelopeFast(raw: unknown): DecisionInput | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  for (const k in r) if (!ENVELOPE_KEYS.has(k) || !Object.prototype.hasOwnProperty.call(r, k)) return null;
  if (Object.getPrototypeOf(r) !== Object.prototype) return null;
  const { type, externalId, model, input, output, confidence, fieldConfidence, flags, priority, occurredAt } = r;
  if (!str(type, 64) || !str(externalId, 200) || !unit(confidence) || !isPlainObject(input) || !isPlainObject(output)) return null;
  if (typeof model !== "object" || model === null || Array.isArray(model) || Object.getPrototypeOf(model) !== Object.prototype) return null;
  const m = model as Record<string, unknown>;
  if (Object.keys(m).length !== 2 || !str(m.name, 200) || !str(m.version, 100)) return null;
  if (fieldConfidence !== undefined) {
    if (
      typeof fieldConfidence !== "object" ||
      fieldConfidence === null ||
      Array.isArray(fieldConfidence) ||
      Object.getPrototypeOf(fieldConfidence) !== Object.prototype
    )
      return null;
    for (const k of Object.keys(fieldConfidence)) {
      if (k === "__proto__" || k.length < 1 || k.length > 300 || !unit((fieldConfidence as Record<string, unknown>)[k])) return null;
    }
  }
  if (flags !== undefined) {
    if (!Array.isArray(flags) || flags.length > 100) return null;
    for (let i = 0; i < flags.length; i++) if (!str(flags[i], 200)) return null;
  }
  if (priority !== undefined && !(Number.isInteger(priority) && (priority as number) >= -1000 && (priority as number) <= 1000)) return null;
  if (occurredAt !== undefined && !occurredAtSchema.safeParse(occurredAt).success) return null;
  const data: DecisionInput = {
    type,
    externalId,
    model: { name: m.name as string, version: m.version as string },
    input,
    output,
    confidence,
    flags: (flags as string[] | undefined) ?? [],
    priority: (priority as number | undefined) ?? 0,
  };
  if (fieldConfidence !== undefined) data.fieldConfidence = { ...(fieldConfidence as Record<string, number>) };
  if (occurredAt !== undefined) data.occurredAt = occurredAt as string;
  return data;
}

/** What ingest answers for each decision: where it went (201 when any is new, 200 when all were already known). */
export const ingestResultJsonSchema = z
  .object({
    id: z.string(),
    externalId: z.string(),
    status: z.enum(DECISION_STATUSES),
    route: z.enum(DECISION_ROUTES),
    reasons: z.array(z.string()),
  })
  .meta({ id: "IngestResult" });

export type IngestResult = z.output<typeof ingestResultJsonSchema> & { created: boolean };

/** A batch: its items are checked one by one (decisionInputSchema) after the envelope, so each issue names its item. */
const batchEnvelopeSchema = z
  .object({ decisions: z.array(z.unknown()).min(1, "a batch holds at least one decision").max(MAX_BATCH, `a batch holds at most ${MAX_BATCH} decisions`) })
  .strict();

/** The body of POST /api/v1/decisions: one decision, or a batch of them (atomic). */
export const ingestBodySchema = z.union([decisionInputSchema, batchEnvelopeSchema.extend({ decisions: z.array(decisionInputSchema).min(1).max(MAX_BATCH) })]);

/** The answer of POST /api/v1/decisions: one result, or {"decisions": [...]} for a batch, in order. */
export const ingestAnswerSchema = z.union([ingestResultJsonSchema, z.object({ decisions: z.array(ingestResultJsonSchema) })]);

/** Splits a request body into items: one decision, or {"decisions": [...]}. */
export function itemsOfBody(body: unknown): { items: unknown[]; batch: boolean } {
  if (body && typeof body === "object" && !Array.isArray(body) && "decisions" in body) {
    const parsed = batchEnvelopeSchema.safeParse(body);
    if (!parsed.success) throw invalid("Invalid batch", zodIssues(parsed.error));
    return { items: parsed.data.decisions, batch: true };
  }
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw invalid("Body must be a JSON object", [{ path: "", message: 'expected a decision object or {"decisions": [...]}' }]);
  return { items: [body], batch: false };
}

/** A decision's JSON members as stored: serialised once, for both the body hash and the row. */
export type JsonParts = { input: string; output: string; fieldConfidence: string | null; flags: string };

export function jsonPartsOf(d: DecisionInput): JsonParts {
  return {
    input: JSON.stringify(d.input),
    output: JSON.stringify(d.output),
    fieldConfidence: d.fieldConfidence === undefined ? null : JSON.stringify(d.fieldConfidence),
    flags: JSON.stringify(d.flags),
  };
}

type Prepared = { index: number; data: DecisionInput; type: LoadedType; json: JsonParts; bodyHash: string };

/**
 * SHA-256 over the decision exactly as it will be stored (its JSON texts as
 * sent, defaults applied): it names the content in the audit trail, and equal
 * hashes prove a replay. A replay whose keys come in another order hashes
 * differently and is recognised by `sameAsStored` or `sameInput` instead.
 */
export function bodyHashOf(d: DecisionInput, j: JsonParts): string {
  const head = JSON.stringify([d.type, d.externalId, d.model.name, d.model.version, d.confidence, d.priority, d.occurredAt ?? null]);
  return sha256(`${head.slice(0, -1)},${j.fieldConfidence ?? "null"},${j.flags},${j.input},${j.output}]`);
}

type StoredDecision = typeof decisions.$inferSelect;

/** What two sendings of a decision are compared on: everything but key order and defaults. */
function comparable(d: {
  type: string;
  externalId: string;
  model: { name: string; version: string };
  input: unknown;
  output: unknown;
  confidence: number;
  fieldConfidence?: Record<string, number> | null;
  flags: string[];
  priority: number;
}): string {
  return canonicalJson([d.type, d.externalId, d.model.name, d.model.version, d.input, d.output, d.confidence, d.fieldConfidence ?? null, d.flags, d.priority]);
}

/**
 * Whether `d` is a replay of the stored decision `id` (same content, whatever the key order).
 * Only asked when the body hashes differ, so reading the whole row here is rare.
 */
async function sameAsStored(tx: DbOrTx, d: DecisionInput, id: string): Promise<boolean> {
  const row = (await tx.select().from(decisions).where(eq(decisions.id, id)).limit(1))[0];
  if (!row) return false;
  // An absent occurredAt was stored as the arrival time.
  const occurred = d.occurredAt === undefined ? row.occurredAt === row.receivedAt : Date.parse(d.occurredAt) === row.occurredAt;
  return occurred && comparable(d) === comparable({ ...row, type: row.typeKey, model: { name: row.modelName, version: row.modelVersion } });
}

/** Whether two items of one request are the same decision (same content, whatever the key order). */
function sameInput(a: DecisionInput, b: DecisionInput): boolean {
  const at = (d: DecisionInput) => (d.occurredAt === undefined ? null : Date.parse(d.occurredAt));
  return at(a) === at(b) && comparable(a) === comparable(b);
}

type ExistingDecision = Pick<StoredDecision, "id" | "externalId" | "bodyHash" | "status" | "route" | "reasons">;

/** The stored decisions of one type among these external ids (prepared once; see preparedInList). */
const existingLookup = preparedInList<ExistingDecision>("ingest_existing", (db, oneOf) =>
  db
    .select({
      id: decisions.id,
      externalId: decisions.externalId,
      bodyHash: decisions.bodyHash,
      status: decisions.status,
      route: decisions.route,
      reasons: decisions.reasons,
    })
    .from(decisions)
    .where(and(eq(decisions.typeKey, sql.placeholder("type")), oneOf(decisions.externalId))),
);

/** The stored decisions among these (type, externalId) pairs. */
async function findExisting(db: DbOrTx, prepared: Prepared[]): Promise<Map<string, ExistingDecision>> {
  const byType = new Map<string, string[]>();
  for (const p of prepared) {
    const ids = byType.get(p.data.type);
    if (ids) ids.push(p.data.externalId);
    else byType.set(p.data.type, [p.data.externalId]);
  }
  const found = new Map<string, ExistingDecision>();
  for (const [type, ids] of byType) {
    for (const r of await existingLookup(db, { type }, ids)) found.set(`${type}\u0000${r.externalId}`, r);
  }
  return found;
}

export async function ingestDecisions(db: Db, items: unknown[], opts: { batch: boolean; actor: string; now?: number }): Promise<IngestResult[]> {
  const prefix = (index: number) => (opts.batch ? ["decisions", index] : []);
  const { prepared, issues } = await validate(db, items, prefix);
  const all = issues.flatMap((i) => i ?? []);
  if (all.length > 0) throw invalid(opts.batch ? "Invalid decisions in batch; nothing was written" : "Invalid decision", all);
  const { results } = await store(db, prepared, { ...opts, prefix, partial: false });
  return results.filter((r) => r !== undefined);
}

/** What became of one item of a batch ingested item by item (see ingestEach). */
export type ItemOutcome =
  { kind: "created" | "unchanged"; result: IngestResult } | { kind: "rejected"; issues: Issue[] } | { kind: "conflicting"; issues: Issue[] };

/**
 * ingestDecisions for a batch whose items stand alone (the batch import): the same validation,
 * idempotency, routing and single transaction, but an invalid or conflicting item is answered
 * for itself (issue paths relative to the item) while the others are written.
 */
export async function ingestEach(
  db: Db,
  items: unknown[],
  opts: { actor: string; now?: number; /** how a conflict names an earlier item: "line 12" */ name?: (index: number) => string },
): Promise<ItemOutcome[]> {
  const prefix = () => [];
  const { prepared, issues } = await validate(db, items, prefix);
  const { results, conflicts } = await store(db, prepared, { ...opts, prefix, partial: true });
  const out: ItemOutcome[] = new Array(items.length);
  for (const [index, list] of issues.entries()) if (list) out[index] = { kind: "rejected", issues: list };
  for (const [slot, p] of prepared.entries()) {
    const r = results[slot];
    out[p.index] = r ? { kind: r.created ? "created" : "unchanged", result: r } : { kind: "conflicting", issues: conflicts.get(p.index) ?? [] };
  }
  return out;
}

/** The envelope and the type's output schema, item by item: the valid items prepared, the issues of the others by index. */
async function validate(db: Db, items: unknown[], prefix: (index: number) => (string | number)[]) {
  const issues: (Issue[] | undefined)[] = new Array(items.length);
  const prepared: Prepared[] = [];
  const types = new Map<string, LoadedType | null>();
  for (const [index, raw] of items.entries()) {
    let data = parseEnvelopeFast(raw);
    if (!data) {
      const parsed = decisionInputSchema.safeParse(raw);
      if (!parsed.success) {
        issues[index] = zodIssues(parsed.error, prefix(index));
        continue;
      }
      data = parsed.data;
    }
    if (!types.has(data.type)) types.set(data.type, await getDecisionType(db, data.type));
    const type = types.get(data.type);
    if (!type) {
      issues[index] = [{ path: [...prefix(index), "type"].join("."), message: `unknown decision type "${data.type}"` }];
      continue;
    }
    const out = type.validator.safeParse(data.output);
    if (!out.success) {
      issues[index] = zodIssues(out.error, [...prefix(index), "output"]);
      continue;
    }
    const json = jsonPartsOf(data);
    prepared.push({ index, data, type, json, bodyHash: bodyHashOf(data, json) });
  }
  return { prepared, issues };
}

/**
 * Writes the prepared items in one transaction. A conflicting item (a stored decision, or an
 * earlier item of the batch, with the same external id and another body) aborts the whole
 * batch, or with `partial` is left out (its slot in `results` empty) and reported in `conflicts`.
 */
async function store(
  db: Db,
  prepared: Prepared[],
  opts: { actor: string; now?: number; prefix: (index: number) => (string | number)[]; partial: boolean; name?: (index: number) => string },
): Promise<{ results: (IngestResult | undefined)[]; conflicts: Map<number, Issue[]> }> {
  const now = opts.now ?? Date.now();
  const name = opts.name ?? ((index: number) => `item ${index} of this batch`);
  if (prepared.length === 0) return { results: [], conflicts: new Map() };
  const write = () =>
    transaction(db, async (tx) => {
      const results: (IngestResult | undefined)[] = new Array(prepared.length);
      const conflicts = new Map<number, Issue[]>();
      const path = (p: Prepared, f: string) => [...opts.prefix(p.index), f].join(".");

      const existing = await findExisting(tx, prepared);

      const fresh: { p: Prepared; row: typeof decisions.$inferInsert }[] = [];
      const seenInBatch = new Map<string, { p: Prepared; slot: number }>();
      for (const [slot, p] of prepared.entries()) {
        const k = `${p.data.type}\u0000${p.data.externalId}`;
        const prior = existing.get(k);
        if (prior) {
          if (prior.bodyHash !== p.bodyHash && !(await sameAsStored(tx, p.data, prior.id))) {
            conflicts.set(p.index, [
              {
                path: path(p, "externalId"),
                message: `decision ${p.data.externalId} of type ${p.data.type} already exists with a different body`,
              },
            ]);
            continue;
          }
          results[slot] = { id: prior.id, externalId: prior.externalId, status: prior.status, route: prior.route, reasons: prior.reasons, created: false };
          continue;
        }
        const twin = seenInBatch.get(k);
        if (twin) {
          if (twin.p.bodyHash !== p.bodyHash && !sameInput(twin.p.data, p.data)) {
            conflicts.set(p.index, [{ path: path(p, "externalId"), message: `externalId repeats ${name(twin.p.index)} with a different body` }]);
          } else {
            results[slot] = { ...results[twin.slot]!, created: false };
          }
          continue;
        }
        seenInBatch.set(k, { p, slot });
        const id = newId("dec", now);
        const r = routeDecision({ id, confidence: p.data.confidence, fieldConfidence: p.data.fieldConfidence, flags: p.data.flags }, p.type.routing);
        const occurredAt = p.data.occurredAt ? Date.parse(p.data.occurredAt) : now;
        const auto = r.route === "auto";
        const row: typeof decisions.$inferInsert = {
          id,
          typeKey: p.data.type,
          externalId: p.data.externalId,
          bodyHash: p.bodyHash,
          modelName: p.data.model.name,
          modelVersion: p.data.model.version,
          input: jsonText(p.json.input),
          output: jsonText(p.json.output),
          confidence: p.data.confidence,
          fieldConfidence: p.json.fieldConfidence === null ? null : jsonText(p.json.fieldConfidence),
          flags: jsonText(p.json.flags),
          priority: p.data.priority,
          occurredAt,
          receivedAt: now,
          route: r.route,
          reasons: r.reasons,
          policyVersion: p.type.policyVersion,
          segment: segmentOf(p.data.input, p.type.monitors.segmentField),
          qaSampled: r.qaSampled,
          status: auto ? "auto_approved" : "pending_review",
          finalOutput: auto ? jsonText(p.json.output) : null,
          finalizedAt: auto ? now : null,
          finalizedBy: null,
          updatedAt: now,
        };
        fresh.push({ p, row });
        results[slot] = { id, externalId: p.data.externalId, status: row.status!, route: r.route, reasons: r.reasons, created: true };
      }
      if (conflicts.size > 0 && !opts.partial) throw conflict("Conflicting decisions; nothing was written", [...conflicts.values()].flat());
      if (fresh.length === 0) return { results, conflicts };

      // Before any number is drawn: a page of GET /api/v1/decisions never steps over this transaction's decisions.
      await markFeedPosition(tx);
      // Nothing in this transaction reads the new rows' answers: on Postgres the inserts go on with the commit.
      await writeBehind(tx, (db) =>
        insertRows(
          db,
          decisions,
          fresh.map((f) => f.row),
        ),
      );

      const taskRows: (typeof tasks.$inferInsert)[] = [];
      for (const { p, row } of fresh) {
        if (row.route === "review" || row.qaSampled) {
          taskRows.push({
            id: newId("tsk", now),
            decisionId: row.id,
            typeKey: row.typeKey,
            kind: row.route === "review" ? "review" : "qa",
            status: "open",
            priority: row.priority ?? 0,
            dueAt: now + p.type.slaMinutes * MINUTE,
            createdAt: now,
          });
        }
      }
      const assigned = await assignAutomatically(tx, fresh, taskRows);
      await writeBehind(tx, (db) => insertRows(db, tasks, taskRows));

      await applyRollupChanges(
        tx,
        fresh.map(({ row }) => ({ before: null, after: factsOf(row as typeof decisions.$inferSelect, null) })),
      );
      const monitoredInputs = new Map(fresh.map(({ p }) => [p.data.type, p.type.monitors.inputs]));
      await countInputs(
        tx,
        fresh.map(({ p, row }) => ({ typeKey: row.typeKey, occurredAt: row.occurredAt, input: p.data.input })),
        (key) => monitoredInputs.get(key) ?? [],
        valueAt,
      );
      if (assigned.length) {
        await appendAudit(
          tx,
          [...new Set(assigned.map((a) => a.typeKey))].map((typeKey) => ({
            actor: "system",
            action: "tasks.auto_assigned",
            entityType: "decision_type",
            entityId: typeKey,
            data: { tasks: assigned.filter((a) => a.typeKey === typeKey).map((a) => [a.taskId, a.decisionId, a.email]) },
            at: now,
          })),
        );
      }
      if (fresh.length === 1) {
        const { row } = fresh[0];
        await appendAudit(tx, {
          actor: opts.actor,
          action: DECISION_INGESTED,
          entityType: "decision",
          entityId: row.id,
          // keys in canonical (sorted) order: the audit hash then writes them without sorting
          data: {
            bodyHash: row.bodyHash,
            externalId: row.externalId,
            policyVersion: row.policyVersion,
            qaSampled: row.qaSampled,
            reasons: row.reasons,
            route: row.route,
            status: row.status,
            type: row.typeKey,
          },
          at: now,
        });
      } else {
        // One hash-chained entry for the whole batch: it names every decision with its body hash
        // (which covers its content) and outcome; auditTrail() finds it from any of them.
        await appendAudit(tx, {
          actor: opts.actor,
          action: BATCH_INGESTED,
          entityType: "decision_batch",
          entityId: newId("bat", now),
          data: {
            count: fresh.length,
            decisions: fresh.map(({ row }) => [row.id, row.typeKey, row.externalId, row.bodyHash, row.route, row.status]),
            fields: BATCH_FIELDS,
          },
          at: now,
        });
      }
      // The event carries each decision's public shape, written around its JSON columns' text rather than serialising them again.
      await enqueueEvents(
        tx,
        fresh
          .filter(({ row }) => row.route === "auto")
          .map(({ row }) => ({
            eventType: "decision.finalized" as const,
            typeKey: row.typeKey,
            entityId: row.id!,
            at: now,
            data: jsonText(newDecisionJsonText(row)),
          })),
      );
      return { results, conflicts };
    });
  let written: Awaited<ReturnType<typeof write>>;
  try {
    written = await write();
  } catch (e) {
    // Another request stored one of these decisions between our lookup and our insert (several
    // instances, or a client retrying while its first attempt is in flight): look again, and
    // answer as for any repeat (200 with the stored decision, or 409 for a different body).
    if (!isUniqueViolation(e)) throw e;
    written = await write();
  }
  recordDecisionsIngested(
    prepared.map((p) => p.data.type),
    written.results.map((r) => r ?? null),
  );
  return written;
}

/**
 * New review tasks of types with automatic assignment get their assignee (teams/membership.server.ts: the member
 * with the fewest open assigned tasks); one query per batch, and none when no type of the batch assigns.
 */
async function assignAutomatically(
  tx: DbOrTx,
  fresh: { p: Prepared }[],
  taskRows: (typeof tasks.$inferInsert)[],
): Promise<{ typeKey: string; taskId: string; decisionId: string; email: string }[]> {
  const auto = new Set(fresh.filter(({ p }) => p.type.autoAssign).map(({ p }) => p.data.type));
  if (auto.size === 0) return [];
  const pick = await autoAssigner(tx, [...auto]);
  const out: { typeKey: string; taskId: string; decisionId: string; email: string }[] = [];
  for (const t of taskRows) {
    if (t.kind !== "review" || !auto.has(t.typeKey)) continue;
    const who = pick(t.typeKey);
    if (!who) continue;
    t.assigneeId = who.id;
    out.push({ typeKey: t.typeKey, taskId: t.id, decisionId: t.decisionId, email: who.email });
  }
  return out;
}
