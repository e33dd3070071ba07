/**
 * Another process holds the store's write lock (a second server, a CLI import or backup, an operator's session):
 * the server goes on answering reads meanwhile, and its writes wait for the lock and then succeed. On SQLite the
 * lock is the file's (BEGIN IMMEDIATE on a connection of this test); on Postgres, a session holding an exclusive
 * lock on the decisions table.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, freshType, ingest, person, reviewDecision, sleep, answer, type Person } from "../support/api";
import { startServer, type TestServer } from "../support/server";

type Lock = { release: () => Promise<void> };

async function holdWriteLock(env: Record<string, string>): Promise<Lock> {
  if (env.DATABASE_URL) {
    const c = new pg.Client({ connectionString: env.DATABASE_URL });
    await c.connect();
    await c.query("BEGIN");
    await c.query("LOCK TABLE decisions IN EXCLUSIVE MODE");
    return {
      release: async () => {
        await c.query("COMMIT");
        await c.end();
      },
    };
  }
  const c = new Database(env.DATABASE_PATH);
  c.prepare("BEGIN IMMEDIATE").run();
  return {
    release: async () => {
      c.prepare("COMMIT").run();
      c.close();
    },
  };
}

describe("while another process holds the write lock", () => {
  let s: TestServer;
  let admin: Person;
  let type: string;
  beforeAll(async () => {
    s = await startServer();
    admin = await person(s.db, "admin", ["ingest", "read"]);
    type = await freshType(s.db, admin.email);
  });
  afterAll(async () => s?.close());

  it("answers reads, and its writes wait for the lock and then succeed", async () => {
    const events: string[] = [];
    const lock = await holdWriteLock(s.env);
    let released = false;
    try {
      const write = ingest(s, admin.key, reviewDecision(type, "under-lock")).then((r) => {
        events.push(released ? "write answered after the release" : "write answered while locked");
        return r;
      });
      await sleep(100); // the write has reached the lock
      for (let i = 0; i < 3; i++) {
        const read = await answer(client(s, admin.key).GET("/api/v1/decision-types"));
        expect(read.status).toBe(200);
        events.push(released ? "read answered after the release" : "read answered while locked");
      }
      await sleep(300);
      released = true;
      await lock.release();
      const r = await write;
      expect(r.status).toBe(201);
      expect(events).toEqual(["read answered while locked", "read answered while locked", "read answered while locked", "write answered after the release"]);
      const stored = await answer(client(s, admin.key).GET("/api/v1/decisions/{id}", { params: { path: { id: r.body.id as string } } }));
      expect(stored.status).toBe(200);
    } finally {
      if (!released) await lock.release();
    }
  });
});
