/** Pure helpers behind the admin editor and the decision detail page. */
import { describe, expect, it } from "vitest";
import { describeSchemaFields, looseLeafPaths } from "~/components/admin/schema-fields";
import { rateToPercent, typeToForm } from "~/components/admin/type-form-values";
import { outputRows } from "~/components/decisions/output-rows";
import { leafPaths, type ObjectSchema } from "~/domain/decision-types/output-schema";
import { invoiceType } from "../support/db";

const schema = invoiceType("o@example.com").outputSchema as ObjectSchema;

describe("schema preview", () => {
  it("describes every field with its type, requiredness and rules, nested paths included", () => {
    expect(describeSchemaFields(schema)).toEqual([
      { path: "total", type: "number", required: true, constraints: ["≥ 0"], title: undefined },
      { path: "currency", type: "enum", required: true, constraints: ["one of EUR, USD"], title: undefined },
      { path: "lines", type: "array of objects", required: false, constraints: [], title: undefined },
      { path: "lines.*.sku", type: "string", required: false, constraints: [], title: undefined },
      { path: "lines.*.amount", type: "number", required: false, constraints: [], title: undefined },
    ]);
  });

  it("agrees with leafPaths on valid schemas and tolerates half-typed ones", () => {
    expect(looseLeafPaths(schema)).toEqual(leafPaths(schema));
    expect(looseLeafPaths({ type: "object", properties: { a: { type: "string" }, b: 3, c: null } })).toEqual(["a"]);
    expect(describeSchemaFields("nonsense")).toEqual([]);
    expect(describeSchemaFields({ properties: [] })).toEqual([]);
  });
});

describe("type form values", () => {
  it("shows rates as percentages without float noise", () => {
    expect([0, 0.05, 0.125, 0.07, 1].map(rateToPercent)).toEqual(["0", "5", "12.5", "7", "100"]);
  });

  it("turns a stored type into editable rows", () => {
    const def = invoiceType("o@example.com", {
      routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0.05 },
    });
    const f = typeToForm({ ...def, fourEyes: { fieldAbove: { total: 10000 }, flags: ["vip:*"] } });
    expect(f.fieldMinConfidence).toEqual([{ path: "total", min: "0.95" }]);
    expect(f.reviewFlags).toBe("policy:*");
    expect(f.qaSamplePercent).toBe("5");
    expect(f.fourEyesFieldAbove).toEqual([{ path: "total", limit: "10000" }]);
    expect(f.fourEyesFlags).toBe("vip:*");
    expect(JSON.parse(f.outputSchema)).toEqual(def.outputSchema);
  });
});

describe("output rows", () => {
  it("lines up model and final values per field, marking changes and confidence", () => {
    const model = { total: 10, currency: "EUR", lines: [{ sku: "A", amount: 10 }] };
    const final = {
      total: 12,
      currency: "EUR",
      lines: [
        { sku: "A", amount: 10 },
        { sku: "B", amount: 2 },
      ],
    };
    const rows = outputRows(model, final, { total: 0.4, "lines.*.amount": 0.8 });
    expect(rows.map((r) => [r.path, r.changed])).toEqual([
      ["total", true],
      ["currency", false],
      ["lines.0.sku", false],
      ["lines.0.amount", false],
      ["lines.1.sku", true],
      ["lines.1.amount", true],
    ]);
    expect(rows[0]).toMatchObject({ model: 10, final: 12, confidence: 0.4 });
    expect(rows[3].confidence).toBe(0.8);
    expect(rows[4]).toMatchObject({ model: undefined, final: "B" });
  });

  it("marks nothing changed while the decision is not final", () => {
    expect(outputRows({ a: 1 }, null, {}).map((r) => r.changed)).toEqual([false]);
  });
});
