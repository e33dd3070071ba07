/** The postgres tables (drizzle-kit reads this file to generate db/migrations/postgres). */
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
} = defineTables(builders("postgres"));
