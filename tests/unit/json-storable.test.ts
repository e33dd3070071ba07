import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "~/lib/errors";
import { requireStorableJson, unstorablePaths } from "~/lib/json";

const refused = (text: string) => {
  try {
    requireStorableJson(JSON.parse(text), text);
    return null;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return e.issues.map((i) => i.path);
  }
};

describe("requireStorableJson", () => {
  it("names every number too large for a double by its path", () => {
    expect(refused('{"input":{"amount":1e400}}')).toEqual(["input.amount"]);
    expect(refused('{"decisions":[{},{},{},{"input":{"lines":[{"amount":-1E+309}]}}]}')).toEqual(["decisions.3.input.lines.0.amount"]);
    expect(refused(`{"a":${"9".repeat(400)},"b":[1,2e999]}`)).toEqual(["a", "b.1"]);
    expect(refused("1e400")).toEqual([""]);
  });

  it("passes finite numbers, and text that merely looks like an exponent, unchanged", () => {
    for (const text of ['{"a":1e308,"b":-1.7976931348623157e308,"c":1e-400}', '{"id":"3e456","n":123456789012345678901234567890}', "[]"]) {
      const v = JSON.parse(text);
      expect(requireStorableJson(v, text)).toBe(v);
    }
  });

  it("the text pre-check never skips a number that parses to Infinity", () => {
    const literal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[1-9]\d{0,330}$/),
        fc.option(fc.stringMatching(/^\d{1,5}$/)),
        fc.option(fc.tuple(fc.constantFrom("e", "E", "e+", "E+", "e-"), fc.stringMatching(/^\d{1,4}$/))),
      )
      .map(([neg, int, frac, exp]) => `${neg ? "-" : ""}${int}${frac ? `.${frac}` : ""}${exp ? exp.join("") : ""}`);
    fc.assert(
      fc.property(literal, (lit) => {
        const text = `{"x":[${lit}]}`;
        expect(refused(text)).toEqual(Number.isFinite(Number(lit)) ? null : ["x.0"]);
      }),
      { numRuns: 2000 },
    );
  });

  it("names every string and key holding a NUL by its path, a NUL in a key written as \\u0000", () => {
    expect(refused('{"externalId":"a\\u0000b"}')).toEqual(["externalId"]);
    expect(refused('{"decisions":[{},{"input":{"lines":["ok","\\u0000"]}}]}')).toEqual(["decisions.1.input.lines.1"]);
    expect(refused('{"input":{"a\\u0000":1,"b":"\\u0000","c":1e400}}')).toEqual(["input.a\\u0000", "input.b", "input.c"]);
  });

  it("passes text whose backslash merely precedes u0000, and every other control character", () => {
    for (const text of ['{"a":"\\\\u0000"}', '{"a":"\\u0001\\t\\u001f"}']) {
      const v = JSON.parse(text);
      expect(requireStorableJson(v, text)).toBe(v);
    }
  });

  it("the text pre-check never skips a string with a NUL", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary", maxLength: 8 }), (v, s) => {
        const value = { s: `${s}\u0000${s}`, v };
        expect(refused(JSON.stringify(value))).toContain("s");
      }),
    );
  });

  it("walks any JSON value and finds nothing in finite data without NULs", () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => !JSON.stringify(v).includes("\\u0000")),
        (v) => {
          expect(unstorablePaths(v)).toEqual([]);
        },
      ),
    );
  });
});
