/**
 * Export benchmark: 1,000,000 labelled examples (generated with raw SQL in a
 * temporary database) exported to JSONL, CSV and Parquet, each in its own child
 * process so that each peak RSS is its own. The baseline is the same examples
 * read through the same reader without writing anything: each format's ratio to
 * it shows what the writer costs.
 *
 *   npm run bench:export [-- --rows 1000000]
 *
 * Targets: JSONL and Parquet >= 50,000 rows/s, peak RSS < 300 MB.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase, runMigrations } from "@db/client.server";
import { iterateExamples } from "~/domain/datasets/examples.server";
import { exportToFile } from "~/domain/datasets/export.server";
import { exampleFilterSchema, type ExportFormat } from "~/domain/datasets/filter";

const HERE = fileURLToPath(import.meta.url);

type Result = { mode: string; rows: number; secs: number; cpuSecs: number; rowsPerSec: number; rowsPerCpuSec: number; peakRssMb: number; bytes: number };

function generate(file: string, rows: number): void {
  const db = openDatabase(file);
  runMigrations(db);
  const c = db.$client;
  c.pragma("synchronous = OFF");
  const t0 = Date.UTC(2026, 0, 1);
  c.exec(`
    INSERT INTO users (id, email, name, role, password_hash, created_at)
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19)
      SELECT printf('usr_%02d', i), printf('reviewer%02d@example.com', i), printf('Reviewer %d', i), 'reviewer', 'x', ${t0} FROM n;
    INSERT INTO decision_types (key, name, owner_id, output_schema, reason_codes, sla_minutes, policy_version, created_at, updated_at)
      VALUES ('invoice', 'Invoice extraction', 'usr_00',
        '{"type":"object","required":["total","currency"],"properties":{"total":{"type":"number"},"currency":{"type":"string","enum":["EUR","USD"]},"lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"amount":{"type":"number"}}}}}}',
        '[{"code":"WRONG_TOTAL","label":"Total misread"},{"code":"NOT_AN_INVOICE","label":"Not an invoice"}]', 240, 1, ${t0}, ${t0});
    INSERT INTO routing_policies (type_key, version, policy, created_at) VALUES ('invoice', 1, '{"minConfidence":0.9,"fieldMinConfidence":{},"reviewFlags":[],"qaSampleRate":0.05}', ${t0});
  `);
  const started = Date.now();
  c.exec("BEGIN");
  c.exec(`
    INSERT INTO decisions (id, type_key, external_id, body_hash, model_name, model_version, input, output, confidence, field_confidence, flags,
                           priority, occurred_at, received_at, route, reasons, policy_version, qa_sampled, status, final_output, finalized_at, finalized_by, updated_at)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    SELECT printf('dec_%08d', i), 'invoice', printf('INV-%08d', i), 'h', 'invoice-extractor', CASE WHEN i % 3 = 0 THEN '2.0.0' ELSE '1.0.0' END,
      json_object('vendor', 'Vendor ' || (i % 500), 'pages', 1 + i % 4, 'text', 'Invoice ' || i || ' payable within 30 days, see attached delivery note'),
      json_object('total', (i % 1000) + 0.5, 'currency', CASE WHEN i % 2 THEN 'EUR' ELSE 'USD' END,
                  'lines', json_array(json_object('sku', 'A-' || (i % 50), 'amount', (i % 1000) + 0.5))),
      0.5 + (i % 50) / 100.0, json_object('total', 0.91, 'currency', 0.99), '[]', 0,
      ${t0} + i * 1000, ${t0} + i * 1000 + 300,
      CASE WHEN i % 5 = 0 THEN 'auto' ELSE 'review' END,
      CASE WHEN i % 5 = 0 THEN '[]' ELSE '["confidence 0.62 < 0.9"]' END, 1, i % 5 = 0,
      CASE WHEN i % 5 = 0 THEN 'auto_approved' WHEN i % 10 < 6 THEN 'approved' WHEN i % 10 < 9 THEN 'corrected' ELSE 'rejected' END,
      NULL, ${t0} + i * 1000 + 60000, 'reviewer@example.com', ${t0} + i * 1000 + 60000
    FROM n;
    INSERT INTO tasks (id, decision_id, type_key, kind, status, priority, due_at, created_at, claimed_by, completed_at)
    SELECT 'tsk_' || substr(id, 5), id, 'invoice', CASE WHEN route = 'auto' THEN 'qa' ELSE 'review' END, 'done', 0, received_at + 3600000, received_at, 'usr_00', received_at + 60000
    FROM decisions;
    INSERT INTO reviews (id, decision_id, task_id, task_kind, reviewer_id, action, output, changed_fields, reason_codes, note, created_at)
    SELECT 'rev_' || substr(d.id, 5), d.id, 'tsk_' || substr(d.id, 5), CASE WHEN d.route = 'auto' THEN 'qa' ELSE 'review' END,
      printf('usr_%02d', d.seq % 20),
      CASE WHEN d.seq % 10 < 6 THEN 'approve' WHEN d.seq % 10 < 9 THEN 'correct' ELSE 'reject' END,
      CASE WHEN d.seq % 10 BETWEEN 6 AND 8 THEN json_set(d.output, '$.total', (d.seq % 1000) + 10.5) END,
      CASE WHEN d.seq % 10 BETWEEN 6 AND 8 THEN '["total"]' ELSE '[]' END,
      CASE WHEN d.seq % 10 BETWEEN 6 AND 8 THEN '["WRONG_TOTAL"]' WHEN d.seq % 10 = 9 THEN '["NOT_AN_INVOICE"]' ELSE '[]' END,
      CASE WHEN d.seq % 10 = 9 THEN 'not an invoice, a delivery note' END,
      d.received_at + 60000
    FROM decisions d ORDER BY d.seq;
  `);
  c.exec("COMMIT");
  c.exec("ANALYZE");
  console.log(`generated ${rows.toLocaleString()} decisions + tasks + reviews in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  c.close();
}

function child(mode: string, file: string, outDir: string): void {
  const db = openDatabase(file);
  const filter = exampleFilterSchema.parse({ type: "invoice" });
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let rows = 0;
  let bytes = 0;
  if (mode === "read") {
    for (const r of iterateExamples(db, filter)) if (r.exampleId) rows++;
  } else {
    const info = exportToFile(db, filter, { format: mode as ExportFormat, out: path.join(outDir, `bench.${mode}`) });
    rows = info.rows;
    bytes = info.bytes;
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const result: Result = { mode, rows, secs, cpuSecs, rowsPerSec: rows / secs, rowsPerCpuSec: rows / cpuSecs, peakRssMb: process.resourceUsage().maxRSS / 1024, bytes };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1], args[2], args[3]);
  const rowsArg = args.indexOf("--rows");
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lastmile-bench-export-"));
  const file = path.join(dir, "bench.db");
  try {
    generate(file, rows);
    const results: Result[] = [];
    for (const mode of ["read", "jsonl", "csv", "parquet"]) {
      const res = spawnSync(process.execPath, [...process.execArgv, HERE, "--child", mode, file, dir], { encoding: "utf8", maxBuffer: 1 << 20 });
      if (res.status !== 0) throw new Error(`${mode} failed:\n${res.stderr}`);
      const r = JSON.parse(res.stdout.trim().split("\n").pop()!) as Result;
      results.push(r);
      console.log(
        `${mode.padEnd(8)} ${r.rows.toLocaleString("en").padStart(10)} rows  ${r.secs.toFixed(1).padStart(6)} s wall ${r.cpuSecs.toFixed(1).padStart(6)} s CPU  ` +
          `${Math.round(r.rowsPerSec).toLocaleString("en").padStart(8)} rows/s  ${Math.round(r.rowsPerCpuSec).toLocaleString("en").padStart(8)} rows/CPU-s  ` +
          `peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB  ${(r.bytes / 1e6).toFixed(0).padStart(5)} MB written  (load ${os.loadavg()[0].toFixed(1)})`,
      );
    }
    const base = results[0];
    // Wall-clock rates depend on what else the machine runs (the 1-minute load average is printed
    // per line); rows per CPU-second is what one idle core would do.
    console.log(`\nbaseline: read ${Math.round(base.rowsPerCpuSec).toLocaleString("en")} rows/CPU-s without writing (${os.cpus().length} cores)`);
    for (const r of results.slice(1)) {
      const target = r.mode === "csv" ? "" : `  >= 50,000 rows/s: wall ${r.rowsPerSec >= 50_000 ? "met" : "missed"}, per CPU-s ${r.rowsPerCpuSec >= 50_000 ? "met" : "missed"}`;
      console.log(`${r.mode.padEnd(8)} ${(r.rowsPerCpuSec / base.rowsPerCpuSec).toFixed(2)}x the read rate (CPU)${target}  peak < 300 MB: ${r.peakRssMb < 300 ? "met" : "MISSED"}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_GENERATE_ONLY) generate(process.env.BENCH_GENERATE_ONLY, Number(process.env.BENCH_ROWS)); else main();
