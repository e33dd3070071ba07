/**
 * Instance-wide secrets generated on first use and kept in `settings` (the session
 * secret, the dataset pseudonym secret), unless the environment sets them.
 * Read first (every request needs the session secret: no write lock for that);
 * the first writer wins when two instances generate one at the same moment.
 */
import { eq } from "drizzle-orm";
import type { Db } from "@db/client.server";
import { settings } from "@db/schema/index";
import { randomToken } from "~/lib/crypto.server";

export async function instanceSecret(db: Db, key: string): Promise<string> {
  const read = async () => (await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).limit(1))[0]?.value;
  const found = await read();
  if (found) return found;
  await db
    .insert(settings)
    .values({ key, value: randomToken(32) })
    .onConflictDoNothing({ target: settings.key });
  return (await read())!;
}
