/**
 * `lastmile export` (also `npm run export --`): labelled examples of one decision
 * type to a JSONL, CSV or Parquet file, with a progress bar on stderr.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { getDb } from "@db/client.server";
import { getDecisionType, listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { countExamples, currentWindow } from "~/domain/datasets/examples.server";
import { exportToFile } from "~/domain/datasets/export.server";
import { FORMATS, parseFilter, SPLITS, splitFractionsSchema, type ExportFormat } from "~/domain/datasets/filter";
import { invalid } from "~/lib/errors";

export const EXPORT_USAGE = `lastmile export --type KEY --format jsonl|csv|parquet --out FILE [filters]

Filters (repeat a list option or separate values with commas):
  --from ISO_DATE  --to ISO_DATE       final verdict time, from inclusive, to exclusive
  --model-version V    --action approved|corrected|rejected
  --route auto|review  --reason-code CODE   --agreement-only
Output:
  --split train|validation|test|all   (default all)
  --fractions 0.8,0.1,0.1             train,validation,test fractions for the split column
  --identities                        reviewer emails instead of pseudonyms
  --no-progress                       no progress bar`;

const list = (v: string[] | undefined) =>
  (v ?? [])
    .flatMap((x) => x.split(","))
    .map((x) => x.trim())
    .filter(Boolean);
const date = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);

export async function runExport(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      type: { type: "string" },
      format: { type: "string" },
      out: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      "model-version": { type: "string", multiple: true },
      action: { type: "string", multiple: true },
      route: { type: "string", multiple: true },
      "reason-code": { type: "string", multiple: true },
      "agreement-only": { type: "boolean" },
      split: { type: "string" },
      fractions: { type: "string" },
      identities: { type: "boolean" },
      "no-progress": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(EXPORT_USAGE);
    return 0;
  }
  const issues: { path: string; message: string }[] = [];
  const format = values.format as ExportFormat;
  if (!FORMATS.includes(format)) issues.push({ path: "--format", message: "use jsonl, csv or parquet" });
  if (!values.out) issues.push({ path: "--out", message: "name the output file" });
  const split = (values.split ?? "all") as (typeof SPLITS)[number] | "all";
  if (split !== "all" && !SPLITS.includes(split)) issues.push({ path: "--split", message: "use train, validation, test or all" });
  let fractions;
  if (values.fractions) {
    const [train, validation, test] = values.fractions.split(",").map(Number);
    const parsed = splitFractionsSchema.safeParse({ train, validation, test });
    if (parsed.success) fractions = parsed.data;
    else issues.push({ path: "--fractions", message: "three numbers train,validation,test adding up to 1" });
  }
  const f = parseFilter({
    type: values.type,
    from: date(values.from),
    to: date(values.to),
    modelVersions: list(values["model-version"]),
    actions: list(values.action),
    routes: list(values.route),
    reasonCodes: list(values["reason-code"]),
    agreementOnly: values["agreement-only"] ?? false,
  });
  if (!f.ok)
    issues.push(
      ...f.issues.map((i) => ({
        path: `--${i.path
          .split(".")[0]
          .replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())
          .replace(/s$/, "")}`,
        message: i.message,
      })),
    );
  if (issues.length || !f.ok) throw invalid(`Cannot export\n\n${EXPORT_USAGE}\n`, issues);

  const db = getDb();
  if (!(await getDecisionType(db, f.filter.type))) {
    const known = (await listDecisionTypes(db)).map((t) => t.key).join(", ") || "none yet";
    throw invalid("Cannot export", [{ path: "--type", message: `no decision type "${f.filter.type}" (known: ${known})` }]);
  }
  const window = await currentWindow(db);
  const total = await countExamples(db, f.filter, window);
  const showBar = !values["no-progress"] && process.stderr.isTTY !== false;
  const bar = new cliProgress.SingleBar(
    {
      format: "Exporting {bar} {percentage}% | {value}/{total} examples | {rate}/s | ETA {eta_formatted}",
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  if (showBar) bar.start(total, 0, { rate: 0 });
  const out = path.resolve(values.out!);
  const info = await exportToFile(db, f.filter, {
    ...window,
    format,
    out,
    split,
    fractions,
    identities: values.identities ?? false,
    every: 2000,
    onProgress: (n) => showBar && bar.update(n, { rate: Math.round(n / Math.max(0.001, (Date.now() - started) / 1000)) }),
  });
  if (showBar) bar.stop();
  const secs = (Date.now() - started) / 1000;
  console.log(`Wrote ${info.rows} examples (${split}) of ${f.filter.type} to ${out}`);
  console.log(`${format}, ${info.bytes} bytes, sha256 ${info.sha256}, ${secs.toFixed(1)} s`);
  return 0;
}
