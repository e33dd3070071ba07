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
    windowMinutes: minutes(30, "The recent window: reviewed decisions that occurred in the last N minutes"),
    baselineMinutes: minutes(1_440, "The baseline: the N minutes before the recent window"),
    minCount: z.number().int().min(1).max(100_000).default(30).describe("Fewer reviewed decisions than this in either window: no verdict"),
    minEffect: z.number().gt(0).lt(1).default(0.08).describe("The smallest rise of the override rate (absolute) worth an alert"),
    maxP: z.number().gt(0).lt(1).default(0.0005).describe("One-sided p-value below which a rise is significant (split over the segments tested)"),
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
    windowMinutes: minutes(30, "The recent window"),
    baselineMinutes: minutes(1_440, "The baseline: the N minutes before the recent window"),
    minCount: z.number().int().min(1).max(1_000_000).default(300).describe("Fewer decisions than this in either window: no verdict"),
    maxPsi: z.number().gt(0).max(10).default(0.2).describe("Population stability index of model confidence at or above which it fires"),
    reviewShareMinEffect: z.number().gt(0).lt(1).default(0.1).describe("The smallest rise of the share routed to review worth an alert"),
    maxP: z.number().gt(0).lt(1).default(0.0005),
  })
  .strict();

export const monitorSettingsSchema = z
  .object({
    /** A categorical input field (a path like `product` or `applicant.region`) whose values are segments of the override rate. */
    segmentField: z
      .string()
      .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, "a field path like product or applicant.region")
      .max(200)
      .nullable()
      .default(null),
    overrideRate: overrideRateMonitorSchema.default(overrideRateMonitorSchema.parse({})),
    qaAccuracy: qaAccuracyMonitorSchema.default(qaAccuracyMonitorSchema.parse({})),
    confidence: confidenceMonitorSchema.default(confidenceMonitorSchema.parse({})),
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
