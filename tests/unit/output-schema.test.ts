import { describe, expect, it } from "vitest";
import { compileOutputSchema, leafPaths, outputSchemaSchema, type ObjectSchema } from "~/domain/decision-types/output-schema";
import { zodIssues } from "~/lib/errors";

const invoice: ObjectSchema = {
  type: "object",
  required: ["total", "currency", "issued"],
  properties: {
    total: { type: "number", minimum: 0, maximum: 1_000_000 },
    count: { type: "integer", minimum: 1, maximum: 10 },
    currency: { type: "string", enum: ["EUR", "USD"] },
    vendor: { type: "string", minLength: 2, maxLength: 5 },
    issued: { type: "string", format: "date" },
    paid: { type: "boolean" },
    address: { type: "object", required: ["city"], properties: { city: { type: "string" }, zip: { type: "string" } } },
    lines: {
      type: "array",
      minItems: 1,
      maxItems: 3,
      items: { type: "object", required: ["sku"], properties: { sku: { type: "string" }, amount: { type: "number", minimum: 0 } } },
    },
  },
};

const valid = { total: 10.5, currency: "EUR", issued: "2024-02-29" };

function issuesOf(schema: ObjectSchema, value: unknown) {
  const r = compileOutputSchema(outputSchemaSchema.parse(schema)).safeParse(value);
  return r.success ? [] : zodIssues(r.error);
}
const paths = (schema: ObjectSchema, value: unknown) => issuesOf(schema, value).map((i) => i.path);

describe("output schema: compiled validator", () => {
  it("accepts a valid output with every field kind", () => {
    expect(
      issuesOf(invoice, { ...valid, count: 3, vendor: "ACME", paid: true, address: { city: "Berlin" }, lines: [{ sku: "A", amount: 1 }, { sku: "B" }] }),
    ).toEqual([]);
  });

  it("reports every missing required field by path", () => {
    expect(paths(invoice, {})).toEqual(["total", "currency", "issued"]);
    expect(paths(invoice, { ...valid, address: {} })).toEqual(["address.city"]);
    expect(paths(invoice, { ...valid, lines: [{ amount: 1 }] })).toEqual(["lines.0.sku"]);
  });

  it("checks types: number, integer, string, boolean, object, array", () => {
    expect(paths(invoice, { ...valid, total: "10" })).toEqual(["total"]);
    expect(paths(invoice, { ...valid, count: 1.5 })).toEqual(["count"]);
    expect(paths(invoice, { ...valid, vendor: 12 })).toEqual(["vendor"]);
    expect(paths(invoice, { ...valid, paid: "yes" })).toEqual(["paid"]);
    expect(paths(invoice, { ...valid, address: "Berlin" })).toEqual(["address"]);
    expect(paths(invoice, { ...valid, lines: { sku: "A" } })).toEqual(["lines"]);
    expect(paths(invoice, { ...valid, total: null })).toEqual(["total"]);
  });

  it("checks minimum and maximum, inclusive", () => {
    expect(paths(invoice, { ...valid, total: 0 })).toEqual([]);
    expect(paths(invoice, { ...valid, total: 1_000_000 })).toEqual([]);
    expect(paths(invoice, { ...valid, total: -0.01 })).toEqual(["total"]);
    expect(paths(invoice, { ...valid, total: 1_000_000.01 })).toEqual(["total"]);
    expect(paths(invoice, { ...valid, count: 0 })).toEqual(["count"]);
    expect(paths(invoice, { ...valid, count: 11 })).toEqual(["count"]);
    expect(paths(invoice, { ...valid, vendor: "A" })).toEqual(["vendor"]);
    expect(paths(invoice, { ...valid, vendor: "ABCDEF" })).toEqual(["vendor"]);
    expect(paths(invoice, { ...valid, lines: [] })).toEqual(["lines"]);
    expect(paths(invoice, { ...valid, lines: [{ sku: "a" }, { sku: "b" }, { sku: "c" }, { sku: "d" }] })).toEqual(["lines"]);
    expect(paths(invoice, { ...valid, lines: [{ sku: "a", amount: -1 }] })).toEqual(["lines.0.amount"]);
  });

  it("checks enums", () => {
    expect(paths(invoice, { ...valid, currency: "GBP" })).toEqual(["currency"]);
    expect(paths(invoice, { ...valid, currency: "eur" })).toEqual(["currency"]);
  });

  it("checks dates as real calendar days in YYYY-MM-DD", () => {
    for (const ok of ["2024-02-29", "2023-12-31", "1999-01-01"]) expect(paths(invoice, { ...valid, issued: ok })).toEqual([]);
    for (const bad of ["2023-02-29", "2024-02-30", "2024-13-01", "2024-1-01", "2024-01-01T00:00:00Z", "01/02/2024", "", "2024-00-10"]) {
      expect(paths(invoice, { ...valid, issued: bad }), bad).toEqual(["issued"]);
    }
  });

  it("is strict: unknown fields are errors at every level", () => {
    expect(paths(invoice, { ...valid, extra: 1 })).toEqual([""]);
    expect(issuesOf(invoice, { ...valid, extra: 1 })[0].message).toMatch(/extra/);
    expect(paths(invoice, { ...valid, address: { city: "x", street: "y" } })).toEqual(["address"]);
    expect(paths(invoice, { ...valid, lines: [{ sku: "a", qty: 1 }] })).toEqual(["lines.0"]);
    expect(paths(invoice, JSON.parse('{"total":1,"currency":"EUR","issued":"2024-01-01","__proto__":{"x":1}}'))).toEqual([""]);
  });

  it("reports several problems at once", () => {
    expect(paths(invoice, { total: -1, currency: "X", issued: "no", lines: [{ sku: 1 }, { amount: "a" }] }).sort()).toEqual(
      ["currency", "issued", "lines.0.sku", "lines.1.amount", "lines.1.sku", "total"].sort(),
    );
  });

  it("lists leaf paths, with * for array items", () => {
    expect(leafPaths(invoice)).toEqual([
      "total",
      "count",
      "currency",
      "vendor",
      "issued",
      "paid",
      "address.city",
      "address.zip",
      "lines.*.sku",
      "lines.*.amount",
    ]);
  });
});

describe("output schema: the schema itself (outputSchemaSchema)", () => {
  const bad = (schema: unknown) => {
    const r = outputSchemaSchema.safeParse(schema);
    return r.success ? null : zodIssues(r.error).map((i) => i.path);
  };

  it("accepts the invoice example", () => {
    expect(bad(invoice)).toBeNull();
  });

  it("rejects invalid schemas, naming where", () => {
    expect(bad({ type: "object", properties: {} })).toEqual(["properties"]);
    expect(bad({ type: "array", properties: { a: { type: "string" } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "text" } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "string" } }, required: ["b"] })).toEqual(["required"]);
    expect(bad({ type: "object", properties: { a: { type: "number", minimum: 5, maximum: 1 } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "string", enum: [] } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "string", format: "email" } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "string", pattern: ".*" } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { "bad-name": { type: "string" } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { "a.b": { type: "string" } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "array", items: { type: "string" } } } })).not.toBeNull();
    expect(bad({ type: "object", properties: { a: { type: "string" } }, additionalProperties: true })).not.toBeNull();
    expect(bad("object")).not.toBeNull();
    expect(bad(null)).not.toBeNull();
  });

  it("rejects min above max for strings and arrays as it does for numbers", () => {
    expect(bad({ type: "object", properties: { a: { type: "string", minLength: 5, maxLength: 1 } } })).not.toBeNull();
    expect(
      bad({ type: "object", properties: { a: { type: "array", minItems: 3, maxItems: 1, items: { type: "object", properties: { x: { type: "string" } } } } } }),
    ).not.toBeNull();
  });

  it("rejects nesting deeper than it supports", () => {
    let s: unknown = { type: "object", properties: { leaf: { type: "string" } } };
    for (let i = 0; i < 6; i++) s = { type: "object", properties: { child: s } };
    expect(bad(s)).not.toBeNull();
  });

  it("rejects field names that collide with object internals", () => {
    for (const name of ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"]) {
      const schema = JSON.parse(`{"type":"object","properties":{"ok":{"type":"string"},"${name}":{"type":"number"}}}`);
      expect(bad(schema), name).not.toBeNull();
    }
    expect(bad({ type: "object", properties: { a: { type: "string" } }, required: ["toString"] })).toEqual(["required"]);
  });
});
