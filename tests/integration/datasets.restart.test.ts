import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "@db/client.server";
import { generateReviewedInvoices } from "../../scripts/bench/generate";
import { makeKey, makeUser } from "../support/db";
import { startServer, type TestServer } from "../support/server";

describe("a snapshot build interrupted by a server crash", () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
  });

  it("is resumed by the next server and ends with the same content", { timeout: 180_000 }, async () => {
    const first = await startServer();
    servers.push(first);
    const dbPath = first.dbPath;
    const manager = await makeUser(first.db, "manager");
    const key = await makeKey(first.db, ["read", "admin"], manager.email);
    generateReviewedInvoices(first.db, 30_000);

    const ds = await first.request("/api/v1/datasets", { key, body: { name: "Crash", filter: { type: "invoice" } } });
    const created = await first.request(`/api/v1/datasets/${ds.body.id}/snapshots`, { key, body: {} });
    expect(created.status).toBe(202);
    const location = created.headers.get("Location")!;
    // Wait until the build is under way, then kill -9 the process that builds it (its pid is in build_owner).
    for (;;) {
      const row = first.db.$client.prepare("SELECT status, processed_rows AS n, build_owner AS owner FROM dataset_snapshots").get() as { status: string; n: number; owner: string };
      expect(row.status).toBe("building");
      if (row.n > 0) {
        process.kill(Number(row.owner.split(":")[1]), "SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await first.close();

    const db = openDatabase(dbPath);
    const stuck = db.$client.prepare("SELECT status, processed_rows AS processed FROM dataset_snapshots").get() as { status: string; processed: number };
    expect(stuck.status).toBe("building");
    expect(stuck.processed).toBeGreaterThan(0);

    const second = await startServer({ DATABASE_PATH: dbPath });
    servers.push(second);
    let snap;
    for (let i = 0; i < 1200; i++) {
      snap = (await second.request(location, { key })).body;
      if (snap.status !== "building") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(snap).toMatchObject({ status: "ready", rowCount: 30_000, progress: { processed: 30_000, total: 30_000 } });

    // Nothing of the interrupted attempt is left, and a fresh snapshot of the same data hashes the same.
    const dir = path.join(path.dirname(dbPath), "snapshots", ds.body.id);
    expect(fs.readdirSync(dir)).toEqual(["1"]);
    const again = await second.request(`/api/v1/datasets/${ds.body.id}/snapshots`, { key, body: {} });
    let fresh;
    for (let i = 0; i < 1200; i++) {
      fresh = (await second.request(again.headers.get("Location")!, { key })).body;
      if (fresh.status !== "building") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(fresh.contentHash).toBe(snap.contentHash);
    const audit = db.$client.prepare("SELECT action FROM audit_log WHERE action LIKE 'dataset.%' ORDER BY seq").all().map((r: any) => r.action);
    expect(audit).toEqual(["dataset.created", "dataset.snapshot_created", "dataset.snapshot_resumed", "dataset.snapshot_ready", "dataset.snapshot_created", "dataset.snapshot_ready"]);
    db.$client.close();
  });
});
