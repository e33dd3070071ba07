/**
 * Format writers for labelled examples: JSONL, CSV and Parquet, all fed one
 * record at a time and flushed to disk in ~1 MB pieces, so memory stays flat
 * whatever the row count (Parquet holds one row group of PARQUET_ROW_GROUP rows:
 * 5,000, which keeps a 1,000,000-row export's peak under 300 MB; see bench:export).
 * Every writer hashes the bytes it writes (SHA-256) as it goes.
 *
 * One column list (EXAMPLE_COLUMNS) drives all three: JSONL keys, the CSV
 * header (nested fields as JSON text columns, times as ISO 8601, booleans as
 * true/false, null as an empty cell) and the typed Parquet schema (UTF8
 * strings, DOUBLE, INT32, BOOLEAN, INT64 TIMESTAMP_MILLIS, JSON byte arrays).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { stringify } from "csv-stringify/sync";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { csvSafeCell } from "~/lib/csv-safe";
import { EXAMPLE_COLUMNS, exampleToJsonLine, type ExampleRecord } from "./examples.server";
import type { ExportFormat } from "./filter";

export type FileInfo = { bytes: number; rows: number; sha256: string };

export interface ExampleSink {
  write(r: ExampleRecord): void;
  /** Flushes, closes the file and returns its size, row count and SHA-256. */
  close(): FileInfo;
  /** Closes without finishing (the file is left incomplete; callers delete it). */
  abort(): void;
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  parquet: "application/vnd.apache.parquet",
};

const FLUSH_BYTES = 1 << 20;

/** An append-only file with a running hash. */
class HashedFile {
  private fd: number;
  private hash = crypto.createHash("sha256");
  bytes = 0;
  constructor(file: string) {
    this.fd = fs.openSync(file, "w");
  }
  write(buf: Uint8Array): void {
    if (buf.byteLength === 0) return;
    this.hash.update(buf);
    let off = 0;
    while (off < buf.byteLength) off += fs.writeSync(this.fd, buf, off, buf.byteLength - off);
    this.bytes += buf.byteLength;
  }
  close(): string {
    fs.closeSync(this.fd);
    return this.hash.digest("hex");
  }
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** Text formats: strings gathered in a list and written once they pass FLUSH_BYTES. */
export class TextSink implements ExampleSink {
  private out: HashedFile;
  private parts: string[] = [];
  private pending = 0;
  private rows = 0;
  constructor(
    file: string,
    private encode: (batch: ExampleRecord[], first: boolean) => string,
    private batchSize: number,
  ) {
    this.out = new HashedFile(file);
  }
  private batch: ExampleRecord[] = [];
  /** Appends already encoded text (a JSONL line shared by the "all" file and a split file). */
  writeEncoded(text: string, rows = 1): void {
    if (this.batch.length) this.encodeBatch();
    this.parts.push(text);
    this.pending += text.length;
    this.rows += rows;
    if (this.pending >= FLUSH_BYTES) this.flush();
  }
  write(r: ExampleRecord): void {
    this.batch.push(r);
    this.rows++;
    if (this.batch.length >= this.batchSize) this.encodeBatch();
  }
  private encodeBatch(): void {
    if (this.batch.length === 0 && this.rows > 0) return;
    const s = this.encode(this.batch, this.parts.length === 0 && this.out.bytes === 0 && this.pending === 0);
    this.batch = [];
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= FLUSH_BYTES) this.flush();
  }
  private flush(): void {
    if (this.parts.length === 0) return;
    this.out.write(Buffer.from(this.parts.join(""), "utf8"));
    this.parts = [];
    this.pending = 0;
  }
  close(): FileInfo {
    this.encodeBatch();
    this.flush();
    return { bytes: this.out.bytes, rows: this.rows, sha256: this.out.close() };
  }
  abort(): void {
    this.out.abort();
  }
}

function jsonlEncode(batch: ExampleRecord[]): string {
  let s = "";
  for (const r of batch) s += exampleToJsonLine(r) + "\n";
  return s;
}

const CSV_HEADER = EXAMPLE_COLUMNS.map((c) => c.name);

function csvCell(kind: string, v: unknown): string | number {
  if (v === null || v === undefined) return "";
  if (kind === "timestamp") return new Date(v as number).toISOString();
  if (kind === "bool") return v ? "true" : "false";
  // Text (strings, JSON text) a spreadsheet would run as a formula is escaped; numeric columns stay numbers.
  return typeof v === "string" ? csvSafeCell(v) : (v as number);
}

function csvEncode(batch: ExampleRecord[], first: boolean): string {
  const rows = batch.map((r) => EXAMPLE_COLUMNS.map((c) => csvCell(c.kind, r[c.name])));
  // An empty export is still a valid CSV file: just the header.
  if (rows.length === 0) return first ? stringify([CSV_HEADER]) : "";
  return stringify(rows, { header: first, columns: CSV_HEADER });
}

type SchemaElement = {
  name: string;
  type?: "BOOLEAN" | "INT32" | "INT64" | "DOUBLE" | "BYTE_ARRAY";
  repetition_type?: "REQUIRED" | "OPTIONAL";
  converted_type?: "UTF8" | "JSON" | "TIMESTAMP_MILLIS";
  logical_type?: { type: "STRING" } | { type: "JSON" } | { type: "TIMESTAMP"; isAdjustedToUTC: boolean; unit: "MILLIS" };
  num_children?: number;
};

function parquetElement(c: (typeof EXAMPLE_COLUMNS)[number]): SchemaElement {
  const repetition_type = c.nullable ? "OPTIONAL" : "REQUIRED";
  switch (c.kind) {
    case "string":
      return { name: c.name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type };
    case "json":
      // Typed JSON once finished (see finishJsonColumns); written as raw bytes so the JSON text is not re-encoded.
      return { name: c.name, type: "BYTE_ARRAY", repetition_type };
    case "double":
      return { name: c.name, type: "DOUBLE", repetition_type };
    case "int":
      return { name: c.name, type: "INT32", repetition_type };
    case "bool":
      return { name: c.name, type: "BOOLEAN", repetition_type };
    case "timestamp":
      return { name: c.name, type: "INT64", converted_type: "TIMESTAMP_MILLIS", repetition_type };
  }
}

export const PARQUET_ROW_GROUP = 5_000;

class ParquetSink implements ExampleSink {
  private out: HashedFile;
  private writer: ParquetWriter;
  private schema: SchemaElement[];
  private columns: unknown[][] = EXAMPLE_COLUMNS.map(() => []);
  private buffered = 0;
  private rows = 0;
  constructor(file: string, kvMetadata: { key: string; value: string }[]) {
    this.out = new HashedFile(file);
    const bw = new ByteWriter();
    const out = this.out;
    const flush = () => {
      out.write(new Uint8Array(bw.buffer, 0, bw.index));
      bw.index = 0;
    };
    const grow = bw.ensure.bind(bw);
    bw.ensure = (size: number) => {
      if (bw.index > FLUSH_BYTES) flush();
      grow(size);
    };
    bw.finish = flush;
    this.schema = [{ name: "root", num_children: EXAMPLE_COLUMNS.length }, ...EXAMPLE_COLUMNS.map(parquetElement)];
    this.writer = new ParquetWriter({ writer: bw, schema: this.schema as never, kvMetadata, createdBy: "lastmile" });
  }
  write(r: ExampleRecord): void {
    for (let i = 0; i < EXAMPLE_COLUMNS.length; i++) this.columns[i].push(r[EXAMPLE_COLUMNS[i].name]);
    this.rows++;
    if (++this.buffered >= PARQUET_ROW_GROUP) this.flushGroup();
  }
  private flushGroup(): void {
    if (this.buffered === 0) return;
    // Min/max statistics where readers prune with them (numbers, booleans, times); long text gains nothing.
    const columnData = EXAMPLE_COLUMNS.map((c, i) => ({ name: c.name, data: this.columns[i], statistics: c.kind !== "json" && c.kind !== "string" }));
    void this.writer.write({ columnData: columnData as never, rowGroupSize: this.buffered });
    this.columns = EXAMPLE_COLUMNS.map(() => []);
    this.buffered = 0;
  }
  close(): FileInfo {
    this.flushGroup();
    // Declare the JSON columns as JSON (converted and logical type) in the footer.
    for (const el of this.schema) {
      const c = EXAMPLE_COLUMNS.find((x) => x.name === el.name);
      if (c?.kind === "json") {
        el.converted_type = "JSON";
        el.logical_type = { type: "JSON" };
      }
    }
    void this.writer.finish();
    return { bytes: this.out.bytes, rows: this.rows, sha256: this.out.close() };
  }
  abort(): void {
    this.out.abort();
  }
}

export function openSink(format: ExportFormat, file: string, meta: Record<string, string> = {}): ExampleSink {
  if (format === "jsonl") return new TextSink(file, jsonlEncode, 500);
  if (format === "csv") return new TextSink(file, csvEncode, 500);
  return new ParquetSink(
    file,
    Object.entries(meta).map(([key, value]) => ({ key, value })),
  );
}
