/**
 * The decision-type editor: basics, the output schema as JSON with a live
 * preview of its fields, the routing policy (per-field rows choose from the
 * schema's leaf paths), reason codes and the optional four-eyes rule.
 * Every message from the server lands next to the field it is about.
 */
import { useMemo, useRef, useState } from "react";
import { Form, Link, useNavigation } from "@remix-run/react";
import { leafPaths, outputSchemaSchema, type ObjectSchema } from "~/domain/decision-types/output-schema";
import { Badge } from "~/components/ui/badge";
import { FieldError, FormField, FormMessage, inputClass, PrimaryButton } from "~/components/ui/form-field";
import { Section } from "~/components/ui/page-header";
import { describeSchemaFields, looseLeafPaths } from "./schema-fields";
import type { TypeFormValues } from "./type-form-values";
import type { FormIssues } from "~/lib/form-failure";
import type { Impact } from "~/domain/governance/impact.server";
import { ImpactPanel } from "./impact-panel";

type Row<T> = T & { rid: number };

const fid = (name: string) => `f-${name.replace(/\./g, "-")}`;

function useRows<T>(initial: T[]) {
  const next = useRef(initial.length);
  const [rows, setRows] = useState<Row<T>[]>(() => initial.map((r, i) => ({ ...r, rid: i })));
  return {
    rows,
    add: (r: T) => setRows((rs) => [...rs, { ...r, rid: next.current++ }]),
    remove: (rid: number) => setRows((rs) => rs.filter((r) => r.rid !== rid)),
    update: (rid: number, patch: Partial<T>) => setRows((rs) => rs.map((r) => (r.rid === rid ? { ...r, ...patch } : r))),
  };
}

/** The schema as typed: parsed when possible, its leaf paths, and whether the contract accepts it. */
function useSchema(text: string) {
  return useMemo(() => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { parsed: undefined, jsonError: (e as Error).message, valid: false, paths: [] as string[] };
    }
    const check = outputSchemaSchema.safeParse(parsed);
    return {
      parsed,
      jsonError: null,
      valid: check.success,
      paths: check.success ? leafPaths(parsed as ObjectSchema) : looseLeafPaths(parsed),
    };
  }, [text]);
}

function PathSelect({
  name,
  value,
  paths,
  onChange,
  label,
  errors,
}: {
  name: string;
  value: string;
  paths: string[];
  onChange: (v: string) => void;
  label: string;
  errors?: string[];
}) {
  const options = value && !paths.includes(value) ? [value, ...paths] : paths;
  return (
    <select
      name={name}
      id={fid(name)}
      aria-label={label}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      aria-invalid={errors?.length ? true : undefined}
      aria-describedby={errors?.length ? `${fid(name)}-error` : undefined}
      className={`${inputClass} font-mono`}
    >
      <option value="">Choose a field…</option>
      {options.map((p) => (
        <option key={p} value={p}>
          {p}
          {paths.includes(p) ? "" : " (not in schema)"}
        </option>
      ))}
    </select>
  );
}

function RowInput(props: {
  name: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  errors?: string[];
  mono?: boolean;
  inputMode?: "decimal";
  placeholder?: string;
}) {
  const id = fid(props.name);
  return (
    <input
      id={id}
      name={props.name}
      aria-label={props.label}
      value={props.value}
      placeholder={props.placeholder}
      inputMode={props.inputMode}
      onChange={(e) => props.onChange(e.target.value)}
      aria-invalid={props.errors?.length ? true : undefined}
      aria-describedby={props.errors?.length ? `${id}-error` : undefined}
      className={`${inputClass} ${props.mono ? "font-mono" : ""}`}
      autoComplete="off"
    />
  );
}

function AddRowButton({ onClick, children }: { onClick: () => void; children: React.ReactNode }) {
  return (
    <button type="button" onClick={onClick} className="mt-2 rounded-md px-2 py-1 text-sm font-medium text-indigo-700 hover:bg-indigo-50">
      + {children}
    </button>
  );
}

function RemoveRowButton({ onClick, label }: { onClick: () => void; label: string }) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-label={label}
      title={label}
      className="rounded-md px-2 py-1.5 text-slate-500 hover:bg-red-50 hover:text-red-700"
    >
      ✕
    </button>
  );
}

export function DecisionTypeForm({
  mode,
  initial,
  owners,
  issues = {},
  message,
  policyVersion,
  impact,
  underApproval,
}: {
  mode: "create" | "edit";
  initial: TypeFormValues;
  owners: { email: string; name: string; role: string }[];
  issues?: FormIssues;
  message?: string | null;
  policyVersion?: number;
  /** The routing rules as posted, replayed on the last 30 days ("Preview impact"). */
  impact?: Impact;
  /** The type is under policy approval: governed changes are proposed (with a reason), not saved. */
  underApproval?: boolean;
}) {
  const busy = useNavigation().state === "submitting";
  const [schemaText, setSchemaText] = useState(initial.outputSchema);
  const schema = useSchema(schemaText);
  const fields = useMemo(() => describeSchemaFields(schema.parsed), [schema.parsed]);
  // Four-eyes limits compare numbers, so only numeric fields are offered.
  const numericPaths = useMemo(() => fields.filter((f) => f.type === "number" || f.type === "integer").map((f) => f.path), [fields]);
  const reasons = useRows(initial.reasonCodes);
  const fieldMins = useRows(initial.fieldMinConfidence);
  const limits = useRows(initial.fourEyesFieldAbove);
  const ownerOptions =
    owners.some((o) => o.email === initial.owner) || !initial.owner ? owners : [{ email: initial.owner, name: initial.owner, role: "?" }, ...owners];
  const schemaIssues = issues.outputSchema ?? [];

  return (
    <Form method="post" noValidate className="space-y-6" aria-label={mode === "create" ? "New decision type" : "Edit decision type"}>
      {policyVersion !== undefined ? <input type="hidden" name="policyVersion" value={policyVersion} /> : null}
      {message ? <FormMessage tone="error">{message}</FormMessage> : null}

      <Section title="Basics" id="basics">
        <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-4">
          <FormField id={fid("name")} label="Name" errors={issues.name}>
            <input name="name" defaultValue={initial.name} autoComplete="off" className={inputClass} />
          </FormField>
          {mode === "create" ? (
            <FormField id={fid("key")} label="Key" hint="Used in the API and URLs; cannot change later." errors={issues.key}>
              <input name="key" defaultValue={initial.key} autoComplete="off" placeholder="e.g. invoice" className={`${inputClass} font-mono`} />
            </FormField>
          ) : (
            <div>
              <span className="block text-sm font-medium text-slate-700">Key</span>
              <p className="mt-1 py-1.5 font-mono text-sm">{initial.key}</p>
              <p className="text-xs text-slate-500">Keys are permanent.</p>
            </div>
          )}
          <FormField id={fid("owner")} label="Accountable owner" hint="Receives escalations." errors={issues.owner}>
            <select name="owner" defaultValue={initial.owner} className={inputClass}>
              <option value="">Choose a person…</option>
              {ownerOptions.map((o) => (
                <option key={o.email} value={o.email}>
                  {o.email} ({o.role})
                </option>
              ))}
            </select>
          </FormField>
          <FormField id={fid("slaMinutes")} label="SLA (minutes)" hint="Review due time after arrival." errors={issues.slaMinutes}>
            <input name="slaMinutes" type="number" min={1} step={1} inputMode="numeric" defaultValue={initial.slaMinutes} className={inputClass} />
          </FormField>
          <FormField
            id={fid("targetAccuracyPercent")}
            label="Target accuracy (%)"
            hint="How accurate the automatically released decisions should be, e.g. 98: the threshold what-if's default target. Empty: none."
            errors={issues.targetAccuracyPercent}
          >
            <input
              name="targetAccuracyPercent"
              type="number"
              min={0}
              max={100}
              step="any"
              inputMode="decimal"
              defaultValue={initial.targetAccuracyPercent}
              className={inputClass}
            />
          </FormField>
        </div>
      </Section>

      <Section
        title="Output schema"
        id="schema"
        description="A JSON Schema subset: an object with string, number, integer, boolean, enum, date (string with format date) and arrays of objects; required fields; min/max."
      >
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
          <div>
            <label htmlFor={fid("outputSchema")} className="block text-sm font-medium text-slate-700">
              Schema (JSON)
            </label>
            <textarea
              id={fid("outputSchema")}
              name="outputSchema"
              value={schemaText}
              onChange={(e) => setSchemaText(e.target.value)}
              spellCheck={false}
              rows={20}
              aria-invalid={schemaIssues.length ? true : undefined}
              aria-describedby={`${fid("outputSchema")}-status${schemaIssues.length ? ` ${fid("outputSchema")}-error` : ""}`}
              className={`${inputClass} mt-1 font-mono text-xs leading-5`}
            />
            <p id={`${fid("outputSchema")}-status`} className="mt-1 text-xs text-slate-500">
              {schema.jsonError
                ? `Not valid JSON yet (${schema.jsonError}).`
                : schema.valid
                  ? "Looks valid; checked again when you save."
                  : "Valid JSON, but not a valid schema yet; details appear when you save."}
            </p>
            {schemaIssues.length ? (
              <div
                id={`${fid("outputSchema")}-error`}
                role="group"
                aria-label="Schema problems"
                className="mt-2 rounded-md border border-red-200 bg-red-50 p-2"
              >
                <ul className="space-y-0.5 text-sm text-red-800">
                  {schemaIssues.map((m, i) => (
                    <li key={i} className="font-mono text-xs">
                      {m}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
          </div>
          <div>
            <h3 className="text-sm font-medium text-slate-700">Fields it defines</h3>
            {fields.length === 0 ? (
              <p className="mt-2 text-sm text-slate-500">No fields to show yet.</p>
            ) : (
              <table aria-label="Schema fields preview" className="mt-1 w-full text-sm">
                <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
                  <tr>
                    <th scope="col" className="py-1 pr-3">
                      Field
                    </th>
                    <th scope="col" className="py-1 pr-3">
                      Type
                    </th>
                    <th scope="col" className="py-1">
                      Rules
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {fields.map((f) => (
                    <tr key={f.path}>
                      <td className="py-1 pr-3 font-mono text-xs">
                        {f.path}
                        {f.required ? (
                          <span className="ml-1 text-red-700" title="required">
                            *
                          </span>
                        ) : null}
                      </td>
                      <td className="py-1 pr-3">
                        <Badge>{f.type}</Badge>
                      </td>
                      <td className="py-1 text-xs text-slate-600">{[f.required ? "required" : "optional", ...f.constraints].join(" · ")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </div>
      </Section>

      <Section
        title="Routing policy"
        id="routing"
        description={`A decision goes to human review when any rule fires; otherwise it is released at once.${policyVersion !== undefined ? ` Changing these rules creates version ${policyVersion + 1}.` : ""}`}
      >
        <div className="grid grid-cols-1 gap-4 md:grid-cols-3">
          <FormField
            id={fid("routing.minConfidence")}
            label="Minimum confidence"
            hint="0 to 1; blank for no overall threshold."
            errors={issues["routing.minConfidence"]}
          >
            <input name="routing.minConfidence" inputMode="decimal" defaultValue={initial.minConfidence} className={inputClass} />
          </FormField>
          <FormField
            id={fid("routing.qaSamplePercent")}
            label="QA sample rate (%)"
            hint="Share of auto-released decisions also checked by a person."
            errors={issues["routing.qaSamplePercent"]}
          >
            <input name="routing.qaSamplePercent" inputMode="decimal" defaultValue={initial.qaSamplePercent} className={inputClass} />
          </FormField>
          <FormField
            id={fid("routing.reviewFlags")}
            label="Flags that force review"
            hint="One glob pattern per line, e.g. policy:*"
            errors={issues["routing.reviewFlags"]}
          >
            <textarea name="routing.reviewFlags" rows={3} defaultValue={initial.reviewFlags} spellCheck={false} className={`${inputClass} font-mono`} />
          </FormField>
        </div>
        <fieldset className="mt-5">
          <legend className="text-sm font-medium text-slate-700">Per-field minimum confidence</legend>
          <p className="text-xs text-slate-500">Review when the model's confidence for a field is below its minimum (or missing).</p>
          <FieldError id={`${fid("routing.fieldMinConfidence")}-error`} messages={issues["routing.fieldMinConfidence"]} />
          <div className="mt-2 space-y-2">
            {fieldMins.rows.map((r, i) => {
              const base = `routing.fieldMinConfidence.${r.rid}`;
              return (
                <div key={r.rid}>
                  <div className="grid grid-cols-[1fr_10rem_auto] items-start gap-2">
                    <PathSelect
                      name={`${base}.path`}
                      label={`Field for rule ${i + 1}`}
                      value={r.path}
                      paths={schema.paths}
                      onChange={(v) => fieldMins.update(r.rid, { path: v })}
                      errors={issues[`${base}.path`]}
                    />
                    <RowInput
                      name={`${base}.min`}
                      label={`Minimum confidence for rule ${i + 1}`}
                      value={r.min}
                      inputMode="decimal"
                      placeholder="0.95"
                      onChange={(v) => fieldMins.update(r.rid, { min: v })}
                      errors={issues[`${base}.min`]}
                    />
                    <RemoveRowButton onClick={() => fieldMins.remove(r.rid)} label={`Remove field rule ${i + 1}`} />
                  </div>
                  <FieldError id={`${fid(`${base}.path`)}-error`} messages={issues[`${base}.path`]} />
                  <FieldError id={`${fid(`${base}.min`)}-error`} messages={issues[`${base}.min`]} />
                </div>
              );
            })}
          </div>
          <AddRowButton onClick={() => fieldMins.add({ path: "", min: "0.9" })}>Add field rule</AddRowButton>
        </fieldset>
      </Section>

      <Section
        title="Reason codes"
        id="reasons"
        description="What reviewers pick when they correct or reject: a stable code (UPPER_SNAKE_CASE) and a label people read."
      >
        <FieldError id={`${fid("reasonCodes")}-error`} messages={issues.reasonCodes} />
        <div className="space-y-2">
          {reasons.rows.length === 0 ? <p className="text-sm text-slate-500">No reason codes yet.</p> : null}
          {reasons.rows.map((r, i) => {
            const base = `reasonCodes.${r.rid}`;
            return (
              <div key={r.rid}>
                <div className="grid grid-cols-[14rem_1fr_auto] items-start gap-2">
                  <RowInput
                    name={`${base}.code`}
                    label={`Code for reason ${i + 1}`}
                    value={r.code}
                    mono
                    placeholder="WRONG_TOTAL"
                    onChange={(v) => reasons.update(r.rid, { code: v })}
                    errors={issues[`${base}.code`]}
                  />
                  <RowInput
                    name={`${base}.label`}
                    label={`Label for reason ${i + 1}`}
                    value={r.label}
                    placeholder="Total misread"
                    onChange={(v) => reasons.update(r.rid, { label: v })}
                    errors={issues[`${base}.label`]}
                  />
                  <RemoveRowButton onClick={() => reasons.remove(r.rid)} label={`Remove reason ${i + 1}`} />
                </div>
                <FieldError id={`${fid(`${base}.code`)}-error`} messages={issues[`${base}.code`]} />
                <FieldError id={`${fid(`${base}.label`)}-error`} messages={issues[`${base}.label`]} />
                <FieldError id={`${fid(base)}-error`} messages={issues[base]} />
              </div>
            );
          })}
        </div>
        <AddRowButton onClick={() => reasons.add({ code: "", label: "" })}>Add reason code</AddRowButton>
      </Section>

      <Section
        title="Four-eyes rule (optional)"
        id="four-eyes"
        description="Decisions matching any of these need a second, independent review before they are final."
      >
        <div className="grid grid-cols-1 gap-6 md:grid-cols-2">
          <FormField id={fid("fourEyes.flags")} label="Flags needing a second review" hint="One glob pattern per line." errors={issues["fourEyes.flags"]}>
            <textarea name="fourEyes.flags" rows={3} defaultValue={initial.fourEyesFlags} spellCheck={false} className={`${inputClass} font-mono`} />
          </FormField>
          <fieldset>
            <legend className="text-sm font-medium text-slate-700">Field above a limit</legend>
            <FieldError id={`${fid("fourEyes.fieldAbove")}-error`} messages={issues["fourEyes.fieldAbove"]} />
            <div className="mt-1 space-y-2">
              {limits.rows.map((r, i) => {
                const base = `fourEyes.fieldAbove.${r.rid}`;
                return (
                  <div key={r.rid}>
                    <div className="grid grid-cols-[1fr_9rem_auto] items-start gap-2">
                      <PathSelect
                        name={`${base}.path`}
                        label={`Four-eyes field ${i + 1}`}
                        value={r.path}
                        paths={numericPaths}
                        onChange={(v) => limits.update(r.rid, { path: v })}
                        errors={issues[`${base}.path`]}
                      />
                      <RowInput
                        name={`${base}.limit`}
                        label={`Four-eyes limit ${i + 1}`}
                        value={r.limit}
                        inputMode="decimal"
                        placeholder="10000"
                        onChange={(v) => limits.update(r.rid, { limit: v })}
                        errors={issues[`${base}.limit`]}
                      />
                      <RemoveRowButton onClick={() => limits.remove(r.rid)} label={`Remove four-eyes rule ${i + 1}`} />
                    </div>
                    <FieldError id={`${fid(`${base}.path`)}-error`} messages={issues[`${base}.path`]} />
                    <FieldError id={`${fid(`${base}.limit`)}-error`} messages={issues[`${base}.limit`]} />
                  </div>
                );
              })}
            </div>
            <AddRowButton onClick={() => limits.add({ path: "", limit: "" })}>Add limit</AddRowButton>
          </fieldset>
        </div>
      </Section>

      <Section title="Policy approval" id="policy-approval" description="Four eyes on the policy itself.">
        <div className="flex items-start gap-2 text-sm">
          <input
            id={fid("policyApproval")}
            name="policyApproval"
            type="checkbox"
            defaultChecked={initial.policyApproval}
            aria-describedby={`${fid("policyApproval")}-hint`}
            className="mt-0.5"
          />
          <div>
            <label htmlFor={fid("policyApproval")} className="font-medium text-slate-700">
              Changes to the routing policy need another admin&apos;s approval
            </label>
            <p id={`${fid("policyApproval")}-hint`} className="text-xs text-slate-500">
              While on, the routing rules, four-eyes rule, target accuracy and this setting change only through a policy proposal that another admin approves
              (API: POST /api/v1/decision-types/:key/policy-proposals); saving them here is refused.
            </p>
            <FieldError id={`${fid("policyApproval")}-error`} messages={issues.policyApproval} />
          </div>
        </div>
      </Section>

      <Section title="Assignment" id="assignment" description="Who gets this type's new review tasks.">
        <div className="flex items-start gap-2 text-sm">
          <input
            id={fid("autoAssign")}
            name="autoAssign"
            type="checkbox"
            defaultChecked={initial.autoAssign}
            aria-describedby={`${fid("autoAssign")}-hint`}
            className="mt-0.5"
          />
          <div>
            <label htmlFor={fid("autoAssign")} className="font-medium text-slate-700">
              Assign new review tasks automatically
            </label>
            <p id={`${fid("autoAssign")}-hint`} className="text-xs text-slate-500">
              Each goes to the queue&apos;s member with the fewest open assigned tasks (ties by email). Without members, tasks stay in the shared queue.
            </p>
            <FieldError id={`${fid("autoAssign")}-error`} messages={issues.autoAssign} />
          </div>
        </div>
      </Section>

      <Section
        title="Drift monitors"
        id="monitors"
        description="Watch this type for the automation going wrong: alerts on the alerts page, by webhook and in /metrics. Windows and thresholds are in the type's JSON (monitors)."
      >
        <input type="hidden" name="monitorsJson" value={initial.monitorsJson} />
        <FieldError id={`${fid("monitors")}-error`} messages={issues.monitors} />
        <div className="grid gap-4 sm:grid-cols-2">
          <FormField
            id={fid("monitorSegmentField")}
            label="Segment field"
            hint="A categorical input field (e.g. region or applicant.segment): the override rate is also watched per value. Empty: none."
            errors={issues.monitorSegmentField}
          >
            <input name="monitorSegmentField" defaultValue={initial.monitorSegmentField} className={inputClass} spellCheck={false} />
          </FormField>
          <FormField
            id={fid("monitorInputs")}
            label="Monitored input fields"
            hint="Input fields whose distribution is watched, comma-separated (e.g. applicant.monthlyIncome, channel): numbers in bins fixed from the baseline, categories with values never seen before. Counted from now on."
            errors={issues.monitorInputs}
          >
            <input name="monitorInputs" defaultValue={initial.monitorInputs} className={inputClass} spellCheck={false} />
          </FormField>
          <fieldset className="space-y-2 text-sm">
            <legend className="font-medium text-slate-700">Monitors</legend>
            {(
              [
                ["monitorOverrideRate", "Override rate (overall, per model version and per segment)", initial.monitorOverrideRate],
                ["monitorQaAccuracy", "Auto-lane accuracy from QA, against the target accuracy", initial.monitorQaAccuracy],
                ["monitorConfidence", "Model confidence (PSI) and the share routed to review", initial.monitorConfidence],
                ["monitorInputDrift", "Input drift of the monitored fields (PSI)", initial.monitorInputDrift],
                ["monitorVolume", "Decision volume against the same time of the week", initial.monitorVolume],
                ["monitorFlow", "Backlog growing faster than it is worked, and SLA breaches", initial.monitorFlow],
                ["monitorReviewers", "Reviewers who approve fast and almost always (managers only)", initial.monitorReviewers],
                ["monitorModelVersion", "A new model version beside the previous one", initial.monitorModelVersion],
              ] as const
            ).map(([name, label, on]) => (
              <div key={name} className="flex items-center gap-2">
                <input id={fid(name)} name={name} type="checkbox" defaultChecked={on} />
                <label htmlFor={fid(name)}>{label}</label>
              </div>
            ))}
          </fieldset>
        </div>
      </Section>

      {impact ? <ImpactPanel impact={impact} /> : null}

      {underApproval ? (
        <Section
          title="Propose a policy change"
          id="propose"
          description="This type is under policy approval: changes to the routing rules, the four-eyes rule, the target accuracy or the approval setting are proposed with a reason, and another admin approves them. Other fields save as usual."
        >
          <FormField id={fid("reason")} label="Why this change" errors={issues.reason}>
            <textarea name="reason" rows={2} className={inputClass} placeholder="e.g. QA over the last month supports 0.85" />
          </FormField>
        </Section>
      ) : null}

      <div className="sticky bottom-0 -mx-4 flex items-center gap-3 border-t border-slate-200 bg-slate-50/95 px-4 py-3 backdrop-blur">
        <PrimaryButton type="submit" disabled={busy}>
          {busy ? "Saving…" : mode === "create" ? "Create decision type" : "Save changes"}
        </PrimaryButton>
        {underApproval ? (
          <button
            type="submit"
            name="intent"
            value="propose"
            disabled={busy}
            className="rounded border border-indigo-300 bg-indigo-50 px-3 py-2 text-sm font-medium text-indigo-800 hover:bg-indigo-100"
          >
            Propose policy change
          </button>
        ) : null}
        {mode === "edit" ? (
          <button
            type="submit"
            name="intent"
            value="preview"
            disabled={busy}
            className="rounded border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50"
          >
            Preview impact (last 30 days)
          </button>
        ) : null}
        <Link to="/admin/types" className="text-sm text-slate-600 hover:text-slate-900">
          Cancel
        </Link>
        {Object.keys(issues).length > 0 ? <span className="text-sm text-red-700">{Object.values(issues).flat().length} problem(s) to fix above.</span> : null}
      </div>
    </Form>
  );
}
