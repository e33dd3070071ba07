import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonDepth, jsonObjectSchema } from "~/lib/json";

/** Reference depth of a parsed value. */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v && typeof v === "object") return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

describe("jsonDepth", () => {
  it("counts nesting of arrays and objects", () => {
    expect(jsonDepth("1")).toBe(0);
    expect(jsonDepth("[]")).toBe(1);
    expect(jsonDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonDepth("[".repeat(1000) + "]".repeat(1000))).toBe(1000);
  });

  it("ignores brackets inside strings, including after escaped quotes and backslashes", () => {
    expect(jsonDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(jsonDepth('["\\"[[[", "\\\\", ["x"]]')).toBe(2);
    expect(jsonDepth('["\\\\\\"]]]]"]')).toBe(1);
  });

  it("agrees with the depth of the parsed value for any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(jsonDepth(JSON.stringify(v))).toBe(depthOf(v));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("jsonObjectSchema", () => {
  it("accepts objects as they are, keeping __proto__ keys, and rejects everything else", () => {
    const input = JSON.parse('{"__proto__": {"x": 1}, "a": 1}');
    const out = jsonObjectSchema.parse(input);
    expect(out).toBe(input);
    expect(Object.keys(out)).toEqual(["__proto__", "a"]);
    for (const bad of [null, [], "x", 1, true, undefined]) expect(jsonObjectSchema.safeParse(bad).success).toBe(false);
  });
});
