import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { splitOf, splitUniform } from "~/domain/datasets/split.server";

describe("deterministic train/validation/test split", () => {
  it("puts an external id in the same split every time (whatever else is in the set: tests/integration/datasets.examples.test.ts)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (id) => {
        const f = { train: 0.7, validation: 0.2, test: 0.1 };
        expect(splitOf(id, f)).toBe(splitOf(id, { ...f }));
        const u = splitUniform(id);
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThan(1);
      }),
    );
  });

  it("follows the fractions chosen at creation", () => {
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 20_000; i++) counts[splitOf(`ext-${i}`, { train: 0.8, validation: 0.1, test: 0.1 })]++;
    expect(counts.train / 20_000).toBeCloseTo(0.8, 1);
    expect(counts.validation / 20_000).toBeCloseTo(0.1, 1);
    expect(counts.test / 20_000).toBeCloseTo(0.1, 1);
    expect(splitOf("anything", { train: 1, validation: 0, test: 0 })).toBe("train");
    expect(splitOf("anything", { train: 0, validation: 0, test: 1 })).toBe("test");
  });

  it("is monotone in the fractions: growing train only moves ids into train", () => {
    for (let i = 0; i < 2000; i++) {
      const id = `m-${i}`;
      if (splitOf(id, { train: 0.6, validation: 0.2, test: 0.2 }) === "train") expect(splitOf(id, { train: 0.8, validation: 0.1, test: 0.1 })).toBe("train");
    }
  });
});
