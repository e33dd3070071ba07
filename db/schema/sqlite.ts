/** The sqlite tables (drizzle-kit reads this file to generate db/migrations/sqlite). */
import { builders } from "./builders";
import { defineTables } from "./tables";

export const {
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
} = defineTables(builders("sqlite"));
