/**
 * A small mixed load over real HTTP for the operations tests (graceful shutdown, kill -9, backup):
 * single ingests, batches, and reviewers claiming and deciding, each request on a connection of its
 * own, so an answer missing is the server's doing and not a keep-alive race. It records what the
 * server acknowledged (the externalIds of 201/200 ingests, the verdicts answered 200) and every
 * request that was accepted but never answered.
 */
import http from "node:http";
import { reviewDecision, autoDecision } from "./api";

/** One request and how it ended; `about` names what it acted on (the externalIds ingested, the decision reviewed). */
export type Outcome = ({ path: string; status: number } | { path: string; error: string; refused: boolean }) & { about?: string[] };

export type LoadResult = {
  /** externalIds whose ingest the server acknowledged (201, or 200 for a repeat). */
  acknowledged: Set<string>;
  /** decision id → the verdict the server acknowledged for it. */
  verdicts: Map<string, string>;
  /** task ids the server answered a claim with. */
  claimed: Set<string>;
  outcomes: Outcome[];
};

/** POST JSON on a fresh connection. A refused connection is `refused`; any other failure is a request the server took and did not answer. */
export function post(url: string, path: string, key: string, body: unknown): Promise<{ status: number; body: unknown } | { error: string; refused: boolean }> {
  const data = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      `${url}${path}`,
      {
        method: "POST",
        agent: false,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", (e) => resolve({ error: e.message, refused: false }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: `${e.code ?? ""} ${e.message}`, refused: e.code === "ECONNREFUSED" }));
    req.end(data);
  });
}

/**
 * Runs until `until()` is true (checked between requests) or the server refuses connections:
 * `ingesters` loops of single ingests (every tenth a batch of 20), one loop per reviewer key of claim → decide.
 * `live` is filled as answers arrive; `finished` resolves with it once every loop has stopped.
 */
export function mixedLoad(
  url: string,
  opts: { type: string; ingestKey: string; reviewerKeys: string[]; ingesters?: number; prefix: string; until: () => boolean },
): { live: LoadResult; finished: Promise<LoadResult> } {
  const result: LoadResult = { acknowledged: new Set(), verdicts: new Map(), claimed: new Set(), outcomes: [] };
  let refused = false;
  const done = () => refused || opts.until();
  let n = 0;
  const ingester = async () => {
    while (!done()) {
      const i = n++;
      const batch = i % 10 === 9;
      const items = Array.from({ length: batch ? 20 : 1 }, (_, j) => {
        const id = `${opts.prefix}-${i}-${j}`;
        return j % 2 ? autoDecision(opts.type, id) : reviewDecision(opts.type, id);
      });
      const r = await post(url, "/api/v1/decisions", opts.ingestKey, batch ? { decisions: items } : items[0]);
      record(
        "/api/v1/decisions",
        r,
        items.map((d) => d.externalId),
      );
      if ("status" in r && (r.status === 201 || r.status === 200)) for (const d of items) result.acknowledged.add(d.externalId);
    }
  };
  const reviewer = async (key: string, k: number) => {
    for (let round = 0; !done(); round++) {
      const c = await post(url, "/api/v1/tasks/claim", key, { type: opts.type });
      record("/api/v1/tasks/claim", c);
      if ("status" in c && c.status === 200) result.claimed.add((c.body as { task: { id: string } }).task.id);
      else {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const { task, decision } = c.body as { task: { id: string }; decision: { id: string } };
      const action = (round + k) % 2 ? "approve" : "correct";
      const body = action === "approve" ? { action } : { action, output: { total: 1, currency: "USD", lines: [] }, reasonCodes: ["WRONG_TOTAL"] };
      const v = await post(url, `/api/v1/tasks/${task.id}/review`, key, body);
      record("/api/v1/tasks/:id/review", v, [decision.id]);
      if ("status" in v && v.status === 200) result.verdicts.set(decision.id, action);
    }
  };
  function record(path: string, r: Awaited<ReturnType<typeof post>>, about?: string[]) {
    if ("status" in r) result.outcomes.push({ path, status: r.status, about });
    else {
      result.outcomes.push({ path, error: r.error, refused: r.refused, about });
      if (r.refused) refused = true;
    }
  }
  const finished = Promise.all([...Array.from({ length: opts.ingesters ?? 3 }, () => ingester()), ...opts.reviewerKeys.map((k, i) => reviewer(k, i))]).then(
    () => result,
  );
  return { live: result, finished };
}

/**
 * Resolves once the load is under way: at least `acknowledged` ingests and `verdicts` verdicts answered. A fixed
 * sleep instead would measure the machine (on a loaded one, 1.5 s held a handful of answers). Throws after `timeoutMs`.
 */
export async function underWay(r: LoadResult, min: { acknowledged: number; verdicts: number } = { acknowledged: 30, verdicts: 3 }, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (r.acknowledged.size < min.acknowledged || r.verdicts.size < min.verdicts) {
    if (Date.now() > until) throw new Error(`load not under way after ${timeoutMs} ms: ${r.acknowledged.size} ingests, ${r.verdicts.size} verdicts answered`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Requests that got no answer and were not refused outright. A connection the kernel had queued (or Node had
 * accepted before any of its request arrived) when the server stopped listening is reset unread: the caller
 * checks by their effects that none of these was carried out.
 */
export const unanswered = (r: LoadResult) => r.outcomes.filter((o) => "error" in o && !o.refused);
/** Answers that are the server's fault. */
export const serverErrors = (r: LoadResult) => r.outcomes.filter((o) => "status" in o && o.status >= 500);
