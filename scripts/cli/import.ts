/**
 * `lastmile import FILE --type KEY` (also `npm run import --`): decisions from a
 * JSONL file, or a CSV file with a mapping, through the same validation and
 * idempotency as the API (importDecisions), with a progress bar on stderr, a
 * summary, and a rejects file of the lines that were not imported.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { getDb } from "@db/client.server";
import { getDecisionType, listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { parseCsvMapping, type CsvMapping } from "~/domain/ingest/import-mapping";
import { csvSource, ImportFileError, importDecisions, jsonlSource, type Reject } from "~/domain/ingest/import.server";

export const IMPORT_USAGE = `lastmile import FILE --type KEY [--rejects FILE] [--map mapping.json] [--actor NAME] [--json] [--no-progress]

  FILE            JSONL (one decision per line, as the API's body; "type" may be left out),
                  or CSV with a header row when --map names a mapping file (see README, "Batch import")
  --type KEY      the decision type the file holds; a line naming another type is rejected
  --rejects FILE  where lines that were not imported go (default FILE.rejects.jsonl; removed when none)
  --actor NAME    recorded in the audit trail as "NAME (import FILE)" (default "import:FILE")
  --json          print the summary as JSON
  --no-progress   no progress bar

Exit: 0 every line imported or already there; 3 some lines rejected or conflicting (see the rejects file);
1 the file, mapping or type cannot be used (nothing written); 2 usage.`;

/** One clear line, exit 1: the file as a whole cannot be imported. */
function fail(message: string): number {
  console.error(`Error: ${message}`);
  return 1;
}

function readMapping(file: string): { mapping: CsvMapping } | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return { error: `cannot read mapping ${file}: ${(e as Error).message}` };
  }
  const parsed = parseCsvMapping(raw);
  if (!parsed.ok) return { error: `invalid mapping ${file}: ${parsed.issues.map((i) => `${i.path || "(mapping)"}: ${i.message}`).join("; ")}` };
  return { mapping: parsed.mapping };
}

/** The rejects file, opened at the first reject and written in blocks (memory stays bounded however many lines are rejected). */
function rejectsWriter(file: string) {
  let fd: number | undefined;
  let buffer = "";
  const flush = () => {
    if (buffer === "") return;
    fd ??= fs.openSync(file, "w");
    fs.writeSync(fd, buffer);
    buffer = "";
  };
  return {
    add(r: Reject) {
      buffer += JSON.stringify(r) + "\n";
      if (buffer.length > 64 * 1024) flush();
    },
    close() {
      flush();
      if (fd !== undefined) fs.closeSync(fd);
    },
  };
}

export async function runImport(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      type: { type: "string" },
      rejects: { type: "string" },
      map: { type: "string" },
      actor: { type: "string" },
      json: { type: "boolean" },
      "no-progress": { type: "boolean" },
      // not in the usage: the benchmark reads the process's peak memory from the JSON summary
      stats: { type: "boolean" },
      "batch-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !values.type) {
    console.error(positionals.length > 1 ? `import takes one FILE, got ${positionals.length}` : "import needs a FILE and --type KEY");
    console.error(IMPORT_USAGE);
    return 2;
  }
  const file = positionals[0];
  const type = values.type;
  const batchSize = values["batch-size"] ? Number(values["batch-size"]) : undefined;
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 1000)) return fail("--batch-size takes 1 to 1000");

  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return fail(`cannot read ${file}: not a file`);
    fs.accessSync(file, fs.constants.R_OK);
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message}`);
  }
  let mapping: CsvMapping | undefined;
  if (values.map) {
    const m = readMapping(values.map);
    if ("error" in m) return fail(m.error);
    mapping = m.mapping;
  } else if (/\.csv$/i.test(file)) {
    return fail(`${file} looks like CSV: name its mapping with --map mapping.json (see README, "Batch import")`);
  }

  const db = getDb();
  if (!(await getDecisionType(db, type))) {
    const known = (await listDecisionTypes(db)).map((t) => t.key).join(", ") || "none yet";
    return fail(`unknown decision type "${type}" (--type; known: ${known})`);
  }
  const rejectsFile = path.resolve(values.rejects ?? `${file}.rejects.jsonl`);
  if (rejectsFile === path.resolve(file)) return fail("--rejects must not be the imported file");
  try {
    fs.accessSync(path.dirname(rejectsFile), fs.constants.W_OK);
    if (fs.existsSync(rejectsFile) && !fs.statSync(rejectsFile).isFile()) return fail(`cannot write rejects to ${rejectsFile}: not a file`);
  } catch {
    return fail(`cannot write rejects to ${rejectsFile}: its folder is missing or not writable`);
  }
  // A rejects file left by an earlier run of this file would be mistaken for this run's.
  fs.rmSync(rejectsFile, { force: true });

  const name = path.basename(file);
  const actor = values.actor ? `${values.actor} (import ${name})` : `import:${name}`;
  const showBar = !values["no-progress"] && process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: "Importing {bar} {percentage}% | {lines} lines | {rate} lines/s | ETA {eta_formatted}",
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let bytes = 0;
  if (showBar) bar.start(size, 0, { lines: 0, rate: 0 });
  const progress = (b: number) => (bytes = b);
  const source = mapping ? csvSource(file, type, mapping, progress) : jsonlSource(file, type, progress);
  const rejects = rejectsWriter(rejectsFile);
  let summary;
  let sofar = "";
  try {
    summary = await importDecisions(db, source, {
      actor,
      batchSize,
      onReject: (r) => rejects.add(r),
      onBatch: (s) => {
        sofar = `; ${s.lines} lines before it were processed (${s.created} created, ${s.unchanged} unchanged, ${s.conflicting} conflicting, ${s.rejected} rejected)`;
        if (showBar) bar.update(bytes, { lines: s.lines, rate: Math.round(s.lines / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
    });
  } catch (e) {
    if (e instanceof ImportFileError) return fail(`${file}: ${e.message}${sofar}`);
    throw e;
  } finally {
    rejects.close();
    if (showBar) bar.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const notImported = summary.rejected + summary.conflicting;
  if (values.json) {
    const out: Record<string, unknown> = { file, type, actor, ...summary, rejectsFile: notImported > 0 ? rejectsFile : null, seconds };
    if (values.stats) {
      out.maxRssBytes = process.resourceUsage().maxRSS * 1024;
      out.memory = process.memoryUsage();
    }
    console.log(JSON.stringify(out));
  } else {
    console.log(
      `Imported ${file} as ${type}: ${summary.lines} lines, ${summary.created} created, ${summary.unchanged} unchanged, ${summary.conflicting} conflicting, ${summary.rejected} rejected (${seconds.toFixed(1)} s)`,
    );
    if (notImported > 0) console.log(`Lines not imported, with their reasons: ${rejectsFile}`);
  }
  return notImported > 0 ? 3 : 0;
}
