import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decisionInputSchema, parseEnvelopeFast } from "~/domain/ingest/ingest.server";
import { canonicalJson } from "~/lib/crypto.server";

const valid = {
  type: "invoice",
  externalId: "inv-1",
  model: { name: "m", version: "1.0.0" },
  input: { vendor: "ACME" },
  output: { total: 1, currency: "EUR" },
  confidence: 0.9,
  fieldConfidence: { total: 0.5, "lines.0.amount": 1 },
  flags: ["policy:x"],
  priority: 3,
  occurredAt: "2026-01-02T03:04:05Z",
};

// Values near every boundary of the envelope schema, of every JSON kind.
const edgy = fc.oneof(
  fc.constantFrom(
    "",
    "x",
    "a".repeat(64),
    "a".repeat(65),
    "a".repeat(100),
    "a".repeat(101),
    "a".repeat(200),
    "a".repeat(201),
    "a".repeat(300),
    "a".repeat(301),
    "__proto__",
    "2026-01-02T03:04:05Z",
    "2026-01-02T03:04:05+02:00",
    "2026-01-02",
    "2026-13-02T03:04:05Z",
  ),
  fc.constantFrom(0, 1, -0, 0.5, -0.001, 1.001, 2, 1000, 1001, -1000, -1001, 0.5e-300, 1.5),
  fc.constantFrom(null, true, false),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom("total", "", "__proto__", "0", "a".repeat(301)), fc.constantFrom(0, 1, 0.5, 2, -1, "x")),
);
const key = fc.constantFrom(...Object.keys(valid), "extra", "__proto__");
const mutated = fc
  .array(fc.tuple(key, fc.option(edgy, { nil: undefined }), fc.option(fc.constantFrom("name", "version", "extra"), { nil: undefined })), { maxLength: 4 })
  .map((edits) => {
    const d = JSON.parse(JSON.stringify(valid)) as Record<string, unknown> & { model?: Record<string, unknown> };
    for (const [k, shared, sub] of edits) {
      // fc.constant values are one shared instance: copy, or {} placed inside itself becomes a cycle.
      const v = shared === undefined ? undefined : structuredClone(shared);
      if (sub && k === "model" && typeof d.model === "object" && d.model) {
        if (v === undefined) delete d.model[sub];
        else d.model[sub] = v;
      } else if (v === undefined) delete d[k];
      else d[k] = v;
    }
    return JSON.parse(JSON.stringify(d)); // through JSON text, like a request body
  });

describe("the envelope fast path", () => {
  it("accepts the ordinary decision and returns what the schema returns", () => {
    const fast = parseEnvelopeFast(valid);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(decisionInputSchema.parse(valid));
    const minimal = { type: "t", externalId: "e", model: { name: "n", version: "v" }, input: {}, output: {}, confidence: 1 };
    expect(parseEnvelopeFast(minimal)).toEqual(decisionInputSchema.parse(minimal));
  });

  it("never accepts what the schema rejects, and yields the same data (and hash) when it accepts", () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutated, (d) => {
        const fast = parseEnvelopeFast(d);
        const slow = decisionInputSchema.safeParse(d);
        if (fast === null) return;
        accepted++;
        expect(slow.success).toBe(true);
        expect(fast).toEqual(slow.data);
        expect(canonicalJson(fast)).toBe(canonicalJson(slow.data));
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it("agrees with the schema at every boundary", () => {
    const at = (path: string, v: unknown) => {
      const d = JSON.parse(JSON.stringify(valid));
      const [a, b] = path.split(".");
      if (b) d[a][b] = v;
      else d[a] = v;
      return d;
    };
    const cases: [string, unknown][] = [];
    for (const [path, max] of [
      ["type", 64],
      ["externalId", 200],
      ["model.name", 200],
      ["model.version", 100],
    ] as const) {
      for (const n of [0, 1, max, max + 1]) cases.push([path, "a".repeat(n)]);
    }
    for (const v of [-0.0001, 0, 1, 1.0001]) cases.push(["confidence", v], ["fieldConfidence", { total: v }]);
    for (const v of [-1001, -1000, 1000, 1001, 1.5]) cases.push(["priority", v]);
    for (const n of [0, 1, 300, 301]) cases.push(["fieldConfidence", { ["k".repeat(n)]: 0.5 }]);
    for (const n of [0, 1, 200, 201]) cases.push(["flags", ["f".repeat(n)]]);
    for (const n of [100, 101]) cases.push(["flags", Array(n).fill("f")]);
    for (const v of ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+02:00", "2026-01-02", "yesterday"]) cases.push(["occurredAt", v]);
    for (const [path, v] of cases) {
      const d = at(path, v);
      const fast = parseEnvelopeFast(d);
      const slow = decisionInputSchema.safeParse(d);
      expect([path, v, fast !== null]).toEqual([path, v, slow.success]);
      if (fast) expect(fast).toEqual(slow.data);
    }
  });

  it("leaves keys such as __proto__ to the schema", () => {
    const d = JSON.parse(
      '{"type":"t","externalId":"e","model":{"name":"n","version":"v"},"input":{},"output":{},"confidence":1,"fieldConfidence":{"__proto__":0.5}}',
    );
    expect(parseEnvelopeFast(d)).toBeNull();
  });
});
