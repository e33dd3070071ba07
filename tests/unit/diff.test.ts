import { describe, expect, it } from "vitest";
import { changedPaths, diffOutputs } from "~/domain/review/diff";

describe("output diff", () => {
  it("reports nothing for equal outputs, including key order", () => {
    expect(diffOutputs({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it("reports changed, added and removed leaves by dotted path", () => {
    expect(diffOutputs({ total: 1, currency: "EUR", note: "x" }, { total: 2, currency: "EUR", extra: true })).toEqual([
      { path: "total", before: 1, after: 2 },
      { path: "note", before: "x", after: undefined },
      { path: "extra", before: undefined, after: true },
    ]);
  });

  it("indexes array items by number and recurses into them", () => {
    const before = {
      lines: [
        { sku: "A", amount: 1 },
        { sku: "B", amount: 2 },
      ],
    };
    const after = {
      lines: [
        { sku: "A", amount: 1.5 },
        { sku: "B", amount: 2 },
        { sku: "C", amount: 3 },
      ],
    };
    expect(changedPaths(before, after)).toEqual(["lines.0.amount", "lines.2.sku", "lines.2.amount"]);
    expect(changedPaths(after, before)).toEqual(["lines.0.amount", "lines.2.sku", "lines.2.amount"]);
  });

  it("handles nested objects that appear or disappear, and type changes", () => {
    expect(changedPaths({ a: { b: 1 } }, {})).toEqual(["a.b"]);
    expect(changedPaths({}, { a: { b: 1, c: 2 } })).toEqual(["a.b", "a.c"]);
    expect(changedPaths({ a: 1 }, { a: "1" })).toEqual(["a"]);
    expect(changedPaths({ a: [] }, { a: {} })).toEqual(["a"]);
    expect(changedPaths({ a: null }, { a: 0 })).toEqual(["a"]);
    expect(changedPaths({ a: false }, { a: false })).toEqual([]);
  });

  it("compares -0 and 0 and NaN without false positives", () => {
    expect(changedPaths({ a: 0 }, { a: -0 })).toEqual([]);
    expect(changedPaths({ a: NaN }, { a: NaN })).toEqual([]);
  });
});
