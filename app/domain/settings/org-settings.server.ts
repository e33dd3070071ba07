/**
 * Organisation settings kept in `settings`: today the organisation's time zone, in which the team page
 * and reports count "today" and "this week". Admins change it; every change is audited in the
 * same transaction.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import { transaction, type Db, type DbOrTx } from "@db/client.server";
import { settings } from "@db/schema/index";
import { appendAudit } from "../audit/audit.server";
import { invalid, zodIssues } from "~/lib/errors";
import { canonicalTimeZone, DEFAULT_TIME_ZONE } from "~/lib/zone";

export const ORG_TIME_ZONE_KEY = "org.timezone";

/** An IANA time zone name ("Europe/Berlin"), stored as the platform spells it. */
export const timeZoneSchema = z
  .string({ error: "a time zone is required" })
  .trim()
  .min(1, "a time zone is required")
  .max(64)
  .transform((name, ctx) => {
    const zone = canonicalTimeZone(name);
    if (!zone) {
      ctx.addIssue({ code: "custom", message: `"${name}" is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)` });
      return z.NEVER;
    }
    return zone;
  });

export const orgSettingsBodySchema = z.object({ timeZone: timeZoneSchema }).strict();

/** The zone a stored setting names; UTC when none is stored (or the stored name is no longer known). */
export function timeZoneOf(stored: string | null | undefined): string {
  return (stored && canonicalTimeZone(stored)) || DEFAULT_TIME_ZONE;
}

/** The organisation's time zone; UTC until an admin sets one. */
export async function orgTimeZone(db: DbOrTx): Promise<string> {
  return timeZoneOf((await db.select({ value: settings.value }).from(settings).where(eq(settings.key, ORG_TIME_ZONE_KEY)).limit(1))[0]?.value);
}

/** Sets the organisation's time zone (validated), with its audit entry; answers the zone as stored. */
export async function setOrgTimeZone(db: Db, input: unknown, actor: string, now = Date.now()): Promise<{ timeZone: string; previous: string }> {
  const parsed = orgSettingsBodySchema.safeParse(input);
  if (!parsed.success) throw invalid("Invalid settings", zodIssues(parsed.error));
  const { timeZone } = parsed.data;
  return transaction(db, async (tx) => {
    const previous = await orgTimeZone(tx);
    if (previous === timeZone) return { timeZone, previous };
    await tx
      .insert(settings)
      .values({ key: ORG_TIME_ZONE_KEY, value: timeZone })
      .onConflictDoUpdate({ target: settings.key, set: { value: timeZone } });
    await appendAudit(tx, {
      actor,
      action: "settings.update",
      entityType: "settings",
      entityId: ORG_TIME_ZONE_KEY,
      data: { key: ORG_TIME_ZONE_KEY, before: previous, after: timeZone },
      at: now,
    });
    return { timeZone, previous };
  });
}
