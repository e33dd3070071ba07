import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { closeDatabase } from "@db/client.server";
import { datasetSnapshots } from "@db/schema/index";
import { getSnapshot } from "~/domain/datasets/snapshots.server";
import { generateReviewedInvoices } from "../../scripts/bench/generate";
import { makeKey, makeUser, openStore } from "../support/db";
import { auditEntries } from "../support/reads";
import { startServer, type TestServer } from "../support/server";
import type { components } from "../../scripts/client/index";
import { answer, client, createDataset, createSnapshot, snapshotAt } from "../support/api";

type Snapshot = components["schemas"]["Snapshot"];

describe("a snapshot build interrupted by a server crash", () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
  });

  it("is resumed by the next server and ends with the same content", { timeout: 180_000 }, async () => {
    const first = await startServer();
    servers.push(first);
    const env = first.env;
    const manager = await makeUser(first.db, "manager");
    const key = await makeKey(first.db, ["read", "admin"], manager.email);
    await generateReviewedInvoices(first.db, 30_000);

    const ds = await createDataset(first, key, { name: "Crash", filter: { type: "invoice" } });
    const created = await createSnapshot(first, key, ds.body.id, {});
    expect(created.status).toBe(202);
    const location = created.headers.get("Location")!;
    const number = Number(created.body.number);
    // Wait until the build is under way, then kill -9 the process that builds it (its pid is in build_owner, which no seam shows).
    for (;;) {
      const snap = await getSnapshot(first.db, ds.body.id, number);
      expect(snap.status).toBe("building");
      if (snap.progress.processed > 0) {
        const [row] = await first.db.select({ owner: datasetSnapshots.buildOwner }).from(datasetSnapshots);
        process.kill(Number(row.owner!.split(":")[1]), "SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await first.close();

    const db = openStore(env);
    const stuck = await getSnapshot(db, ds.body.id, number);
    expect(stuck.status).toBe("building");
    expect(stuck.progress.processed).toBeGreaterThan(0);

    const second = await startServer(env);
    servers.push(second);
    let snap!: Snapshot;
    for (let i = 0; i < 1200; i++) {
      snap = (await answer(client(second, key).GET("/api/v1/datasets/{id}/snapshots/{n}", { params: { path: snapshotAt(location) } })))
        .body as unknown as Snapshot;
      if (snap.status !== "building") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(snap).toMatchObject({ status: "ready", rowCount: 30_000, progress: { processed: 30_000, total: 30_000 } });

    // Nothing of the interrupted attempt is left, and a fresh snapshot of the same data hashes the same.
    const dir = path.join(env.SNAPSHOTS_DIR ?? path.join(path.dirname(env.DATABASE_PATH), "snapshots"), ds.body.id);
    expect(fs.readdirSync(dir)).toEqual(["1"]);
    const again = await createSnapshot(second, key, ds.body.id, {});
    let fresh!: Snapshot;
    for (let i = 0; i < 1200; i++) {
      fresh = (await answer(client(second, key).GET("/api/v1/datasets/{id}/snapshots/{n}", { params: { path: snapshotAt(again.headers.get("Location")) } })))
        .body as unknown as Snapshot;
      if (fresh.status !== "building") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(fresh.contentHash).toBe(snap.contentHash);
    const audit = (await auditEntries(db, { action: "dataset." })).map((e) => e.action);
    expect(audit).toEqual([
      "dataset.created",
      "dataset.snapshot_created",
      "dataset.snapshot_resumed",
      "dataset.snapshot_ready",
      "dataset.snapshot_created",
      "dataset.snapshot_ready",
    ]);
    await closeDatabase(db);
  });
});
