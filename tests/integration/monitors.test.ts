/**
 * Drift monitors over HTTP and the CLI (issue 15): decisions go in over the API with simulated times, a
 * reviewer works the queue (in one segment humans start changing most outputs), `lastmile monitors run --at`
 * evaluates at a chosen data time. The override-rate alert fires for that segment only, with the figures and
 * windows this test works out from what it sent; it is deduplicated, acknowledged by a person, seen by whom
 * it should be, and resolved once the segment is back to normal. The monitors' per-minute counters equal a
 * from-scratch count of the decisions.
 */
import { eq } from "drizzle-orm";
import { decode } from "turbo-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decisions, monitorCounters, reviews, tasks } from "@db/schema/index";
import { factsFromHistory } from "~/domain/decisions/facts.server";
import { monitorCountersFromFacts, reviewContributions } from "~/domain/monitors/counters";
import { claim, ingest, outboxFor, review } from "../support/api";
import { runCli } from "../support/cli";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { signIn } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

type Sent = { externalId: string; region: "north" | "south"; at: number; overridden: boolean };
type Alert = {
  id: string;
  monitor: string;
  type: string;
  segment: string;
  state: string;
  firedAt: string;
  resolvedAt: string | null;
  acknowledgedBy: string | null;
  figures: Record<string, unknown>;
};

const T0 = Date.parse("2026-06-01T08:00:00Z");
const METRICS_TOKEN = "monitors-test-metrics-token-0123456789";
const MIN = 60_000;

describe("drift monitors", () => {
  let s: TestServer;
  let ingestKey: string;
  let readKey: string;
  let workKey: string;
  let adminKey: string;
  let reviewerKey: string;
  let ownerKey: string;
  let managerCookie: string;
  let managerEmail: string;
  const sent: Sent[] = [];

  /** Sends `n` decisions spread over [from, from + minutes), regions alternating; `overrideEvery(i, region)` plans the verdict. */
  async function traffic(from: number, minutes: number, n: number, overridden: (i: number, region: "north" | "south") => boolean) {
    const batch = [];
    for (let i = 0; i < n; i++) {
      const region = i % 2 === 0 ? "north" : "south";
      const one: Sent = { externalId: `m-${sent.length}`, region, at: from + Math.floor((i * minutes * MIN) / n), overridden: overridden(i, region) };
      sent.push(one);
      batch.push(invoiceDecision(one.externalId, { confidence: 0.5, input: { vendor: "ACME", region }, occurredAt: new Date(one.at).toISOString() }));
    }
    expect((await ingest(s, ingestKey, { decisions: batch })).status).toBe(201);
    for (;;) {
      const c = await claim(s, workKey, { type: "invoice" });
      if (c.status === 204) break;
      expect(c.status).toBe(200);
      const one = sent.find((d) => d.externalId === c.body.decision.externalId)!;
      const verdict = one.overridden ? { action: "correct", output: { total: 1, currency: "EUR" }, reasonCodes: ["WRONG_TOTAL"] } : { action: "approve" };
      expect((await review(s, workKey, c.body.task.id, verdict)).status).toBe(200);
    }
  }

  const run = (at: number) => {
    const r = runCli(["monitors", "run", "--at", new Date(at).toISOString()], s.env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { at: string; fired: Alert[]; resolved: Alert[] };
  };
  const list = async (key: string, query: Record<string, string> = {}) =>
    s.request<{ alerts: Alert[] }>(`/api/v1/alerts?${new URLSearchParams(query)}`, { key });
  const rate = (rows: Sent[]) => rows.filter((d) => d.overridden).length / rows.length;

  beforeAll(async () => {
    // The evaluation job's own ticks look at the wall clock (no data there); this test drives the data's time.
    s = await startServer({ MONITOR_EVERY_MS: "3600000", METRICS_TOKEN });
    const manager = await makeUser(s.db, "manager");
    managerEmail = manager.email;
    managerCookie = await signIn(s.url, manager.email, manager.password);
    const admin = await makeUser(s.db, "admin");
    const reviewer = await makeUser(s.db, "reviewer");
    const owner = await makeUser(s.db, "reviewer");
    await makeType(
      s.db,
      invoiceType(manager.email, {
        routing: { minConfidence: 0.99, qaSampleRate: 0 },
        monitors: {
          segmentField: "region",
          overrideRate: { windowMinutes: 30, baselineMinutes: 240, minCount: 10, minEffect: 0.2, maxP: 0.001 },
          confidence: { enabled: false },
        },
      }),
    );
    // A type owned by a person whose role does not read alerts: they see that type's alerts only.
    await makeType(s.db, { ...invoiceType(owner.email), key: "owned", name: "Owned" });
    ingestKey = await makeKey(s.db, ["ingest"]);
    readKey = await makeKey(s.db, ["read"]);
    workKey = await makeKey(s.db, ["review"], reviewer.email);
    adminKey = await makeKey(s.db, ["admin"], admin.email);
    reviewerKey = await makeKey(s.db, ["read"], reviewer.email);
    ownerKey = await makeKey(s.db, ["read"], owner.email);
    // Baseline 08:00–12:00: one in ten changed by the reviewer, both regions.
    await traffic(T0, 240, 60, (i) => i % 10 === 0);
    // 12:00–12:30: in the north most outputs are now changed; the south is as before.
    await traffic(T0 + 240 * MIN, 30, 40, (i, region) => (region === "north" ? i % 5 !== 0 : i % 10 === 1));
  });
  afterAll(async () => s?.close());

  it("the override-rate alert fires for the segment that moved, with the figures and windows worked out from what was sent", async () => {
    const at = T0 + 270 * MIN;
    const result = run(at);
    expect(result.at).toBe(new Date(at).toISOString());
    const north = result.fired.find((a) => a.monitor === "override_rate" && a.segment === "segment=north");
    expect(north).toBeDefined();
    expect(result.fired.find((a) => a.segment === "segment=south")).toBeUndefined();

    const recent = sent.filter((d) => d.at >= at - 30 * MIN && d.at < at && d.region === "north");
    const baseline = sent.filter((d) => d.at >= at - 270 * MIN && d.at < at - 30 * MIN && d.region === "north");
    const res = await list(readKey, { type: "invoice", state: "firing" });
    expect(res.status).toBe(200);
    const alert = res.body.alerts.find((a) => a.id === north!.id)!;
    expect(alert).toMatchObject({
      monitor: "override_rate",
      type: "invoice",
      segment: "segment=north",
      state: "firing",
      firedAt: new Date(at).toISOString(),
      resolvedAt: null,
    });
    expect(alert.figures).toMatchObject({
      recentN: recent.length,
      baselineN: baseline.length,
      recentWindow: { from: new Date(at - 30 * MIN).toISOString(), to: new Date(at).toISOString() },
      baselineWindow: { from: new Date(at - 270 * MIN).toISOString(), to: new Date(at - 30 * MIN).toISOString() },
    });
    expect(alert.figures.recentRate as number).toBeCloseTo(rate(recent), 12);
    expect(alert.figures.baselineRate as number).toBeCloseTo(rate(baseline), 12);

    // Source systems hear of it: an alert.fired event in the outbox, its data the alert as the API lists it.
    const events = await outboxFor(s.db, alert.id);
    expect(events.map((e) => e.eventType)).toEqual(["alert.fired"]);
    expect(JSON.parse(events[0].payload)).toMatchObject({ type: "alert.fired", data: { ...alert, figures: expect.any(Object) } });
    // And Prometheus: one gauge per type, monitor and state of the open alerts.
    const firing = res.body.alerts.filter((a) => a.monitor === "override_rate").length;
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toContain(`lastmile_alerts_open{type="invoice",monitor="override_rate",state="firing"} ${firing}`);

    // The alerts page: the chart's point at the onset is the figure the monitor saw; the banner counts what fires.
    const page = await fetch(`${s.url}/alerts.data?state=all`, { headers: { Cookie: managerCookie } });
    expect(page.status).toBe(200);
    const decoded = await decode(page.body!);
    await decoded.done;
    const routes = decoded.value as Record<string, { data: unknown }>;
    type PageAlert = { alert: Alert; series: { points: { end: string; value: number | null; n: number }[]; reference: number | null } };
    const shown = (routes["routes/alerts"].data as { alerts: PageAlert[] }).alerts.find((x) => x.alert.id === alert.id)!;
    const onset = shown.series.points.find((p) => p.end === new Date(at).toISOString())!;
    expect(onset).toMatchObject({ n: recent.length });
    expect(onset.value!).toBeCloseTo(rate(recent), 12);
    expect(shown.series.reference!).toBeCloseTo(rate(baseline), 12);
    const firingNow = (await list(readKey, { state: "firing" })).body.alerts.length;
    expect((routes.root.data as { user: { firingAlerts: number } }).user.firingAlerts).toBe(firingNow);

    // Deduplicated: a minute later the condition holds, nothing new fires; still one open alert for the north.
    expect(run(at + MIN).fired.filter((a) => a.segment === "segment=north")).toEqual([]);
    const open = (await list(readKey, { type: "invoice" })).body.alerts.filter((a) => a.segment === "segment=north" && a.state !== "resolved");
    expect(open).toHaveLength(1);
  });

  it("is seen by whom it should be: alert readers and a type's owner (their own types only); others are refused", async () => {
    expect((await list(adminKey)).body.alerts.length).toBeGreaterThan(0);
    const reviewer = await list(reviewerKey);
    expect(reviewer.status).toBe(403);
    const owner = await list(ownerKey);
    expect(owner.status).toBe(200);
    expect(owner.body.alerts).toEqual([]);
    expect((await s.request("/api/v1/alerts")).status).toBe(401);
    const bad = await s.request<{ error: { issues: { path: string }[] } }>("/api/v1/alerts?state=loud", { key: readKey });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(["state"]);
  });

  it("is acknowledged once, by a person who may; then resolves when the segment is back to normal", async () => {
    const [alert] = (await list(readKey, { type: "invoice", state: "firing" })).body.alerts.filter((a) => a.segment === "segment=north");
    expect((await s.request(`/api/v1/alerts/${alert.id}/acknowledge`, { method: "POST", key: readKey })).status).toBe(403);
    expect((await s.request(`/api/v1/alerts/${alert.id}/acknowledge`, { method: "POST", key: ownerKey })).status).toBe(404);
    const ack = await s.request<Alert>(`/api/v1/alerts/${alert.id}/acknowledge`, { method: "POST", key: adminKey });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id: alert.id, state: "acknowledged" });
    expect(ack.body.acknowledgedBy).toMatch(/@/);
    expect((await s.request(`/api/v1/alerts/${alert.id}/acknowledge`, { method: "POST", key: adminKey })).status).toBe(409);
    expect((await s.request("/api/v1/alerts/alr_nope/acknowledge", { method: "POST", key: adminKey })).status).toBe(404);

    // 12:30–13:00: the north is back to one in ten.
    await traffic(T0 + 270 * MIN, 30, 40, (i) => i % 10 === 0);
    const at = T0 + 300 * MIN;
    const result = run(at);
    expect(result.resolved.map((a) => a.id)).toContain(alert.id);
    const resolved = (await list(readKey, { type: "invoice", state: "resolved" })).body.alerts.find((a) => a.id === alert.id)!;
    expect(resolved).toMatchObject({ state: "resolved", resolvedAt: new Date(at).toISOString(), firedAt: new Date(T0 + 270 * MIN).toISOString() });
    expect((await outboxFor(s.db, alert.id)).map((e) => e.eventType)).toEqual(["alert.fired", "alert.resolved"]);
  });

  it("SLA breaches: fires on tasks that went past their deadline within the window, not on tasks overdue for long", async () => {
    // A queue nobody works: three review tasks due an hour after they arrive (the server's clock).
    await makeType(s.db, { ...invoiceType(managerEmail, { routing: { minConfidence: 0.99, qaSampleRate: 0 } }), key: "late", name: "Late", slaMinutes: 60 });
    const batch = ["sla-1", "sla-2", "sla-3"].map((id) => ({ ...invoiceDecision(id, { confidence: 0.5 }), type: "late" }));
    expect((await ingest(s, ingestKey, { decisions: batch })).status).toBe(201);
    const due = (await s.db.select({ dueAt: tasks.dueAt }).from(tasks).where(eq(tasks.typeKey, "late"))).map((t) => Number(t.dueAt));
    expect(due).toHaveLength(3);
    const deadline = Math.max(...due);
    const slaAlerts = async () => (await list(readKey, { type: "late" })).body.alerts.filter((a) => a.monitor === "sla_breaches");
    const minute = (t: number) => Math.ceil(t / MIN) * MIN;

    // Three hours past the deadline (an upgraded store's old queue): overdue, but known for long; nothing fires.
    const late = run(minute(deadline + 180 * MIN));
    expect(late.fired.filter((a) => a.type === "late")).toEqual([]);
    expect(await slaAlerts()).toEqual([]);

    // Minutes after the deadline, the three fresh breaches fire, with the window they were counted in.
    const at = minute(deadline + 5 * MIN);
    const fresh = run(at).fired.filter((a) => a.type === "late" && a.monitor === "sla_breaches");
    expect(fresh).toHaveLength(1);
    const [alert] = await slaAlerts();
    expect(alert).toMatchObject({ id: fresh[0].id, state: "firing", firedAt: new Date(at).toISOString() });
    expect(alert.figures).toMatchObject({
      newBreaches: 3,
      breaches: 3,
      threshold: { minBreaches: 1 },
      recentWindow: { from: new Date(at - 30 * MIN).toISOString(), to: new Date(at).toISOString() },
    });

    // A window later with no new breach, it resolves, though the tasks are still overdue.
    const later = minute(deadline + 40 * MIN);
    expect(run(later).resolved.map((a) => a.id)).toContain(alert.id);
    expect((await slaAlerts()).map((a) => a.state)).toEqual(["resolved"]);
  });

  it("keeps per-minute counters equal to a from-scratch count of the decisions and their reviews", async () => {
    const history = new Map<string, (typeof reviews.$inferSelect)[]>();
    const all = await s.db.select().from(reviews);
    for (const r of all) history.set(r.decisionId, [...(history.get(r.decisionId) ?? []), r]);
    const expected = monitorCountersFromFacts((await s.db.select().from(decisions)).map((d) => factsFromHistory(d, history.get(d.id) ?? [])));
    // The reviewers' verdicts: events, counted at the minute of the verdict.
    for (const r of all) {
      const typeKey = (await s.db.select({ t: decisions.typeKey }).from(decisions).where(eq(decisions.id, r.decisionId)))[0].t;
      for (const metric of reviewContributions({ typeKey, reviewerId: r.reviewerId, action: r.action, handlingMs: r.handlingMs, at: Number(r.createdAt) })) {
        const k = `${typeKey}|${metric}|${Math.floor(Number(r.createdAt) / 60_000) * 60_000}`;
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
    }
    const stored = new Map<string, number>();
    // Gauges are what the evaluator saw, not counts.
    for (const r of await s.db.select().from(monitorCounters))
      if (Number(r.value) !== 0 && !r.metric.startsWith("g:")) stored.set(`${r.typeKey}|${r.metric}|${Number(r.minute)}`, Number(r.value));
    const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
    expect(sorted(stored)).toEqual(sorted(expected));
    expect([...stored.keys()].some((k) => k.includes("rv:n|"))).toBe(true);
    expect([...stored.keys()].some((k) => k.includes("ovr:k|segment=north"))).toBe(true);
  });

  it("volume: a week whose window saw the traffic begin is not the usual level; a week that saw all of it is", async () => {
    // Runs last: it adds two types, traffic weeks away from the rest, and alerts of its own.
    const W0 = Date.parse("2026-02-02T00:00:00Z");
    const W1 = W0 + 7 * 24 * 60 * MIN;
    const H = 60 * MIN;
    const monitors = { volume: { minExpected: 5 }, confidence: { enabled: false } };
    for (const key of ["vol-new", "vol-old"])
      await makeType(s.db, { ...invoiceType(managerEmail, { routing: { minConfidence: 0, qaSampleRate: 0 }, monitors }), key, name: key });
    /** `perMinute` decisions a minute over [from, to), auto-released (no review lane, so only traffic moves). */
    const steady = async (type: string, from: number, to: number, perMinute: number) => {
      const batch = [];
      for (let m = from; m < to; m += MIN)
        for (let i = 0; i < perMinute; i++)
          batch.push(invoiceDecision(`${type}-${m}-${i}`, { type, occurredAt: new Date(m + Math.floor((i * MIN) / perMinute)).toISOString() }));
      for (let i = 0; i < batch.length; i += 100) expect((await ingest(s, ingestKey, { decisions: batch.slice(i, i + 100) })).status).toBe(201);
    };
    // Week 0: "vol-old" runs at 2 a minute from 08:00; "vol-new" starts at 09:35, at 5 a minute.
    await steady("vol-old", W0 + 8 * H, W0 + 10 * H, 2);
    await steady("vol-new", W0 + 9 * H + 35 * MIN, W0 + 10 * H, 5);
    // Week 1: both at 5 a minute from 09:00; evaluated at 09:40.
    await steady("vol-old", W1 + 9 * H, W1 + 9 * H + 40 * MIN, 5);
    await steady("vol-new", W1 + 9 * H, W1 + 9 * H + 40 * MIN, 5);
    const result = run(W1 + 9 * H + 40 * MIN);
    const volume = result.fired.filter((a) => a.monitor === "volume");
    // "vol-old" went from 2 to 5 a minute: a real surge against the same hour a week before (2 a minute).
    expect(volume.map((a) => a.type)).toEqual(["vol-old"]);
    expect(volume[0].figures).toMatchObject({ usualFrom: "same time in earlier weeks", weeks: 1, observed: 50, expected: 20 });
    // "vol-new" ran at 5 a minute throughout; its week-0 hour held only the 25 minutes after it started, and
    // is not taken as its usual level: it compares with the half hour before the window instead, and stays quiet.
    const all = (await list(readKey, { type: "vol-new" })).body.alerts;
    expect(all.filter((a) => a.monitor === "volume")).toEqual([]);
  });
});
