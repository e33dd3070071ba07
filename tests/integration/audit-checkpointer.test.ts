/**
 * The server signs audit checkpoints on its own (issue 9, finding 5): started
 * with the server, not by a request or a command, so a trail written while
 * nobody runs `lastmile audit checkpoint` is still anchored.
 */
import fs from "node:fs";
import { afterAll, expect, it } from "vitest";
import { closeDatabase, runMigrations } from "@db/client.server";
import { makeUser, openStore, storeEnv } from "../support/db";
import { auditEntries } from "../support/reads";
import { runCli } from "../support/cli";
import { startServer, type TestServer } from "../support/server";

let s: TestServer | undefined;
afterAll(() => s?.close());

it("a started server signs a checkpoint of the trail's head, and the whole chain then verifies against it", async () => {
  const { env } = await storeEnv();
  const db = openStore(env);
  await runMigrations(db);
  await makeUser(db, "admin"); // an audit entry (user.created) written before the server starts
  const head = (await auditEntries(db)).at(-1)!;
  await closeDatabase(db);
  expect(head.seq).toBeGreaterThan(0);

  // AUDIT_CHECKPOINT_DIR (Postgres), or the folder beside the SQLite file
  const dir = env.AUDIT_CHECKPOINT_DIR ?? `${env.DATABASE_PATH}.audit-checkpoints`;
  expect(fs.existsSync(dir)).toBe(false);
  s = await startServer(env);
  const deadline = Date.now() + 15_000;
  let files: string[] = [];
  while (Date.now() < deadline) {
    files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
    if (files.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(files.length).toBeGreaterThan(0);
  const checkpoint = JSON.parse(fs.readFileSync(`${dir}/${files[0]}`, "utf8"));
  expect(checkpoint.seq).toBe(head.seq);
  expect(checkpoint.signature).toEqual(expect.any(String));

  const verify = runCli(["audit", "verify"], env);
  expect(verify.code).toBe(0);
});
