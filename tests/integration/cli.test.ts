import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, describeTarget } from "@db/client.server";
import { getDecisionType } from "~/domain/decision-types/decision-types.server";
import { authenticate, findUserByEmail, listApiKeys, listUsers } from "~/domain/auth/users.server";
import { invoiceType, makeKey, onPostgres, openStore, storeEnv } from "../support/db";
import { runCli } from "../support/cli";
import { claim, ingest, putDecisionType, review, reviewDecision } from "../support/api";
import { startServer, type TestServer } from "../support/server";

// Each CLI run starts Node + tsx (about a second), so allow slow machines plenty of time.
describe("the lastmile CLI", { timeout: 120_000 }, () => {
  let s: TestServer;
  let dir: string;
  beforeAll(async () => {
    s = await startServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-cli-"));
  });
  afterAll(async () => s?.close());

  const cli = (...args: string[]) => runCli(args, s.env);
  const file = (name: string, content: unknown) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
    return p;
  };

  it("migrates a fresh store (exit 0): a new SQLite file, or an empty Postgres database", async () => {
    const fresh = onPostgres() ? (await storeEnv({ migrated: false })).env : { DATABASE_PATH: path.join(dir, "sub", "fresh.db") };
    const target = fresh.DATABASE_URL ?? fresh.DATABASE_PATH;
    const r = runCli(["migrate"], fresh);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(describeTarget(target));
    if (!onPostgres()) expect(fs.existsSync(target)).toBe(true);
    const db = openStore(fresh);
    try {
      expect(await listUsers(db)).toEqual([]); // the schema is there
    } finally {
      await closeDatabase(db);
    }
    expect(runCli(["migrate"], fresh).code).toBe(0);
  });

  it("creates a user and prints a one-time password that works, once", async () => {
    const r = cli("user", "create", "--email", "Owner@Example.com", "--role", "admin");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/one-time password/i);
    const password = r.lines.at(-1)!;
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect((await authenticate(s.db, "owner@example.com", password))?.role).toBe("admin");
    expect(await authenticate(s.db, "owner@example.com", password + "x")).toBeNull();

    const dup = cli("user", "create", "--email", "owner@example.com", "--role", "reviewer");
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
  });

  it("explains invalid user input with the field and exits non-zero", () => {
    const badRole = cli("user", "create", "--email", "x@example.com", "--role", "boss");
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toMatch(/role/);
    const badEmail = cli("user", "create", "--email", "not-an-email", "--role", "reviewer");
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr).toMatch(/email/);
    const missing = cli("user", "create", "--role", "reviewer");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/email/);
    const unknownFlag = cli("user", "create", "--email", "y@example.com", "--role", "reviewer", "--admin");
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/--admin/);
  });

  it("creates an API key printed alone on its last line", async () => {
    const r = cli("apikey", "create", "--name", "ingest-bot", "--scopes", "ingest,read");
    expect(r.code).toBe(0);
    const key = r.lines.at(-1)!;
    expect(key).toMatch(/^lm_[A-Za-z0-9_-]+$/);
    expect(r.stdout.split(key)).toHaveLength(2);
    const keys = (await listApiKeys(s.db)).filter((k) => k.name === "ingest-bot");
    expect(keys.map((k) => k.scopes)).toEqual([["ingest", "read"]]);
  });

  it("explains invalid API key input", async () => {
    const badScope = cli("apikey", "create", "--name", "k", "--scopes", "ingest,superuser");
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toMatch(/scopes\.1/);
    const noScopes = cli("apikey", "create", "--name", "k");
    expect(noScopes.code).toBe(1);
    expect(noScopes.stderr).toMatch(/scopes/);
    const noUser = cli("apikey", "create", "--name", "k", "--scopes", "review", "--user", "ghost@example.com");
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toMatch(/user: .*ghost@example.com/);
    expect((await listApiKeys(s.db)).filter((k) => k.name === "k")).toEqual([]);
  });

  it("applies decision types from a file: create, update (policy bump), and validates like the API", () => {
    const def = invoiceType("owner@example.com", { key: "cli-invoice" });
    const created = cli("types", "apply", file("type.json", def));
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/Created decision type cli-invoice \(routing policy v1\)/);
    const same = cli("types", "apply", file("type.json", { ...def, name: "Renamed" }));
    expect(same.stdout).toMatch(/Updated decision type cli-invoice \(routing policy v1\)/);
    const bumped = cli("types", "apply", file("type.json", { ...def, routing: { ...def.routing, minConfidence: 0.5 } }));
    expect(bumped.stdout).toMatch(/Updated decision type cli-invoice \(routing policy v2\)/);

    const bad = cli("types", "apply", file("bad.json", { ...def, slaMinutes: -1, routing: { minConfidence: 3 } }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/slaMinutes/);
    expect(bad.stderr).toMatch(/routing\.minConfidence/);

    const owner = cli("types", "apply", file("owner.json", { ...def, owner: "ghost@example.com" }));
    expect(owner.code).toBe(1);
    expect(owner.stderr).toMatch(/owner: no user with email ghost@example.com/);

    const notJson = cli("types", "apply", file("broken.json", "{ nope"));
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/broken\.json/);
    const missing = cli("types", "apply", path.join(dir, "missing.json"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.json/);
    expect(cli("types", "apply").code).toBe(2);
  });

  it("applies a file of several types all or nothing", async () => {
    const a = invoiceType("owner@example.com", { key: "cli-a" });
    const b = invoiceType("owner@example.com", { key: "cli-b", slaMinutes: 0 });
    const r = cli("types", "apply", file("many.json", [a, b]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1\.slaMinutes/);
    expect(await getDecisionType(s.db, "cli-a")).toBeNull();
    expect(await getDecisionType(s.db, "cli-b")).toBeNull();
    const ok = cli("types", "apply", file("many.json", [a, { ...b, slaMinutes: 10 }]));
    expect(ok.code).toBe(0);
    expect(ok.lines.filter((l) => l.startsWith("Created"))).toHaveLength(2);
  });

  it("answers usage errors with exit 2 and help with exit 0", () => {
    expect(cli().code).toBe(2);
    expect(cli("frobnicate").code).toBe(2);
    expect(cli("frobnicate").stderr).toMatch(/unknown command/);
    expect(cli("user", "delete").code).toBe(2);
    expect(cli("apikey").code).toBe(2);
    const help = cli("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/apikey create/);
  });

  it("makes a key created with --user act as that user in the review API", async () => {
    const u = cli("user", "create", "--email", "cli-reviewer@example.com", "--role", "reviewer");
    expect(u.code).toBe(0);
    const k = cli("apikey", "create", "--name", "cli-review", "--scopes", "review,read", "--user", "cli-reviewer@example.com");
    expect(k.code).toBe(0);
    const key = k.lines.at(-1)!;
    const reviewerId = (await findUserByEmail(s.db, "cli-reviewer@example.com"))!.id;

    const ingestKey = await makeKey(s.db, ["ingest"]);
    const created = await ingest(s, ingestKey, reviewDecision("cli-invoice", "cli-1", { confidence: 0.1 }));
    expect(created.status).toBe(201);
    const c = await claim(s, key, { type: "cli-invoice" });
    expect(c.status).toBe(200);
    expect(c.body.task.claimedBy).toBe(reviewerId);
    const r = await review(s, key, c.body.task.id, { action: "approve" });
    expect(r.status).toBe(200);
    expect(r.body.decision.reviews[0].reviewer).toBe("cli-reviewer@example.com");

    // a key with the same scopes but no user cannot review; a reviewer's admin-scoped key cannot manage types
    const unbound = cli("apikey", "create", "--name", "cli-unbound", "--scopes", "review").lines.at(-1)!;
    expect((await claim(s, unbound, { type: "cli-invoice" })).status).toBe(403);
    const adminScoped = cli("apikey", "create", "--name", "cli-adm", "--scopes", "admin", "--user", "cli-reviewer@example.com").lines.at(-1)!;
    expect((await putDecisionType(s, adminScoped, "cli-invoice", invoiceType("owner@example.com"))).status).toBe(403);
  });
});
