/**
 * The admin editor's posted form → a decision-type definition → the same
 * `upsertDecisionType` (and zod schema) the API uses. Issues come back keyed
 * by the form's own field names, so each message lands next to its field:
 * a reason-code row, a per-field confidence row, or the JSON editor (with the
 * schema path in the message).
 */
import type { ZodError } from "zod";
import type { Db } from "@db/client.server";
import { AppError, type Issue } from "~/lib/errors";
import type { FormFailure, FormIssues } from "~/lib/form-failure";
import { replayImpact, type Impact } from "../governance/impact.server";
import { routingPolicySchema } from "../routing/policy";
import { decisionTypeSchema } from "./definition";
import { GOVERNED_FIELDS, upsertDecisionType, type DecisionType } from "./decision-types.server";
import { canonicalJson } from "~/lib/crypto.server";

export type SaveResult = { ok: true; type: DecisionType; created: boolean; policyChanged: boolean } | FormFailure;

type Rows<T> = { index: number; value: T }[];

/** Rows posted as prefix.N.field, in N order, skipping rows left entirely blank. */
function rows<K extends string>(form: FormData, prefix: string, fields: K[]): Rows<Record<K, string>> {
  const indexes = new Set<number>();
  for (const name of form.keys()) {
    const m = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.(\\d+)\\.`).exec(name);
    if (m) indexes.add(Number(m[1]));
  }
  return [...indexes]
    .sort((a, b) => a - b)
    .map((index) => ({
      index,
      value: Object.fromEntries(fields.map((f) => [f, String(form.get(`${prefix}.${index}.${f}`) ?? "").trim()])) as Record<K, string>,
    }))
    .filter((r) => fields.some((f) => r.value[f] !== ""));
}

const text = (form: FormData, name: string) => String(form.get(name) ?? "").trim();
const lines = (s: string) =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

/** A number typed in a form; blank → undefined; junk → an issue (and the raw text, for zod to reject too). */
function num(raw: string, path: string, issues: Issue[], what: string): number | string | undefined {
  if (raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) {
    issues.push({ path, message: `enter ${what}` });
    return raw;
  }
  return n;
}

export function formToDefinition(form: FormData, key: string): { definition: Record<string, unknown>; issues: Issue[]; map: (path: string) => string } {
  const issues: Issue[] = [];
  const reasonRows = rows(form, "reasonCodes", ["code", "label"]);
  const fieldRows = rows(form, "routing.fieldMinConfidence", ["path", "min"]);
  const limitRows = rows(form, "fourEyes.fieldAbove", ["path", "limit"]);

  let outputSchema: unknown = undefined;
  const schemaText = String(form.get("outputSchema") ?? "");
  if (schemaText.trim() === "") issues.push({ path: "outputSchema", message: "enter the output schema as JSON" });
  else {
    try {
      outputSchema = JSON.parse(schemaText);
    } catch (e) {
      issues.push({ path: "outputSchema", message: `not valid JSON: ${(e as Error).message}` });
    }
  }

  // Maps, not object literals: field names such as "constructor" must not collide with Object.prototype.
  const fieldMins = new Map<string, unknown>();
  for (const r of fieldRows) {
    const base = `routing.fieldMinConfidence.${r.index}`;
    if (!r.value.path) issues.push({ path: `${base}.path`, message: "choose a field" });
    else if (fieldMins.has(r.value.path)) issues.push({ path: `${base}.path`, message: "this field already has a row" });
    const min =
      r.value.min === ""
        ? (issues.push({ path: `${base}.min`, message: "enter a minimum between 0 and 1" }), undefined)
        : num(r.value.min, `${base}.min`, issues, "a number between 0 and 1");
    if (r.value.path && !fieldMins.has(r.value.path)) fieldMins.set(r.value.path, min);
  }
  const fieldMinConfidence = Object.fromEntries(fieldMins);

  const qaRaw = text(form, "routing.qaSamplePercent");
  let qaSampleRate: unknown = 0;
  if (qaRaw !== "") {
    const pct = Number(qaRaw);
    if (!Number.isFinite(pct) || pct < 0 || pct > 100) issues.push({ path: "routing.qaSamplePercent", message: "enter a percentage from 0 to 100" });
    else qaSampleRate = Math.round(pct * 10_000) / 1_000_000;
  }

  const limits = new Map<string, unknown>();
  for (const r of limitRows) {
    const base = `fourEyes.fieldAbove.${r.index}`;
    if (!r.value.path) issues.push({ path: `${base}.path`, message: "choose a field" });
    else if (limits.has(r.value.path)) issues.push({ path: `${base}.path`, message: "this field already has a row" });
    const limit =
      r.value.limit === ""
        ? (issues.push({ path: `${base}.limit`, message: "enter a limit" }), undefined)
        : num(r.value.limit, `${base}.limit`, issues, "a number");
    if (r.value.path && !limits.has(r.value.path)) limits.set(r.value.path, limit);
  }
  const fieldAbove = Object.fromEntries(limits);
  const fourEyesFlags = lines(text(form, "fourEyes.flags"));
  const fourEyes =
    fourEyesFlags.length || Object.keys(fieldAbove).length
      ? { ...(fourEyesFlags.length ? { flags: fourEyesFlags } : {}), ...(Object.keys(fieldAbove).length ? { fieldAbove } : {}) }
      : null;

  const targetRaw = text(form, "targetAccuracyPercent");
  let targetAccuracy: unknown = null;
  if (targetRaw !== "") {
    const pct = Number(targetRaw);
    if (!Number.isFinite(pct) || pct <= 0 || pct >= 100)
      issues.push({ path: "targetAccuracyPercent", message: "enter a percentage above 0 and below 100, e.g. 98" });
    else targetAccuracy = Math.round(pct * 10_000) / 1_000_000;
  }

  // Drift monitors: the settings the form does not show come back as they were (monitorsJson), the rest from the fields.
  let monitorsBase: Record<string, Record<string, unknown> | unknown> = {};
  const monitorsText = text(form, "monitorsJson");
  if (monitorsText !== "") {
    try {
      const parsed: unknown = JSON.parse(monitorsText);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) monitorsBase = parsed as Record<string, unknown>;
      else issues.push({ path: "monitors", message: "the stored monitor settings did not come back: reload the page" });
    } catch {
      issues.push({ path: "monitors", message: "the stored monitor settings did not come back: reload the page" });
    }
  }
  const monitorOf = (name: string, field: string) => ({
    ...(monitorsBase[name] && typeof monitorsBase[name] === "object" ? (monitorsBase[name] as Record<string, unknown>) : {}),
    enabled: form.get(field) === "on",
  });
  const monitors = {
    ...monitorsBase,
    segmentField: text(form, "monitorSegmentField") || null,
    overrideRate: monitorOf("overrideRate", "monitorOverrideRate"),
    qaAccuracy: monitorOf("qaAccuracy", "monitorQaAccuracy"),
    confidence: monitorOf("confidence", "monitorConfidence"),
    inputs: text(form, "monitorInputs")
      .split(/[\s,]+/)
      .filter((f) => f !== ""),
    inputDrift: monitorOf("inputDrift", "monitorInputDrift"),
    volume: monitorOf("volume", "monitorVolume"),
    flow: monitorOf("flow", "monitorFlow"),
    reviewers: monitorOf("reviewers", "monitorReviewers"),
    modelVersion: monitorOf("modelVersion", "monitorModelVersion"),
  };

  const slaRaw = text(form, "slaMinutes");
  if (slaRaw === "") issues.push({ path: "slaMinutes", message: "enter the SLA in minutes" });
  if (key === "") issues.push({ path: "key", message: "enter a key" });
  if (text(form, "name") === "") issues.push({ path: "name", message: "enter a name" });
  if (text(form, "owner") === "") issues.push({ path: "owner", message: "choose the accountable owner" });
  const definition: Record<string, unknown> = {
    key,
    name: text(form, "name"),
    owner: text(form, "owner"),
    outputSchema,
    routing: {
      ...(text(form, "routing.minConfidence") !== ""
        ? { minConfidence: num(text(form, "routing.minConfidence"), "routing.minConfidence", issues, "a number between 0 and 1") }
        : {}),
      fieldMinConfidence,
      reviewFlags: lines(text(form, "routing.reviewFlags")),
      qaSampleRate,
    },
    slaMinutes: slaRaw === "" ? undefined : num(slaRaw, "slaMinutes", issues, "a whole number of minutes"),
    reasonCodes: reasonRows.map((r) => r.value),
    fourEyes,
    autoAssign: form.get("autoAssign") === "on",
    targetAccuracy,
    policyApproval: form.get("policyApproval") === "on",
    // A form without the monitors section (monitorsJson absent) leaves the stored settings as they are.
    ...(form.has("monitorsJson") ? { monitors } : {}),
  };

  const fieldRowOf = new Map(fieldRows.map((r) => [r.value.path, r.index]));
  const limitRowOf = new Map(limitRows.map((r) => [r.value.path, r.index]));
  /** The definition's issue path → the form field that shows it. */
  const map = (path: string): string => {
    let m: RegExpExecArray | null;
    if ((m = /^reasonCodes\.(\d+)(\.(code|label))?/.exec(path))) return `reasonCodes.${reasonRows[Number(m[1])]?.index ?? m[1]}${m[2] ?? ""}`;
    if ((m = /^routing\.fieldMinConfidence\.(.+)$/.exec(path))) {
      const row = fieldRowOf.get(m[1]);
      return row === undefined ? "routing.fieldMinConfidence" : `routing.fieldMinConfidence.${row}.min`;
    }
    if (path.startsWith("routing.reviewFlags")) return "routing.reviewFlags";
    if (path.startsWith("routing.qaSampleRate")) return "routing.qaSamplePercent";
    if (path.startsWith("targetAccuracy")) return "targetAccuracyPercent";
    if (path.startsWith("monitors.segmentField")) return "monitorSegmentField";
    if (path.startsWith("monitors.inputs")) return "monitorInputs";
    if (path.startsWith("monitors")) return "monitors";
    if ((m = /^fourEyes\.fieldAbove\.(.+)$/.exec(path))) {
      const row = limitRowOf.get(m[1]);
      return row === undefined ? "fourEyes.fieldAbove" : `fourEyes.fieldAbove.${row}.limit`;
    }
    if (path.startsWith("fourEyes.flags")) return "fourEyes.flags";
    if (path.startsWith("outputSchema")) return "outputSchema";
    return path;
  };
  return { definition, issues, map };
}

const FIELD_KINDS =
  'not a supported field: use "type" string (optionally with enum or format "date"), number, integer, boolean, object (with properties) or array (with items: an object), and only the keywords each allows';

/** Messages for the form, keyed by form field. Schema and list issues keep their exact path in the text. */
/**
 * A form's problems by field: its own first (already named by form field), then whatever the contract schema says
 * about the rest (`prefix` is where the schema's paths sit in the definition; `map` names their form fields).
 */
function formIssues(own: Issue[], schemaError: ZodError | undefined, prefix: string[], map: (p: string) => string): FormIssues {
  const mine = toFormIssues(own, (p) => p, new Set());
  const rest = schemaError
    ? toFormIssues(
        schemaError.issues.map((i) => ({ path: [...prefix, ...i.path.map(String)].join("."), message: i.message })),
        map,
        new Set(Object.keys(mine)),
      )
    : {};
  return { ...rest, ...mine };
}

function toFormIssues(issues: Issue[], map: (p: string) => string, taken: Set<string>): FormIssues {
  const out: FormIssues = {};
  for (const i of issues) {
    const field = map(i.path);
    if (taken.has(field)) continue;
    const showPath = field !== i.path && (field === "outputSchema" || field === "routing.reviewFlags" || field === "fourEyes.flags");
    // zod says only "Invalid input" when a field matches none of the union's field kinds.
    const detail = /^outputSchema(\.properties\.[^.]+|\.items)+$/.test(i.path) && i.message === "Invalid input" ? FIELD_KINDS : i.message;
    const message = showPath ? `${i.path.replace(/^(routing|fourEyes)\./, "")}: ${detail}` : detail;
    (Object.hasOwn(out, field) ? out[field] : (out[field] = [])).push(message);
  }
  return out;
}

/**
 * Validates and saves a posted type form. `mode` create refuses an existing key;
 * update refuses a missing one. Nothing is written unless everything is valid.
 */
export async function saveTypeForm(db: Db, form: FormData, opts: { key: string; mode: "create" | "update"; actor: string; now?: number }): Promise<SaveResult> {
  const { definition, issues, map } = formToDefinition(form, opts.key);
  if (issues.length > 0) {
    const parsed = decisionTypeSchema.safeParse(definition);
    return { ok: false, intent: "save", message: "Fix the marked fields; nothing was saved.", issues: formIssues(issues, parsed.error, [], map) };
  }
  try {
    const { type, created } = await upsertDecisionType(db, definition, opts.actor, opts.now ?? Date.now(), opts.mode);
    return { ok: true, type, created, policyChanged: created || form.get("policyVersion") !== String(type.policyVersion) };
  } catch (e) {
    if (e instanceof AppError && (e.code === "invalid" || e.code === "conflict" || e.code === "proposal_required")) {
      return { ok: false, intent: "save", message: `${e.message}; nothing was saved.`, issues: toFormIssues(e.issues, map, new Set()) };
    }
    throw e;
  }
}

export type PreviewResult = { ok: true; intent: "preview"; impact: Impact } | FormFailure;

/**
 * The editor's "Preview impact": the routing rules as posted, replayed on the type's last 30 days against its
 * current policy (governance/impact.server.ts). Saves nothing; rules that do not parse are answered by field.
 */
export async function previewTypeForm(db: Db, form: FormData, key: string, now = Date.now()): Promise<PreviewResult> {
  const { definition, issues, map } = formToDefinition(form, key);
  const own = issues.filter((i) => i.path.startsWith("routing."));
  const parsed = routingPolicySchema.safeParse(definition.routing);
  if (own.length > 0 || !parsed.success) {
    return {
      ok: false,
      intent: "preview",
      message: "Fix the marked routing rules to preview their impact.",
      issues: formIssues(own, parsed.error, ["routing"], map),
    };
  }
  return { ok: true, intent: "preview", impact: await replayImpact(db, key, parsed.data, { now }) };
}

/**
 * The editor's "Propose policy change" (a type under policy approval): the governed fields as posted that differ
 * from the type's, with the posted reason, as the body of a policy proposal (governance/proposals.server.ts).
 */
export function proposalFromForm(
  form: FormData,
  key: string,
  current: Record<string, unknown>,
): { body: Record<string, unknown>; issues: FormIssues; map: (path: string) => string } {
  const { definition, issues, map } = formToDefinition(form, key);
  const own = toFormIssues(
    issues.filter((i) => GOVERNED_FIELDS.some((f) => i.path === f || i.path.startsWith(`${f}.`) || i.path.startsWith(`${f}Percent`))),
    (p) => p,
    new Set(),
  );
  const body: Record<string, unknown> = { reason: String(form.get("reason") ?? "") };
  for (const f of GOVERNED_FIELDS) if (canonicalJson(definition[f] ?? null) !== canonicalJson(current[f] ?? null)) body[f] = definition[f] ?? null;
  return { body, issues: own, map };
}
