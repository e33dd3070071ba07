/**
 * The queue page's manager view (`?manage=1`): the queue's filters plus which
 * tasks it lists (open or in progress, by assignee). Isomorphic: the page's
 * form, its loader and the bulk API read the same fields.
 */
import { z } from "zod";

/** Query parameters of the manager view, beside the queue's own filters. */
export const MANAGE_PARAMS = ["manage", "status", "assignee"];

export const manageFilterSchema = z.object({
  /** Open tasks (the default), or tasks under a lease (where stuck leases are released). */
  status: z.enum(["open", "claimed"]).optional(),
  /** "none": the shared queue only; an email: that person's assigned tasks. */
  assignee: z.union([z.literal("none"), z.email()]).optional(),
});
export type ManageFilter = z.infer<typeof manageFilterSchema>;
