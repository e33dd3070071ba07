/**
 * Report query parameters, parsed once with zod for the JSON API, the page
 * and the CSV downloads. Periods are [from, to): an hour counts when its start
 * lies inside. Buckets are hours, or days and weeks (from Monday 00:00) in the
 * organisation's time zone (a setting, UTC by default; lib/zone.ts). The
 * roll-ups count per UTC hour, so in a zone whose offset is not a whole number
 * of hours (India, Nepal, parts of Australia) a day holds the hours that start
 * in it: its figures run from the first whole UTC hour after local midnight.
 */
import { z } from "zod";
import { DAY, HOUR } from "~/lib/time";
import { addDays, DEFAULT_TIME_ZONE, localDate, localWeek, startOfLocalDate } from "~/lib/zone";
import { invalid } from "~/lib/errors";
import { requireQuery } from "~/lib/query";

export const BUCKETS = ["hour", "day", "week"] as const;
export type Bucket = (typeof BUCKETS)[number];
export const WEEK = 7 * DAY;
export const BUCKET_MS: Record<Bucket, number> = { hour: HOUR, day: DAY, week: WEEK };
export const MAX_BUCKETS = 5000;
export const DEFAULT_PERIOD_DAYS = 30;

/** An ISO 8601 date or date-time as epoch ms (date-only and zone-less values read as UTC). */
export const isoInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/, "expected an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z")
  .transform((s, ctx) => {
    // Date-only and zone-less values are read as UTC.
    const withZone = /T/.test(s) && !/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? `${s}Z` : s;
    const ms = Date.parse(withZone);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: "custom", message: "not a valid date" });
      return z.NEVER;
    }
    return ms;
  });

export const reportQuerySchema = z
  .object({
    type: z.string({ error: "type is required" }).min(1, "type is required").max(64),
    from: isoInstant.optional(),
    to: isoInstant.optional(),
    bucket: z.enum(BUCKETS, { error: "bucket must be hour, day or week" }).default("day"),
    modelVersion: z.string().min(1).max(100).optional(),
    policyVersion: z.coerce
      .number({ error: "policyVersion must be a policy version number, e.g. 3" })
      .int("policyVersion must be a whole number")
      .positive("policyVersion must be 1 or more")
      .optional()
      .describe("Only decisions routed under this version of the type's routing policy"),
  })
  .strict();

/** `zone`: the IANA time zone days and weeks are counted in (the organisation's; UTC when absent). */
export type ReportQuery = { type: string; from: number; to: number; bucket: Bucket; modelVersion?: string; policyVersion?: number; zone?: string };

/** A report's period from its optional bounds: up to the next full hour, DEFAULT_PERIOD_DAYS long; a 400 when from ≥ to. */
export function reportPeriod(q: { from?: number; to?: number }, now: number): { from: number; to: number } {
  const to = q.to ?? Math.ceil(now / HOUR) * HOUR;
  const from = q.from ?? to - DEFAULT_PERIOD_DAYS * DAY;
  if (from >= to) throw invalid("Invalid query", [{ path: "from", message: "from must be before to" }]);
  return { from, to };
}

/** URL search params → a report query (defaults filled in), or a 400 naming the field; `ignore` lists parameters the caller owns. */
export function parseReportQuery(params: URLSearchParams, opts: { now?: number; ignore?: readonly string[] } = {}): ReportQuery {
  const query = requireQuery(reportQuerySchema, params, { ignore: opts.ignore });
  const { from, to } = reportPeriod(query, opts.now ?? Date.now());
  const bucket = query.bucket;
  if ((to - from) / BUCKET_MS[bucket] > MAX_BUCKETS) {
    throw invalid("Invalid query", [{ path: "bucket", message: `more than ${MAX_BUCKETS} ${bucket} buckets; choose a wider bucket or a shorter period` }]);
  }
  return { type: query.type, from, to, bucket, modelVersion: query.modelVersion, policyVersion: query.policyVersion };
}

/** Start of the bucket holding `ms` (days and weeks in `zone`, UTC by default; weeks start on Monday). */
export function bucketStart(ms: number, bucket: Bucket, zone: string = DEFAULT_TIME_ZONE): number {
  if (bucket === "hour") return Math.floor(ms / HOUR) * HOUR;
  if (zone !== "UTC") return bucket === "day" ? startOfLocalDate(localDate(ms, zone), zone) : localWeek(ms, zone).from;
  const day = Math.floor(ms / DAY) * DAY;
  if (bucket === "day") return day;
  // 1970-01-01 was a Thursday: three days after a Monday.
  const sinceMonday = (((Math.floor(ms / DAY) + 3) % 7) + 7) % 7;
  return day - sinceMonday * DAY;
}

/** Every bucket start overlapping [from, to) (a local day is 23 or 25 hours long when the clocks change). */
export function bucketStarts(from: number, to: number, bucket: Bucket, zone: string = DEFAULT_TIME_ZONE): number[] {
  const out: number[] = [];
  if (bucket === "hour" || zone === "UTC") {
    for (let s = bucketStart(from, bucket); s < to; s += BUCKET_MS[bucket]) out.push(s);
    return out;
  }
  const step = bucket === "day" ? 1 : 7;
  let date = localDate(bucketStart(from, bucket, zone), zone);
  for (let s = startOfLocalDate(date, zone); s < to; s = startOfLocalDate(date, zone)) {
    out.push(s);
    date = addDays(date, step);
  }
  return out;
}

/** First hour start inside [from, to). */
export function firstHour(from: number): number {
  return Math.ceil(from / HOUR) * HOUR;
}

/** Period presets on the /reports page: the last N days up to the next full hour. */
export const PERIODS = { "1d": 1, "7d": 7, "30d": 30, "90d": 90 } as const;
export type Period = keyof typeof PERIODS;
export const PERIOD_LABELS: Record<Period, string> = { "1d": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days" };
export function isPeriod(p: string | null): p is Period {
  return p != null && Object.prototype.hasOwnProperty.call(PERIODS, p);
}
export function periodRange(p: Period, now: number): { from: number; to: number } {
  const to = Math.ceil(now / HOUR) * HOUR;
  return { from: to - PERIODS[p] * DAY, to };
}
