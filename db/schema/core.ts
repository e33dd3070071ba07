/**
 * Core tables: people, credentials, decision types, decisions, tasks, reviews.
 * Timestamps are epoch milliseconds (integers) so that ordering, bucketing and
 * comparisons are cheap and identical on SQLite and Postgres.
 */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  /** Null while pending: a person who signed in through SSO without a role claim has no access until an admin gives one. */
  role: text("role", { enum: ["admin", "manager", "reviewer", "auditor"] }),
  /** Null for people who sign in only through the identity provider (SSO). */
  passwordHash: text("password_hash"),
  createdAt: integer("created_at").notNull(),
  disabledAt: integer("disabled_at"),
});

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull().references(() => users.id),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  prefix: text("prefix").notNull(),
  keyHash: text("key_hash").notNull().unique(),
  scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
  userId: text("user_id").references(() => users.id),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
  revokedAt: integer("revoked_at"),
  /** Requests with the key are refused from this instant on; null: never expires. */
  expiresAt: integer("expires_at"),
});

/**
 * Failed sign-ins per account ("account:<email>") and per client address ("address:<ip>"),
 * kept in the database so that every instance sharing it throttles alike.
 */
export const loginThrottle = sqliteTable(
  "login_throttle",
  {
    key: text("key").primaryKey(),
    /** Failures since windowStartedAt. */
    failures: integer("failures").notNull(),
    windowStartedAt: integer("window_started_at").notNull(),
    /** Locks so far; each lock lasts twice as long as the previous one, up to a cap. */
    locks: integer("locks").notNull().default(0),
    lockedUntil: integer("locked_until"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("login_throttle_updated_idx").on(t.updatedAt)],
);

/** Instance-wide settings such as the generated session secret. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const decisionTypes = sqliteTable("decision_types", {
  key: text("key").primaryKey(),
  name: text("name").notNull(),
  ownerId: text("owner_id").notNull().references(() => users.id),
  outputSchema: text("output_schema", { mode: "json" }).notNull(),
  reasonCodes: text("reason_codes", { mode: "json" }).$type<{ code: string; label: string }[]>().notNull(),
  slaMinutes: integer("sla_minutes").notNull(),
  /** Current routing policy version; the policy body lives in routing_policies. */
  policyVersion: integer("policy_version").notNull(),
  /** Optional four-eyes rule (second independent review), JSON or null. */
  fourEyes: text("four_eyes", { mode: "json" }),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Every routing policy a type has ever had; decisions record the version they were routed under. */
export const routingPolicies = sqliteTable(
  "routing_policies",
  {
    typeKey: text("type_key").notNull().references(() => decisionTypes.key),
    version: integer("version").notNull(),
    policy: text("policy", { mode: "json" }).notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by"),
  },
  (t) => [primaryKey({ columns: [t.typeKey, t.version] })],
);

export const decisions = sqliteTable(
  "decisions",
  {
    /** Monotonic sequence: stable cursor for pagination. */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    typeKey: text("type_key").notNull().references(() => decisionTypes.key),
    externalId: text("external_id").notNull(),
    /** SHA-256 of the canonical request body; drives idempotency. */
    bodyHash: text("body_hash").notNull(),
    modelName: text("model_name").notNull(),
    modelVersion: text("model_version").notNull(),
    input: text("input", { mode: "json" }).notNull(),
    output: text("output", { mode: "json" }).notNull(),
    confidence: real("confidence").notNull(),
    fieldConfidence: text("field_confidence", { mode: "json" }).$type<Record<string, number>>(),
    flags: text("flags", { mode: "json" }).$type<string[]>().notNull(),
    priority: integer("priority").notNull().default(0),
    occurredAt: integer("occurred_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    route: text("route", { enum: ["auto", "review"] }).notNull(),
    reasons: text("reasons", { mode: "json" }).$type<string[]>().notNull(),
    policyVersion: integer("policy_version").notNull(),
    qaSampled: integer("qa_sampled", { mode: "boolean" }).notNull().default(false),
    status: text("status", {
      enum: ["pending_review", "in_review", "approved", "corrected", "rejected", "escalated", "auto_approved"],
    }).notNull(),
    finalOutput: text("final_output", { mode: "json" }),
    finalizedAt: integer("finalized_at"),
    finalizedBy: text("finalized_by"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("decisions_type_external_idx").on(t.typeKey, t.externalId),
    index("decisions_type_status_idx").on(t.typeKey, t.status, t.seq),
    index("decisions_updated_idx").on(t.updatedAt, t.seq),
  ],
);

export const tasks = sqliteTable(
  "tasks",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    decisionId: text("decision_id").notNull().references(() => decisions.id),
    typeKey: text("type_key").notNull(),
    /** review: the decision waits for it; qa: after-the-fact check of an auto decision;
     *  second: four-eyes second review; escalation: the type owner's call. */
    kind: text("kind", { enum: ["review", "qa", "second", "escalation"] }).notNull(),
    status: text("status", { enum: ["open", "claimed", "done", "cancelled"] }).notNull(),
    priority: integer("priority").notNull().default(0),
    dueAt: integer("due_at").notNull(),
    createdAt: integer("created_at").notNull(),
    claimedBy: text("claimed_by"),
    leaseExpiresAt: integer("lease_expires_at"),
    /** Only this user may claim it (escalations go to the owner). */
    assigneeId: text("assignee_id"),
    /** This user may not claim it (four-eyes: the first reviewer). */
    excludedUserId: text("excluded_user_id"),
    completedAt: integer("completed_at"),
  },
  (t) => [
    index("tasks_claim_idx").on(t.status, t.typeKey, sql`${t.priority} DESC`, t.dueAt, t.seq),
    index("tasks_open_order_idx").on(t.status, sql`${t.priority} DESC`, t.dueAt, t.seq),
    index("tasks_lease_idx").on(t.status, t.leaseExpiresAt),
    index("tasks_decision_idx").on(t.decisionId),
    // Backlog report: open and claimed tasks per queue, covering (age, SLA).
    index("tasks_backlog_idx").on(t.status, t.typeKey, t.kind, t.createdAt, t.dueAt),
  ],
);

export const reviews = sqliteTable(
  "reviews",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull().unique(),
    decisionId: text("decision_id").notNull().references(() => decisions.id),
    taskId: text("task_id").notNull().references(() => tasks.id),
    taskKind: text("task_kind").notNull(),
    reviewerId: text("reviewer_id").notNull().references(() => users.id),
    action: text("action", { enum: ["approve", "correct", "reject", "escalate"] }).notNull(),
    output: text("output", { mode: "json" }),
    changedFields: text("changed_fields", { mode: "json" }).$type<string[]>().notNull(),
    reasonCodes: text("reason_codes", { mode: "json" }).$type<string[]>().notNull(),
    note: text("note"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("reviews_decision_idx").on(t.decisionId), index("reviews_reviewer_idx").on(t.reviewerId, t.createdAt)],
);
