/**
 * Helpers for integration tests through the real HTTP server: people with API
 * keys, decision types with their own keys (so tests sharing a server never
 * see each other's tasks), and readers for the rows a write must leave behind.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@db/client.server";
import { auditLog, decisions, outbox, reviews, tasks } from "@db/schema/index";
import { auditTrail } from "~/domain/audit/audit.server";
import type { Role, Scope } from "~/domain/auth/permissions";
import { invoiceDecision, invoiceType, makeKey, makeType, makeUser, uniqueEmail } from "./db";
import type { ApiAnswer } from "./answer";
import type { TestServer } from "./server";
import { createLastmileClient, type LastmileClient } from "../../scripts/client/index";

export type Person = Awaited<ReturnType<typeof makeUser>> & { key: string };

/** A user plus an API key tied to them (acts as that user in the review API). */
export async function person(db: Db, role: Role, scopes: Scope[] = ["review", "read"]): Promise<Person> {
  const user = await makeUser(db, role, uniqueEmail(role));
  return { ...user, key: await makeKey(db, scopes, user.email) };
}

let typeCounter = 0;
/** A fresh invoice-shaped type with a unique key; returns the key. */
export async function freshType(db: Db, owner: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const key = `inv-${process.pid}-${++typeCounter}`;
  await makeType(db, invoiceType(owner, { key, ...overrides }));
  return key;
}

/** A decision of `type` that the invoice policy routes to review (low confidence). */
export function reviewDecision(type: string, externalId: string, overrides: Record<string, unknown> = {}) {
  return invoiceDecision(externalId, { type, confidence: 0.5, ...overrides });
}

/** A decision of `type` that the invoice policy releases automatically. */
export function autoDecision(type: string, externalId: string, overrides: Record<string, unknown> = {}) {
  return invoiceDecision(externalId, { type, confidence: 0.99, fieldConfidence: { total: 0.99 }, ...overrides });
}

/** The typed API client (scripts/client) acting with `key` on the test server. */
export function client(s: Pick<TestServer, "url">, key?: string): LastmileClient {
  return createLastmileClient({ baseUrl: s.url, apiKey: key });
}

/**
 * A client answer in the shape of `TestServer.request` ({ status, body, headers }), so tests read
 * either alike. Bodies are passed through untyped on purpose: tests send invalid ones too.
 */
async function answer(call: Promise<{ data?: unknown; error?: unknown; response: Response }>) {
  const { data, error, response } = await call;
  return { status: response.status, body: (data ?? error ?? null) as ApiAnswer, headers: response.headers };
}

export async function ingest(s: TestServer, key: string, body: unknown) {
  return answer(client(s, key).POST("/api/v1/decisions", { body: body as never }));
}

export async function claim(s: TestServer, key: string, body: Record<string, unknown> = {}) {
  return answer(client(s, key).POST("/api/v1/tasks/claim", { body: body as never }));
}

export async function review(s: TestServer, key: string, taskId: string, body: unknown) {
  return answer(client(s, key).POST("/api/v1/tasks/{id}/review", { params: { path: { id: taskId } }, body: body as never }));
}

/** POST /api/v1/tasks/:id/assign: `{"assignee": email | null}`. */
export async function assign(s: TestServer, key: string, taskId: string, body: unknown) {
  return answer(client(s, key).POST("/api/v1/tasks/{id}/assign", { params: { path: { id: taskId } }, body: body as never }));
}

/** POST /api/v1/tasks/bulk: one action on many tasks. */
export async function bulk(s: TestServer, key: string, body: unknown) {
  return answer(client(s, key).POST("/api/v1/tasks/bulk", { body: body as never }));
}

export type Counts = { decisions: number; tasks: number; reviews: number; audit: number; outbox: number };

/** Row counts of the tables every write path touches: compare before and after a request. */
export async function counts(db: Db): Promise<Counts> {
  const n = async (t: typeof decisions | typeof tasks | typeof reviews | typeof auditLog | typeof outbox) =>
    (
      await db
        .select({ n: sql<number>`count(*)` })
        .from(t)
        .limit(1)
    )[0]!.n;
  return { decisions: await n(decisions), tasks: await n(tasks), reviews: await n(reviews), audit: await n(auditLog), outbox: await n(outbox) };
}

/** A decision's audit trail as the app reads it (its own entries and the batch entry of its ingest). */
export async function auditFor(db: Db, decisionId: string) {
  return auditTrail(db, "decision", decisionId);
}

export async function outboxFor(db: Db, entityId: string) {
  return await db.select().from(outbox).where(eq(outbox.entityId, entityId)).orderBy(outbox.seq);
}

export async function tasksOf(db: Db, decisionId: string) {
  return await db.select().from(tasks).where(eq(tasks.decisionId, decisionId)).orderBy(tasks.seq);
}

export async function decisionRow(db: Db, type: string, externalId: string) {
  return (
    await db
      .select()
      .from(decisions)
      .where(and(eq(decisions.typeKey, type), eq(decisions.externalId, externalId)))
      .limit(1)
  )[0];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- typed calls the integration tests share
// Each goes through the typed client and answers like `answer()` ({ status, body, headers }). Bodies and
// query values are the contract's types; a test that sends an invalid one on purpose casts it (`as never`).

export { answer };

import type { paths } from "../../scripts/client/index";

type Query<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The 200 JSON body of an operation. */
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;
/** An answer whose body reads as one operation's success body (and the error shape, and every other field, as ApiAnswer). */
type AnswerOf<B> = { status: number; body: Omit<ApiAnswer, keyof B> & B; headers: Headers };

export async function getDecision(s: TestServer, key: string | undefined, id: string): Promise<AnswerOf<Ok<"/api/v1/decisions/{id}", "get">>> {
  return answer(client(s, key).GET("/api/v1/decisions/{id}", { params: { path: { id } } })) as never;
}

export async function listDecisions(
  s: TestServer,
  key: string | undefined,
  query: Query<"/api/v1/decisions", "get"> = {},
): Promise<AnswerOf<Ok<"/api/v1/decisions", "get">>> {
  return answer(client(s, key).GET("/api/v1/decisions", { params: { query } })) as never;
}

/** Every decision the query matches, through all pages of the list (a page that does not answer 200 throws). */
export async function allDecisions(s: TestServer, key: string, query: Query<"/api/v1/decisions", "get"> = {}) {
  const all: Ok<"/api/v1/decisions", "get">["decisions"] = [];
  for (let cursor: string | undefined; ;) {
    const page = await listDecisions(s, key, { limit: 100, ...query, cursor });
    if (page.status !== 200) throw new Error(`GET /api/v1/decisions answered ${page.status}: ${JSON.stringify(page.body)}`);
    all.push(...page.body.decisions);
    cursor = page.body.nextCursor ?? undefined;
    if (!cursor) return all;
  }
}

export async function renew(s: TestServer, key: string, taskId: string) {
  return answer(client(s, key).POST("/api/v1/tasks/{id}/renew", { params: { path: { id: taskId } } }));
}

export async function release(s: TestServer, key: string, taskId: string) {
  return answer(client(s, key).POST("/api/v1/tasks/{id}/release", { params: { path: { id: taskId } } }));
}

export async function getDecisionType(s: TestServer, key: string | undefined, typeKey: string) {
  return answer(client(s, key).GET("/api/v1/decision-types/{key}", { params: { path: { key: typeKey } } }));
}

export async function putDecisionType(s: TestServer, key: string | undefined, typeKey: string, body: unknown) {
  return answer(client(s, key).PUT("/api/v1/decision-types/{key}", { params: { path: { key: typeKey } }, body: body as never }));
}

export async function createDataset(s: TestServer, key: string | undefined, body: unknown) {
  return answer(client(s, key).POST("/api/v1/datasets", { body: body as never }));
}

/** Starts a snapshot (no body: the defaults); its `Location` header is where it can be polled. */
export async function createSnapshot(s: TestServer, key: string | undefined, datasetId: string, body?: unknown) {
  return answer(client(s, key).POST("/api/v1/datasets/{id}/snapshots", { params: { path: { id: datasetId } }, body: body as never }));
}

/** The dataset id and snapshot number in a snapshot's `Location` (/api/v1/datasets/:id/snapshots/:n). */
export function snapshotAt(location: string | null): { id: string; n: string } {
  const m = /^\/api\/v1\/datasets\/([^/]+)\/snapshots\/(\d+)$/.exec(location ?? "");
  if (!m) throw new Error(`not a snapshot location: ${location}`);
  return { id: m[1], n: m[2] };
}

/** Downloads a snapshot's file as text (`parseAs: "arrayBuffer"` for Parquet's bytes). */
export async function downloadSnapshot(
  s: TestServer,
  key: string | undefined,
  at: { id: string; n: string },
  query: Query<"/api/v1/datasets/{id}/snapshots/{n}/download", "get">,
  parseAs: "text" | "arrayBuffer" = "text",
) {
  return answer(client(s, key).GET("/api/v1/datasets/{id}/snapshots/{n}/download", { params: { path: at, query }, parseAs }));
}

export async function createWebhook(s: TestServer, key: string | undefined, body: unknown) {
  return answer(client(s, key).POST("/api/v1/webhooks", { body: body as never }));
}

export async function webhookDeliveries(s: TestServer, key: string, id: string, query: Query<"/api/v1/webhooks/{id}/deliveries", "get"> = {}) {
  return answer(client(s, key).GET("/api/v1/webhooks/{id}/deliveries", { params: { path: { id }, query } }));
}

export async function retryDelivery(s: TestServer, key: string, id: string, deliveryId: string) {
  return answer(client(s, key).POST("/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry", { params: { path: { id, deliveryId } } }));
}

export async function automationReport(s: TestServer, key: string | undefined, query: Query<"/api/v1/reports/automation", "get">) {
  return answer(client(s, key).GET("/api/v1/reports/automation", { params: { query } }));
}

export async function thresholdReport(s: TestServer, key: string | undefined, query: Query<"/api/v1/reports/thresholds", "get">) {
  return answer(client(s, key).GET("/api/v1/reports/thresholds", { params: { query } }));
}

export async function qualityReport(s: TestServer, key: string | undefined, query: Query<"/api/v1/reports/quality", "get">) {
  return answer(client(s, key).GET("/api/v1/reports/quality", { params: { query } }));
}
