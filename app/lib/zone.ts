/**
 * Calendar days and weeks in an IANA time zone (the organisation's, a setting), from the platform's
 * Intl time-zone data: no date library is needed for "the day/week holding this instant". Weeks start
 * on Monday (ISO 8601). Pure and isomorphic.
 */
import { DAY, HOUR } from "./time";

export const DEFAULT_TIME_ZONE = "UTC";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * An IANA time zone name the platform knows, spelled as its list spells it ("europe/berlin" →
 * "Europe/Berlin"; a known alias such as "Asia/Kolkata" stays as given), or null; offsets such as
 * "+02:00" are refused (they have no daylight-saving rules).
 */
export function canonicalTimeZone(name: string): string | null {
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(name)) return null;
  try {
    formatter(name);
  } catch {
    return null;
  }
  if (name.toUpperCase() === "UTC") return "UTC";
  const lower = name.toLowerCase();
  return Intl.supportedValuesOf("timeZone").find((z) => z.toLowerCase() === lower) ?? name;
}

/** Wall-clock fields of an instant in a zone (UTC straight from the date, without the formatter). */
function wallClock(ms: number, timeZone: string) {
  if (timeZone === "UTC") {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** The zone's offset from UTC at an instant, in ms (Europe/Berlin in January: +3,600,000). */
export function zoneOffset(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The local calendar date of an instant, "YYYY-MM-DD". */
export function localDate(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/**
 * The first instant of a local calendar date (midnight, or the first instant after a
 * daylight-saving gap at midnight). `date` is "YYYY-MM-DD".
 */
export function startOfLocalDate(date: string, timeZone: string): number {
  const key = `${timeZone} ${date}`;
  let start = dayStarts.get(key);
  if (start === undefined) {
    if (dayStarts.size >= 4096) dayStarts.clear();
    dayStarts.set(key, (start = findStartOfLocalDate(date, timeZone)));
  }
  return start;
}

/** startOfLocalDate's answers: a pure function of its arguments, asked for the same few days on every page. */
const dayStarts = new Map<string, number>();

function findStartOfLocalDate(date: string, timeZone: string): number {
  const [y, m, d] = date.split("-").map(Number);
  const midnightUtc = Date.UTC(y, m - 1, d);
  // Offsets lie within ±14 h: try the offset at a first guess, then at the answer it gives.
  let guess = midnightUtc - zoneOffset(midnightUtc, timeZone);
  guess = midnightUtc - zoneOffset(guess, timeZone);
  if (localDate(guess, timeZone) !== date) {
    // Midnight did not exist (a gap): the day starts when the clocks jump, within the next hours.
    for (let step = guess; step < guess + DAY; step += 15 * 60_000) if (localDate(step, timeZone) === date) return step;
  }
  return guess;
}

/** Adds `days` to a "YYYY-MM-DD" date. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** [start, end) of the local day holding `ms`. */
export function localDay(ms: number, timeZone: string): { from: number; to: number } {
  const date = localDate(ms, timeZone);
  return { from: startOfLocalDate(date, timeZone), to: startOfLocalDate(addDays(date, 1), timeZone) };
}

/** [start, end) of the local ISO week (Monday 00:00 to the next Monday 00:00) holding `ms`. */
export function localWeek(ms: number, timeZone: string): { from: number; to: number } {
  const date = localDate(ms, timeZone);
  const [y, m, d] = date.split("-").map(Number);
  const sinceMonday = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
  const monday = addDays(date, -sinceMonday);
  return { from: startOfLocalDate(monday, timeZone), to: startOfLocalDate(addDays(monday, 7), timeZone) };
}

/** The "YYYY-MM-DD" of a day number (days since 1970-01-01). */
export function dateOfDayNumber(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/** A run of whole hours [from, to) over which the zone's offset from UTC is `offset` (ms). */
export type OffsetSpan = { from: number; to: number; offset: number };

/**
 * [from, to) (whole hours) cut where the zone's offset changes (daylight saving): each hour belongs to the
 * span that holds its start. One span for UTC, and for most periods of a few months at most three.
 */
export function offsetSpans(from: number, to: number, timeZone: string): OffsetSpan[] {
  if (from >= to) return [];
  if (timeZone === "UTC") return [{ from, to, offset: 0 }];
  const spans: OffsetSpan[] = [];
  let start = from;
  let offset = zoneOffset(from, timeZone);
  for (let probe = from; probe < to;) {
    const next = Math.min(probe + DAY, to - 1);
    if (zoneOffset(next, timeZone) === offset) {
      probe = next + (next === to - 1 ? 1 : 0);
      continue;
    }
    // The first minute with the new offset lies in (probe, next]: search it, then the first hour starting there.
    let lo = probe;
    let hi = next;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (zoneOffset(mid, timeZone) === offset) lo = mid;
      else hi = mid;
    }
    const cut = Math.min(Math.ceil(hi / HOUR) * HOUR, to);
    if (cut > start) spans.push({ from: start, to: cut, offset });
    start = cut;
    offset = zoneOffset(cut < to ? cut : hi, timeZone);
    probe = cut;
  }
  if (start < to) spans.push({ from: start, to, offset });
  return spans;
}
