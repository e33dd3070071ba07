import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { describe, expect, it } from "vitest";
import { migrationsDir, openDatabase, runMigrations, sqliteClientOf, transaction } from "@db/client.server";

// About SQLite itself (a file upgraded by its migration chain): a SQLite store whichever store the suite runs on.

describe("the oidc_users migration", () => {
  it("rebuilds users (nullable role and password) on a database with people, sessions and keys, keeping every reference", async () => {
    // The migrations before this one, applied to a database that already holds data referencing users.
    const before = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-mig-"));
    fs.cpSync(migrationsDir("sqlite"), before, { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(before, "meta/_journal.json"), "utf8"));
    const at = journal.entries.findIndex((e: { tag: string }) => e.tag.endsWith("_oidc_users"));
    expect(at).toBeGreaterThan(0);
    journal.entries = journal.entries.slice(0, at);
    fs.writeFileSync(path.join(before, "meta/_journal.json"), JSON.stringify(journal));
    const db = openDatabase(path.join(before, "old.db"));
    // The store's writer connection (the handle itself reads on a read-only one): the one runMigrations uses.
    const sqlite = await transaction(db, async (tx) => sqliteClientOf(tx)!);
    migrate(drizzle(sqlite), { migrationsFolder: before });
    sqlite.prepare("INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ('usr_1', 'a@example.com', 'A', 'admin', 'scrypt$x', 1)").run();
    sqlite.prepare("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s1', 'usr_1', 1, 2)").run();
    sqlite
      .prepare("INSERT INTO api_keys (id, name, prefix, key_hash, scopes, user_id, created_at) VALUES ('key_1', 'k', 'abc', 'h', '[\"read\"]', 'usr_1', 1)")
      .run();

    await runMigrations(db);

    expect(sqlite.prepare("SELECT id, role, password_hash FROM users").all()).toEqual([{ id: "usr_1", role: "admin", password_hash: "scrypt$x" }]);
    expect(sqlite.prepare("SELECT user_id FROM sessions").all()).toEqual([{ user_id: "usr_1" }]);
    sqlite.prepare("INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ('usr_2', 'b@example.com', 'B', NULL, NULL, 2)").run();
    expect(sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(() => sqlite.prepare("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s2', 'usr_nobody', 1, 2)").run()).toThrow(/FOREIGN KEY/);
  });
});
