/**
 * A decision type's drift monitor settings (`monitors` in the type JSON). Every monitor is on by default with
 * settings meant to catch a change a team cares about within minutes at a hundred decisions a minute, and to
 * stay quiet on stationary traffic (the minimum counts and effects, and the small p-values, are why).
 * An omitted `monitors` in a PUT leaves the stored settings as they are; a given one is merged onto the
 * defaults, monitor by monitor.
 */
import { z } from "zod";
import { valueAt } from "../review/four-eyes";

const minutes = (dflt: number, what: string) => z.number().int().min(1).max(10_080).default(dflt).describe(what);

export const overrideRateMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(30, "The longest recent window: reviewed decisions that occurred in the last N minutes (shorter ones are scanned too)"),
    baselineMinutes: minutes(1_440, "The baseline: the N minutes before the longest recent window"),
    minCount: z.number().int().min(1).max(100_000).default(30).describe("Fewer reviewed decisions than this in either window: no verdict"),
    minEffect: z.number().gt(0).lt(1).default(0.08).describe("The smallest rise of the override rate (absolute) worth an alert"),
    maxP: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.0001)
      .describe("One-sided p-value below which a rise is significant, for the whole evaluation (split over the segments and windows tested)"),
  })
  .strict();

export const qaAccuracyMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(240, "QA verdicts on decisions that occurred in the last N minutes"),
    minCount: z.number().int().min(1).max(100_000).default(20),
  })
  .strict();

export const confidenceMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(10, "The longest recent window (shorter ones are scanned too)"),
    baselineMinutes: minutes(1_440, "The baseline: the N minutes before the longest recent window"),
    minCount: z.number().int().min(1).max(1_000_000).default(300).describe("Fewer decisions than this in either window: no verdict"),
    maxPsi: z.number().gt(0).max(10).default(0.1).describe("Population stability index of model confidence at or above which it fires"),
    reviewShareMinEffect: z.number().gt(0).lt(1).default(0.1).describe("The smallest rise of the share routed to review worth an alert"),
    maxP: z.number().gt(0).lt(1).default(0.0001),
  })
  .strict();

export const inputDriftMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(10, "The longest recent window (shorter ones are scanned too)"),
    baselineMinutes: minutes(1_440, "The baseline: the N minutes before the longest recent window"),
    minCount: z.number().int().min(1).max(1_000_000).default(300).describe("Fewer decisions with the field than this in either window: no verdict"),
    maxPsi: z.number().gt(0).max(10).default(0.1).describe("PSI of the field's distribution at or above which it fires"),
    bins: z
      .number()
      .int()
      .min(4)
      .max(20)
      .default(10)
      .describe("Numbers: bins of equal baseline share; categories: the most frequent baseline values, the rest pooled"),
    maxP: z.number().gt(0).lt(1).default(0.0001),
  })
  .strict();

export const volumeMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(10, "The recent window whose decision count is compared with the usual count for that time of the week"),
    minExpected: z.number().int().min(1).max(1_000_000).default(200).describe("Fewer decisions than this expected in the window: no verdict"),
    lowRatio: z.number().gt(0).lt(1).default(0.7).describe("Fires when the count is at most this share of the usual one"),
    highRatio: z.number().gt(1).max(100).default(1.8).describe("Fires when the count is at least this multiple of the usual one"),
    maxP: z.number().gt(0).lt(1).default(0.0001),
  })
  .strict();

export const flowMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(30, "The backlog now against the backlog N minutes ago; SLA breaches: the tasks whose deadline passed in the last N minutes"),
    minGrowth: z.number().int().min(1).max(1_000_000).default(50).describe("Open review tasks the backlog must have grown by to fire"),
    growthShare: z.number().gt(0).max(1).default(0.25).describe("…and by at least this share of the window's arrivals (it is not being worked off)"),
    minBreaches: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1)
      .describe("New SLA breaches (open tasks whose deadline passed within the window) at which the SLA monitor fires; tasks overdue for longer do not count"),
  })
  .strict();

export const reviewerMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(30, "A reviewer's verdicts in the last N minutes against their peers' on the same queue"),
    minCount: z.number().int().min(1).max(100_000).default(10).describe("Fewer verdicts than this from the reviewer (or the peers): no verdict"),
    minApprovalRise: z.number().gt(0).lt(1).default(0.15).describe("Approves at least this much more often than the peers…"),
    minFastShare: z
      .number()
      .gt(0)
      .max(1)
      .default(0.5)
      .describe("…and at least this share of the reviewer's verdicts came within FAST_REVIEW_MS of the claim, significantly more often than the peers'"),
    maxP: z.number().gt(0).lt(1).default(0.0001),
  })
  .strict();

export const modelVersionMonitorSchema = z
  .object({
    enabled: z.boolean().default(true),
    windowMinutes: minutes(1_440, "Both versions' figures over the last N minutes"),
    minCount: z.number().int().min(1).max(1_000_000).default(200).describe("Decisions the new version needs before it is put beside the previous one"),
  })
  .strict();

const fieldPath = z
  .string()
  .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, "a field path like product or applicant.region")
  .max(200);

export const monitorSettingsSchema = z
  .object({
    /** A categorical input field (a path like `product` or `applicant.region`) whose values are segments of the override rate. */
    segmentField: fieldPath.nullable().default(null),
    /** Input fields whose distribution is watched (numbers and categories); counted from the moment they are named. */
    inputs: z
      .array(fieldPath)
      .max(20)
      .default([])
      .refine((a) => new Set(a).size === a.length, "each field once"),
    overrideRate: overrideRateMonitorSchema.default(overrideRateMonitorSchema.parse({})),
    qaAccuracy: qaAccuracyMonitorSchema.default(qaAccuracyMonitorSchema.parse({})),
    confidence: confidenceMonitorSchema.default(confidenceMonitorSchema.parse({})),
    inputDrift: inputDriftMonitorSchema.default(inputDriftMonitorSchema.parse({})),
    volume: volumeMonitorSchema.default(volumeMonitorSchema.parse({})),
    flow: flowMonitorSchema.default(flowMonitorSchema.parse({})),
    reviewers: reviewerMonitorSchema.default(reviewerMonitorSchema.parse({})),
    modelVersion: modelVersionMonitorSchema.default(modelVersionMonitorSchema.parse({})),
  })
  .strict();

export type MonitorSettings = z.output<typeof monitorSettingsSchema>;

export const DEFAULT_MONITORS: MonitorSettings = monitorSettingsSchema.parse({});

/** Stored settings (JSON or null) → the settings in force, defaults filled in. */
export function monitorSettings(stored: unknown): MonitorSettings {
  const parsed = monitorSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : DEFAULT_MONITORS;
}

/** The segment a decision counts in: the segment field's value in its input, as text (at most 100 characters); null when absent. */
export function segmentOf(input: unknown, field: string | null): string | null {
  if (!field) return null;
  const v = valueAt(input, field);
  if (typeof v === "string") return v.slice(0, 100);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return null;
}
