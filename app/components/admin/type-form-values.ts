/**
 * The decision-type editor's form state: every field as the text a person
 * types, with row lists for reason codes, per-field confidence and four-eyes
 * limits. Pure and isomorphic; the server turns the posted form back into a
 * definition (app/domain/decision-types/type-form.server.ts).
 */
export type TypeFormValues = {
  key: string;
  name: string;
  owner: string;
  slaMinutes: string;
  reasonCodes: { code: string; label: string }[];
  minConfidence: string;
  fieldMinConfidence: { path: string; min: string }[];
  reviewFlags: string;
  qaSamplePercent: string;
  outputSchema: string;
  fourEyesFlags: string;
  fourEyesFieldAbove: { path: string; limit: string }[];
  /** New review tasks go to the member with the fewest open assigned tasks. */
  autoAssign: boolean;
  /** The accuracy target in percent ("98"), or "" for none. */
  targetAccuracyPercent: string;
  /** Policy changes go through a proposal another admin approves. */
  policyApproval: boolean;
  /** Drift monitors: the stored settings as JSON (posted back as they are, so settings the form does not show stay), the segment field, each monitor on or off. */
  monitorsJson: string;
  monitorSegmentField: string;
  monitorOverrideRate: boolean;
  monitorQaAccuracy: boolean;
  monitorConfidence: boolean;
  /** Monitored input fields, comma-separated. */
  monitorInputs: string;
  monitorInputDrift: boolean;
  monitorVolume: boolean;
  monitorFlow: boolean;
  monitorReviewers: boolean;
  monitorModelVersion: boolean;
};

type MonitorsLike = {
  segmentField?: string | null;
  overrideRate?: { enabled?: boolean };
  qaAccuracy?: { enabled?: boolean };
  confidence?: { enabled?: boolean };
  inputs?: string[];
  inputDrift?: { enabled?: boolean };
  volume?: { enabled?: boolean };
  flow?: { enabled?: boolean };
  reviewers?: { enabled?: boolean };
  modelVersion?: { enabled?: boolean };
};

function monitorFields(m: MonitorsLike | undefined) {
  return {
    monitorsJson: m ? JSON.stringify(m) : "",
    monitorSegmentField: m?.segmentField ?? "",
    monitorOverrideRate: m?.overrideRate?.enabled ?? true,
    monitorQaAccuracy: m?.qaAccuracy?.enabled ?? true,
    monitorConfidence: m?.confidence?.enabled ?? true,
    monitorInputs: (m?.inputs ?? []).join(", "),
    monitorInputDrift: m?.inputDrift?.enabled ?? true,
    monitorVolume: m?.volume?.enabled ?? true,
    monitorFlow: m?.flow?.enabled ?? true,
    monitorReviewers: m?.reviewers?.enabled ?? true,
    monitorModelVersion: m?.modelVersion?.enabled ?? true,
  };
}

export const EXAMPLE_SCHEMA = {
  type: "object",
  required: ["total", "currency"],
  properties: {
    total: { type: "number", minimum: 0 },
    currency: { type: "string", enum: ["EUR", "USD"] },
  },
};

export function emptyTypeForm(owner = ""): TypeFormValues {
  return {
    key: "",
    name: "",
    owner,
    slaMinutes: "240",
    reasonCodes: [],
    minConfidence: "0.9",
    fieldMinConfidence: [],
    reviewFlags: "",
    qaSamplePercent: "5",
    outputSchema: JSON.stringify(EXAMPLE_SCHEMA, null, 2),
    fourEyesFlags: "",
    fourEyesFieldAbove: [],
    autoAssign: false,
    targetAccuracyPercent: "",
    policyApproval: false,
    ...monitorFields(undefined),
  };
}

/** 0.05 → "5", 0.125 → "12.5", without float noise. */
export function rateToPercent(rate: number): string {
  return String(Math.round(rate * 100 * 10_000) / 10_000);
}

export function typeToForm(t: {
  key: string;
  name: string;
  owner: string;
  slaMinutes: number;
  reasonCodes: { code: string; label: string }[];
  routing: { minConfidence?: number; fieldMinConfidence?: Record<string, number>; reviewFlags?: string[]; qaSampleRate?: number };
  outputSchema: unknown;
  fourEyes: { flags?: string[]; fieldAbove?: Record<string, number> } | null;
  autoAssign?: boolean;
  targetAccuracy?: number | null;
  policyApproval?: boolean;
  monitors?: MonitorsLike;
}): TypeFormValues {
  return {
    key: t.key,
    name: t.name,
    owner: t.owner,
    slaMinutes: String(t.slaMinutes),
    reasonCodes: t.reasonCodes.map((r) => ({ ...r })),
    minConfidence: t.routing.minConfidence === undefined ? "" : String(t.routing.minConfidence),
    fieldMinConfidence: Object.entries(t.routing.fieldMinConfidence ?? {}).map(([path, min]) => ({ path, min: String(min) })),
    reviewFlags: (t.routing.reviewFlags ?? []).join("\n"),
    qaSamplePercent: rateToPercent(t.routing.qaSampleRate ?? 0),
    outputSchema: JSON.stringify(t.outputSchema, null, 2),
    fourEyesFlags: (t.fourEyes?.flags ?? []).join("\n"),
    fourEyesFieldAbove: Object.entries(t.fourEyes?.fieldAbove ?? {}).map(([path, limit]) => ({ path, limit: String(limit) })),
    autoAssign: t.autoAssign ?? false,
    targetAccuracyPercent: t.targetAccuracy == null ? "" : rateToPercent(t.targetAccuracy),
    policyApproval: t.policyApproval ?? false,
    ...monitorFields(t.monitors),
  };
}
