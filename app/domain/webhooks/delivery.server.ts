/**
 * Webhook delivery: sends pending deliveries (written with their outbox event, see outbox.server.ts),
 * signed as Standard Webhooks says, and records each attempt's outcome in the database, so nothing is
 * lost when the process dies (a delivery whose attempt never finished is still pending and goes again).
 *
 * - At least once, in order per (subscription, decision): a delivery waits while an earlier event about the
 *   same decision for the same subscription is undelivered (pending or dead).
 * - The webhook id is derived from (subscription, event): the same on every retry, so receivers can deduplicate.
 * - Failures (no answer, timeout, any status but 2xx, redirects included: they are never followed) back off
 *   exponentially with jitter; after WEBHOOK_MAX_ATTEMPTS the delivery is dead until an admin retries it.
 * - Link-local and cloud metadata addresses are refused after DNS resolution, at connect time (no rebinding gap).
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { and, asc, eq, isNull, lte, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import type { DbOrTx } from "@db/client.server";
import { outbox, webhookDeliveries, webhookSubscriptions } from "@db/schema/index";
import { sha256 } from "~/lib/crypto.server";
import { recordWebhookDelivery } from "../metrics/metrics.server";

const num = (v: string | undefined, fallback: number) => (v && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : fallback);

export function deliveryConfig(env: NodeJS.ProcessEnv = process.env) {
  return {
    pollMs: Math.max(10, num(env.WEBHOOK_POLL_MS, 1000)),
    timeoutMs: Math.max(1, num(env.WEBHOOK_TIMEOUT_MS, 10_000)),
    backoffMs: num(env.WEBHOOK_BACKOFF_MS, 5000),
    maxAttempts: Math.max(1, Math.floor(num(env.WEBHOOK_MAX_ATTEMPTS, 8))),
    /** How long a dead instance's delivery lease blocks the others. */
    lockTtlMs: Math.max(1000, num(env.WEBHOOK_LOCK_TTL_MS, 30_000)),
    allowedHosts: allowedHosts(env),
  };
}

/** WEBHOOK_ALLOWED_HOSTS: comma-separated host names; when set, only these may receive webhooks. */
export function allowedHosts(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const list = (env.WEBHOOK_ALLOWED_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase().replace(/\.$/, ""))
    .filter(Boolean);
  return list.length ? list : null;
}

export const webhookId = (subscriptionId: string, outboxSeq: number) => `msg_${sha256(`${subscriptionId}:${outboxSeq}`).slice(0, 32)}`;

/** The next attempt's delay after `attempts` failed ones: backoff · 2^(attempts−1), ±20 % jitter, at most a day. */
export function retryDelay(attempts: number, backoffMs: number, random = Math.random()): number {
  const base = Math.min(backoffMs * 2 ** Math.max(0, attempts - 1), 86_400_000);
  return Math.round(base * (0.8 + 0.4 * random));
}

// ------------------------------------------------------------------ where we may connect

const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"]);

/** Why an address may not receive webhooks (link-local, cloud metadata), or null when it may. */
export function refusedAddress(address: string): string | null {
  let ip = address.toLowerCase();
  if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) ip = mapped[1];
  if (net.isIPv4(ip)) {
    const [a, b] = ip.split(".").map(Number);
    if (a === 169 && b === 254) return ip === "169.254.169.254" ? "a cloud metadata address" : "a link-local address (169.254.0.0/16)";
    return null;
  }
  if (net.isIPv6(ip)) {
    const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
    if (canonical === "fd00:ec2::254") return "a cloud metadata address";
    const first = canonical.startsWith("::") ? 0 : parseInt(canonical.split(":")[0], 16);
    if ((first & 0xffc0) === 0xfe80) return "a link-local address (fe80::/10)";
    // IPv4-mapped in hex form (::ffff:a9fe:a9fe)
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (hex) {
      const n = (parseInt(hex[1], 16) << 16) | parseInt(hex[2], 16);
      return refusedAddress([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."));
    }
    return null;
  }
  return null;
}

/** Why a URL's host may not receive webhooks before any lookup (a metadata name or refused literal address, or not allowed), or null. */
export function refusedHost(url: URL, allowed: string[] | null = allowedHosts()): string | null {
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (METADATA_HOSTS.has(host)) return "a cloud metadata host";
  const literal = refusedAddress(host);
  if (literal) return literal;
  if (allowed && !allowed.includes(host.replace(/^\[|\]$/g, ""))) return "not in WEBHOOK_ALLOWED_HOSTS";
  return null;
}

type LookupFn = typeof dns.lookup;

/** dns.lookup, refusing link-local and metadata addresses (whichever shape the caller asked for). */
export function guardedLookup(lookup: LookupFn = dns.lookup): LookupFn {
  const guarded = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void,
  ) => {
    lookup(hostname, { ...options }, (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
      if (err) return callback(err, address, family);
      const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const a of all) {
        const why = refusedAddress(a);
        if (why) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${a}, ${why}`), { code: "EREFUSEDADDRESS" }), address, family);
      }
      callback(null, address, family);
    });
  };
  return guarded as unknown as LookupFn;
}

export type AttemptResult = { ok: boolean; status: number | null; error: string | null };

/** One POST, no redirects followed, bounded by `timeoutMs` from start to the end of the answer. */
export function postOnce(
  target: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowedHosts: string[] | null; lookup?: LookupFn },
): Promise<AttemptResult> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.resolve({ ok: false, status: null, error: "invalid URL" });
  }
  const refused = refusedHost(url, opts.allowedHosts);
  if (refused) return Promise.resolve({ ok: false, status: null, error: `refused: ${url.hostname} is ${refused}` });
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
        lookup: guardedLookup(opts.lookup),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text.length < 200) text += chunk;
        });
        res.on("end", () => {
          const ok = status >= 200 && status < 300;
          const redirect = status >= 300 && status < 400 ? ` (redirect to ${res.headers.location ?? "?"} not followed)` : "";
          done({ ok, status, error: ok ? null : `HTTP ${status}${redirect}${text ? `: ${text.slice(0, 200)}` : ""}` });
        });
        res.on("error", (e) => done({ ok: false, status, error: e.message }));
      },
    );
    const timer = setTimeout(() => {
      done({ ok: false, status: null, error: `timed out after ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) =>
      done({ ok: false, status: null, error: e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message }),
    );
    req.end(body);
  });
}

// ------------------------------------------------------------------ signing

/** The `webhook-signature` header: one `v1,` signature per live secret, space-separated. */
export function signatures(secrets: string[], id: string, at: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(id, at, body)).join(" ");
}

// ------------------------------------------------------------------ the worker

const BATCH = 50;
const CONCURRENCY = 8;

type Due = {
  subscriptionId: string;
  outboxSeq: number;
  attempts: number;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  body: string;
};

/** Pending deliveries that are due and not waiting behind an earlier undelivered event about the same decision. */
async function dueDeliveries(db: DbOrTx, now: number): Promise<Due[]> {
  const d = webhookDeliveries;
  const s = webhookSubscriptions;
  return db
    .select({
      subscriptionId: d.subscriptionId,
      outboxSeq: d.outboxSeq,
      attempts: d.attempts,
      url: s.url,
      secret: s.secret,
      previousSecret: s.previousSecret,
      previousSecretExpiresAt: s.previousSecretExpiresAt,
      body: outbox.payload,
    })
    .from(d)
    .innerJoin(s, eq(s.id, d.subscriptionId))
    .innerJoin(outbox, eq(outbox.seq, d.outboxSeq))
    .where(
      and(
        eq(d.status, "pending"),
        lte(d.nextAttemptAt, now),
        isNull(s.disabledAt),
        sql`NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = ${d.subscriptionId} AND e.entity_id = ${d.entityId} AND e.outbox_seq < ${d.outboxSeq} AND e.status <> 'delivered')`,
      ),
    )
    .orderBy(asc(d.outboxSeq))
    .limit(BATCH);
}

async function attempt(db: DbOrTx, due: Due, cfg: ReturnType<typeof deliveryConfig>, lookup?: LookupFn): Promise<void> {
  const started = Date.now();
  const id = webhookId(due.subscriptionId, due.outboxSeq);
  const secrets = [due.secret];
  if (due.previousSecret && (due.previousSecretExpiresAt ?? 0) > started) secrets.push(due.previousSecret);
  const at = new Date(started);
  const result = await postOnce(
    due.url,
    {
      "Content-Type": "application/json",
      "User-Agent": "Lastmile-Webhooks/1",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(started / 1000)),
      "webhook-signature": signatures(secrets, id, at, due.body),
    },
    due.body,
    { timeoutMs: cfg.timeoutMs, allowedHosts: cfg.allowedHosts, lookup },
  );
  const now = Date.now();
  const attempts = due.attempts + 1;
  const key = and(
    eq(webhookDeliveries.subscriptionId, due.subscriptionId),
    eq(webhookDeliveries.outboxSeq, due.outboxSeq),
    // An admin's retry or another instance got there first: this attempt's outcome is not recorded over theirs.
    eq(webhookDeliveries.status, "pending"),
    eq(webhookDeliveries.attempts, due.attempts),
  );
  const common = { attempts, lastAttemptAt: now, lastStatus: result.status, lastError: result.error };
  if (result.ok) {
    await db
      .update(webhookDeliveries)
      .set({ ...common, status: "delivered", deliveredAt: now })
      .where(key);
    // The outbox row reads as delivered once every subscriber has it (the decision page shows it).
    await db
      .update(outbox)
      .set({ deliveredAt: now, attempts: sql`${outbox.attempts} + 1` })
      .where(
        and(
          eq(outbox.seq, due.outboxSeq),
          sql`NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.outbox_seq = ${due.outboxSeq} AND e.status <> 'delivered')`,
        ),
      );
    recordWebhookDelivery("delivered");
    return;
  }
  const dead = attempts >= cfg.maxAttempts;
  await db
    .update(webhookDeliveries)
    .set({ ...common, status: dead ? "dead" : "pending", nextAttemptAt: dead ? now : now + retryDelay(attempts, cfg.backoffMs) })
    .where(key);
  recordWebhookDelivery(dead ? "dead" : "failed");
}

/** Whether any delivery of an enabled subscription is due (a read, so an idle poll takes no lease). */
export async function deliveriesDue(db: DbOrTx, now = Date.now()): Promise<boolean> {
  const row = await db
    .select({ seq: webhookDeliveries.outboxSeq })
    .from(webhookDeliveries)
    .innerJoin(webhookSubscriptions, eq(webhookSubscriptions.id, webhookDeliveries.subscriptionId))
    .where(and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, now), isNull(webhookSubscriptions.disabledAt)))
    .limit(1);
  return row.length > 0;
}

/**
 * One delivery pass: sends what is due (independent deliveries side by side), and goes on while there is more
 * (the next event about a decision becomes due as soon as the one before it is delivered). Returns how many
 * attempts it made. Run it under the cluster-wide lease (jobs.server.ts).
 */
export async function deliverPending(db: DbOrTx, opts: { config?: ReturnType<typeof deliveryConfig>; lookup?: LookupFn } = {}): Promise<number> {
  const cfg = opts.config ?? deliveryConfig();
  let total = 0;
  for (let pass = 0; pass < 20; pass++) {
    const due = await dueDeliveries(db, Date.now());
    if (due.length === 0) break;
    let next = 0;
    const lane = async () => {
      while (next < due.length) await attempt(db, due[next++], cfg, opts.lookup);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, lane));
    total += due.length;
  }
  return total;
}
