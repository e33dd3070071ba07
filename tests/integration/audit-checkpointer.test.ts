/**
 * The server signs audit checkpoints on its own (issue 9, finding 5): started
 * with the server, not by a request or a command, so a trail written while
 * nobody runs `lastmile audit checkpoint` is still anchored.
 */
import fs from "node:fs";
import { afterAll, expect, it } from "vitest";
import { fileDb, makeUser, tempDbPath } from "../support/db";
import { runCli } from "../support/cli";
import { startServer, type TestServer } from "../support/server";

let s: TestServer | undefined;
afterAll(() => s?.close());

it("a started server signs a checkpoint of the trail's head, and the whole chain then verifies against it", async () => {
  const dbPath = tempDbPath();
  const db = fileDb(dbPath);
  await makeUser(db, "admin"); // an audit entry (user.created) written before the server starts
  const head = db.$client.prepare("SELECT max(seq) AS seq FROM audit_log").get() as { seq: number };
  db.$client.close();
  expect(head.seq).toBeGreaterThan(0);

  const dir = `${dbPath}.audit-checkpoints`;
  expect(fs.existsSync(dir)).toBe(false);
  s = await startServer({ DATABASE_PATH: dbPath });
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

  const verify = runCli(["audit", "verify"], dbPath);
  expect(verify.code).toBe(0);
});
