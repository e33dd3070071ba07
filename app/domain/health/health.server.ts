/**
 * Liveness and readiness, for /healthz and /readyz (scripts/server.js).
 * Live: the process answers. Ready: the database answers within a short time
 * and has every migration bundled with this build applied (an instance of a
 * newer build waits for its migrations; one of an older build stays ready).
 * Nothing is cached: each probe asks the database once.
 */
import { getDb, migrationState, type Db } from "@db/client.server";
import { errorFields, log } from "~/lib/log.server";

export type Readiness = { ready: true; migrations: { bundled: number; applied: number } } | { ready: false; reason: string };

export const READY_TIMEOUT_MS = 2_000;

export async function readiness(opts: { db?: Db; timeoutMs?: number } = {}): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), opts.timeoutMs ?? READY_TIMEOUT_MS);
  });
  try {
    const state = await Promise.race([migrationState(opts.db ?? getDb()), timeout]);
    if (state.pending > 0)
      return { ready: false, reason: `database not migrated: ${state.pending} of the ${state.bundled} migrations of this build are not applied` };
    return { ready: true, migrations: { bundled: state.bundled, applied: state.applied } };
  } catch (e) {
    // The details (host names, driver messages) go to the log, not to an unauthenticated caller.
    log().warn(errorFields(e), "readiness: database check failed");
    return { ready: false, reason: "database unavailable" };
  } finally {
    clearTimeout(timer);
  }
}
