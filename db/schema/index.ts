/**
 * The tables of this process's store: Postgres when DATABASE_URL names one, SQLite
 * otherwise. Domain code imports tables from here and never asks which store it is.
 */
import { dialect } from "../dialect";
import * as pgTables from "./postgres";
import * as sqliteTables from "./sqlite";

const t = dialect() === "postgres" ? pgTables : sqliteTables;

export const users = t.users;
export const sessions = t.sessions;
export const apiKeys = t.apiKeys;
export const loginThrottle = t.loginThrottle;
export const settings = t.settings;
export const jobLocks = t.jobLocks;
export const decisionTypes = t.decisionTypes;
export const typeMembers = t.typeMembers;
export const routingPolicies = t.routingPolicies;
export const policyProposals = t.policyProposals;
export const decisions = t.decisions;
export const tasks = t.tasks;
export const taskCounters = t.taskCounters;
export const reviews = t.reviews;
export const auditLog = t.auditLog;
export const auditCheckpoints = t.auditCheckpoints;
export const outbox = t.outbox;
export const rollups = t.rollups;
export const reviewerRollups = t.reviewerRollups;
export const reviewerRollupBackfill = t.reviewerRollupBackfill;
export const monitorCounters = t.monitorCounters;
export const alerts = t.alerts;
export const datasets = t.datasets;
export const datasetSnapshots = t.datasetSnapshots;
export const webhookSubscriptions = t.webhookSubscriptions;
export const webhookDeliveries = t.webhookDeliveries;
export * from "./tables";
