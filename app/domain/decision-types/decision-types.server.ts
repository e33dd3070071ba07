/**
 * Decision types: create, update and read. Routing policies are versioned:
 * a changed policy becomes a new version and decisions record the version
 * they were routed under.
 */
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { preparedQuery, transaction, type Db, type DbOrTx } from "@db/client.server";
import { configCached } from "@db/config-cache.server";
import { decisionTypes, routingPolicies, users } from "@db/schema/index";
import { canonicalJson } from "~/lib/crypto.server";
import { AppError, conflict, invalid, notFound, zodIssues, type Issue } from "~/lib/errors";
import { appendAudit } from "../audit/audit.server";
import { routingPolicySchema, type RoutingPolicy } from "../routing/policy";
import { compileOutputSchema, type ObjectSchema } from "./output-schema";
import { decisionTypeSchema, fourEyesSchema, typeKeySchema, type DecisionTypeInput } from "./definition";
import { z } from "zod";
import { monitorSettings, monitorSettingsSchema, type MonitorSettings } from "../monitors/settings";

export type DecisionType = {
  key: string;
  name: string;
  owner: string;
  ownerId: string;
  outputSchema: ObjectSchema;
  routing: RoutingPolicy;
  policyVersion: number;
  slaMinutes: number;
  reasonCodes: { code: string; label: string }[];
  fourEyes: { flags?: string[]; fieldAbove?: Record<string, number> } | null;
  /** New review tasks are assigned to a member (teams/membership.server.ts). */
  autoAssign: boolean;
  /** The accuracy the automatically released decisions should reach; null: none set. */
  targetAccuracy: number | null;
  /** Policy changes go through a proposal another admin approves (governance/proposals.server.ts). */
  policyApproval: boolean;
  /** Drift monitor settings in force (monitors/settings.ts). */
  monitors: MonitorSettings;
  createdAt: number;
  updatedAt: number;
};

/** A loaded type with its compiled output validator. */
export type LoadedType = DecisionType & { validator: z.ZodType<Record<string, unknown>> };

/** Compiled validators keyed by the schema's JSON (as stored), so any change (or another process's) is seen at once. */
const compiled = new Map<string, z.ZodType<Record<string, unknown>>>();

/**
 * A type's parsed routing policy and monitor settings, keyed by the stored JSON they were parsed from: a type is
 * read on every ingest, claim and verdict, and parsing both (zod, with defaults) on each read cost more than the
 * read. Keyed by content, not by type and version, so any change (another process's, another store's) is seen at
 * once. The parsed values are shared: nothing may change them.
 */
const parsedParts = new Map<string, { routing: RoutingPolicy; monitors: MonitorSettings }>();

function parsedPartsOf(policy: unknown, monitors: unknown) {
  const key = JSON.stringify([policy, monitors ?? null]);
  let parts = parsedParts.get(key);
  if (!parts) {
    if (parsedParts.size >= 1000) parsedParts.clear();
    parts = { routing: routingPolicySchema.parse(policy), monitors: monitorSettings(monitors) };
    parsedParts.set(key, parts);
  }
  return parts;
}

export type UpsertMode = "upsert" | "create" | "update";

/**
 * Creates or updates a type. `mode` lets a caller insist on one of the two (the admin
 * UI's create form must never overwrite an existing type), checked in the same transaction.
 */
export async function upsertDecisionType(
  db: Db,
  input: unknown,
  actor: string,
  now = Date.now(),
  mode: UpsertMode = "upsert",
): Promise<{ type: DecisionType; created: boolean }> {
  return (await upsertDecisionTypes(db, [input], actor, now, { indexed: false, mode }))[0];
}

/** Creates or updates several types all or nothing: every definition is validated before any is written. */
export async function upsertDecisionTypes(
  db: Db,
  inputs: unknown[],
  actor: string,
  now = Date.now(),
  opts: { indexed?: boolean; mode?: UpsertMode } = {},
): Promise<{ type: DecisionType; created: boolean }[]> {
  const indexed = opts.indexed ?? true;
  const issues: Issue[] = [];
  const defs: DecisionTypeInput[] = [];
  inputs.forEach((input, i) => {
    const parsed = decisionTypeSchema.safeParse(input);
    if (parsed.success) defs.push(parsed.data);
    else issues.push(...zodIssues(parsed.error, indexed ? [i] : []));
  });
  if (issues.length > 0) throw invalid("Invalid decision type", issues);
  return transaction(db, async (tx) => {
    const out: { type: DecisionType; created: boolean }[] = [];
    for (const [i, def] of defs.entries()) out.push(await upsertInTx(tx, def, actor, now, indexed ? `${i}.` : "", opts.mode ?? "upsert"));
    return out;
  });
}

/** The fields policy approval governs: a change to any of them needs an approved proposal while it is on. */
export const GOVERNED_FIELDS = ["routing", "fourEyes", "targetAccuracy", "policyApproval"] as const;

/** An approved policy proposal's new definition, written inside the approval's transaction (governance/proposals.server.ts). */
export async function upsertApprovedInTx(tx: DbOrTx, def: DecisionTypeInput, actor: string, now: number): Promise<{ type: DecisionType; created: boolean }> {
  return upsertInTx(tx, def, actor, now, "", "update", true);
}

async function upsertInTx(
  tx: DbOrTx,
  def: DecisionTypeInput,
  actor: string,
  now: number,
  pathPrefix: string,
  mode: UpsertMode,
  approved = false,
): Promise<{ type: DecisionType; created: boolean }> {
  const owner = (await tx.select({ id: users.id }).from(users).where(eq(users.email, def.owner.toLowerCase())).limit(1))[0];
  if (!owner) throw invalid("Invalid decision type", [{ path: `${pathPrefix}owner`, message: `no user with email ${def.owner}` }]);
  const existing = (await tx.select().from(decisionTypes).where(eq(decisionTypes.key, def.key)).limit(1))[0];
  if (mode === "create" && existing)
    throw conflict(`A decision type with key "${def.key}" already exists`, [{ path: `${pathPrefix}key`, message: "already exists" }]);
  if (mode === "update" && !existing) throw notFound(`Decision type "${def.key}" not found`);
  let version = existing?.policyVersion ?? 0;
  const current = existing
    ? (
        await tx
          .select()
          .from(routingPolicies)
          .where(and(eq(routingPolicies.typeKey, def.key), eq(routingPolicies.version, version)))
          .limit(1)
      )[0]
    : undefined;
  const policyChanged = !current || canonicalJson(current.policy) !== canonicalJson(def.routing);
  if (existing?.policyApproval && !approved) {
    const changed = GOVERNED_FIELDS.filter((f) =>
      f === "routing"
        ? policyChanged
        : f === "fourEyes"
          ? canonicalJson(existing.fourEyes ?? null) !== canonicalJson(def.fourEyes ?? null)
          : f === "targetAccuracy"
            ? (existing.targetAccuracy ?? null) !== (def.targetAccuracy ?? null)
            : existing.policyApproval !== def.policyApproval,
    );
    if (changed.length > 0) {
      throw new AppError(
        "proposal_required",
        `Decision type "${def.key}" is under policy approval: propose the change (POST /api/v1/decision-types/${def.key}/policy-proposals) for another admin to approve`,
        changed.map((f) => ({ path: `${pathPrefix}${f}`, message: "changes only through an approved policy proposal" })),
      );
    }
  }
  const row = {
    name: def.name,
    ownerId: owner.id,
    outputSchema: def.outputSchema,
    reasonCodes: def.reasonCodes,
    slaMinutes: def.slaMinutes,
    fourEyes: def.fourEyes ?? null,
    autoAssign: def.autoAssign,
    targetAccuracy: def.targetAccuracy ?? null,
    policyApproval: def.policyApproval,
    // Omitted: the stored settings stay (the defaults for a new type).
    ...(def.monitors !== undefined || !existing ? { monitors: def.monitors ?? null } : {}),
    updatedAt: now,
  };
  if (!existing) {
    version = 1;
    await tx.insert(decisionTypes).values({ key: def.key, ...row, policyVersion: version, createdAt: now });
  } else {
    if (policyChanged) version += 1;
    await tx
      .update(decisionTypes)
      .set({ ...row, policyVersion: version })
      .where(eq(decisionTypes.key, def.key));
  }
  if (policyChanged) {
    await tx.insert(routingPolicies).values({ typeKey: def.key, version, policy: def.routing, createdAt: now, createdBy: actor });
  }
  await appendAudit(tx, {
    actor,
    action: existing ? "decision_type.updated" : "decision_type.created",
    entityType: "decision_type",
    entityId: def.key,
    data: { definition: def, policyVersion: version },
    at: now,
  });
  return { type: (await loadType(tx, def.key))!, created: !existing };
}

/** A type with its owner and current policy: ingest asks it on every request, so it is prepared once. */
const typeByKey = preparedQuery("decision_type_by_key", (db) =>
  db
    .select({ t: decisionTypes, ownerEmail: users.email, policy: routingPolicies.policy })
    .from(decisionTypes)
    .innerJoin(users, eq(users.id, decisionTypes.ownerId))
    .innerJoin(routingPolicies, and(eq(routingPolicies.typeKey, decisionTypes.key), eq(routingPolicies.version, decisionTypes.policyVersion)))
    .where(eq(decisionTypes.key, sql.placeholder("key")))
    .limit(1),
);

async function loadType(db: DbOrTx, key: string): Promise<DecisionType | null> {
  const row = (await typeByKey(db, { key }))[0];
  if (!row) return null;
  return toType(row.t, row.ownerEmail, row.policy);
}

function toType(t: typeof decisionTypes.$inferSelect, ownerEmail: string, policy: unknown): DecisionType {
  const { routing, monitors } = parsedPartsOf(policy, t.monitors);
  return {
    key: t.key,
    name: t.name,
    owner: ownerEmail,
    ownerId: t.ownerId,
    outputSchema: t.outputSchema as ObjectSchema,
    routing,
    policyVersion: t.policyVersion,
    slaMinutes: t.slaMinutes,
    reasonCodes: t.reasonCodes,
    fourEyes: (t.fourEyes as DecisionType["fourEyes"]) ?? null,
    autoAssign: t.autoAssign,
    targetAccuracy: t.targetAccuracy ?? null,
    policyApproval: t.policyApproval,
    monitors,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

/** A decision type with its policy and compiled output validator; kept by this process while the store's config epoch stands (config-cache.server.ts). */
export const getDecisionType = configCached(async (db: DbOrTx, key: string): Promise<LoadedType | null> => {
  const t = await loadType(db, key);
  if (!t) return null;
  const cacheKey = JSON.stringify(t.outputSchema);
  let validator = compiled.get(cacheKey);
  if (!validator) {
    if (compiled.size >= 1000) compiled.clear();
    validator = compileOutputSchema(t.outputSchema);
    compiled.set(cacheKey, validator);
  }
  return { ...t, validator };
});

export async function requireDecisionType(db: DbOrTx, key: string): Promise<LoadedType> {
  const t = await getDecisionType(db, key);
  if (!t) throw notFound(`Decision type "${key}" not found`);
  return t;
}

export async function listDecisionTypes(db: DbOrTx): Promise<DecisionType[]> {
  const rows = await db
    .select({ t: decisionTypes, ownerEmail: users.email, policy: routingPolicies.policy })
    .from(decisionTypes)
    .innerJoin(users, eq(users.id, decisionTypes.ownerId))
    .innerJoin(routingPolicies, and(eq(routingPolicies.typeKey, decisionTypes.key), eq(routingPolicies.version, decisionTypes.policyVersion)))
    .orderBy(asc(decisionTypes.name));
  return rows.map((r) => toType(r.t, r.ownerEmail, r.policy));
}

/** Every type's key and name, in name order: for pages that list the queues without their policies (one prepared read). */
export async function decisionTypeNames(db: DbOrTx): Promise<{ key: string; name: string }[]> {
  return typeNames(db, {});
}

const typeNames = preparedQuery("decision_type_names", (db) =>
  db.select({ key: decisionTypes.key, name: decisionTypes.name }).from(decisionTypes).orderBy(asc(decisionTypes.name)),
);

export async function policyHistory(db: DbOrTx, key: string) {
  return await db.select().from(routingPolicies).where(eq(routingPolicies.typeKey, key)).orderBy(desc(routingPolicies.version));
}

/** The public JSON shape of a type (same as PUT accepts, plus bookkeeping). */
export const decisionTypeJsonSchema = decisionTypeSchema
  .extend({
    fourEyes: fourEyesSchema.nullable(),
    targetAccuracy: z.number().nullable().describe("The accuracy the automatically released decisions should reach; null: none set"),
    monitors: monitorSettingsSchema,
    policyVersion: z.number().int().describe("Bumped on every routing-policy change; decisions record the version they were routed under"),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "DecisionType" });

export type DecisionTypeJson = z.output<typeof decisionTypeJsonSchema>;

/** The body of PUT /api/v1/decision-types/:key: a definition; its key, if given, must equal the URL's. */
export const putDecisionTypeBodySchema = decisionTypeSchema.extend({ key: typeKeySchema.optional() });

export function typeToJson(t: DecisionType): DecisionTypeJson {
  return {
    key: t.key,
    name: t.name,
    owner: t.owner,
    outputSchema: t.outputSchema,
    routing: t.routing,
    policyVersion: t.policyVersion,
    slaMinutes: t.slaMinutes,
    reasonCodes: t.reasonCodes,
    fourEyes: t.fourEyes,
    autoAssign: t.autoAssign,
    targetAccuracy: t.targetAccuracy,
    policyApproval: t.policyApproval,
    monitors: t.monitors,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  };
}
