/**
 * One-shot export of labelled examples to a file (the CLI and the benchmark):
 * the same reader and writers as snapshots, without a snapshot record. Written
 * to FILE.partial and renamed when complete, so a reader never sees half a file.
 */
import fs from "node:fs";
import type { Db } from "@db/client.server";
import { iterateExamples, type ExampleWindow } from "./examples.server";
import { DEFAULT_SPLIT, type ExampleFilter, type ExportFormat, type Split, type SplitFractions } from "./filter";
import { openSink, type FileInfo } from "./formats.server";

export type ExportOptions = ExampleWindow & {
  format: ExportFormat;
  out: string;
  split?: Split | "all";
  fractions?: SplitFractions;
  identities?: boolean;
  /** Called every `every` rows with the rows read so far. */
  onProgress?: (rows: number) => void;
  every?: number;
};

export async function exportToFile(db: Db, filter: ExampleFilter, o: ExportOptions): Promise<FileInfo & { read: number }> {
  const partial = `${o.out}.partial`;
  const sink = openSink(o.format, partial, { "lastmile.type": filter.type });
  const every = o.every ?? 1000;
  let read = 0;
  try {
    for await (const r of iterateExamples(db, filter, {
      watermarkSeq: o.watermarkSeq,
      asOf: o.asOf,
      split: o.fractions ?? DEFAULT_SPLIT,
      identities: o.identities,
      scan: true,
    })) {
      if (!o.split || o.split === "all" || r.split === o.split) sink.write(r);
      if (++read % every === 0) o.onProgress?.(read);
    }
  } catch (e) {
    sink.abort();
    fs.rmSync(partial, { force: true });
    throw e;
  }
  const info = sink.close();
  fs.renameSync(partial, o.out);
  o.onProgress?.(read);
  return { ...info, read };
}
