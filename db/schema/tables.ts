/**
 * Every table, written once for both stores (see builders.ts).
 * Timestamps are epoch milliseconds so that ordering, bucketing and comparisons
 * are cheap and identical on SQLite and Postgres. People are referenced by user
 * id everywhere; enum columns carry CHECK constraints.
 */
import { sql } from "drizzle-orm";
import type { Builders } from "./builders";

export const ROLES = ["admin", "manager", "reviewer", "auditor"] as const;
export const DECISION_ROUTES = ["auto", "review"] as const;
export const DECISION_STATUSES = ["pending_review", "in_review", "approved", "corrected", "rejected", "escalated", "auto_approved"] as const;
export const TASK_KINDS = ["review", "qa", "second", "escalation"] as const;
export const TASK_STATUSES = ["open", "claimed", "done", "cancelled"] as const;
export const REVIEW_ACTIONS = ["approve", "correct", "reject", "escalate"] as const;
export const SNAPSHOT_STATUSES = ["building", "ready", "failed"] as const;
export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "dead"] as const;
export const PROPOSAL_STATUSES = ["pending", "approved", "rejected", "withdrawn"] as const;
export const ALERT_STATES = ["firing", "acknowledged", "resolved"] as const;

export function defineTables(b: Builders) {
  const { table, text, int, ms, real, bool, json, seq, index, uniqueIndex, primaryKey, oneOf, desc, rowOrder } = b;

  const users = table(
    "users",
    {
      id: text("id").primaryKey(),
      email: text("email").notNull().unique(),
      name: text("name").notNull(),
      /** Null while pending: a person who signed in through SSO without a role claim has no access until an admin gives one. */
      role: text("role", { enum: ROLES }),
      /** Null for people who sign in only through the identity provider (SSO). */
      passwordHash: text("password_hash"),
      createdAt: ms("created_at").notNull(),
      disabledAt: ms("disabled_at"),
    },
    () => [oneOf("users_role_check", "role", ROLES)],
  );

  const sessions = table(
    "sessions",
    {
      id: text("id").primaryKey(),
      userId: text("user_id")
        .notNull()
        .references(() => users.id),
      createdAt: ms("created_at").notNull(),
      expiresAt: ms("expires_at").notNull(),
    },
    (t) => [index("sessions_user_idx").on(t.userId)],
  );

  const apiKeys = table("api_keys", {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    scopes: json("scopes").$type<string[]>().notNull(),
    userId: text("user_id").references(() => users.id),
    createdAt: ms("created_at").notNull(),
    lastUsedAt: ms("last_used_at"),
    revokedAt: ms("revoked_at"),
    /** Requests with the key are refused from this instant on; null: never expires. */
    expiresAt: ms("expires_at"),
  });

  /**
   * Failed sign-ins per account ("account:<email>") and per client address ("address:<ip>"),
   * kept in the database so that every instance sharing it throttles alike.
   */
  const loginThrottle = table(
    "login_throttle",
    {
      key: text("key").primaryKey(),
      /** Failures since windowStartedAt. */
      failures: int("failures").notNull(),
      windowStartedAt: ms("window_started_at").notNull(),
      /** Locks so far; each lock lasts twice as long as the previous one, up to a cap. */
      locks: int("locks").notNull().default(0),
      lockedUntil: ms("locked_until"),
      updatedAt: ms("updated_at").notNull(),
    },
    (t) => [index("login_throttle_updated_idx").on(t.updatedAt)],
  );

  /** Instance-wide settings such as the generated session secret. */
  const settings = table("settings", {
    key: text("key").primaryKey(),
    value: text("value").notNull(),
  });

  /**
   * Background jobs that must run once per cluster (lease expiry, snapshot builds, audit
   * checkpoints): an instance holds a job's row until expiresAt; a dead holder's lease lapses.
   */
  const jobLocks = table("job_locks", {
    name: text("name").primaryKey(),
    holder: text("holder").notNull(),
    expiresAt: ms("expires_at").notNull(),
    acquiredAt: ms("acquired_at").notNull(),
  });

  const decisionTypes = table("decision_types", {
    key: text("key").primaryKey(),
    name: text("name").notNull(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id),
    outputSchema: json("output_schema").notNull(),
    reasonCodes: json("reason_codes").$type<{ code: string; label: string }[]>().notNull(),
    slaMinutes: int("sla_minutes").notNull(),
    /** Current routing policy version; the policy body lives in routing_policies. */
    policyVersion: int("policy_version").notNull(),
    /** Optional four-eyes rule (second independent review), JSON or null. */
    fourEyes: json("four_eyes"),
    /** New review tasks go to the member with the fewest open assigned tasks. */
    autoAssign: bool("auto_assign").notNull().default(false),
    /** The accuracy the automatically released decisions should reach (0–1): the threshold what-if's default target. */
    targetAccuracy: real("target_accuracy"),
    /** Policy changes (routing, four-eyes, target accuracy, this flag) go through a proposal another admin approves. */
    policyApproval: bool("policy_approval").notNull().default(false),
    /** Drift monitor settings (monitors/settings.ts), JSON; null: the defaults. */
    monitors: json("monitors"),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  });

  /**
   * Who may work a type's queue: its members. A type without members is open to every reviewer.
   */
  const typeMembers = table(
    "type_members",
    {
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      userId: text("user_id")
        .notNull()
        .references(() => users.id),
      addedAt: ms("added_at").notNull(),
    },
    (t) => [primaryKey({ columns: [t.typeKey, t.userId] }), index("type_members_user_idx").on(t.userId)],
  );

  /** Every routing policy a type has ever had; decisions record the version they were routed under. */
  const routingPolicies = table(
    "routing_policies",
    {
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      version: int("version").notNull(),
      policy: json("policy").notNull(),
      createdAt: ms("created_at").notNull(),
      createdBy: text("created_by"),
    },
    (t) => [primaryKey({ columns: [t.typeKey, t.version] })],
  );

  /**
   * A proposed change to a type's governed fields, under policy approval: the change, its replayed impact, who
   * proposed it and why; another admin approves (which makes the new policy version) or rejects it.
   */
  const policyProposals = table(
    "policy_proposals",
    {
      seq: seq("seq"),
      id: text("id").notNull().unique(),
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      status: text("status", { enum: PROPOSAL_STATUSES }).notNull(),
      /** The governed fields as proposed (only those given): routing, fourEyes, targetAccuracy, policyApproval. */
      change: json("change").notNull(),
      /** The routing change replayed on the last 30 days when it was proposed; null when routing is unchanged. */
      impact: json("impact"),
      reason: text("reason").notNull(),
      proposedBy: text("proposed_by")
        .notNull()
        .references(() => users.id),
      proposedAt: ms("proposed_at").notNull(),
      /** The type's policy version when proposed: an approval of a proposal overtaken by another change is refused. */
      basePolicyVersion: int("base_policy_version").notNull(),
      decidedBy: text("decided_by").references(() => users.id),
      decidedAt: ms("decided_at"),
      note: text("note"),
      /** The policy version an approval made (routing changed), else null. */
      policyVersion: int("policy_version"),
    },
    (t) => [index("policy_proposals_type_idx").on(t.typeKey, t.seq), oneOf("policy_proposals_status_check", "status", PROPOSAL_STATUSES)],
  );

  const decisions = table(
    "decisions",
    {
      /** Monotonic sequence: stable cursor for pagination. */
      seq: seq("seq"),
      id: text("id").notNull().unique(),
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      externalId: text("external_id").notNull(),
      /** SHA-256 of the canonical request body; drives idempotency. */
      bodyHash: text("body_hash").notNull(),
      modelName: text("model_name").notNull(),
      modelVersion: text("model_version").notNull(),
      input: json("input").notNull(),
      output: json("output").notNull(),
      confidence: real("confidence").notNull(),
      fieldConfidence: json("field_confidence").$type<Record<string, number>>(),
      flags: json("flags").$type<string[]>().notNull(),
      priority: int("priority").notNull().default(0),
      occurredAt: ms("occurred_at").notNull(),
      receivedAt: ms("received_at").notNull(),
      route: text("route", { enum: DECISION_ROUTES }).notNull(),
      reasons: json("reasons").$type<string[]>().notNull(),
      policyVersion: int("policy_version").notNull(),
      /** The value of the type's monitored segment field (its monitors' segmentField) when the decision arrived; null: none. */
      segment: text("segment"),
      qaSampled: bool("qa_sampled").notNull().default(false),
      status: text("status", { enum: DECISION_STATUSES }).notNull(),
      finalOutput: json("final_output"),
      finalizedAt: ms("finalized_at"),
      /** The reviewer whose verdict made the outcome final; null for an automatic release (route "auto"). */
      finalizedBy: text("finalized_by").references(() => users.id),
      updatedAt: ms("updated_at").notNull(),
    },
    (t) => [
      uniqueIndex("decisions_type_external_idx").on(t.typeKey, t.externalId),
      index("decisions_type_status_idx").on(t.typeKey, t.status, t.seq),
      index("decisions_updated_idx").on(t.updatedAt, t.seq),
      oneOf("decisions_route_check", "route", DECISION_ROUTES),
      oneOf("decisions_status_check", "status", DECISION_STATUSES),
    ],
  );

  const tasks = table(
    "tasks",
    {
      seq: seq("seq"),
      id: text("id").notNull().unique(),
      decisionId: text("decision_id")
        .notNull()
        .references(() => decisions.id),
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      /** review: the decision waits for it; qa: after-the-fact check of an auto decision;
       *  second: four-eyes second review; escalation: the type owner's call. */
      kind: text("kind", { enum: TASK_KINDS }).notNull(),
      status: text("status", { enum: TASK_STATUSES }).notNull(),
      priority: int("priority").notNull().default(0),
      dueAt: ms("due_at").notNull(),
      createdAt: ms("created_at").notNull(),
      claimedBy: text("claimed_by").references(() => users.id),
      leaseExpiresAt: ms("lease_expires_at"),
      /** Only this user may claim it (escalations go to the owner). */
      assigneeId: text("assignee_id").references(() => users.id),
      /** This user may not claim it (four-eyes: the first reviewer). */
      excludedUserId: text("excluded_user_id").references(() => users.id),
      completedAt: ms("completed_at"),
      /** When the current lease was taken: a verdict's handling time runs from here. */
      claimedAt: ms("claimed_at"),
    },
    (t) => [
      // A reviewer's assigned tasks, in queue order: served to them before the shared queue.
      index("tasks_assignee_idx").on(t.assigneeId, t.status, desc(t.priority), t.dueAt, t.seq),
      index("tasks_claim_idx").on(t.status, t.typeKey, desc(t.priority), t.dueAt, t.seq),
      index("tasks_open_order_idx").on(t.status, desc(t.priority), t.dueAt, t.seq),
      index("tasks_lease_idx").on(t.status, t.leaseExpiresAt),
      index("tasks_decision_idx").on(t.decisionId),
      // Backlog report: open and claimed tasks per queue, covering (age, SLA).
      index("tasks_backlog_idx").on(t.status, t.typeKey, t.kind, t.createdAt, t.dueAt),
      // The queue page: keyset pages and SLA counts per (type, kind), a reviewer's claimed tasks.
      index("tasks_status_type_kind_due_idx").on(t.status, t.typeKey, t.kind, t.dueAt),
      // The queue page in arrival order (oldest or newest first), of every queue or of one: in row order (seq).
      index("tasks_status_idx").on(t.status, ...rowOrder(t.seq)),
      index("tasks_status_type_idx").on(t.status, t.typeKey, ...rowOrder(t.seq)),
      index("tasks_claimed_by_idx").on(t.claimedBy, t.status),
      oneOf("tasks_kind_check", "kind", TASK_KINDS),
      oneOf("tasks_status_check", "status", TASK_STATUSES),
    ],
  );

  /** Live task counts per (type, kind, status), kept exact by triggers on `tasks` (see triggers.ts). */
  const taskCounters = table(
    "task_counters",
    {
      typeKey: text("type_key").notNull(),
      kind: text("kind").notNull(),
      status: text("status").notNull(),
      n: ms("n").notNull(),
    },
    (t) => [primaryKey({ columns: [t.typeKey, t.kind, t.status] })],
  );

  const reviews = table(
    "reviews",
    {
      seq: seq("seq"),
      id: text("id").notNull().unique(),
      decisionId: text("decision_id")
        .notNull()
        .references(() => decisions.id),
      taskId: text("task_id")
        .notNull()
        .references(() => tasks.id),
      taskKind: text("task_kind", { enum: TASK_KINDS }).notNull(),
      reviewerId: text("reviewer_id")
        .notNull()
        .references(() => users.id),
      action: text("action", { enum: REVIEW_ACTIONS }).notNull(),
      output: json("output"),
      changedFields: json("changed_fields").$type<string[]>().notNull(),
      reasonCodes: json("reason_codes").$type<string[]>().notNull(),
      note: text("note"),
      createdAt: ms("created_at").notNull(),
      /** From the claim to the verdict (null for reviews recorded before handling time was). */
      handlingMs: ms("handling_ms"),
    },
    (t) => [
      index("reviews_decision_idx").on(t.decisionId),
      index("reviews_reviewer_idx").on(t.reviewerId, t.createdAt),
      // The team figures: reviews of a period.
      index("reviews_created_idx").on(t.createdAt),
      oneOf("reviews_action_check", "action", REVIEW_ACTIONS),
      oneOf("reviews_task_kind_check", "task_kind", TASK_KINDS),
    ],
  );

  const auditLog = table(
    "audit_log",
    {
      seq: seq("seq"),
      at: ms("at").notNull(),
      actor: text("actor").notNull(),
      action: text("action").notNull(),
      entityType: text("entity_type").notNull(),
      entityId: text("entity_id").notNull(),
      data: text("data").notNull(),
      prevHash: text("prev_hash").notNull(),
      hash: text("hash").notNull(),
      // 1: sha256(prevHash "\n" canonical content), entries written before checkpoints existed;
      // 2: sha256(prevHash ‖ sha256(canonical content)), so a proof can carry an entry's content hash alone.
      hashVersion: int("hash_version").notNull().default(1),
    },
    (t) => [
      // an entity's trail, and the batch entries that cover a decision (found by its receivedAt)
      index("audit_entity_idx").on(t.entityType, t.entityId),
      index("audit_action_at_idx").on(t.action, t.at),
    ],
  );

  /**
   * Copies of the signed checkpoints (the files in AUDIT_CHECKPOINT_DIR are the record):
   * a convenience for pages and packs. Verification trusts a checkpoint only through its signature.
   */
  const auditCheckpoints = table("audit_checkpoints", {
    seq: ms("seq").primaryKey(),
    headHash: text("head_hash").notNull(),
    at: ms("at").notNull(),
    keyId: text("key_id").notNull(),
    signature: text("signature").notNull(),
  });

  const outbox = table(
    "outbox",
    {
      seq: seq("seq"),
      eventType: text("event_type").notNull(),
      typeKey: text("type_key"),
      entityId: text("entity_id").notNull(),
      payload: text("payload").notNull(),
      createdAt: ms("created_at").notNull(),
      attempts: int("attempts").notNull().default(0),
      nextAttemptAt: ms("next_attempt_at").notNull(),
      deliveredAt: ms("delivered_at"),
      lastError: text("last_error"),
    },
    // outbox_entity_idx: a decision's detail page lists the events announced about it.
    (t) => [index("outbox_pending_idx").on(t.deliveredAt, t.nextAttemptAt), index("outbox_entity_idx").on(t.entityId)],
  );

  /**
   * Webhook subscriptions: where to send which outbox events, signed with `secret` (Standard Webhooks,
   * "whsec_…"; kept as is because signing needs it, and never returned after creation). After a rotation
   * the previous secret keeps signing alongside the new one until previousSecretExpiresAt.
   */
  const webhookSubscriptions = table("webhook_subscriptions", {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    events: json("events").$type<string[]>().notNull(),
    /** Decision type keys; null: every type. */
    types: json("types").$type<string[] | null>(),
    description: text("description"),
    secret: text("secret").notNull(),
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: ms("previous_secret_expires_at"),
    /** Null while enabled; a disabled subscription gets no new deliveries and its pending ones wait. */
    disabledAt: ms("disabled_at"),
    createdBy: text("created_by").notNull(),
    createdAt: ms("created_at").notNull(),
    updatedAt: ms("updated_at").notNull(),
  });

  /**
   * One outbox event for one subscription: written in the event's own transaction (so a subscription gets
   * exactly the events committed after it), delivered in order per (subscription, decision).
   */
  const webhookDeliveries = table(
    "webhook_deliveries",
    {
      // No foreign key: a transaction that read a subscription just before it was deleted may still write its
      // delivery, which must not fail that transaction (an ingest or a verdict); such a row is never sent.
      subscriptionId: text("subscription_id").notNull(),
      outboxSeq: ms("outbox_seq")
        .notNull()
        .references(() => outbox.seq),
      /** The decision the event is about: deliveries for one entity go out in outboxSeq order. */
      entityId: text("entity_id").notNull(),
      eventType: text("event_type").notNull(),
      status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull(),
      attempts: int("attempts").notNull().default(0),
      nextAttemptAt: ms("next_attempt_at").notNull(),
      lastAttemptAt: ms("last_attempt_at"),
      /** HTTP status of the last attempt; null when it got no answer (refused, timed out, blocked). */
      lastStatus: int("last_status"),
      lastError: text("last_error"),
      deliveredAt: ms("delivered_at"),
      createdAt: ms("created_at").notNull(),
    },
    (t) => [
      primaryKey({ columns: [t.subscriptionId, t.outboxSeq] }),
      // The worker's scan: due pending deliveries in event order.
      index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt, t.outboxSeq),
      // "Is an earlier event for this decision still undelivered?"
      index("webhook_deliveries_entity_idx").on(t.subscriptionId, t.entityId, t.outboxSeq),
      index("webhook_deliveries_outbox_idx").on(t.outboxSeq),
      oneOf("webhook_deliveries_status_check", "status", WEBHOOK_DELIVERY_STATUSES),
    ],
  );

  /**
   * Generic hourly counters keyed by (type, model version, policy version, hour, metric).
   * Each decision state contributes a set of metric increments; every write
   * applies (new contribution − old contribution) in its own transaction.
   */
  const rollups = table(
    "rollups",
    {
      typeKey: text("type_key").notNull(),
      modelVersion: text("model_version").notNull(),
      /**
       * The routing policy version the decisions were routed under. 0 only on counters written before
       * the split (an upgraded store): the rollup-split job rebuilds their days from the decisions.
       */
      policyVersion: int("policy_version").notNull().default(0),
      hour: ms("hour").notNull(),
      metric: text("metric").notNull(),
      value: ms("value").notNull(),
    },
    (t) => [
      primaryKey({ columns: [t.typeKey, t.hour, t.modelVersion, t.policyVersion, t.metric] }),
      // Reports read a few metrics over a period: (type, metric, hour) ranges, covering.
      index("rollups_metric_idx").on(t.typeKey, t.metric, t.hour, t.modelVersion, t.policyVersion, t.value),
      // The days still to split (empty once the split job has run).
      index("rollups_unsplit_idx")
        .on(t.typeKey, t.hour)
        .where(sql`policy_version = 0`),
    ],
  );

  /**
   * The reviewer figures of the team page and GET /api/v1/reports/reviewers, rolled up per (type, reviewer, span,
   * start, metric): what the reviews given in that hour (span = HOUR) or UTC day (span = DAY) contribute, counted in
   * the span of the review's created_at (reports/reviewer-rollups.ts names the metrics). A report reads whole days
   * and hours of its windows here, and only the sub-hour edges from the reviews. Written with the reviews, in their
   * transaction: a decision's contributions are a function of its review history, and each write applies the change.
   */
  const reviewerRollups = table(
    "reviewer_rollups",
    {
      typeKey: text("type_key").notNull(),
      reviewerId: text("reviewer_id").notNull(),
      /** The length of the span: an hour (3,600,000) or a UTC day (86,400,000). */
      span: ms("span").notNull(),
      /** The span's start (ms since the epoch). */
      start: ms("start").notNull(),
      metric: text("metric").notNull(),
      value: ms("value").notNull(),
    },
    // A report reads ranges of (span, start), every type and reviewer: the key leads with them. On SQLite the table is
    // WITHOUT ROWID (migration 0019, by hand: drizzle cannot declare it), so those ranges are read from the key order.
    (t) => [primaryKey({ columns: [t.span, t.start, t.typeKey, t.reviewerId, t.metric] })],
  );

  /**
   * The reviewer roll-up's backfill on a store that had reviews before the roll-up existed (one row, id 1, while
   * it runs): the reviews with seq <= below_seq are counted decision by decision in decision_id order, after_decision
   * being the last one done. The migration writes the row; the reviewer-rollup-backfill job deletes it when done.
   */
  const reviewerRollupBackfill = table("reviewer_rollup_backfill", {
    id: int("id").primaryKey(),
    belowSeq: ms("below_seq").notNull(),
    afterDecision: text("after_decision").notNull(),
  });

  /**
   * Counters for the drift monitors (monitors/counters.ts), keyed by (type, metric, minute) and written in
   * the same transaction as the roll-ups; per minute for two days, then summed into hour rows, deleted after
   * MONITOR_RETENTION_MS. The evaluator reads windows of one type by (type, minute) through
   * monitor_counters_type_minute_idx, so an evaluation reads only the rows of its windows, whatever the
   * retention holds (the primary key, led by the metric after the type, would walk the whole month).
   */
  const monitorCounters = table(
    "monitor_counters",
    {
      typeKey: text("type_key").notNull(),
      metric: text("metric").notNull(),
      minute: ms("minute").notNull(),
      value: ms("value").notNull(),
    },
    (t) => [
      primaryKey({ columns: [t.typeKey, t.metric, t.minute] }),
      index("monitor_counters_minute_idx").on(t.minute),
      index("monitor_counters_type_minute_idx").on(t.typeKey, t.minute),
    ],
  );

  /**
   * Alerts the monitors raise: one open alert (firing or acknowledged) per type, monitor and segment at a time;
   * it keeps the figures that made it fire and the windows it looked at.
   */
  const alerts = table(
    "alerts",
    {
      seq: seq("seq"),
      id: text("id").notNull().unique(),
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      monitor: text("monitor").notNull(),
      /** What the monitor looked at: "" for the whole type, "model=1.2.0", "segment=retail"… */
      segment: text("segment").notNull(),
      state: text("state", { enum: ALERT_STATES }).notNull(),
      /** The time of the data that made it fire (the end of the recent window), not the wall clock. */
      firedAt: ms("fired_at").notNull(),
      resolvedAt: ms("resolved_at"),
      acknowledgedAt: ms("acknowledged_at"),
      acknowledgedBy: text("acknowledged_by").references(() => users.id),
      figures: json("figures").notNull(),
      createdAt: ms("created_at").notNull(),
      updatedAt: ms("updated_at").notNull(),
    },
    (t) => [
      index("alerts_type_idx").on(t.typeKey, t.firedAt),
      index("alerts_state_idx").on(t.state, t.firedAt),
      // Deduplication: at most one open alert per type, monitor and segment.
      uniqueIndex("alerts_open_idx")
        .on(t.typeKey, t.monitor, t.segment)
        .where(sql`state <> 'resolved'`),
      oneOf("alerts_state_check", "state", ALERT_STATES),
    ],
  );

  /**
   * Datasets and their immutable snapshots. Labelled examples themselves are not
   * stored: they are derived from reviews (see app/domain/datasets/examples.server.ts).
   * A snapshot pins what it contains by a review watermark and materializes its
   * files on disk, so later reviews never change it.
   */
  const datasets = table(
    "datasets",
    {
      id: text("id").primaryKey(),
      name: text("name").notNull(),
      description: text("description"),
      typeKey: text("type_key")
        .notNull()
        .references(() => decisionTypes.key),
      /** The example filter (see exampleFilterSchema), without the type. */
      filter: json("filter").notNull(),
      createdBy: text("created_by").notNull(),
      createdAt: ms("created_at").notNull(),
    },
    (t) => [uniqueIndex("datasets_name_idx").on(t.name), index("datasets_type_idx").on(t.typeKey)],
  );

  const datasetSnapshots = table(
    "dataset_snapshots",
    {
      id: text("id").primaryKey(),
      datasetId: text("dataset_id")
        .notNull()
        .references(() => datasets.id),
      /** 1, 2, 3… per dataset. */
      number: int("number").notNull(),
      status: text("status", { enum: SNAPSHOT_STATUSES }).notNull(),
      /** The filter as it was when the snapshot was taken (the dataset's may change later). */
      filter: json("filter").notNull(),
      /** {train, validation, test} fractions, summing to 1. */
      split: json("split").$type<{ train: number; validation: number; test: number }>().notNull(),
      /** Real reviewer emails instead of pseudonyms (needs users:write to create and to download). */
      identities: bool("identities").notNull().default(false),
      /** Only reviews with seq <= watermark count: the snapshot's content is fixed at creation. */
      watermarkSeq: ms("watermark_seq").notNull(),
      /** Creation time: follow-up tasks (second review, escalation) created later are ignored. */
      asOf: ms("as_of").notNull(),
      totalRows: ms("total_rows").notNull().default(0),
      processedRows: ms("processed_rows").notNull().default(0),
      rowCount: ms("row_count"),
      contentHash: text("content_hash"),
      /** Manifest of the materialized files: {"jsonl/all": {file, bytes, rows, sha256}, …}. */
      files: json("files").$type<Record<string, { file: string; bytes: number; rows: number; sha256: string }>>(),
      /** The data card (JSON form; Markdown is rendered from it). */
      card: json("card"),
      error: text("error"),
      /** Process building it and its last sign of life: a dead builder's snapshot is resumed. */
      buildOwner: text("build_owner"),
      heartbeatAt: ms("heartbeat_at"),
      createdBy: text("created_by").notNull(),
      createdAt: ms("created_at").notNull(),
      finishedAt: ms("finished_at"),
    },
    (t) => [
      uniqueIndex("dataset_snapshots_number_idx").on(t.datasetId, t.number),
      index("dataset_snapshots_status_idx").on(t.status),
      oneOf("dataset_snapshots_status_check", "status", SNAPSHOT_STATUSES),
    ],
  );

  return {
    users,
    sessions,
    apiKeys,
    loginThrottle,
    settings,
    jobLocks,
    decisionTypes,
    typeMembers,
    routingPolicies,
    policyProposals,
    decisions,
    tasks,
    taskCounters,
    reviews,
    auditLog,
    auditCheckpoints,
    outbox,
    rollups,
    reviewerRollups,
    reviewerRollupBackfill,
    monitorCounters,
    alerts,
    datasets,
    datasetSnapshots,
    webhookSubscriptions,
    webhookDeliveries,
  };
}

export type Tables = ReturnType<typeof defineTables>;
