/**
 * The batch import: decisions from a JSONL or CSV file, streamed (never the whole
 * file in memory) into ingestEach in batches of IMPORT_BATCH lines, each batch
 * one transaction with one audit entry. Validation and idempotency are the
 * API's; a line that cannot become a decision is a reject with its line number
 * and reasons, and never stops the import.
 */
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { parse } from "csv-parse";
import { refreshPlannerStatistics, type Db } from "@db/client.server";
import type { Issue } from "~/lib/errors";
import { isPlainObject, jsonValueIssues, unstorablePaths } from "~/lib/json";
import { columnsOf, decisionOfRecord, type CsvMapping } from "./import-mapping";
import { ingestEach, MAX_BATCH } from "./ingest.server";

export const IMPORT_BATCH = MAX_BATCH;

/** One line (JSONL) or record (CSV) of the file: the item to ingest, or why there is none. */
export type SourceLine = { line: number; raw: unknown } & ({ item: unknown } | { issues: Issue[] });

/** A line that was not imported, as the rejects file holds it. */
export type Reject = {
  line: number;
  kind: "rejected" | "conflicting";
  reasons: Issue[];
  /** The line's text (JSONL) or the record's cells by column (CSV). */
  raw: unknown;
};

export type ImportSummary = { lines: number; created: number; unchanged: number; conflicting: number; rejected: number };

/** A fatal problem with the file as a whole (not one of its lines): the import stops. */
export class ImportFileError extends Error {}

/**
 * The lines of a JSONL file as ingest items of `type`: a line without a type takes it, a line
 * naming another type is a reject, and so is one holding a value no store keeps as sent (a number
 * too large for a double, text with a NUL: the API's rule). Blank lines are skipped. Reads chunk by chunk, so memory
 * stays bounded by the longest line whatever the file's size.
 */
export async function* jsonlSource(file: string, type: string, progress?: (bytes: number) => void): AsyncGenerator<SourceLine> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  let bytes = 0;
  const one = (text: string): SourceLine | null => {
    line++;
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === "") return null;
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch (e) {
      return { line, raw: text, issues: [{ path: "", message: `not JSON: ${(e as Error).message}` }] };
    }
    const unstorable = jsonValueIssues(item, text);
    if (unstorable.length > 0) return { line, raw: text, issues: unstorable };
    if (isPlainObject(item)) {
      if (item.type === undefined) item.type = type;
      else if (item.type !== type)
        return { line, raw: text, issues: [{ path: "type", message: `"${String(item.type)}" is not the imported type "${type}" (--type)` }] };
    }
    return { line, raw: text, item };
  };
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 256 * 1024 })) {
    bytes += (chunk as Buffer).length;
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const s = one(text.slice(start, nl));
      start = nl + 1;
      if (s) yield s;
    }
    rest = text.slice(start);
    progress?.(bytes);
  }
  rest += decoder.end();
  if (rest !== "") {
    const s = one(rest);
    if (s) yield s;
  }
}

/**
 * The records of a CSV file with a header row, as ingest items of `type` through the mapping.
 * A column the mapping names but the header lacks is an ImportFileError before any record; a
 * record with the wrong number of cells, or a value no store keeps as sent, is a reject; broken quoting stops the import (the
 * parser cannot find where the next record starts).
 */
export async function* csvSource(file: string, type: string, mapping: CsvMapping, progress?: (bytes: number) => void): AsyncGenerator<SourceLine> {
  let headerError: ImportFileError | undefined;
  const parser = fs.createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(
    parse({
      bom: true,
      delimiter: mapping.delimiter,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      columns: (header: string[]) => {
        const missing = columnsOf(mapping).filter((c) => !header.includes(c));
        if (missing.length > 0) {
          headerError = new ImportFileError(`the mapping names columns the file's header lacks: ${missing.join(", ")} (header: ${header.join(", ")})`);
          throw headerError;
        }
        return header;
      },
    }),
  );
  let width = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number; bytes: number; columns: unknown[] };
    }>) {
      width ||= info.columns.length;
      progress?.(info.bytes);
      const cells = Object.keys(record).length;
      if (cells !== width) {
        yield { line: info.lines, raw: record, issues: [{ path: "", message: `${cells} cells where the header has ${width} columns` }] };
        continue;
      }
      const d = decisionOfRecord(mapping, type, record);
      const issues = "item" in d ? unstorablePaths(d.item) : d.issues;
      yield issues.length === 0 && "item" in d ? { line: info.lines, raw: record, item: d.item } : { line: info.lines, raw: record, issues };
    }
  } catch (e) {
    if (headerError) throw headerError;
    if ((e as { code?: string }).code?.startsWith("CSV_")) throw new ImportFileError(`CSV syntax error: ${(e as Error).message}`);
    throw e;
  }
}

/**
 * Ingests every line of `source` through ingestEach, IMPORT_BATCH lines per transaction, and
 * hands each line that was not imported to `onReject`, in line order.
 */
export async function importDecisions(
  db: Db,
  source: AsyncIterable<SourceLine>,
  opts: { actor: string; batchSize?: number; onReject?: (r: Reject) => void; onBatch?: (s: ImportSummary) => void },
): Promise<ImportSummary> {
  const size = opts.batchSize ?? IMPORT_BATCH;
  const summary: ImportSummary = { lines: 0, created: 0, unchanged: 0, conflicting: 0, rejected: 0 };
  let batch: SourceLine[] = [];
  const flush = async () => {
    const lines = batch;
    batch = []; // taken before writing: a failed write is not tried again by the `finally` below
    const items: unknown[] = [];
    const lineOf: number[] = [];
    const slot: number[] = new Array(lines.length).fill(-1);
    for (const [i, s] of lines.entries()) {
      if ("item" in s) {
        slot[i] = items.length;
        items.push(s.item);
        lineOf.push(s.line);
      }
    }
    const outcomes = items.length > 0 ? await ingestEach(db, items, { actor: opts.actor, name: (i) => `line ${lineOf[i]}` }) : [];
    for (const [i, s] of lines.entries()) {
      summary.lines++;
      const o = slot[i] >= 0 ? outcomes[slot[i]] : { kind: "rejected" as const, issues: "issues" in s ? s.issues : [] };
      summary[o.kind]++;
      if (o.kind === "rejected" || o.kind === "conflicting") opts.onReject?.({ line: s.line, kind: o.kind, reasons: o.issues, raw: s.raw });
    }
    opts.onBatch?.(summary);
  };
  try {
    for await (const s of source) {
      batch.push(s);
      if (batch.length >= size) await flush();
    }
  } finally {
    // the lines read before a broken one are imported all the same
    if (batch.length > 0) await flush();
    // the store plans its next queries (the queue's head, the reports) on the rows just loaded
    if (summary.created > 0) await refreshPlannerStatistics(db);
  }
  return summary;
}
