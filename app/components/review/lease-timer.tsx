/**
 * The lease on the current task: time left, renewed while the reviewer is
 * active, released when they leave the page.
 */
import { useEffect, useRef, useState } from "react";
import { formatClock } from "~/lib/format";

const ACTIVE_WINDOW_MS = 2 * 60_000;

export function useLease(taskId: string, leaseExpiresAt: number, serverNow: number) {
  // Clock skew: count from the server's own "now" at load time.
  const [expiresAt, setExpiresAt] = useState(leaseExpiresAt);
  const [left, setLeft] = useState(leaseExpiresAt - serverNow);
  const offset = useRef(0);
  const lastActive = useRef(0);
  const lastRenew = useRef(0);
  const leaseMs = useRef(leaseExpiresAt - serverNow);

  // A new lease (another task, or the same one loaded again) restarts the countdown:
  // the state follows the props during render, the refs are reset after commit.
  const [leaseFor, setLeaseFor] = useState({ taskId, leaseExpiresAt, serverNow });
  if (leaseFor.taskId !== taskId || leaseFor.leaseExpiresAt !== leaseExpiresAt || leaseFor.serverNow !== serverNow) {
    setLeaseFor({ taskId, leaseExpiresAt, serverNow });
    setExpiresAt(leaseExpiresAt);
    setLeft(leaseExpiresAt - serverNow);
  }
  useEffect(() => {
    offset.current = Date.now() - serverNow;
    leaseMs.current = leaseExpiresAt - serverNow;
    lastRenew.current = Date.now();
    lastActive.current = 0;
  }, [taskId, leaseExpiresAt, serverNow]);

  useEffect(() => {
    const mark = () => (lastActive.current = Date.now());
    window.addEventListener("keydown", mark, true);
    window.addEventListener("pointerdown", mark, true);
    window.addEventListener("input", mark, true);
    return () => {
      window.removeEventListener("keydown", mark, true);
      window.removeEventListener("pointerdown", mark, true);
      window.removeEventListener("input", mark, true);
    };
  }, []);

  useEffect(() => {
    let stopped = false;
    let renewing = false;
    const tick = async () => {
      const now = Date.now();
      const remaining = expiresAt - (now - offset.current);
      setLeft(remaining);
      if (stopped || renewing || remaining <= 0) return;
      const active = lastActive.current > lastRenew.current && now - lastActive.current < ACTIVE_WINDOW_MS;
      // Renew once a third of the lease has passed, only for someone actually working.
      if (active && now - lastRenew.current > leaseMs.current / 3) {
        renewing = true;
        try {
          const res = await fetch(`/api/v1/tasks/${encodeURIComponent(taskId)}/renew`, { method: "POST", headers: { Accept: "application/json" } });
          if (res.ok) {
            const body = (await res.json()) as { task: { leaseExpiresAt: string } };
            lastRenew.current = Date.now();
            setExpiresAt(Date.parse(body.task.leaseExpiresAt));
          }
        } finally {
          renewing = false;
        }
      }
    };
    const id = window.setInterval(() => {
      // A renewal that fails on the network is tried again on the next tick (lastRenew is unchanged).
      tick().catch(() => {});
    }, 1000);
    return () => {
      stopped = true;
      window.clearInterval(id);
    };
  }, [taskId, expiresAt]);

  // Leaving the page (closing the tab, going elsewhere in the app) hands the task back,
  // unless a verdict, skip or stop already settled it.
  const settled = useRef(false);
  useEffect(() => {
    settled.current = false;
    const release = () => {
      if (!settled.current) navigator.sendBeacon?.(`/api/v1/tasks/${encodeURIComponent(taskId)}/release`);
    };
    window.addEventListener("pagehide", release);
    return () => {
      window.removeEventListener("pagehide", release);
      release();
    };
  }, [taskId]);

  return { left, expired: left <= 0, settle: (done = true) => (settled.current = done) };
}

export function LeaseTimer({ left }: { left: number }) {
  const low = left < 60_000;
  return (
    <span
      className={`inline-flex items-center gap-1 rounded px-2 py-0.5 text-xs font-medium tabular-nums ${left <= 0 ? "bg-red-100 text-red-800" : low ? "bg-amber-100 text-amber-900" : "bg-slate-100 text-slate-700"}`}
      title="Your lease on this task; it renews while you work"
    >
      <span className="sr-only">Lease time left:</span>
      {left <= 0 ? "Lease expired" : `Lease ${formatClock(left)}`}
    </span>
  );
}
