/**
 * A decision type as integrators send it (PUT /api/v1/decision-types/:key,
 * `lastmile types apply`): the public contract, validated once here.
 */
import { z } from "zod";
import { outputSchemaSchema } from "./output-schema";
import { routingPolicySchema } from "../routing/policy";
import { monitorSettingsSchema } from "../monitors/settings";

export const reasonCodeSchema = z
  .object({
    code: z.string().regex(/^[A-Z0-9_]{1,64}$/, "codes are UPPER_SNAKE_CASE, at most 64 characters"),
    label: z.string().min(1).max(200),
  })
  .strict();

export const typeKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "keys are lowercase letters, digits, - and _, at most 64 characters");

/** Four-eyes: decisions matching any rule need a second, independent review. */
export const fourEyesSchema = z
  .object({
    flags: z.array(z.string().min(1).max(200)).max(50).optional(),
    fieldAbove: z.record(z.string(), z.number()).optional(),
  })
  .strict();

export const decisionTypeSchema = z
  .object({
    key: typeKeySchema,
    name: z.string().min(1).max(200),
    owner: z.email(),
    outputSchema: outputSchemaSchema,
    routing: routingPolicySchema,
    slaMinutes: z.number().int().min(1).max(525_600),
    reasonCodes: z
      .array(reasonCodeSchema)
      .max(200)
      .default([])
      .refine((codes) => new Set(codes.map((c) => c.code)).size === codes.length, "reason codes must be unique"),
    fourEyes: fourEyesSchema.nullish(),
    targetAccuracy: z
      .number()
      .gt(0, "targetAccuracy must be above 0")
      .lt(1, "targetAccuracy must be below 1")
      .nullish()
      .describe("The accuracy the automatically released decisions should reach (e.g. 0.98): the threshold what-if's default target"),
    policyApproval: z
      .boolean()
      .default(false)
      .describe(
        "While true, a change to routing, fourEyes, targetAccuracy or this flag answers 409 proposal_required: it goes through a policy proposal that another admin approves",
      ),
    autoAssign: z
      .boolean()
      .default(false)
      .describe("New review tasks go to the member with the fewest open assigned tasks (ties: by email); without members, to the shared queue"),
    monitors: monitorSettingsSchema
      .optional()
      .describe("Drift monitor settings, each monitor merged onto its defaults; omitted: the stored settings stay as they are"),
  })
  .strict();

export type DecisionTypeInput = z.infer<typeof decisionTypeSchema>;
