import fs from "node:fs";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { parquetReadObjects } from "hyparquet";
import { beforeAll, describe, expect, it } from "vitest";
import { closeDatabase } from "@db/client.server";
import { generateReviewedInvoices } from "../../scripts/bench/generate";
import { runCli } from "../support/cli";
import { testStore } from "../support/db";

describe("lastmile export", () => {
  let env: Record<string, string>;
  let dir: string;
  beforeAll(async () => {
    const store = await testStore();
    await generateReviewedInvoices(store.db, 500);
    await closeDatabase(store.db);
    ({ env, dir } = store);
  });
  const lastmile = (args: string[]) => {
    const r = runCli(args, env);
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  };

  it("writes the filtered examples as Parquet and CSV", { timeout: 60_000 }, () => {
    const out = path.join(dir, "corrected.parquet");
    const res = lastmile(["export", "--type", "invoice", "--format", "parquet", "--out", out, "--action", "corrected", "--model-version", "2.0.0,1.0.0"]);
    expect(res.stderr).not.toMatch(/Error/);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/Wrote 150 examples \(all\) of invoice/);
    const buf = fs.readFileSync(out);
    return parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }).then((rows) => {
      expect(rows).toHaveLength(150);
      expect(rows.every((r) => r.action === "corrected" && (r.changedFields as string[])[0] === "total")).toBe(true);

      const csvOut = path.join(dir, "test.csv");
      const csv = lastmile([
        "export",
        "--type",
        "invoice",
        "--format",
        "csv",
        "--out",
        csvOut,
        "--split",
        "test",
        "--fractions",
        "0.5,0.25,0.25",
        "--route",
        "auto",
      ]);
      expect(csv.status).toBe(0);
      const parsed = parseCsv(fs.readFileSync(csvOut), { columns: true }) as Record<string, string>[];
      expect(parsed.length).toBeGreaterThan(0);
      expect(parsed.every((r) => r.split === "test" && r.route === "auto" && r.seenBecause === "qa_sample" && r.weight === "20")).toBe(true);
    });
  });

  it("names the bad options and writes nothing", { timeout: 60_000 }, () => {
    const out = path.join(dir, "bad.jsonl");
    const res = lastmile(["export", "--type", "invoice", "--format", "xml", "--out", out, "--action", "maybe"]);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/--format: use jsonl, csv or parquet/);
    expect(res.stderr).toMatch(/--action: /);
    expect(fs.existsSync(out)).toBe(false);
    const unknown = lastmile(["export", "--type", "nope", "--format", "jsonl", "--out", out]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/--type: no decision type "nope" \(known: invoice\)/);
  });
});
