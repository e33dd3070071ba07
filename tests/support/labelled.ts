/**
 * Fixtures for labelled-data tests: decisions that went through real human
 * review (ingest → claim → submitReview); four-eyes second reviews come from
 * the real workflow (a type with a fourEyes rule).
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "@db/client.server";
import { tasks } from "@db/schema/index";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { claim } from "~/domain/queue/claim.server";
import { submitReview } from "~/domain/review/review.server";
import { invoiceDecision } from "./db";

export type Person = { id: string; email: string };

export async function ingest(db: Db, externalId: string, overrides: Record<string, unknown> = {}, now = Date.now()) {
  return (await ingestDecisions(db, [invoiceDecision(externalId, overrides)], { batch: false, actor: "test", now }))[0];
}

export async function openTask(db: Db, decisionId: string, kind?: string) {
  const where = [eq(tasks.decisionId, decisionId), eq(tasks.status, "open")];
  if (kind) where.push(eq(tasks.kind, kind as "review"));
  return (
    await db
      .select()
      .from(tasks)
      .where(and(...where))
      .limit(1)
  )[0];
}

/** Claims the decision's open task and submits a verdict. */
export async function review(db: Db, who: Person, decisionId: string, body: Record<string, unknown>, now = Date.now()) {
  const t = await openTask(db, decisionId);
  if (!t) throw new Error(`no open task for ${decisionId}`);
  await claim(db, who, { task: t.id }, { now });
  return submitReview(db, who, t.id, body, { now });
}

/** A review-lane decision (confidence below the type's 0.9) with one verdict. */
export async function reviewed(
  db: Db,
  who: Person,
  externalId: string,
  body: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
  now = Date.now(),
) {
  const d = await ingest(db, externalId, { confidence: 0.5, ...overrides }, now - 1000);
  await review(db, who, d.id, body, now);
  return d;
}

export const CORRECTED = { total: 99, currency: "EUR", lines: [{ sku: "A-1", amount: 99 }] };
