/**
 * `lastmile` commands. Each parses its arguments, calls one domain function,
 * and prints the result; validation errors print the same field messages as the API.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { closeDb, databaseReady, describeTarget, getDb } from "@db/client.server";
import { AppError } from "~/lib/errors";
import { upsertDecisionType, upsertDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { createApiKey, createUser } from "~/domain/auth/users.server";
import { evaluateMonitors } from "~/domain/monitors/alerts.server";
import { runAudit } from "./audit";
import { runBackup } from "./backup";
import { runDb } from "./db";
import { runExport } from "./export";
import { runImport } from "./import";

const USAGE = `lastmile — operator CLI

  lastmile migrate
  lastmile seed-demo
  lastmile user create --email E --role admin|manager|reviewer|auditor [--name N]
  lastmile apikey create --name N --scopes ingest,review,read,admin [--user EMAIL] [--expires YYYY-MM-DD|ISO]
  lastmile types apply FILE.json
  lastmile import FILE --type KEY [--rejects FILE] [--map mapping.json] [--actor NAME] [--json] [--no-progress]
  lastmile export --type KEY --format jsonl|csv|parquet --out FILE [filters]
  lastmile audit checkpoint
  lastmile audit verify [--public-key FILE.pem]
  lastmile audit verify --pack FILE [--public-key FILE.pem]
  lastmile db copy --to postgres://… | --from postgres://… [--no-progress]
  lastmile backup --out FILE
  lastmile monitors run [--at ISO]
  lastmile simulate --minutes N --rate R [--start ISO] [--shift accuracy|confidence|input|volume|rubber-stamp --shift-at MINUTE] [--seed S] [--types credit,invoice] [--quiet]

Environment: DATABASE_URL (postgres://…; selects Postgres), else DATABASE_PATH (default ./data/lastmile.db); AUDIT_SIGNING_KEY, AUDIT_CHECKPOINT_DIR, SNAPSHOTS_DIR`;

type Command = (args: string[]) => Promise<number> | number;

const commands: Record<string, Command> = {
  migrate: async () => {
    await databaseReady();
    console.log(`Database ready at ${describeTarget()}`);
    return 0;
  },
  "seed-demo": async (args) => {
    const { seedDemo } = await import("../demo/seed");
    await seedDemo(getDb(), { quiet: args.includes("--quiet") });
    return 0;
  },
  user: async (args) => {
    const [sub, ...rest] = args;
    if (sub !== "create") return usage(`unknown user command: ${sub ?? "(none)"}`);
    const { values } = parseArgs({ args: rest, options: { email: { type: "string" }, role: { type: "string" }, name: { type: "string" } }, strict: true });
    const { user, password } = await createUser(getDb(), { email: values.email, role: values.role, name: values.name }, "cli");
    console.log(`Created ${user.role} ${user.email}`);
    console.log("One-time password (shown once):");
    console.log(password);
    return 0;
  },
  apikey: async (args) => {
    const [sub, ...rest] = args;
    if (sub !== "create") return usage(`unknown apikey command: ${sub ?? "(none)"}`);
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: "string" }, scopes: { type: "string" }, user: { type: "string" }, expires: { type: "string" } },
      strict: true,
    });
    const scopes = (values.scopes ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const { key, expiresAt } = await createApiKey(getDb(), { name: values.name, scopes, user: values.user, expiresAt: values.expires }, "cli");
    const expiry = expiresAt === null ? "" : `, expiring ${new Date(expiresAt).toISOString()}`;
    console.log(
      `Created API key "${values.name}" with scopes ${scopes.join(",")}${values.user ? ` acting as ${values.user}` : ""}${expiry}. It is shown once:`,
    );
    console.log(key);
    return 0;
  },
  types: async (args) => {
    const [sub, file] = args;
    if (sub !== "apply" || !file) return usage("usage: lastmile types apply FILE.json");
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      console.error(`Cannot read ${file}: ${(e as Error).message}`);
      return 1;
    }
    // A file of several types is applied all or nothing; issues are prefixed with the item's index.
    const results = Array.isArray(parsed) ? await upsertDecisionTypes(getDb(), parsed, "cli") : [await upsertDecisionType(getDb(), parsed, "cli")];
    for (const { type, created } of results) {
      console.log(`${created ? "Created" : "Updated"} decision type ${type.key} (routing policy v${type.policyVersion})`);
    }
    return 0;
  },
  import: async (args) => runImport(args),
  export: async (args) => runExport(args),
  audit: async (args) => runAudit(args),
  db: async (args) => runDb(args),
  backup: async (args) => runBackup(args),
  monitors: async (args) => {
    const [sub, ...rest] = args;
    if (sub !== "run") return usage(`unknown monitors command: ${sub ?? "(none)"}`);
    const { values } = parseArgs({ args: rest, options: { at: { type: "string" } }, strict: true });
    const at = values.at === undefined ? Date.now() : Date.parse(values.at);
    if (Number.isNaN(at)) return usage(`--at must be an ISO date and time, e.g. 2026-12-01T09:30:00Z (got ${values.at})`);
    // The data's time is --at; the alerts' bookkeeping (created, audit) is now.
    const result = await evaluateMonitors(getDb(), at);
    console.log(JSON.stringify(result, null, 2));
    return 0;
  },
  simulate: async (args) => {
    const { parseSimulateArgs, simulate } = await import("../simulate/simulate");
    const parsed = parseSimulateArgs(args, Date.now());
    if (typeof parsed === "string") return usage(parsed);
    const summary = await simulate(getDb(), { ...parsed.options, log: parsed.quiet ? undefined : (line) => console.error(line) });
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  },
};

function usage(message?: string): number {
  if (message) console.error(message);
  console.error(USAGE);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) return usage(`unknown command: ${name}`);
  try {
    // `db` opens (and migrates) both of its stores itself, and `backup` only reads: DATABASE_PATH must not be created empty first.
    if (name !== "db" && name !== "backup") await databaseReady();
    return await cmd(rest);
  } catch (e) {
    if (e instanceof AppError) {
      console.error(`Error: ${e.message}`);
      for (const i of e.issues) console.error(`  ${i.path || "(body)"}: ${i.message}`);
      return 1;
    }
    if (e instanceof TypeError && "code" in e && String((e as { code: string }).code).startsWith("ERR_PARSE_ARGS")) return usage(e.message);
    throw e;
  } finally {
    await closeDb();
  }
}
