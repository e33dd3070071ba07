/**
 * The integration setup most files share: a started server with an admin (an API
 * key with the admin scope) and an ingest key. Each test still makes the
 * reviewers, types and decisions it needs itself.
 */
import type { Scope } from "~/domain/auth/permissions";
import { person, type Person } from "./api";
import { startServer, type TestServer } from "./server";

export type ServerSetup = {
  s: TestServer;
  /** An admin, with an API key of scope `admin`. */
  admin: Person;
  /** An API key of another admin, for ingesting (scopes: `ingestScopes`, default `ingest`). */
  ingestKey: string;
};

export async function setupServer(opts: { ingestScopes?: Scope[]; env?: Record<string, string> } = {}): Promise<ServerSetup> {
  const s = await startServer(opts.env);
  const admin = await person(s.db, "admin", ["admin"]);
  const ingestKey = (await person(s.db, "admin", opts.ingestScopes ?? ["ingest"])).key;
  return { s, admin, ingestKey };
}
