/**
 * Webhook subscriptions and their deliveries, as admins manage them (API and admin page): create (the
 * signing secret is shown once), list, change, enable/disable, delete, rotate the secret (the old one keeps
 * signing beside the new one for 24 hours), list deliveries and retry one. Every change is audited.
 */
import crypto from "node:crypto";
import { and, desc, eq, inArray, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { decisionTypes, webhookDeliveries, webhookSubscriptions, WEBHOOK_DELIVERY_STATUSES } from "@db/schema/index";
import { newId } from "~/lib/crypto.server";
import { conflict, invalid, notFound, zodIssues, type Issue } from "~/lib/errors";
import { iso } from "~/lib/time";
import { appendAudit } from "../audit/audit.server";
import { refusedHost, webhookId } from "./delivery.server";
import { WEBHOOK_EVENTS, type WebhookEventType } from "./events";

export { WEBHOOK_EVENTS };

/** How long a rotated-out secret keeps signing beside the new one. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** An http(s) URL whose host may receive webhooks (no metadata host, no link-local literal; the allowlist if set). */
export const webhookUrlSchema = z
  .string()
  .trim()
  .max(2000)
  .pipe(z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" }))
  .superRefine((v, ctx) => {
    if (!URL.canParse(v)) return; // z.url() has said so
    const why = refusedHost(new URL(v));
    if (why) ctx.addIssue({ code: "custom", message: `this host may not receive webhooks: it is ${why}` });
  });

const eventsSchema = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1, "choose at least one event")
  .refine((a) => new Set(a).size === a.length, "events repeat");
const typesSchema = z
  .array(z.string().min(1).max(64))
  .min(1, "leave types out for every type")
  .max(100)
  .refine((a) => new Set(a).size === a.length, "types repeat");
const descriptionSchema = z.string().trim().max(500);

/** POST /api/v1/webhooks */
export const createWebhookSchema = z
  .object({ url: webhookUrlSchema, events: eventsSchema, types: typesSchema.optional(), description: descriptionSchema.optional() })
  .strict();

/** PATCH /api/v1/webhooks/:id: any of these; `types: null` means every type again. */
export const updateWebhookSchema = z
  .object({
    url: webhookUrlSchema.optional(),
    events: eventsSchema.optional(),
    types: typesSchema.nullable().optional(),
    description: descriptionSchema.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((o) => Object.keys(o).length > 0, "send at least one field to change");

/** GET /api/v1/webhooks/:id/deliveries */
export const listDeliveriesQuerySchema = z.object({
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "cursor must be a value returned as nextCursor")
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** The `:deliveryId` of a delivery route: its event's outbox number. */
export const deliveryIdSchema = z.string().regex(/^\d{1,15}$/);

export type CreateWebhook = z.infer<typeof createWebhookSchema>;
export type UpdateWebhook = z.infer<typeof updateWebhookSchema>;
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuerySchema>;

/** A Standard Webhooks secret: "whsec_" and 32 random bytes in base64. */
export function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString("base64")}`;
}

/** A subscription as the API shows it (never its secret, but on creation and rotation). */
export const webhookJsonSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    types: z.array(z.string()).nullable().describe("Decision type keys; null: every type"),
    description: z.string().nullable(),
    enabled: z.boolean(),
    previousSecretExpiresAt: z.iso
      .datetime()
      .nullable()
      .describe("Until when the secret before the last rotation still signs beside the current one; null: it no longer does"),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "Webhook" });

/** The answer of creation and of a secret rotation: the subscription and its (new) secret, the only time it is shown. */
export const webhookWithSecretSchema = webhookJsonSchema
  .extend({ secret: z.string().describe('The signing secret, "whsec_" and base64: keep it, it is not shown again') })
  .meta({ id: "WebhookWithSecret" });

/** GET /api/v1/webhooks */
export const webhookListSchema = z.object({ webhooks: z.array(webhookJsonSchema) });

/** DELETE /api/v1/webhooks/:id */
export const webhookDeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });

/** One event's delivery to one subscription. */
export const deliveryJsonSchema = z
  .object({
    id: z.string().describe("The delivery's id (its event's outbox number), for .../deliveries/{deliveryId}/retry"),
    webhookId: z.string().describe("The `webhook-id` header it is sent with: the same on every attempt"),
    eventType: z.enum(WEBHOOK_EVENTS),
    decisionId: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: z.iso.datetime().nullable(),
    lastAttemptAt: z.iso.datetime().nullable(),
    lastStatus: z.number().int().nullable().describe("The HTTP status of the last attempt; null when it got no answer"),
    lastError: z.string().nullable(),
    deliveredAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "WebhookDelivery" });

/** GET /api/v1/webhooks/:id/deliveries */
export const deliveryPageSchema = z.object({ deliveries: z.array(deliveryJsonSchema), nextCursor: z.string().nullable() });

export type WebhookJson = z.output<typeof webhookJsonSchema>;
export type WebhookWithSecret = z.output<typeof webhookWithSecretSchema>;
export type DeliveryJson = z.output<typeof deliveryJsonSchema>;
export type DeliveryPage = z.output<typeof deliveryPageSchema>;

export function subscriptionToJson(s: SubscriptionRow, now = Date.now()): WebhookJson {
  return {
    id: s.id,
    url: s.url,
    events: s.events as WebhookEventType[],
    types: s.types ?? null,
    description: s.description,
    enabled: s.disabledAt === null,
    previousSecretExpiresAt: s.previousSecret && (s.previousSecretExpiresAt ?? 0) > now ? iso(s.previousSecretExpiresAt) : null,
    createdBy: s.createdBy,
    createdAt: iso(s.createdAt)!,
    updatedAt: iso(s.updatedAt)!,
  };
}

export function deliveryToJson(d: DeliveryRow): DeliveryJson {
  return {
    id: String(d.outboxSeq),
    webhookId: webhookId(d.subscriptionId, d.outboxSeq),
    eventType: d.eventType as WebhookEventType,
    decisionId: d.entityId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? iso(d.nextAttemptAt) : null,
    lastAttemptAt: iso(d.lastAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    deliveredAt: iso(d.deliveredAt),
    createdAt: iso(d.createdAt)!,
  };
}

function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalid(`Invalid ${what}`, zodIssues(parsed.error));
  return parsed.data;
}

async function checkTypes(db: DbOrTx, types: string[] | null | undefined): Promise<void> {
  if (!types) return;
  const known = new Set((await db.select({ key: decisionTypes.key }).from(decisionTypes).where(inArray(decisionTypes.key, types))).map((r) => r.key));
  const issues: Issue[] = types.flatMap((t, i) => (known.has(t) ? [] : [{ path: `types.${i}`, message: `no decision type "${t}"` }]));
  if (issues.length) throw invalid("Invalid webhook", issues);
}

async function requireSubscription(db: DbOrTx, id: string): Promise<SubscriptionRow> {
  const row = (await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)).limit(1))[0];
  if (!row) throw notFound(`Webhook ${id} not found`);
  return row;
}

/** Creates a subscription; the answer carries its secret, the only time it is shown. */
export async function createWebhook(db: Db, input: unknown, actor: string, now = Date.now()): Promise<WebhookWithSecret> {
  const body = parse(createWebhookSchema, input, "webhook");
  await checkTypes(db, body.types);
  const row: SubscriptionRow = {
    id: newId("whk", now),
    url: body.url,
    events: body.events,
    types: body.types ?? null,
    description: body.description || null,
    secret: newSecret(),
    previousSecret: null,
    previousSecretExpiresAt: null,
    disabledAt: null,
    createdBy: actor,
    createdAt: now,
    updatedAt: now,
  };
  await transaction(db, async (tx) => {
    await tx.insert(webhookSubscriptions).values(row);
    await appendAudit(tx, {
      actor,
      action: "webhook.created",
      entityType: "webhook",
      entityId: row.id,
      data: { url: row.url, events: row.events, types: row.types },
      at: now,
    });
  });
  return { ...subscriptionToJson(row, now), secret: row.secret };
}

export async function listWebhooks(db: DbOrTx): Promise<WebhookJson[]> {
  const now = Date.now();
  return (await db.select().from(webhookSubscriptions).orderBy(desc(webhookSubscriptions.createdAt))).map((s) => subscriptionToJson(s, now));
}

export async function getWebhook(db: DbOrTx, id: string): Promise<WebhookJson> {
  return subscriptionToJson(await requireSubscription(db, id));
}

export async function updateWebhook(db: Db, id: string, input: unknown, actor: string, now = Date.now()): Promise<WebhookJson> {
  const body = parse(updateWebhookSchema, input, "webhook");
  await checkTypes(db, body.types);
  return transaction(db, async (tx) => {
    const before = await requireSubscription(tx, id);
    const set: Partial<SubscriptionRow> = { updatedAt: now };
    if (body.url !== undefined) set.url = body.url;
    if (body.events !== undefined) set.events = body.events;
    if (body.types !== undefined) set.types = body.types;
    if (body.description !== undefined) set.description = body.description || null;
    if (body.enabled !== undefined) set.disabledAt = body.enabled ? null : (before.disabledAt ?? now);
    await tx.update(webhookSubscriptions).set(set).where(eq(webhookSubscriptions.id, id));
    await appendAudit(tx, { actor, action: "webhook.updated", entityType: "webhook", entityId: id, data: { changes: body }, at: now });
    return subscriptionToJson({ ...before, ...set }, now);
  });
}

/** Deletes a subscription and its delivery records. */
export async function deleteWebhook(db: Db, id: string, actor: string, now = Date.now()): Promise<z.output<typeof webhookDeletedSchema>> {
  return transaction(db, async (tx) => {
    const before = await requireSubscription(tx, id);
    await tx.delete(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, id));
    await tx.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id));
    await appendAudit(tx, { actor, action: "webhook.deleted", entityType: "webhook", entityId: id, data: { url: before.url }, at: now });
    return { id, deleted: true as const };
  });
}

/** A new secret; the current one keeps signing beside it for 24 hours (a rotation within them drops the oldest). */
export async function rotateWebhookSecret(db: Db, id: string, actor: string, now = Date.now()): Promise<WebhookWithSecret> {
  return transaction(db, async (tx) => {
    const before = await requireSubscription(tx, id);
    const set = { secret: newSecret(), previousSecret: before.secret, previousSecretExpiresAt: now + SECRET_OVERLAP_MS, updatedAt: now };
    await tx.update(webhookSubscriptions).set(set).where(eq(webhookSubscriptions.id, id));
    await appendAudit(tx, {
      actor,
      action: "webhook.secret_rotated",
      entityType: "webhook",
      entityId: id,
      data: { previousSecretExpiresAt: iso(set.previousSecretExpiresAt) },
      at: now,
    });
    return { ...subscriptionToJson({ ...before, ...set }, now), secret: set.secret };
  });
}

/** A subscription's deliveries, newest event first. */
export async function listDeliveries(db: DbOrTx, id: string, q: ListDeliveriesQuery): Promise<DeliveryPage> {
  await requireSubscription(db, id);
  const where: SQL[] = [eq(webhookDeliveries.subscriptionId, id)];
  if (q.status) where.push(eq(webhookDeliveries.status, q.status));
  if (q.cursor) where.push(lt(webhookDeliveries.outboxSeq, Number(q.cursor)));
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.outboxSeq))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  return { deliveries: page.map(deliveryToJson), nextCursor: rows.length > q.limit ? String(page[page.length - 1].outboxSeq) : null };
}

/** Sends a dead (or still pending) delivery again now, with a fresh attempt budget. */
export async function retryDelivery(db: Db, id: string, deliveryId: string, actor: string, now = Date.now()): Promise<DeliveryJson> {
  if (!deliveryIdSchema.safeParse(deliveryId).success) throw notFound(`Delivery ${deliveryId} not found`);
  const seq = Number(deliveryId);
  return transaction(db, async (tx) => {
    await requireSubscription(tx, id);
    const key = and(eq(webhookDeliveries.subscriptionId, id), eq(webhookDeliveries.outboxSeq, seq));
    const d = (await tx.select().from(webhookDeliveries).where(key).limit(1))[0];
    if (!d) throw notFound(`Delivery ${deliveryId} not found`);
    if (d.status === "delivered") throw conflict(`Delivery ${deliveryId} was delivered already`);
    const set = { status: "pending" as const, attempts: 0, nextAttemptAt: now };
    await tx.update(webhookDeliveries).set(set).where(key);
    await appendAudit(tx, {
      actor,
      action: "webhook.delivery_retried",
      entityType: "webhook",
      entityId: id,
      data: { delivery: deliveryId, eventType: d.eventType, decision: d.entityId, was: d.status, attempts: d.attempts },
      at: now,
    });
    return deliveryToJson({ ...d, ...set });
  });
}
