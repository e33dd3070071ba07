import type { Db } from "@db/client.server";
export async function seedDemo(_db: Db, _opts: { quiet?: boolean }) {
  throw new Error("seed-demo: not yet implemented");
}
