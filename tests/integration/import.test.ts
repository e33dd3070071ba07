/**
 * `lastmile import` through the real CLI (a subprocess on the test's store): JSONL and CSV,
 * idempotent re-runs, conflicts, rejects with line numbers and reasons, and the errors that
 * stop an import before anything is written.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { closeDatabase, sqlAll } from "@db/client.server";
import { ingestDecisions } from "~/domain/ingest/ingest.server";
import { makeUser, onPostgres, testStore, type TestStore } from "../support/db";
import { autoDecision, counts, decisionRow, freshType, reviewDecision, tasksOf } from "../support/api";
import { auditEntries } from "../support/reads";
import { runCli } from "../support/cli";

type Summary = { lines: number; created: number; unchanged: number; conflicting: number; rejected: number; rejectsFile: string | null; actor: string };
type Reject = { line: number; kind: string; reasons: { path: string; message: string }[]; raw: unknown };

// Each CLI run starts Node + tsx (about a second), so allow slow machines plenty of time.
describe("lastmile import", { timeout: 300_000 }, () => {
  let st: TestStore;
  let owner: string;
  beforeAll(async () => {
    st = await testStore();
    owner = (await makeUser(st.db, "admin")).email;
  });
  afterAll(async () => {
    if (st) await closeDatabase(st.db);
  });

  const routing = { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0 };
  const importCli = (...args: string[]) => runCli(["import", ...args], st.env);
  const summaryOf = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Summary;
  const file = (name: string, content: string) => {
    const p = path.join(st.dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  const jsonl = (name: string, lines: unknown[]) => file(name, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  const rejectsOf = (p: string) =>
    fs
      .readFileSync(p, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Reject);
  const withoutType = ({ type: _type, ...d }: Record<string, unknown>) => d;

  it("imports a JSONL file: each decision routed by its type's policy, audited as the import, no rejects file", async () => {
    const type = await freshType(st.db, owner, { routing });
    const p = jsonl("happy.jsonl", [
      autoDecision(type, "h-1"),
      reviewDecision(type, "h-2", { flags: ["policy:aml"], priority: 7 }),
      withoutType(autoDecision(type, "h-3")), // "type" may be left out: --type supplies it
      "",
    ]);
    const r = importCli(p, "--type", type, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(summaryOf(r)).toMatchObject({ lines: 3, created: 3, unchanged: 0, conflicting: 0, rejected: 0, rejectsFile: null, actor: "import:happy.jsonl" });
    expect(fs.existsSync(`${p}.rejects.jsonl`)).toBe(false);

    const auto = (await decisionRow(st.db, type, "h-1"))!;
    expect(auto).toMatchObject({ route: "auto", status: "auto_approved" });
    expect(await tasksOf(st.db, auto.id)).toEqual([]);
    const review = (await decisionRow(st.db, type, "h-2"))!;
    expect(review).toMatchObject({ route: "review", status: "pending_review", priority: 7 });
    expect(review.reasons).toEqual(["confidence 0.5 < 0.9", "flag policy:aml matches policy:*"]);
    expect((await tasksOf(st.db, review.id)).map((t) => [t.kind, t.status])).toEqual([["review", "open"]]);
    expect(await decisionRow(st.db, type, "h-3")).toMatchObject({ route: "auto" });

    const entries = await auditEntries(st.db, { actor: "import:happy.jsonl" });
    expect(entries.map((e) => e.action)).toEqual(["decisions.ingested"]); // one batch, one entry naming all three
  });

  it("re-running a file creates nothing: every line unchanged, also for decisions that came through the API first", async () => {
    const type = await freshType(st.db, owner, { routing });
    const viaApi = reviewDecision(type, "r-0");
    await ingestDecisions(st.db, [viaApi], { batch: false, actor: "test" });
    const p = jsonl("rerun.jsonl", [viaApi, ...Array.from({ length: 5 }, (_, i) => autoDecision(type, `r-${i + 1}`))]);
    const first = importCli(p, "--type", type, "--json");
    expect(first.code).toBe(0);
    expect(summaryOf(first)).toMatchObject({ lines: 6, created: 5, unchanged: 1 });
    const before = await counts(st.db);
    const again = importCli(p, "--type", type, "--json", "--batch-size", "2");
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toMatchObject({ lines: 6, created: 0, unchanged: 6, conflicting: 0, rejected: 0 });
    expect(await counts(st.db)).toEqual(before);
  });

  it("counts lines that reuse an externalId with other content as conflicting, in the file or already stored, and imports the rest", async () => {
    const type = await freshType(st.db, owner, { routing });
    await ingestDecisions(st.db, [autoDecision(type, "c-1")], { batch: false, actor: "test" });
    const p = jsonl("conflicts.jsonl", [
      autoDecision(type, "c-1", { confidence: 0.91 }), // stored with another body
      autoDecision(type, "c-2"),
      autoDecision(type, "c-3"),
      autoDecision(type, "c-2", { priority: 3 }), // repeats line 2 with another body, in the same batch
      autoDecision(type, "c-3", { priority: 3 }), // repeats line 3, in the next batch
      autoDecision(type, "c-2"), // the same content again: unchanged
    ]);
    const r = importCli(p, "--type", type, "--json", "--batch-size", "4");
    expect(r.code).toBe(3);
    expect(summaryOf(r)).toMatchObject({ lines: 6, created: 2, unchanged: 1, conflicting: 3, rejected: 0, rejectsFile: `${p}.rejects.jsonl` });
    const rejects = rejectsOf(`${p}.rejects.jsonl`);
    expect(rejects.map((x) => [x.line, x.kind])).toEqual([
      [1, "conflicting"],
      [4, "conflicting"],
      [5, "conflicting"],
    ]);
    expect(rejects[0].reasons[0].message).toMatch(/already exists with a different body/);
    expect(rejects[1].reasons[0].message).toBe("externalId repeats line 2 with a different body");
    expect((await decisionRow(st.db, type, "c-1"))!.confidence).toBe(0.99);
    expect((await decisionRow(st.db, type, "c-2"))!.priority).toBe(0);
  });

  it("sends bad lines to the rejects file with their line numbers and reasons and imports the good ones; a clean re-run removes it", async () => {
    const type = await freshType(st.db, owner, { routing });
    const good = (id: string) => autoDecision(type, id);
    const lines: unknown[] = [
      good("b-1"),
      "{not json",
      autoDecision(type, "b-3", { output: { total: -5, currency: "EUR" } }),
      autoDecision("no-such-type", "b-4"),
      withoutType({ ...good("b-5"), externalId: undefined }),
      "[1, 2]",
      good("b-7"),
    ];
    const p = jsonl("bad.jsonl", lines);
    const r = importCli(p, "--type", type);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("7 lines, 2 created, 0 unchanged, 0 conflicting, 5 rejected");
    expect(r.stdout).toContain(`${p}.rejects.jsonl`);
    const rejects = rejectsOf(`${p}.rejects.jsonl`);
    expect(rejects.map((x) => x.line)).toEqual([2, 3, 4, 5, 6]);
    expect(rejects.every((x) => x.kind === "rejected" && x.reasons.length > 0)).toBe(true);
    expect(rejects[0]).toMatchObject({ raw: "{not json", reasons: [{ path: "", message: expect.stringMatching(/^not JSON/) }] });
    expect(rejects[1].reasons).toEqual([{ path: "output.total", message: expect.stringMatching(/>=0/) }]);
    expect(rejects[2].reasons).toEqual([{ path: "type", message: `"no-such-type" is not the imported type "${type}" (--type)` }]);
    expect(rejects[3].reasons.map((i) => i.path)).toEqual(["externalId"]);
    expect(JSON.parse(rejects[1].raw as string)).toEqual(lines[2]);
    expect(await decisionRow(st.db, type, "b-1")).toBeDefined();
    expect(await decisionRow(st.db, type, "b-7")).toBeDefined();
    expect(await decisionRow(st.db, type, "b-3")).toBeUndefined();

    // the fixed file, with the rejects somewhere else: the old rejects file there is removed, none written
    const fixed = jsonl("bad.jsonl", [good("b-1"), good("b-7")]);
    const custom = path.join(st.dir, "custom-rejects.jsonl");
    fs.writeFileSync(custom, "stale\n");
    const clean = importCli(fixed, "--type", type, "--rejects", custom, "--json");
    expect(clean.code).toBe(0);
    expect(summaryOf(clean)).toMatchObject({ lines: 2, unchanged: 2, rejectsFile: null });
    expect(fs.existsSync(custom)).toBe(false);
  });

  it("rejects lines holding a value no store keeps as sent (text with a NUL, a number too large), as the API does, and imports the rest", async () => {
    const type = await freshType(st.db, owner, { routing });
    const lines: unknown[] = [
      autoDecision(type, "n-1"),
      autoDecision(type, "n-2\u0000"),
      autoDecision(type, "n-3", { input: { vendor: "ACME\u0000" } }),
      JSON.stringify(autoDecision(type, "n-4")).replace('"total":', '"total":1e400,"x":'),
      autoDecision(type, "n-5"),
    ];
    const p = jsonl("nul.jsonl", lines);
    const r = importCli(p, "--type", type, "--json");
    expect(r.code).toBe(3);
    expect(summaryOf(r)).toMatchObject({ lines: 5, created: 2, rejected: 3 });
    const rejects = rejectsOf(`${p}.rejects.jsonl`);
    expect(rejects.map((x) => [x.line, x.reasons.map((i) => i.path)])).toEqual([
      [2, ["externalId"]],
      [3, ["input.vendor"]],
      [4, ["output.total"]],
    ]);
    expect(rejects[0].reasons[0].message).toContain("NUL");

    const csv = file("nul.csv", ["id,vendor,total,score", "c-1,ACME,10,0.99", "c-2,AC\u0000ME,10,0.99", "c-3,ACME,1e400,0.99"].join("\n") + "\n");
    const mapping = file(
      "nul-mapping.json",
      JSON.stringify({
        externalId: "id",
        confidence: "score",
        input: { vendor: "vendor" },
        output: { total: { column: "total", as: "number" }, currency: { value: "EUR" } },
      }),
    );
    const c = importCli(csv, "--type", type, "--map", mapping, "--json");
    expect(summaryOf(c)).toMatchObject({ lines: 3, created: 1, rejected: 2 });
    expect(rejectsOf(`${csv}.rejects.jsonl`).map((x) => [x.line, x.reasons.map((i) => i.path)])).toEqual([
      [3, ["input.vendor"]],
      [4, ["output.total"]],
    ]);
    expect(await decisionRow(st.db, type, "c-1")).toBeDefined();
    expect(await decisionRow(st.db, type, "n-5")).toBeDefined();
  });

  it("imports CSV through a mapping: typed cells, constants, flags, field confidences; unreadable cells are rejects", async () => {
    const type = await freshType(st.db, owner, { routing });
    const csv = file(
      "invoices.csv",
      [
        "invoice_id,vendor,pages,total,currency,score,total_score,flags,lines,model_version",
        `i-1,"ACME, Inc",2,120.5,EUR,0.97,0.99,,"[{""sku"":""A-1"",""amount"":120.5}]",3.1`,
        "i-2,Foo,1,80,USD,0.95,0.99,policy:aml|manual,,3.1",
        "i-3,Bar,x,eleven,EUR,0.97,0.99,,,3.1",
        "i-4,Baz,1",
      ].join("\r\n") + "\r\n",
    );
    const mapping = file(
      "mapping.json",
      JSON.stringify({
        externalId: "invoice_id",
        confidence: "score",
        input: { vendor: "vendor", pages: { column: "pages", as: "integer" }, source: { value: "legacy-erp" } },
        output: { total: { column: "total", as: "number" }, currency: "currency", lines: { column: "lines", as: "json" } },
        model: { name: { value: "invoice-extractor" }, version: "model_version" },
        flags: "flags",
        fieldConfidence: { total: "total_score" },
      }),
    );
    const r = importCli(csv, "--type", type, "--map", mapping, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    expect(summaryOf(r)).toMatchObject({ lines: 4, created: 2, rejected: 2 });
    const one = (await decisionRow(st.db, type, "i-1"))!;
    expect(one).toMatchObject({ modelName: "invoice-extractor", modelVersion: "3.1", confidence: 0.97, route: "auto", flags: [] });
    expect(one.input).toEqual({ vendor: "ACME, Inc", pages: 2, source: "legacy-erp" });
    expect(one.output).toEqual({ total: 120.5, currency: "EUR", lines: [{ sku: "A-1", amount: 120.5 }] });
    expect(one.fieldConfidence).toEqual({ total: 0.99 });
    const two = (await decisionRow(st.db, type, "i-2"))!;
    expect(two).toMatchObject({ route: "review", flags: ["policy:aml", "manual"] });
    const rejects = rejectsOf(`${csv}.rejects.jsonl`);
    expect(rejects.map((x) => x.line)).toEqual([4, 5]);
    expect(rejects[0].reasons).toEqual([
      { path: "input.pages", message: 'column pages: "x" is not an integer' },
      { path: "output.total", message: 'column total: "eleven" is not a number' },
    ]);
    expect(rejects[0].raw).toMatchObject({ invoice_id: "i-3", total: "eleven" });
    expect(rejects[1].reasons[0].message).toBe("3 cells where the header has 10 columns");

    const again = importCli(csv, "--type", type, "--map", mapping, "--json");
    expect(summaryOf(again)).toMatchObject({ created: 0, unchanged: 2, rejected: 2 });
  });

  it("refuses a bad mapping, a mapping naming absent columns, an unknown type and a missing file with one clear line, writing nothing", async () => {
    const type = await freshType(st.db, owner, { routing });
    const csv = file("m.csv", "id,score,total\nm-1,0.99,5\n");
    const before = await counts(st.db);
    let n = 0;
    const bad = (content: string) => file(`bad-mapping-${++n}.json`, content);
    const cases: [string[], RegExp][] = [
      [[csv, "--type", type, "--map", bad("{not json")], /^Error: cannot read mapping .*bad-mapping-1\.json: /],
      [
        [csv, "--type", type, "--map", bad(JSON.stringify({ externalId: "id", confidence: "score", input: {}, output: { total: 3 } }))],
        /^Error: invalid mapping .*: input: map at least one field; output\.total: /,
      ],
      [
        [csv, "--type", type, "--map", bad(JSON.stringify({ externalId: "id", confidence: "score", input: { a: "nope" }, output: { total: "total" } }))],
        /the mapping names columns the file's header lacks: nope/,
      ],
      [[csv, "--type", type, "--map", path.join(st.dir, "absent.json")], /^Error: cannot read mapping .*absent\.json: /],
      [[csv, "--type", type], /looks like CSV: name its mapping with --map/],
      [[jsonl("x.jsonl", [autoDecision(type, "x-1")]), "--type", "no-such-type"], /^Error: unknown decision type "no-such-type" \(--type; known: .*\)$/],
      [[path.join(st.dir, "missing.jsonl"), "--type", type], /^Error: cannot read .*missing\.jsonl: no such file$/],
      [[st.dir, "--type", type], /^Error: cannot read .*: not a file$/],
      [
        [jsonl("y.jsonl", [autoDecision(type, "y-1")]), "--type", type, "--rejects", path.join(st.dir, "no-dir", "r.jsonl")],
        /^Error: cannot write rejects to .*r\.jsonl: its folder is missing or not writable$/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = importCli(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stdout).toBe("");
    }
    expect(fs.existsSync(`${csv}.rejects.jsonl`)).toBe(false);
    expect(await counts(st.db)).toEqual(before);

    const usage = importCli(csv);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/needs a FILE and --type KEY/);
    const help = runCli(["help"], st.env);
    expect(help.stdout).toContain("lastmile import FILE --type KEY [--rejects FILE] [--map mapping.json]");
  });

  it("records --actor in the audit trail with the file it came from", async () => {
    const type = await freshType(st.db, owner, { routing });
    const p = jsonl("actor.jsonl", [autoDecision(type, "a-1"), autoDecision(type, "a-2")]);
    const r = importCli(p, "--type", type, "--actor", "ops@example.com", "--json");
    expect(r.code).toBe(0);
    expect(summaryOf(r).actor).toBe("ops@example.com (import actor.jsonl)");
    const entries = await auditEntries(st.db, { actor: "ops@example.com (import actor.jsonl)" });
    expect(entries).toHaveLength(1);
  });

  // Postgres plans from table statistics that a bulk load leaves stale (SQLite plans from its indexes alone).
  if (onPostgres())
    it("leaves the tables it filled analysed on Postgres, so the next claims are planned on the queue's real size", async () => {
      const analysedAt = async () =>
        Object.fromEntries(
          (
            await sqlAll<{ relname: string; at: number | null }>(
              st.db,
              sql`select relname, extract(epoch from last_analyze) * 1000 as at from pg_stat_user_tables where relname in ('tasks', 'decisions')`,
            )
          ).map((r) => [r.relname, r.at === null ? null : Number(r.at)]),
        );
      const before = await analysedAt();
      const type = await freshType(st.db, owner, { routing });
      const r = importCli(jsonl("analyse.jsonl", [reviewDecision(type, "an-1"), autoDecision(type, "an-2")]), "--type", type, "--json");
      expect(r.code).toBe(0);
      const after = await analysedAt();
      for (const table of ["tasks", "decisions"]) {
        expect(after[table]).not.toBeNull();
        expect(after[table]).toBeGreaterThan(before[table] ?? 0);
      }
    });
});
