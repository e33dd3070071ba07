/**
 * The server listens before its background jobs' first runs (issue 16): on a big store those runs (the
 * roll-up split, a webhook backlog) can take minutes, and a server that waits for them before it listens is
 * down all that while. Here a first run that cannot finish: a webhook delivery pending when the server starts,
 * to a receiver that holds the request open. The server listens and /readyz answers ready while the delivery
 * is still held; the job went ahead only once the server listened; once the receiver answers, the delivery
 * is recorded.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, expect, it } from "vitest";
import { closeDatabase } from "@db/client.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { createWebhook } from "~/domain/webhooks/subscriptions.server";
import { autoDecision, freshType, sleep, webhookDeliveries } from "../support/api";
import { makeKey, makeUser, testStore } from "../support/db";
import { startServer, type TestServer } from "../support/server";

let s: TestServer | undefined;
let receiver: http.Server | undefined;
afterAll(async () => {
  await s?.close();
  receiver?.closeAllConnections();
  receiver?.close();
});

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(50);
  }
}

it("listens and is ready while a job's first run is still going, which started only once it listened", { timeout: 120_000 }, async () => {
  // A receiver that holds every request open until the test lets it answer.
  const held: { at: number; res: http.ServerResponse }[] = [];
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => held.push({ at: Date.now(), res }));
  });
  await new Promise<void>((resolve) => receiver!.listen(0, "127.0.0.1", resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  // The store before the server starts: a subscription and an automatic decision, so a delivery is pending.
  const store = await testStore();
  const admin = await makeUser(store.db, "admin");
  const key = await makeKey(store.db, ["admin", "read"], admin.email);
  const type = await freshType(store.db, admin.email);
  const webhook = await createWebhook(store.db, { url: hook, events: ["decision.finalized"] }, admin.email);
  await ingestDecisions(store.db, [autoDecision(type, "held-1")], { batch: false, actor: admin.email });
  await closeDatabase(store.db);

  // The delivery would wait two minutes for its answer: a server that awaited its jobs' first runs would not listen meanwhile.
  s = await startServer({ ...store.env, WEBHOOK_TIMEOUT_MS: "120000", WEBHOOK_POLL_MS: "50" });
  const request = await until("the pending delivery reaches the receiver", () => held[0]);
  const ready = await s.request<{ status: string }>("/readyz");
  expect(held).toHaveLength(1);
  expect(request.res.writableEnded).toBe(false); // still held
  expect({ status: ready.status, body: ready.body.status }).toEqual({ status: 200, body: "ready" });

  // The job's first run went ahead after the server listened.
  const listening = s
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg?: string; time?: string | number })
    .find((l) => l.msg?.startsWith("listening on"));
  expect(listening?.time).toBeDefined();
  expect(new Date(listening!.time!).getTime()).toBeLessThanOrEqual(request.at);

  // Once the receiver answers, the job carries on: the delivery is recorded as delivered.
  request.res.writeHead(200).end("ok");
  const delivered = await until("the delivery is recorded", async () => {
    const page = await webhookDeliveries(s!, key, webhook.id);
    return page.body.deliveries?.find((d: { status: string }) => d.status === "delivered");
  });
  expect(delivered).toMatchObject({ status: "delivered", eventType: "decision.finalized" });
});
