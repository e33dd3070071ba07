/**
 * The monitors' counters stay bounded (issue 15: "roll-ups per minute for recent data, compacted to hours later"):
 * the server's monitor job, after each evaluation, sums per-minute rows older than two days into one row per
 * hour and deletes rows older than 35 days. Decisions go in over the API at three ages (an hour, three days and
 * forty days before now); the running server's own job does the rest. What is left equals a from-scratch count
 * of the decisions, compacted by those rules.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisions, monitorCounters } from "@db/schema/index";
import { factsFromHistory } from "~/domain/decisions/facts.server";
import { monitorCountersFromFacts } from "~/domain/monitors/counters";
import { ingest } from "../support/api";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe("monitor counter retention", () => {
  let s: TestServer;
  let now: number;

  beforeAll(async () => {
    // The monitor job every 300 ms: it evaluates and then compacts, on the wall clock.
    s = await startServer({ MONITOR_EVERY_MS: "300" });
    const manager = await makeUser(s.db, "manager");
    await makeType(s.db, invoiceType(manager.email, { routing: { minConfidence: 0, qaSampleRate: 0 } }));
    const key = await makeKey(s.db, ["ingest"]);
    now = Date.now();
    // Three ages, each spread over minutes of two hours (mid-hour, so compaction has minutes to sum).
    const at = (base: number, i: number) => new Date(Math.floor(base / HOUR) * HOUR - HOUR + 7 * MIN + i * 13 * MIN + (i % 3) * 1000).toISOString();
    const batch = [];
    for (const [age, n] of [
      [HOUR, 6],
      [3 * DAY, 8],
      [40 * DAY, 5],
    ] as const)
      for (let i = 0; i < n; i++) batch.push(invoiceDecision(`ret-${age}-${i}`, { occurredAt: at(now - age, i), confidence: 0.5 + i / 20 }));
    expect((await ingest(s, key, { decisions: batch })).status).toBe(201);
  });
  afterAll(async () => s?.close());

  /** The counters as the decisions make them, then compacted as the job does at `t`. */
  async function expected(t: number): Promise<Map<string, number>> {
    const cutoff = Math.floor((t - 2 * DAY) / HOUR) * HOUR;
    const oldest = Math.floor((t - 35 * DAY) / MIN) * MIN;
    const out = new Map<string, number>();
    for (const [k, v] of monitorCountersFromFacts((await s.db.select().from(decisions)).map((d) => factsFromHistory(d, [])))) {
      const [type, metric, minute] = k.split("|");
      const m = Number(minute);
      if (m < oldest) continue;
      const key = `${type}|${metric}|${m < cutoff ? m - (m % HOUR) : m}`;
      out.set(key, (out.get(key) ?? 0) + v);
    }
    return out;
  }

  async function stored(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of await s.db.select().from(monitorCounters))
      if (!r.metric.startsWith("g:") && Number(r.value) !== 0) out.set(`${r.typeKey}|${r.metric}|${Number(r.minute)}`, Number(r.value));
    return out;
  }

  it("sums minutes older than two days into hours, drops rows older than 35 days, keeps recent minutes", async () => {
    const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
    const want = sorted(await expected(now));
    // The job runs every 300 ms; wait for it to have compacted (at most 20 s).
    let got = sorted(await stored());
    for (let waited = 0; JSON.stringify(got) !== JSON.stringify(want) && waited < 20_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      got = sorted(await stored());
    }
    expect(got).toEqual(want);
    const minutes = got.map(([k]) => Number(k.split("|")[2]));
    // The three-day-old decisions are now in hour rows, the hour-old ones still in minute rows, the 40-day-old gone.
    expect(minutes.some((m) => m < now - 2 * DAY && m % HOUR === 0)).toBe(true);
    expect(minutes.filter((m) => m < now - 2 * DAY).every((m) => m % HOUR === 0)).toBe(true);
    expect(minutes.some((m) => m > now - 3 * HOUR && m % HOUR !== 0)).toBe(true);
    expect(minutes.every((m) => m > now - 35 * DAY)).toBe(true);
    // Gauges are what the evaluator saw at a minute: none is kept past two days.
    const gauges = (await s.db.select().from(monitorCounters)).filter((r) => r.metric.startsWith("g:"));
    expect(gauges.every((r) => Number(r.minute) >= now - 2 * DAY - HOUR)).toBe(true);
  });
});
