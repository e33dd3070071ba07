/** Which store this process uses: Postgres when DATABASE_URL is a postgres:// URL, the embedded SQLite file otherwise. */
import type { Dialect } from "./schema/builders";

export type { Dialect };

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

export function dialect(): Dialect {
  return isPostgresUrl(process.env.DATABASE_URL) ? "postgres" : "sqlite";
}
