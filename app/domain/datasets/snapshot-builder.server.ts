/**
 * Building a snapshot's files in the background, and recovering builds whose
 * process died.
 *
 * A build writes every format and split (snapshot-files.server.ts) into a
 * temporary folder, in chunks that yield to the event loop, with progress
 * counters and a heartbeat in the snapshot's row, then renames the folder into
 * place and marks the snapshot ready. The content hash is the SHA-256 of the
 * JSONL file, so the same data gives the same hash. A build whose process died
 * (its pid is gone, or its heartbeat is older than STALE_MS) is started again
 * from scratch by resumeInterruptedBuilds, which the snapshot-recovery
 * background job runs (jobs/jobs.server.ts); determinism makes that a resume.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { transaction, type Db } from "@db/client.server";
import { datasets, datasetSnapshots } from "@db/schema/index";
import { randomToken } from "~/lib/crypto.server";
import { iso } from "~/lib/time";
import { errorFields, log } from "~/lib/log.server";
import { appendAudit } from "../audit/audit.server";
import { getDecisionType } from "../decision-types/decision-types.server";
import { CardBuilder, cardToMarkdown, labelFields } from "./card";
import { countExamples, exampleToJsonLine, iterateExamples } from "./examples.server";
import { exampleFilterSchema, FORMATS, type ExportFormat, type SplitFractions } from "./filter";
import { openSink, TextSink, type ExampleSink, type FileInfo } from "./formats.server";
import { PARTS, snapshotDir, snapshotFileName, type Part } from "./snapshot-files.server";

/** Who builds: host, pid and a per-process token (a reused pid is still a new process). Recorded on a snapshot as its build owner. */
export const BUILD_OWNER = `${os.hostname()}:${process.pid}:${randomToken(6)}`;
const STALE_MS = Number(process.env.SNAPSHOT_STALE_MS || 60_000);
/** Rows written between progress updates (and yields to the event loop). */
const CHUNK = 5_000;
/** Reviews counted per slice while totalling. */
const COUNT_SLICE = 200_000;

const running = new Map<string, Promise<void>>();

/** Starts building a snapshot in this process (once; a second call joins the first). Never throws: a failure is recorded on the snapshot. */
export function startBuild(db: Db, snapshotId: string): Promise<void> {
  let p = running.get(snapshotId);
  if (!p) {
    p = buildSnapshot(db, snapshotId).finally(() => running.delete(snapshotId));
    running.set(snapshotId, p);
  }
  return p;
}

/** Resolves when the snapshot's build (in this process) is over. */
export function waitForBuild(snapshotId: string): Promise<void> {
  return running.get(snapshotId) ?? Promise.resolve();
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function ownerIsDead(owner: string | null): boolean {
  if (!owner) return true;
  if (owner === BUILD_OWNER) return true; // ours, yet not running (callers skip running builds): it never finished
  const [host, pid] = owner.split(":");
  if (host !== os.hostname()) return false;
  if (Number(pid) === process.pid) return true; // an earlier process that had our pid
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

let lastSweep = 0;

/**
 * Restarts builds left behind by a process that died (at most every 2 s; the
 * snapshot-recovery job calls it under its cluster-wide lease). Without this a
 * crash mid-build would leave a snapshot "building" forever. Taking a build
 * over is a guarded update on its owner, so two processes never both take it.
 */
export async function resumeInterruptedBuilds(db: Db, now = Date.now()): Promise<number> {
  if (now - lastSweep < 2_000) return 0;
  lastSweep = now;
  let resumed = 0;
  for (const s of await db.select().from(datasetSnapshots).where(eq(datasetSnapshots.status, "building"))) {
    if (running.has(s.id)) continue;
    const stale = (s.heartbeatAt ?? 0) < now - STALE_MS;
    if (!stale && !ownerIsDead(s.buildOwner)) continue;
    const taken = await transaction(db, async (tx) => {
      const res = await tx
        .update(datasetSnapshots)
        .set({ buildOwner: BUILD_OWNER, heartbeatAt: now, processedRows: 0 })
        .where(
          and(eq(datasetSnapshots.id, s.id), eq(datasetSnapshots.status, "building"), s.buildOwner ? eq(datasetSnapshots.buildOwner, s.buildOwner) : undefined),
        )
        .returning({ id: datasetSnapshots.id });
      if (res.length !== 1) return false;
      await appendAudit(tx, {
        actor: "system",
        action: "dataset.snapshot_resumed",
        entityType: "dataset",
        entityId: s.datasetId,
        data: { snapshot: s.number, previousOwner: s.buildOwner },
        at: now,
      });
      return true;
    });
    if (taken) {
      void startBuild(db, s.id);
      resumed++;
    }
  }
  return resumed;
}

async function progress(db: Db, id: string, set: { processedRows?: number; totalRows?: number }): Promise<void> {
  await db
    .update(datasetSnapshots)
    .set({ ...set, heartbeatAt: Date.now() })
    .where(and(eq(datasetSnapshots.id, id), eq(datasetSnapshots.buildOwner, BUILD_OWNER)));
}

async function buildSnapshot(db: Db, id: string): Promise<void> {
  try {
    await writeSnapshot(db, id);
  } catch (e) {
    // A build runs detached from any request: never let it become an unhandled rejection.
    log().error({ snapshotId: id, ...errorFields(e) }, "snapshot could not be finalized");
  }
}

async function writeSnapshot(db: Db, id: string): Promise<void> {
  const row = (
    await db
      .select({ s: datasetSnapshots, d: datasets })
      .from(datasetSnapshots)
      .innerJoin(datasets, eq(datasets.id, datasetSnapshots.datasetId))
      .where(eq(datasetSnapshots.id, id))
      .limit(1)
  )[0];
  if (!row || row.s.status !== "building") return;
  const { s, d } = row;
  const filter = exampleFilterSchema.parse(s.filter);
  const fractions = s.split as SplitFractions;
  const dir = snapshotDir(db, d.id, s.number);
  const tmp = `${dir}.building-${process.pid}`;
  const sinks: { key: string; part: Part; format: ExportFormat; sink: ExampleSink }[] = [];
  try {
    await tick(); // never build inside the request that asked for it
    // Leftovers of an interrupted attempt (any process) go first.
    const parent = path.dirname(dir);
    if (fs.existsSync(parent)) {
      for (const name of fs.readdirSync(parent))
        if (name.startsWith(`${s.number}.building-`)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
    fs.mkdirSync(tmp, { recursive: true });
    const window = { watermarkSeq: s.watermarkSeq, asOf: s.asOf };

    let total = 0;
    for (let after = 0; after < s.watermarkSeq; after += COUNT_SLICE) {
      total += await countExamples(db, filter, { ...window, afterSeq: after, untilSeq: Math.min(after + COUNT_SLICE, s.watermarkSeq) });
      await progress(db, id, { processedRows: 0 });
      await tick();
    }
    await progress(db, id, { totalRows: total, processedRows: 0 });

    const meta = { "lastmile.dataset": d.name, "lastmile.snapshot": String(s.number), "lastmile.type": d.typeKey };
    for (const format of FORMATS)
      for (const part of PARTS)
        sinks.push({ key: `${format}/${part}`, part, format, sink: openSink(format, path.join(tmp, snapshotFileName(format, part)), meta) });
    // JSONL lines are encoded once and shared by the "all" file and the split file.
    const byPart = new Map<Part, ExampleSink[]>(PARTS.map((p) => [p, sinks.filter((x) => x.part === p && x.format !== "jsonl").map((x) => x.sink)]));
    const jsonlOf = new Map<Part, TextSink>(sinks.filter((x) => x.format === "jsonl").map((x) => [x.part, x.sink as TextSink]));
    const all = byPart.get("all")!;
    const jsonlAll = jsonlOf.get("all")!;
    const card = new CardBuilder(labelFields((await getDecisionType(db, d.typeKey))?.outputSchema));

    let n = 0;
    for await (const r of iterateExamples(db, filter, { ...window, split: fractions, identities: s.identities, scan: true })) {
      const line = exampleToJsonLine(r) + "\n";
      jsonlAll.writeEncoded(line);
      jsonlOf.get(r.split)!.writeEncoded(line);
      for (const sink of all) sink.write(r);
      for (const sink of byPart.get(r.split)!) sink.write(r);
      card.add(r);
      if (++n % CHUNK === 0) {
        await progress(db, id, { processedRows: n });
        await tick();
      }
    }

    const files: Record<string, FileInfo & { file: string }> = {};
    for (const x of sinks) files[x.key] = { file: snapshotFileName(x.format, x.part), ...x.sink.close() };
    sinks.length = 0;
    const contentHash = files["jsonl/all"].sha256;
    const cardJson = card.build({
      dataset: { id: d.id, name: d.name, description: d.description },
      snapshot: { number: s.number, createdAt: iso(s.createdAt)!, createdBy: s.createdBy, watermarkSeq: s.watermarkSeq, asOf: iso(s.asOf)!, contentHash },
      type: d.typeKey,
      filter,
      splitFractions: fractions,
      identities: s.identities,
    });
    fs.writeFileSync(path.join(tmp, "card.json"), JSON.stringify(cardJson, null, 2));
    fs.writeFileSync(path.join(tmp, "card.md"), cardToMarkdown(cardJson));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);

    const now = Date.now();
    await transaction(db, async (tx) => {
      const res = await tx
        .update(datasetSnapshots)
        .set({ status: "ready", rowCount: n, processedRows: n, totalRows: n, files, card: cardJson, contentHash, finishedAt: now, heartbeatAt: now })
        .where(and(eq(datasetSnapshots.id, id), eq(datasetSnapshots.status, "building"), eq(datasetSnapshots.buildOwner, BUILD_OWNER)))
        .returning({ id: datasetSnapshots.id });
      if (res.length !== 1) return; // another process took it over; its result is identical
      await appendAudit(tx, {
        actor: "system",
        action: "dataset.snapshot_ready",
        entityType: "dataset",
        entityId: d.id,
        data: { snapshot: s.number, rows: n, contentHash },
        at: now,
      });
    });
  } catch (e) {
    for (const x of sinks) x.sink.abort();
    fs.rmSync(tmp, { recursive: true, force: true });
    const message = e instanceof Error ? e.message : String(e);
    log().error({ datasetId: d.id, snapshot: s.number, ...errorFields(e) }, "snapshot build failed");
    const now = Date.now();
    await transaction(db, async (tx) => {
      await tx
        .update(datasetSnapshots)
        .set({ status: "failed", error: message.slice(0, 1000), finishedAt: now })
        .where(eq(datasetSnapshots.id, id));
      await appendAudit(tx, {
        actor: "system",
        action: "dataset.snapshot_failed",
        entityType: "dataset",
        entityId: d.id,
        data: { snapshot: s.number, error: message.slice(0, 1000) },
        at: now,
      });
    });
  }
}
