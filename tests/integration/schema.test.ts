/**
 * The schema description (db/schema/tables.ts + extras.ts) is the source of truth for both
 * dialects: the generated migrations reproduce it exactly, and a migrated store has every
 * table, index, trigger and constraint it declares.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { getTableConfig as pgTableConfig } from "drizzle-orm/pg-core";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { dialectOf, sqlAll, sqlRun, transaction } from "@db/client.server";
import { triggerNames } from "@db/schema/extras";
import * as pgTables from "@db/schema/postgres";
import { decisions, tasks } from "@db/schema/index";
import { invoiceDecision, invoiceType, makeType, makeUser, testStore, tempDir } from "../support/db";
import { ingestDecisions } from "~/domain/ingest/ingest.server";

const declared = Object.values(pgTables).map((t) => pgTableConfig(t));

describe("the schema description", () => {
  it.each(["sqlite", "postgres"])("is what the %s migrations generate: drizzle-kit finds nothing to add", (dialect) => {
    const dir = tempDir("lastmile-drizzle-");
    fs.cpSync(path.join("db/migrations", dialect), path.join(dir, dialect), { recursive: true });
    const config = path.join(dir, "drizzle.config.ts");
    fs.writeFileSync(
      config,
      `export default { dialect: "${dialect === "postgres" ? "postgresql" : "sqlite"}", schema: "${path.resolve(`db/schema/${dialect}.ts`)}", out: "${path.relative(process.cwd(), path.join(dir, dialect))}" };\n`,
    );
    const r = spawnSync(process.execPath, ["node_modules/drizzle-kit/bin.cjs", "generate", "--config", config], { encoding: "utf8", timeout: 60_000 });
    expect(r.stdout + r.stderr).toContain("No schema changes");
  });

  it("is what a migrated store holds: tables, indexes, triggers", async () => {
    const { db } = await testStore();
    const pg = dialectOf(db) === "postgres";
    const tableRows = pg
      ? await sqlAll<{ name: string }>(db, sql`select tablename as name from pg_tables where schemaname = 'public'`)
      : await sqlAll<{ name: string }>(db, sql`select name from sqlite_master where type = 'table'`);
    const indexRows = pg
      ? await sqlAll<{ name: string }>(db, sql`select indexname as name from pg_indexes where schemaname = 'public'`)
      : await sqlAll<{ name: string }>(db, sql`select name from sqlite_master where type = 'index'`);
    const triggerRows = pg
      ? await sqlAll<{ name: string }>(db, sql`select tgname as name from pg_trigger where not tgisinternal`)
      : await sqlAll<{ name: string }>(db, sql`select name from sqlite_master where type = 'trigger'`);
    const tables = new Set(tableRows.map((r) => r.name));
    const indexes = new Set(indexRows.map((r) => r.name));
    for (const t of declared) {
      expect(tables, t.name).toContain(t.name);
      for (const i of t.indexes) expect(indexes, `${t.name}.${i.config.name}`).toContain(i.config.name);
    }
    expect(new Set(triggerRows.map((r) => r.name))).toEqual(new Set(triggerNames(dialectOf(db))));
    expect(declared.find((t) => t.name === "tasks")!.indexes.map((i) => i.config.name)).toEqual(
      expect.arrayContaining(["tasks_status_type_kind_due_idx", "tasks_status_idx", "tasks_status_type_idx", "tasks_claimed_by_idx"]),
    );
  });

  it("enforces its foreign keys and CHECK constraints on every store", async () => {
    const { db } = await testStore();
    const owner = await makeUser(db, "manager");
    await makeType(db, invoiceType(owner.email));
    const [d] = await ingestDecisions(db, [invoiceDecision("fk-1", { confidence: 0.1 })], { batch: false, actor: "t" });
    const task = (
      await db
        .select()
        .from(tasks)
        .where(sql`${tasks.decisionId} = ${d.id}`)
    )[0]!;
    const refused = async (fn: () => Promise<unknown>) => {
      let error: unknown = null;
      try {
        await transaction(db, fn);
      } catch (e) {
        error = e;
      }
      return String((error as { cause?: unknown })?.cause ?? error);
    };
    const fk = /foreign key/i;
    expect(
      await refused(() =>
        db
          .update(tasks)
          .set({ typeKey: "no-such-type" })
          .where(sql`${tasks.id} = ${task.id}`),
      ),
    ).toMatch(fk);
    expect(
      await refused(() =>
        db
          .update(tasks)
          .set({ claimedBy: "usr_nobody" })
          .where(sql`${tasks.id} = ${task.id}`),
      ),
    ).toMatch(fk);
    expect(
      await refused(() =>
        db
          .update(tasks)
          .set({ assigneeId: "usr_nobody" })
          .where(sql`${tasks.id} = ${task.id}`),
      ),
    ).toMatch(fk);
    expect(
      await refused(() =>
        db
          .update(tasks)
          .set({ excludedUserId: "usr_nobody" })
          .where(sql`${tasks.id} = ${task.id}`),
      ),
    ).toMatch(fk);
    expect(
      await refused(() =>
        db
          .update(decisions)
          .set({ finalizedBy: "someone@example.com" })
          .where(sql`${decisions.id} = ${d.id}`),
      ),
    ).toMatch(fk);
    const check = /check/i;
    expect(
      await refused(() =>
        db
          .update(tasks)
          .set({ status: "lost" as never })
          .where(sql`${tasks.id} = ${task.id}`),
      ),
    ).toMatch(check);
    expect(
      await refused(() =>
        db
          .update(decisions)
          .set({ status: "maybe" as never })
          .where(sql`${decisions.id} = ${d.id}`),
      ),
    ).toMatch(check);
    // Nothing of the refused writes stayed.
    expect(
      (
        await db
          .select()
          .from(tasks)
          .where(sql`${tasks.id} = ${task.id}`)
      )[0],
    ).toEqual(task);
  });

  it.each([
    ["the shared queue head", sql`status = 'open'`],
    ["one type's queue head", sql`status = 'open' AND type_key = 'invoice'`],
  ])("serves %s in claim order from an index, without sorting the queue", async (_name, where) => {
    const { db } = await testStore();
    const query = sql`SELECT * FROM tasks WHERE ${where} ORDER BY priority DESC, due_at ASC, seq ASC LIMIT 1`;
    const plan = await transaction(db, async (tx) => {
      if (dialectOf(tx) === "sqlite") return (await sqlAll<{ detail: string }>(tx, sql`EXPLAIN QUERY PLAN ${query}`)).map((r) => r.detail);
      // An empty table would be scanned whatever the indexes: ask whether an index can give this order at all.
      await sqlRun(tx, sql`SET LOCAL enable_seqscan = off`);
      return (await sqlAll<{ "QUERY PLAN": string }>(tx, sql`EXPLAIN ${query}`)).map((r) => r["QUERY PLAN"]);
    });
    expect(plan.join("\n")).toMatch(/tasks_(claim|open_order)_idx/);
    expect(plan.join("\n")).not.toMatch(/Sort|TEMP B-TREE/);
  });

  it.each([
    ["every queue", sql`status = 'open'`, "tasks_status_idx"],
    ["one queue", sql`status = 'open' AND type_key = 'invoice'`, "tasks_status_type_idx"],
  ])("lists %s's open tasks in arrival order from an index, not by walking every finished task", async (_name, where, index) => {
    const { db } = await testStore();
    const query = sql`SELECT * FROM tasks WHERE ${where} ORDER BY seq ASC LIMIT 51`;
    const plan = await transaction(db, async (tx) => {
      if (dialectOf(tx) === "sqlite") return (await sqlAll<{ detail: string }>(tx, sql`EXPLAIN QUERY PLAN ${query}`)).map((r) => r.detail);
      await sqlRun(tx, sql`SET LOCAL enable_seqscan = off`);
      return (await sqlAll<{ "QUERY PLAN": string }>(tx, sql`EXPLAIN ${query}`)).map((r) => r["QUERY PLAN"]);
    });
    // The open tasks' own range of the index, in seq order: no sort, and not the primary key filtered by status.
    expect(plan.join("\n")).toMatch(new RegExp(`${index}\\b`));
    expect(plan.join("\n")).not.toMatch(/Sort|TEMP B-TREE|tasks_pkey/);
  });
});
