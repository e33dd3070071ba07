/**
 * The drift simulator and the monitors end to end (issue 15), a shorter version of `npm run bench:drift`:
 * `lastmile simulate` writes realistic credit traffic at 100 applications a minute into a fresh store,
 * worked by simulated reviewers, evaluating the monitors every simulated minute. Two runs on one store:
 * the broker channel's error rate rises by 20 points at minute 75, then (the model fixed) one reviewer
 * starts approving everything in under 3 seconds. Each shift's monitor fires within 15 simulated minutes
 * and nothing fires on the stationary stretches; the alerts the summary reports are the ones the API lists,
 * with the same `firedAt`; the reviewer alert is for managers only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { makeKey, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";

type Summary = {
  start: string;
  end: string;
  decisions: number;
  reviews: number;
  openTasks: number;
  shift: { kind: string; at: string; monitor: string } | null;
  alerts: { monitor: string; type: string; segment: string; firedAt: string; delayMinutes: number | null }[];
  detection: { monitor: string; segment: string; firedAt: string; delayMinutes: number } | null;
  falseAlarms: number;
};
type Alert = { id: string; monitor: string; type: string; segment: string; state: string; firedAt: string; figures: Record<string, unknown> };

const MIN = 60_000;

describe("lastmile simulate", () => {
  let s: TestServer;
  let adminKey: string;
  let readKey: string;
  // Recent simulated time, so the server's counters housekeeping (by the wall clock) leaves it alone.
  const start = Math.floor((Date.now() - 6 * 60 * MIN) / MIN) * MIN;

  const simulate = (args: string[]): Summary => {
    const r = runCli(["simulate", "--quiet", "--types", "credit", "--rate", "100", ...args], s.env, { timeoutMs: 900_000 });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Summary;
  };
  const alertsFor = async (key: string) => (await s.request<{ alerts: Alert[] }>("/api/v1/alerts?type=consumer_credit", { key })).body.alerts;

  beforeAll(async () => {
    // The server's own evaluation is kept out of the way: the simulator evaluates on its clock.
    s = await startServer({ MONITOR_EVERY_MS: "off" });
    const admin = await makeUser(s.db, "admin");
    adminKey = await makeKey(s.db, ["admin"], admin.email);
    readKey = await makeKey(s.db, ["read"]);
  }, 60_000);
  afterAll(() => s?.close());

  let accuracy: Summary;
  it(
    "an accuracy drop in a third of the traffic fires the override rate for that segment within 15 minutes, and nothing before",
    { timeout: 900_000 },
    async () => {
      accuracy = simulate(["--minutes", "95", "--start", new Date(start).toISOString(), "--seed", "11", "--shift", "accuracy", "--shift-at", "75"]);
      // Poisson arrivals around 100 a minute; the reviewers keep up (a small open queue at the end).
      expect(accuracy.decisions).toBeGreaterThan(9_000);
      expect(accuracy.decisions).toBeLessThan(10_000);
      expect(accuracy.reviews).toBeGreaterThan(4_000);
      expect(accuracy.openTasks).toBeLessThan(200);
      expect(accuracy.falseAlarms).toBe(0);
      expect(accuracy.detection).toMatchObject({ monitor: "override_rate", segment: "segment=broker" });
      expect(accuracy.detection!.delayMinutes).toBeLessThanOrEqual(15);
      // What the summary says fired is what the API lists, with the data's time.
      const listed = await alertsFor(readKey);
      const fired = listed.find((a) => a.monitor === "override_rate" && a.segment === "segment=broker")!;
      expect(fired.firedAt).toBe(accuracy.detection!.firedAt);
      expect(fired.figures).toMatchObject({ recentWindow: { to: accuracy.detection!.firedAt } });
      expect((fired.figures.recentRate as number) - (fired.figures.baselineRate as number)).toBeGreaterThanOrEqual(0.08);
    },
  );

  it("a reviewer who starts approving everything in seconds is flagged within 15 minutes, to managers only", { timeout: 900_000 }, async () => {
    const next = Date.parse(accuracy.end);
    const r = simulate(["--minutes", "50", "--start", new Date(next).toISOString(), "--seed", "12", "--shift", "rubber-stamp", "--shift-at", "30"]);
    expect(r.detection).toMatchObject({ monitor: "reviewer" });
    expect(r.detection!.delayMinutes).toBeLessThanOrEqual(15);
    // Before the onset nothing new fired (the broker alert of the first run is still open, not raised again).
    expect(r.falseAlarms).toBe(0);
    const forAdmin = await alertsFor(adminKey);
    const flagged = forAdmin.find((a) => a.monitor === "reviewer")!;
    expect(flagged.firedAt).toBe(r.detection!.firedAt);
    expect(flagged.figures).toMatchObject({ approvalRate: 1 });
    expect(flagged.figures.fastShare as number).toBeGreaterThanOrEqual(0.5);
    // A read key (an integrator's dashboard) sees the drift alerts, never a named reviewer's.
    expect((await alertsFor(readKey)).some((a) => a.monitor === "reviewer")).toBe(false);
  });

  it("refuses bad arguments with one line naming the flag, and writes nothing", () => {
    const r = runCli(["simulate", "--minutes", "0", "--rate", "100"], s.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--minutes");
    const shift = runCli(["simulate", "--minutes", "10", "--rate", "100", "--shift", "accuracy"], s.env);
    expect(shift.code).toBe(2);
    expect(shift.stderr).toContain("--shift and --shift-at go together");
  });
});
