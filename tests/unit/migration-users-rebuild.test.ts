import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, openDatabase, runMigrations } from "@db/client.server";

describe("the oidc_users migration", () => {
  it("rebuilds users (nullable role and password) on a database with people, sessions and keys, keeping every reference", () => {
    // The migrations before this one, applied to a database that already holds data referencing users.
    const before = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-mig-"));
    fs.cpSync(MIGRATIONS_DIR, before, { recursive: true });
    const journal = JSON.parse(fs.readFileSync(path.join(before, "meta/_journal.json"), "utf8"));
    journal.entries = journal.entries.filter((e: { tag: string }) => !e.tag.endsWith("_oidc_users"));
    fs.writeFileSync(path.join(before, "meta/_journal.json"), JSON.stringify(journal));
    const db = openDatabase(path.join(before, "old.db"));
    migrate(db, { migrationsFolder: before });
    const sqlite = db.$client;
    sqlite.prepare("INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ('usr_1', 'a@example.com', 'A', 'admin', 'scrypt$x', 1)").run();
    sqlite.prepare("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s1', 'usr_1', 1, 2)").run();
    sqlite.prepare("INSERT INTO api_keys (id, name, prefix, key_hash, scopes, user_id, created_at) VALUES ('key_1', 'k', 'abc', 'h', '[\"read\"]', 'usr_1', 1)").run();

    runMigrations(db);

    expect(sqlite.prepare("SELECT id, role, password_hash FROM users").all()).toEqual([{ id: "usr_1", role: "admin", password_hash: "scrypt$x" }]);
    expect(sqlite.prepare("SELECT user_id FROM sessions").all()).toEqual([{ user_id: "usr_1" }]);
    sqlite.prepare("INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ('usr_2', 'b@example.com', 'B', NULL, NULL, 2)").run();
    expect(sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(() => sqlite.prepare("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s2', 'usr_nobody', 1, 2)").run()).toThrow(/FOREIGN KEY/);
  });
});
