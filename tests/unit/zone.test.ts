/**
 * Days and ISO weeks in the organisation's time zone (app/lib/zone.ts), at fixed instants: the
 * expected boundaries are written out by hand from the zones' published rules.
 */
import { describe, expect, it } from "vitest";
import { canonicalTimeZone, localDate, localDay, localWeek, startOfLocalDate, zoneOffset } from "~/lib/zone";

const t = (iso: string) => Date.parse(iso);
const isoOf = (w: { from: number; to: number }) => ({ from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() });

describe("time zone names", () => {
  it("accepts IANA names, fixing their case, and refuses anything else", () => {
    expect(canonicalTimeZone("UTC")).toBe("UTC");
    expect(canonicalTimeZone("utc")).toBe("UTC");
    expect(canonicalTimeZone("Europe/Berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("europe/berlin")).toBe("Europe/Berlin");
    expect(canonicalTimeZone("America/Argentina/Buenos_Aires")).toBe("America/Argentina/Buenos_Aires");
    for (const bad of ["Mars/Olympus", "", "+02:00", "Europe/", "../etc/passwd", "Europe/Berlin; DROP"]) expect(canonicalTimeZone(bad), bad).toBeNull();
  });
});

describe("days and weeks in a zone", () => {
  it("a review at 23:30 UTC is on that day in UTC and on the next day in Europe/Berlin", () => {
    const at = t("2026-03-09T23:30:00Z");
    expect(localDate(at, "UTC")).toBe("2026-03-09");
    expect(localDate(at, "Europe/Berlin")).toBe("2026-03-10");
    expect(isoOf(localDay(at, "UTC"))).toEqual({ from: "2026-03-09T00:00:00.000Z", to: "2026-03-10T00:00:00.000Z" });
    // Berlin is UTC+1 in March before the switch: its 10 March runs from 9 March 23:00 UTC.
    expect(isoOf(localDay(at, "Europe/Berlin"))).toEqual({ from: "2026-03-09T23:00:00.000Z", to: "2026-03-10T23:00:00.000Z" });
  });

  it("offsets follow daylight saving time", () => {
    expect(zoneOffset(t("2026-01-15T12:00:00Z"), "Europe/Berlin")).toBe(3_600_000);
    expect(zoneOffset(t("2026-07-15T12:00:00Z"), "Europe/Berlin")).toBe(7_200_000);
    expect(zoneOffset(t("2026-07-15T12:00:00Z"), "America/New_York")).toBe(-4 * 3_600_000);
    expect(zoneOffset(t("2026-07-15T12:00:00Z"), "Asia/Kolkata")).toBe(5.5 * 3_600_000);
  });

  it("the day of a clock change is 23 or 25 hours long", () => {
    // Europe/Berlin: 29 March 2026 02:00 → 03:00, 25 October 2026 03:00 → 02:00.
    expect(isoOf(localDay(t("2026-03-29T12:00:00Z"), "Europe/Berlin"))).toEqual({ from: "2026-03-28T23:00:00.000Z", to: "2026-03-29T22:00:00.000Z" });
    expect(isoOf(localDay(t("2026-10-25T12:00:00Z"), "Europe/Berlin"))).toEqual({ from: "2026-10-24T22:00:00.000Z", to: "2026-10-25T23:00:00.000Z" });
  });

  it("a day that starts after a gap at midnight starts when the clocks jump", () => {
    // America/Santiago: 6 September 2026, 00:00 → 01:00 (UTC−4 → UTC−3).
    expect(new Date(startOfLocalDate("2026-09-06", "America/Santiago")).toISOString()).toBe("2026-09-06T04:00:00.000Z");
  });

  it("weeks start on Monday 00:00 local time", () => {
    // Sunday 8 March 2026, 23:30 UTC: still Sunday in UTC (week of Monday 2 March), already Monday 9 March in Berlin.
    const at = t("2026-03-08T23:30:00Z");
    expect(isoOf(localWeek(at, "UTC"))).toEqual({ from: "2026-03-02T00:00:00.000Z", to: "2026-03-09T00:00:00.000Z" });
    expect(isoOf(localWeek(at, "Europe/Berlin"))).toEqual({ from: "2026-03-08T23:00:00.000Z", to: "2026-03-15T23:00:00.000Z" });
    // A Monday at noon opens its own week; a week across a clock change is 167 hours long.
    expect(isoOf(localWeek(t("2026-03-23T12:00:00Z"), "Europe/Berlin"))).toEqual({ from: "2026-03-22T23:00:00.000Z", to: "2026-03-29T22:00:00.000Z" });
  });
});
