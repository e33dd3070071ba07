/**
 * Reports in the organisation's time zone (issue 13): decisions at instants spread over two daylight-saving
 * changes go in over the HTTP API; with the zone set on the admin page, GET /api/v1/reports/automation by day
 * and by week, the /reports page and its CSV must equal counts this test works out from scratch: each
 * decision's local calendar date from Intl (the hour's start in a zone whose offset is not whole hours), each
 * day's first instant found by walking the clock, not with the product's zone or SQL code.
 */
import { parse } from "csv-parse/sync";
import { decode } from "turbo-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { automationReport, ingest } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { signIn } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The calendar date of an instant in a zone, "YYYY-MM-DD" (en-CA writes dates that way). */
const dateIn = (ms: number, timeZone: string) => new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
/** The first instant (to the minute) of a local date: walked minute by minute from 15 hours before its UTC midnight. */
function firstInstantOf(date: string, timeZone: string): number {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  for (let t = utcMidnight - 15 * HOUR; t < utcMidnight + 15 * HOUR; t += MINUTE) if (dateIn(t, timeZone) === date) return t;
  throw new Error(`no ${date} in ${timeZone}`);
}
function mondayOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}
function nextDate(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

type Sent = { at: number; auto: boolean };
type Bucket = { start: string; volume: number; auto: number; pending: number };

/** Buckets from scratch: every local day (or week) overlapping [from, to), with the decisions whose hour starts inside. */
function expectedBuckets(sent: Sent[], from: number, to: number, bucket: "day" | "week", timeZone: string): Bucket[] {
  const keyOf = (ms: number) => {
    const date = dateIn(Math.floor(ms / HOUR) * HOUR, timeZone);
    return bucket === "day" ? date : mondayOf(date);
  };
  const out: Bucket[] = [];
  for (let date = keyOf(from); firstInstantOf(date, timeZone) < to; date = nextDate(date, bucket === "day" ? 1 : 7)) {
    const mine = sent.filter((d) => d.at >= from && d.at < to && keyOf(d.at) === date);
    out.push({
      start: new Date(firstInstantOf(date, timeZone)).toISOString(),
      volume: mine.length,
      auto: mine.filter((d) => d.auto).length,
      pending: mine.filter((d) => !d.auto).length,
    });
  }
  return out;
}

describe("reports in the organisation's time zone", () => {
  let s: TestServer;
  let readKey: string;
  let adminCookie: string;
  let managerCookie: string;
  const sent: Sent[] = [];
  // Both US daylight-saving changes of 2026 (8 March, 1 November) and the days around them.
  const periods = [
    { from: Date.parse("2026-03-04T00:00:00Z"), to: Date.parse("2026-03-12T00:00:00Z") },
    { from: Date.parse("2026-10-28T00:00:00Z"), to: Date.parse("2026-11-04T00:00:00Z") },
  ];

  async function setZone(timeZone: string) {
    const res = await fetch(`${s.url}/admin/settings`, {
      method: "POST",
      headers: { Cookie: adminCookie, Origin: s.url, "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ timeZone }),
      redirect: "manual",
    });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    s = await startServer();
    const admin = await makeUser(s.db, "admin");
    const manager = await makeUser(s.db, "manager");
    await makeType(s.db, invoiceType(manager.email, { routing: { minConfidence: 0.9 } }));
    readKey = await makeKey(s.db, ["read"]);
    const ingestKey = await makeKey(s.db, ["ingest"]);
    adminCookie = await signIn(s.url, admin.email, admin.password);
    managerCookie = await signIn(s.url, manager.email, manager.password);
    // Every 3 h 7 min through each period (and a little before and after it), so that instants land on every
    // hour of the day and near every midnight; every third one goes to review (and stays pending).
    const batch: ReturnType<typeof invoiceDecision>[] = [];
    for (const p of periods) {
      for (let at = p.from - 5 * HOUR, i = 0; at < p.to + 5 * HOUR; at += 3 * HOUR + 7 * MINUTE, i++) {
        const auto = i % 3 !== 0;
        sent.push({ at, auto });
        batch.push(invoiceDecision(`tz-${sent.length}`, { occurredAt: new Date(at).toISOString(), confidence: auto ? 0.99 : 0.5 }));
      }
    }
    for (let i = 0; i < batch.length; i += 100) expect((await ingest(s, ingestKey, { decisions: batch.slice(i, i + 100) })).status).toBe(201);
  });
  afterAll(async () => {
    await setZone("UTC");
    await s?.close();
  });

  it("days and weeks follow the zone across daylight-saving changes (23- and 25-hour days), in the API, on the page and in the CSV", async () => {
    for (const timeZone of ["America/New_York", "Asia/Kolkata", "UTC"]) {
      await setZone(timeZone);
      for (const p of periods) {
        for (const bucket of ["day", "week"] as const) {
          const query = { type: "invoice", from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(), bucket };
          const res = await automationReport(s, readKey, query);
          expect(res.status).toBe(200);
          expect(res.body.timeZone).toBe(timeZone);
          const want = expectedBuckets(sent, p.from, p.to, bucket, timeZone);
          expect(
            res.body.buckets.map((b) => ({ start: b.start, volume: b.volume, auto: b.auto, pending: b.pending })),
            `${timeZone} ${bucket} ${query.from}`,
          ).toEqual(want);
          expect(res.body.totals.volume).toBe(sent.filter((d) => d.at >= p.from && d.at < p.to).length);
        }
      }
    }
    // The day the clocks went forward in New York is 23 hours long, the day they went back 25.
    await setZone("America/New_York");
    const march = await automationReport(s, readKey, { type: "invoice", from: "2026-03-08T05:00:00Z", to: "2026-03-10T04:00:00Z", bucket: "day" });
    expect(march.body.buckets.map((b) => b.start)).toEqual(["2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z"]);
    const november = await automationReport(s, readKey, { type: "invoice", from: "2026-11-01T04:00:00Z", to: "2026-11-03T05:00:00Z", bucket: "day" });
    expect(november.body.buckets.map((b) => b.start)).toEqual(["2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"]);

    // The /reports page (its loader data, as the browser receives it) and the CSV show the same buckets.
    const p = periods[0];
    const qs = new URLSearchParams({ type: "invoice", from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(), bucket: "day" });
    const page = await fetch(`${s.url}/reports.data?${qs}`, { headers: { Cookie: managerCookie } });
    expect(page.status).toBe(200);
    const decoded = await decode(page.body!);
    await decoded.done;
    const report = (decoded.value as Record<string, { data: { report: { query: { timeZone: string }; series: Bucket[] } } }>)["routes/reports"].data.report;
    const want = expectedBuckets(sent, p.from, p.to, "day", "America/New_York");
    expect(report.query.timeZone).toBe("America/New_York");
    expect(report.series.map((b) => ({ start: b.start, volume: b.volume, auto: b.auto, pending: b.pending }))).toEqual(want);
    const csv = await fetch(`${s.url}/reports/csv?table=automation&${qs}`, { headers: { Cookie: managerCookie } });
    expect(csv.status).toBe(200);
    const rows = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(want.length);
    expect(rows.map((r) => Object.values(r)[0])).toEqual(want.map((b) => b.start));
  });
});
