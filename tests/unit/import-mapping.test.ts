import { describe, expect, it } from "vitest";
import { columnsOf, decisionOfRecord, parseCsvMapping, UNKNOWN_MODEL, type CsvMapping } from "~/domain/ingest/import-mapping";

const mapping = (raw: unknown): CsvMapping => {
  const p = parseCsvMapping(raw);
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  return p.mapping;
};

describe("the CSV mapping of the batch import", () => {
  const m = mapping({
    externalId: "id",
    confidence: "score",
    input: { vendor: "vendor", urgent: { column: "urgent", as: "boolean" }, source: { value: { system: "erp" } } },
    output: { total: { column: "total", as: "number" }, currency: "cur" },
    flags: { column: "flags", separator: ";" },
    fieldConfidence: { total: "total_score" },
    priority: "prio",
    occurredAt: "at",
  });

  it("reads typed cells, constants, flags and field confidences; empty cells leave the field out", () => {
    const record = { id: "x-1", score: "0.9", vendor: "ACME", urgent: "yes", total: "12.50", cur: "", flags: "a; b;", total_score: "", prio: "4", at: "" };
    expect(decisionOfRecord(m, "invoice", record)).toEqual({
      item: {
        type: "invoice",
        externalId: "x-1",
        model: { ...UNKNOWN_MODEL },
        input: { vendor: "ACME", urgent: true, source: { system: "erp" } },
        output: { total: 12.5 },
        confidence: 0.9,
        flags: ["a", "b"],
        priority: 4,
      },
    });
  });

  it("names each cell it cannot read, by field and column", () => {
    const record = { id: "x-2", score: "high", vendor: "", urgent: "maybe", total: "1e999", cur: "EUR", flags: "", total_score: "0.9", prio: "1.5", at: "" };
    expect(decisionOfRecord(m, "invoice", record)).toEqual({
      issues: [
        { path: "input.urgent", message: 'column urgent: "maybe" is not a boolean (true/false, 1/0, yes/no)' },
        { path: "output.total", message: 'column total: "1e999" is not a number' },
        { path: "confidence", message: 'column score: "high" is not a number' },
        { path: "priority", message: 'column prio: "1.5" is not an integer' },
      ],
    });
  });

  it("lists every column it reads, and refuses mappings that cannot work", () => {
    expect(columnsOf(m).sort()).toEqual(["at", "cur", "flags", "id", "prio", "score", "total", "total_score", "urgent", "vendor"]);
    const bad = (raw: unknown) => {
      const p = parseCsvMapping(raw);
      return p.ok ? [] : p.issues.map((i) => i.path);
    };
    expect(bad({ externalId: "id", confidence: "s", input: {}, output: { a: "a" } })).toEqual(["input"]);
    expect(bad({ externalId: "id", confidence: "s", input: { a: "a" }, output: { a: { column: "a", as: "date" } } })).toEqual(["output.a"]);
    expect(bad({ externalId: "id", confidence: "s", input: { a: "a" }, output: { a: "a" }, extra: 1 })).toEqual([""]);
    expect(bad(JSON.parse('{"externalId":"id","confidence":"s","input":{"__proto__":"a"},"output":{"a":"a"}}'))).toEqual(["input"]);
  });
});
