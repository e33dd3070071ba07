/**
 * The API contract: one entry per operation of /api/v1, each naming the very
 * zod schemas its route module validates with and the schemas of what the
 * domain function it calls answers. openapi.server.ts turns this list into the
 * OpenAPI 3.1 document (served at /api/openapi.json, shown at /docs/api, and
 * the source of the typed client in scripts/client/).
 *
 * Adding a route (say app/routes/api.v1.webhooks.ts):
 *   1. Export its body/query schemas from the domain module the route calls
 *      (e.g. `webhookBodySchema` in domain/webhooks/) and validate with them in
 *      the route; export a zod schema of what it answers next to the function
 *      that builds the answer (give it `.meta({ id: "Webhook" })` to make it a
 *      named component).
 *   2. Add an entry below: method, path ({param} for $param), permission,
 *      query/body/params, responses, and the extra error codes it can answer.
 *   3. Run `npm run client:generate` and commit scripts/client/openapi.json and
 *      schema.d.ts. tests/integration/openapi.test.ts fails until every method
 *      of every api.v1.* route file is listed here and the client is current.
 */
import { z } from "zod";
import type { Permission } from "~/domain/auth/permissions";
import { auditApiQuerySchema, auditFeedSchema } from "~/domain/audit/audit-read.server";
import { evidencePackSchema, evidenceQuerySchema } from "~/domain/audit/evidence.server";
import { publicKeyJsonSchema, publicKeyQuerySchema } from "~/domain/audit/signing.server";
import { dataCardSchema } from "~/domain/datasets/card";
import { createDatasetSchema, datasetJsonSchema, datasetListSchema, datasetWithSnapshotsSchema } from "~/domain/datasets/datasets.server";
import { previewAnswerSchema } from "~/domain/datasets/examples.server";
import { filterQuerySchema } from "~/domain/datasets/filter";
import { cardQuerySchema, downloadQuerySchema } from "~/domain/datasets/snapshot-files.server";
import { createSnapshotSchema, snapshotJsonSchema } from "~/domain/datasets/snapshots.server";
import { decisionTypeJsonSchema, putDecisionTypeBodySchema } from "~/domain/decision-types/decision-types.server";
import { decisionJsonSchema, decisionPageSchema, listQuerySchema } from "~/domain/decisions/decisions.server";
import { ingestAnswerSchema, ingestBodySchema } from "~/domain/ingest/ingest.server";
import { claimAnswerSchema } from "~/domain/queue/claim.server";
import { claimBodySchema, taskAnswerSchema } from "~/domain/queue/queue.server";
import { reportQuerySchema } from "~/domain/reports/query";
import { assignBodySchema } from "~/domain/teams/assignment.server";
import { BULK_LIMIT, bulkAnswerSchema, bulkBodySchema } from "~/domain/teams/bulk.server";
import { impactBodySchema, impactSchema } from "~/domain/governance/impact.server";
import { alertEventSchema, alertJsonSchema, alertListSchema, alertQuerySchema } from "~/domain/monitors/alerts.server";
import { decideBodySchema, proposalBodySchema, proposalJsonSchema, proposalListSchema } from "~/domain/governance/proposals.server";
import { thresholdQuerySchema, thresholdReportSchema } from "~/domain/governance/thresholds.server";
import { automationReportSchema, qualityReportSchema } from "~/domain/reports/reports.server";
import { reviewAnswerSchema, reviewBodySchema } from "~/domain/review/review.server";
import { membersAnswerSchema, membersBodySchema } from "~/domain/teams/membership.server";
import { reviewerReportQuerySchema, reviewerReportSchema } from "~/domain/teams/progress.server";
import { webhookEventSchema } from "~/domain/webhooks/outbox.server";
import {
  createWebhookSchema,
  deliveryIdSchema,
  deliveryJsonSchema,
  deliveryPageSchema,
  listDeliveriesQuerySchema,
  updateWebhookSchema,
  webhookDeletedSchema,
  webhookJsonSchema,
  webhookListSchema,
  webhookWithSecretSchema,
} from "~/domain/webhooks/subscriptions.server";
import type { ErrorCode } from "~/lib/errors";

/** The groups of the reference, in order. */
export const TAGS = {
  Decisions: "Where a decision enters, and how to read it back with its reviews and evidence.",
  "Decision types": "What a decision looks like (its output schema), how it is routed, and its reason codes.",
  Tasks:
    "The review queue: claim a task under a lease, renew or release it, submit a verdict; managers assign tasks to people. " +
    "A decision type with members is worked by its members only: its tasks are not offered to others, and a task of it answers 403 to them.",
  Reports: "Automation and quality figures, read from the hourly roll-ups; each reviewer's progress, read from reviews and tasks.",
  Datasets: "Labelled examples: named filters, immutable snapshots, their files and data cards.",
  Alerts:
    "What the drift monitors raised: a rise of the override rate (overall, per model version, per segment), QA accuracy below the type's targetAccuracy, " +
    "a shift of the model's confidence (PSI) or of the share routed to review. Each alert fires once per type, monitor and segment until its monitor clears.",
  Audit: "The hash-chained audit trail and the key that checks its signed checkpoints.",
  Webhooks:
    "Subscriptions that receive decision events by HTTP POST, signed as [Standard Webhooks](https://www.standardwebhooks.com/) says, " +
    "and their deliveries. Events: `decision.finalized`, `decision.escalated`, `decision.corrected_after_release`, `decision.qa_reviewed`, `alert.fired`, `alert.resolved` " +
    "(optionally only for some decision types).\n\n" +
    'Each event is a JSON body `{"type": <event>, "timestamp": <ISO 8601>, "data": <the decision as GET /api/v1/decisions/{id} showed it then>}` ' +
    "(plus `data.escalation` on decision.escalated and `data.correction` on decision.corrected_after_release; see the `WebhookEvent` schema and the document's `webhooks`), " +
    "sent with the headers `webhook-id` (the same on every attempt of one delivery: deduplicate on it), `webhook-timestamp` (Unix seconds) and " +
    '`webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the base64-decoded secret after `whsec_`; ' +
    "space-separated, one per live secret: for 24 hours after a rotation the previous secret signs too).\n\n" +
    "Answer with any 2xx status within the timeout (WEBHOOK_TIMEOUT_MS, 10 s by default); anything else (redirects included, never followed) is retried with exponential backoff, " +
    "at least once and in order per decision, until the delivery is dead and waits for a retry. The secret is shown once, when created or rotated.",
} as const;

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A non-JSON body: its media type and a JSON Schema of it (a string, or binary). */
export type RawContent = { mediaType: string; schema: Record<string, unknown> };

export type Answer = {
  description: string;
  /** A JSON answer, as a zod schema. */
  json?: z.ZodType;
  /** Other representations (a file download, a printable page). */
  raw?: RawContent[];
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
};

export type Operation = {
  method: Method;
  /** The OpenAPI path: the route file's name with dots as slashes and `$x` as `{x}`. */
  path: `/api/v1/${string}`;
  operationId: string;
  tag: keyof typeof TAGS;
  summary: string;
  description?: string;
  /** The permission the route asks of its caller (requireApi); null: public, no credentials. */
  permission: Permission | null;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; optional?: boolean };
  responses: Record<number, Answer>;
  /**
   * Error codes beyond those implied (400 with a query/body, 401/403 with a
   * permission, 404 with a path parameter, 413/415 with a body).
   */
  errors?: ErrorCode[];
};

const idParam = z.object({ id: z.string().min(1).describe("The resource's id") });
const deliveryParams = z.object({
  id: z.string().min(1).describe("The webhook's id"),
  deliveryId: deliveryIdSchema.describe("The delivery's id (its `id` in the list of deliveries)"),
});
const keyParam = z.object({ key: z.string().min(1).describe("The decision type's key") });
const alertParams = z.object({ id: z.string().min(1).describe("The alert's id") });
const proposalParams = keyParam.extend({ id: z.string().min(1).describe("The proposal's id") });
const snapshotParams = z.object({
  id: z.string().min(1).describe("The dataset's id"),
  n: z
    .string()
    .regex(/^[1-9]\d*$/)
    .describe("The snapshot's number (1, 2, 3… per dataset)"),
});

const text = (mediaType: string): RawContent => ({ mediaType, schema: { type: "string" } });
const binary = (mediaType: string): RawContent => ({ mediaType, schema: { type: "string", contentMediaType: mediaType } });
const locationHeader = { Location: { description: "The URL of the new resource", schema: { type: "string" } } };

export const operations: Operation[] = [
  // ------------------------------------------------------------------ decisions
  {
    method: "POST",
    path: "/api/v1/decisions",
    operationId: "ingestDecisions",
    tag: "Decisions",
    summary: "Send one decision, or a batch",
    description:
      'One decision object, or `{"decisions": [...]}` (at most 1000, all or nothing). Idempotent on (type, externalId): the same body again answers 200 with the stored result; a different body under a known id is a 409.',
    permission: "decisions:ingest",
    body: { schema: ingestBodySchema },
    responses: {
      200: { description: "Every decision was already known (a repeat of the same body)", json: ingestAnswerSchema },
      201: { description: "At least one decision was created", json: ingestAnswerSchema },
    },
    errors: ["conflict"],
  },
  {
    method: "GET",
    path: "/api/v1/decisions",
    operationId: "listDecisions",
    tag: "Decisions",
    summary: "List decisions",
    description: "Oldest first by arrival; pass `nextCursor` back as `cursor` for the next page.",
    permission: "decisions:read",
    query: listQuerySchema,
    responses: { 200: { description: "A page of decisions", json: decisionPageSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/decisions/{id}",
    operationId: "getDecision",
    tag: "Decisions",
    summary: "Read one decision",
    permission: "decisions:read",
    params: idParam,
    responses: { 200: { description: "The decision", json: decisionJsonSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/decisions/{id}/evidence",
    operationId: "getEvidencePack",
    tag: "Decisions",
    summary: "The decision's evidence pack",
    description: "Its inputs, route, reviews and audit entries with a signed-checkpoint proof; `format=html` gives a printable page.",
    permission: "decisions:read",
    params: idParam,
    query: evidenceQuerySchema,
    responses: { 200: { description: "The evidence pack", json: evidencePackSchema, raw: [text("text/html")] } },
  },
  // ------------------------------------------------------------------ decision types
  {
    method: "GET",
    path: "/api/v1/decision-types",
    operationId: "listDecisionTypes",
    tag: "Decision types",
    summary: "List decision types",
    permission: "decisions:read",
    responses: { 200: { description: "Every decision type", json: z.object({ decisionTypes: z.array(decisionTypeJsonSchema) }) } },
  },
  {
    method: "GET",
    path: "/api/v1/decision-types/{key}",
    operationId: "getDecisionType",
    tag: "Decision types",
    summary: "Read one decision type",
    permission: "decisions:read",
    params: keyParam,
    responses: { 200: { description: "The decision type", json: decisionTypeJsonSchema } },
  },
  {
    method: "PUT",
    path: "/api/v1/decision-types/{key}",
    operationId: "putDecisionType",
    tag: "Decision types",
    summary: "Create or update a decision type",
    description:
      "A changed routing policy becomes a new policy version. On a type under policy approval, a change to routing, fourEyes, targetAccuracy or policyApproval answers 409 proposal_required and changes nothing.",
    permission: "types:write",
    params: keyParam,
    body: { schema: putDecisionTypeBodySchema },
    responses: {
      200: { description: "The type was updated", json: decisionTypeJsonSchema },
      201: { description: "The type was created", json: decisionTypeJsonSchema },
    },
    errors: ["conflict", "proposal_required"],
  },
  {
    method: "GET",
    path: "/api/v1/decision-types/{key}/policy-proposals",
    operationId: "listPolicyProposals",
    tag: "Decision types",
    summary: "The type's policy proposals, newest first",
    permission: "reports:read",
    params: keyParam,
    responses: { 200: { description: "Every proposal with its change, impact, proposer, reason and decision", json: proposalListSchema } },
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/{key}/policy-proposals",
    operationId: "proposePolicyChange",
    tag: "Decision types",
    summary: "Propose a change to a type under policy approval",
    description:
      "For a type with `policyApproval: true`, the only way to change `routing`, `fourEyes`, `targetAccuracy` or `policyApproval` (a direct PUT answers 409 proposal_required). The proposal holds the change, its impact replayed on the last 30 days, the proposer and the reason; it changes nothing until another admin approves it. Made by a person: a key not tied to a user is refused.",
    permission: "policies:propose",
    params: keyParam,
    body: { schema: proposalBodySchema },
    responses: { 201: { description: "The proposal, pending", json: proposalJsonSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/{key}/policy-proposals/{id}/approve",
    operationId: "approvePolicyProposal",
    tag: "Decision types",
    summary: "Approve a pending policy proposal",
    description:
      "Approve: the change is written (a new policy version when routing changes). By an admin other than the proposer; refused (409) when the type's policy changed since the proposal.",
    permission: "policies:approve",
    params: proposalParams,
    body: { schema: decideBodySchema, optional: true },
    responses: { 200: { description: "The proposal, approved", json: proposalJsonSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/{key}/policy-proposals/{id}/reject",
    operationId: "rejectPolicyProposal",
    tag: "Decision types",
    summary: "Reject a pending policy proposal",
    description: "Reject: nothing changes. By an admin other than the proposer.",
    permission: "policies:approve",
    params: proposalParams,
    body: { schema: decideBodySchema, optional: true },
    responses: { 200: { description: "The proposal, rejected", json: proposalJsonSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/{key}/policy-proposals/{id}/withdraw",
    operationId: "withdrawPolicyProposal",
    tag: "Decision types",
    summary: "Withdraw a pending policy proposal",
    description: "Withdraw: nothing changes. By the proposer.",
    permission: "policies:propose",
    params: proposalParams,
    body: { schema: decideBodySchema, optional: true },
    responses: { 200: { description: "The proposal, withdrawn", json: proposalJsonSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/decision-types/{key}/policy-impact",
    operationId: "replayPolicyImpact",
    tag: "Decision types",
    summary: "Replay a proposed routing policy on the last days",
    description:
      "Routes every decision of the period again under the current and the proposed policy (changes nothing): automation rate, review and QA load and reviewer hours a day before and after (at the mean handling time of the period's reviews), the decisions whose route would change (with a sample each way), and the errors a day that would newly be released or no longer be, from those decisions' verdicts (inverse-probability weighted, Wilson 95% interval on the effective sample size).",
    permission: "reports:read",
    params: keyParam,
    body: { schema: impactBodySchema },
    responses: { 200: { description: "The replayed impact", json: impactSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/decision-types/{key}/members",
    operationId: "getQueueMembers",
    tag: "Decision types",
    summary: "Who may work the type's queue",
    description: "A type without members is open to every reviewer; with members, only they are offered and may claim its tasks.",
    permission: "members:write",
    params: keyParam,
    responses: { 200: { description: "The members, by email", json: membersAnswerSchema } },
  },
  {
    method: "PUT",
    path: "/api/v1/decision-types/{key}/members",
    operationId: "putQueueMembers",
    tag: "Decision types",
    summary: "Replace the type's members",
    description:
      "The whole set, by email: each must be an enabled user whose role reviews tasks (admin, manager, reviewer). " +
      "An empty list opens the queue to every reviewer again. Tasks assigned to someone (escalations to the type's owner) stay theirs.",
    permission: "members:write",
    params: keyParam,
    body: { schema: membersBodySchema },
    responses: { 200: { description: "The members now", json: membersAnswerSchema } },
  },
  // ------------------------------------------------------------------ tasks
  {
    method: "POST",
    path: "/api/v1/tasks/claim",
    operationId: "claimTask",
    tag: "Tasks",
    summary: "Claim the next task",
    description:
      "Takes the head of the queue (optionally of one type) under a lease, among the queues the caller may work " +
      "(a type with members is worked by them only: a type named here that the caller is not a member of answers 403). The body is optional.",
    permission: "tasks:review",
    body: { schema: claimBodySchema, optional: true },
    responses: {
      200: { description: "The task claimed and its decision", json: claimAnswerSchema },
      204: { description: "No task is open" },
    },
  },
  {
    method: "POST",
    path: "/api/v1/tasks/{id}/renew",
    operationId: "renewLease",
    tag: "Tasks",
    summary: "Renew the lease on a claimed task",
    permission: "tasks:review",
    params: idParam,
    responses: { 200: { description: "The task with its new lease", json: taskAnswerSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/tasks/{id}/release",
    operationId: "releaseTask",
    tag: "Tasks",
    summary: "Give a claimed task back to the queue",
    permission: "tasks:review",
    params: idParam,
    responses: { 200: { description: "The task, open again", json: taskAnswerSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/tasks/{id}/assign",
    operationId: "assignTask",
    tag: "Tasks",
    summary: "Assign a task to a person, or back to the shared queue",
    description:
      "Only the assignee may claim an assigned task, and their claims serve it before the shared queue. " +
      'Review, QA and second (four-eyes) tasks that are open or claimed; `{"assignee": null}` returns the task to the shared queue. ' +
      "409 for an escalation (it stays with its type's owner), a completed task, a four-eyes second review assigned to the reviewer it excludes, " +
      "or a task of a queue the assignee is not a member of; " +
      "400 naming `assignee` when that person does not exist, is disabled or has no reviewing role. " +
      "Assigning a task someone else holds ends their lease; unassigning leaves a lease alone.",
    permission: "tasks:assign",
    params: idParam,
    body: { schema: assignBodySchema },
    responses: { 200: { description: "The task as it is now", json: taskAnswerSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/tasks/bulk",
    operationId: "bulkTaskAction",
    tag: "Tasks",
    summary: "Assign, unassign, reprioritize or release many tasks at once",
    description:
      `The tasks are given by id (\`taskIds\`) or by a filter of the queue (\`filter\`, at most ${BULK_LIMIT} matches). ` +
      "All or nothing, in one transaction with one audit entry (entity type `task_batch`) listing every task: " +
      "when any task cannot take the action, the answer is 409 naming each such task (`issues`) and nothing changes.",
    permission: "tasks:assign",
    body: { schema: bulkBodySchema },
    responses: { 200: { description: "What changed", json: bulkAnswerSchema } },
    errors: ["conflict"],
  },
  {
    method: "POST",
    path: "/api/v1/tasks/{id}/review",
    operationId: "submitReview",
    tag: "Tasks",
    summary: "Submit a verdict on a claimed task",
    description: "approve, correct (with the corrected `output`), reject or escalate. Needs the lease.",
    permission: "tasks:review",
    params: idParam,
    body: { schema: reviewBodySchema },
    responses: { 200: { description: "The decision after the verdict", json: reviewAnswerSchema } },
    errors: ["conflict"],
  },
  // ------------------------------------------------------------------ reports
  {
    method: "GET",
    path: "/api/v1/reports/automation",
    operationId: "automationReport",
    tag: "Reports",
    summary: "Automation rate and volumes per bucket",
    description:
      "The period defaults to the last 30 days up to the next full hour. Day and week buckets (weeks from Monday) are those of the organisation's time zone, an admin setting (UTC by default) that the answer names as `timeZone`; each bucket's `start` is the instant its local day or week begins (a day is 23 or 25 hours long when the clocks change).",
    permission: "reports:read",
    query: reportQuerySchema,
    responses: { 200: { description: "Figures per bucket and in total", json: automationReportSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/reports/quality",
    operationId: "qualityReport",
    tag: "Reports",
    summary: "Auto-lane accuracy and time to decision",
    permission: "reports:read",
    query: reportQuerySchema,
    responses: { 200: { description: "Quality figures over the period", json: qualityReportSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/reports/thresholds",
    operationId: "thresholdReport",
    tag: "Reports",
    summary: "Confidence threshold what-if and recommendation",
    description:
      "For every candidate threshold (0 to 1 in steps of 0.01, and the current one): the share of the period's decisions it would release automatically, with every other rule of the current policy as it is, and the estimated error rate of what it releases, from the human verdicts (review-lane outcomes, and QA verdicts weighted by the inverse of their sampling rate), with a 95% Wilson interval on the effective sample size. `recommended` is the lowest threshold whose upper error bound meets `targetAccuracy` with at least 30 effective verdicts behind it, or null with the reason and the QA reviews it would take. With `field`, the same for that field's threshold.",
    permission: "reports:read",
    query: thresholdQuerySchema,
    responses: { 200: { description: "The curve, the current threshold and the recommendation", json: thresholdReportSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/alerts",
    operationId: "listAlerts",
    tag: "Alerts",
    summary: "The drift monitors' alerts, newest first",
    description:
      "Alerts raised by the drift monitors (override rate, QA accuracy against targetAccuracy, confidence PSI, share routed to review), each with the figures and windows that made it fire. `firedAt` is the time of the data (the end of the window the monitor looked at). Admins, managers and read keys see every type's alerts (alerts:read); a type's owner sees that type's; anyone else is refused.",
    permission: "decisions:read",
    query: alertQuerySchema,
    responses: { 200: { description: "At most 500 alerts", json: alertListSchema } },
  },
  {
    method: "POST",
    path: "/api/v1/alerts/{id}/acknowledge",
    operationId: "acknowledgeAlert",
    tag: "Alerts",
    summary: "Acknowledge a firing alert",
    description: "By a person: an admin or manager (alerts:acknowledge), or the type's owner. It stays open until its monitor clears.",
    permission: "decisions:read",
    params: alertParams,
    responses: { 200: { description: "The alert, acknowledged", json: alertJsonSchema } },
    errors: ["conflict"],
  },
  {
    method: "GET",
    path: "/api/v1/reports/reviewers",
    operationId: "reviewerReport",
    tag: "Reports",
    summary: "Each reviewer's progress per queue",
    description:
      "One row per reviewer and decision type with anything to show: reviews in the period, today and this week (calendar day and ISO week " +
      "in the organisation's time zone, an admin setting that defaults to UTC), the median time from claim to verdict, verdicts later " +
      "overturned by someone else's review of the same decision (a four-eyes partner, a QA check, the owner's escalation verdict), SLA " +
      "breaches (reviews given after their task was due; open assigned tasks past due) and open assigned tasks. The period defaults to " +
      "the last 7 days up to the next full hour and may span at most 92 days.",
    permission: "reports:read",
    query: reviewerReportQuerySchema,
    responses: { 200: { description: "Figures per reviewer and queue", json: reviewerReportSchema } },
  },
  // ------------------------------------------------------------------ datasets
  {
    method: "GET",
    path: "/api/v1/datasets",
    operationId: "listDatasets",
    tag: "Datasets",
    summary: "List datasets",
    permission: "datasets:read",
    responses: { 200: { description: "Every dataset, newest first", json: datasetListSchema } },
  },
  {
    method: "POST",
    path: "/api/v1/datasets",
    operationId: "createDataset",
    tag: "Datasets",
    summary: "Create a dataset (a named filter over labelled examples)",
    permission: "datasets:write",
    body: { schema: createDatasetSchema },
    responses: { 201: { description: "The dataset", json: datasetJsonSchema } },
    errors: ["conflict"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/preview",
    operationId: "previewDataset",
    tag: "Datasets",
    summary: "Count the examples a filter selects",
    description: "Exact up to 200,000 (`exact: false` beyond).",
    permission: "datasets:read",
    query: filterQuerySchema,
    responses: { 200: { description: "The filter as read and its count", json: previewAnswerSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/datasets/{id}",
    operationId: "getDataset",
    tag: "Datasets",
    summary: "Read a dataset with its snapshots",
    permission: "datasets:read",
    params: idParam,
    responses: { 200: { description: "The dataset and its snapshots, newest first", json: datasetWithSnapshotsSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/datasets/{id}/snapshots",
    operationId: "listSnapshots",
    tag: "Datasets",
    summary: "List a dataset's snapshots",
    permission: "datasets:read",
    params: idParam,
    responses: { 200: { description: "The snapshots, newest first", json: z.object({ snapshots: z.array(snapshotJsonSchema) }) } },
  },
  {
    method: "POST",
    path: "/api/v1/datasets/{id}/snapshots",
    operationId: "createSnapshot",
    tag: "Datasets",
    summary: "Start a snapshot",
    description:
      'Answers at once with status "building"; poll the `Location` for progress. The body is optional (default split 0.8/0.1/0.1, pseudonymous reviewers); `identities: true` needs users:write.',
    permission: "datasets:write",
    params: idParam,
    body: { schema: createSnapshotSchema, optional: true },
    responses: { 202: { description: "The snapshot, building", json: snapshotJsonSchema, headers: locationHeader } },
    errors: ["conflict"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/{id}/snapshots/{n}",
    operationId: "getSnapshot",
    tag: "Datasets",
    summary: "Read a snapshot (its build progress, then its files)",
    permission: "datasets:read",
    params: snapshotParams,
    responses: { 200: { description: "The snapshot", json: snapshotJsonSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/datasets/{id}/snapshots/{n}/card",
    operationId: "getSnapshotCard",
    tag: "Datasets",
    summary: "A ready snapshot's data card",
    permission: "datasets:read",
    params: snapshotParams,
    query: cardQuerySchema,
    responses: { 200: { description: "The data card (format=md: Markdown)", json: dataCardSchema, raw: [text("text/markdown")] } },
    errors: ["conflict"],
  },
  {
    method: "GET",
    path: "/api/v1/datasets/{id}/snapshots/{n}/download",
    operationId: "downloadSnapshot",
    tag: "Datasets",
    summary: "Download a ready snapshot's examples",
    description: "Streamed from disk; `ETag` and `X-Content-SHA256` carry the file's SHA-256.",
    permission: "datasets:read",
    params: snapshotParams,
    query: downloadQuerySchema,
    responses: {
      200: {
        description: "The file",
        raw: [binary("application/x-ndjson"), binary("text/csv"), binary("application/vnd.apache.parquet")],
        headers: { "X-Content-SHA256": { description: "SHA-256 of the file, hex", schema: { type: "string" } } },
      },
    },
    errors: ["conflict"],
  },
  // ------------------------------------------------------------------ audit
  {
    method: "GET",
    path: "/api/v1/audit",
    operationId: "auditFeed",
    tag: "Audit",
    summary: "Read the audit trail, oldest first",
    description: "For monitoring tools: pass `nextCursor` back as `cursor` to tail the trail.",
    permission: "audit:feed",
    query: auditApiQuerySchema,
    responses: { 200: { description: "A page of audit entries", json: auditFeedSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/audit/public-key",
    operationId: "auditPublicKey",
    tag: "Audit",
    summary: "The key that checks audit checkpoints and evidence packs",
    description: "Public on purpose: whoever holds an evidence pack must be able to check it.",
    permission: null,
    query: publicKeyQuerySchema,
    responses: { 200: { description: "The Ed25519 public key", json: publicKeyJsonSchema, raw: [text("application/x-pem-file")] } },
    errors: ["not_found"],
  },
  // ------------------------------------------------------------------ webhooks
  {
    method: "POST",
    path: "/api/v1/webhooks",
    operationId: "createWebhook",
    tag: "Webhooks",
    summary: "Subscribe a URL to decision events",
    description: "The answer carries the signing secret: the only time it is shown. `types` left out: every decision type.",
    permission: "webhooks:write",
    body: { schema: createWebhookSchema },
    responses: { 201: { description: "The subscription and its secret", json: webhookWithSecretSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/webhooks",
    operationId: "listWebhooks",
    tag: "Webhooks",
    summary: "List webhook subscriptions",
    permission: "webhooks:write",
    responses: { 200: { description: "Every subscription, newest first", json: webhookListSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/webhooks/{id}",
    operationId: "getWebhook",
    tag: "Webhooks",
    summary: "Read one webhook subscription",
    permission: "webhooks:write",
    params: idParam,
    responses: { 200: { description: "The subscription", json: webhookJsonSchema } },
  },
  {
    method: "PATCH",
    path: "/api/v1/webhooks/{id}",
    operationId: "updateWebhook",
    tag: "Webhooks",
    summary: "Change, enable or disable a webhook subscription",
    description: "Any of the fields; `types: null` means every type again. A disabled subscription gets no new events and its pending deliveries wait.",
    permission: "webhooks:write",
    params: idParam,
    body: { schema: updateWebhookSchema },
    responses: { 200: { description: "The subscription as changed", json: webhookJsonSchema } },
  },
  {
    method: "DELETE",
    path: "/api/v1/webhooks/{id}",
    operationId: "deleteWebhook",
    tag: "Webhooks",
    summary: "Delete a webhook subscription and its deliveries",
    permission: "webhooks:write",
    params: idParam,
    responses: { 200: { description: "It is gone", json: webhookDeletedSchema } },
  },
  {
    method: "POST",
    path: "/api/v1/webhooks/{id}/rotate-secret",
    operationId: "rotateWebhookSecret",
    tag: "Webhooks",
    summary: "Give a subscription a new signing secret",
    description: "The current secret keeps signing beside the new one for 24 hours (a rotation within them drops the oldest).",
    permission: "webhooks:write",
    params: idParam,
    responses: { 200: { description: "The subscription and its new secret", json: webhookWithSecretSchema } },
  },
  {
    method: "GET",
    path: "/api/v1/webhooks/{id}/deliveries",
    operationId: "listWebhookDeliveries",
    tag: "Webhooks",
    summary: "List a subscription's deliveries, newest event first",
    description: "Pass `nextCursor` back as `cursor` for the next page.",
    permission: "webhooks:write",
    params: idParam,
    query: listDeliveriesQuerySchema,
    responses: { 200: { description: "A page of deliveries", json: deliveryPageSchema } },
  },
  {
    method: "POST",
    path: "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
    operationId: "retryWebhookDelivery",
    tag: "Webhooks",
    summary: "Send a dead (or pending) delivery again now",
    description: "With a fresh attempt budget. A delivered one is a 409.",
    permission: "webhooks:write",
    params: deliveryParams,
    responses: { 200: { description: "The delivery, pending again", json: deliveryJsonSchema } },
    errors: ["conflict"],
  },
];

/** The event bodies subscribers receive (the document's `webhooks`): one per event type, all of one shape. */
export const webhookEvents: { name: string; summary: string; schema: z.ZodType }[] = [
  { name: "decision.finalized", summary: "A decision is final (automatically or by review)", schema: webhookEventSchema },
  { name: "decision.escalated", summary: "A review escalated a decision to the type's owner", schema: webhookEventSchema },
  { name: "decision.corrected_after_release", summary: "QA found a released decision wrong", schema: webhookEventSchema },
  { name: "decision.qa_reviewed", summary: "A released decision was QA-reviewed", schema: webhookEventSchema },
  { name: "alert.fired", summary: "A drift monitor raised an alert (data: the alert as GET /api/v1/alerts shows it)", schema: alertEventSchema },
  { name: "alert.resolved", summary: "A drift monitor's alert resolved", schema: alertEventSchema },
];
