import { describe, expect, it } from "vitest";
import { qaSample, routeDecision, routingPolicySchema, ruleKindOf, uniformFromId, type RoutingPolicy } from "~/domain/routing/policy";
import { globMatch } from "~/domain/routing/glob";

const policy = (p: Partial<RoutingPolicy> = {}): RoutingPolicy => routingPolicySchema.parse(p);
const decision = (over: Partial<Parameters<typeof routeDecision>[0]> = {}) => ({
  id: "dec_1",
  confidence: 0.99,
  fieldConfidence: {},
  flags: [] as string[],
  ...over,
});

describe("routing policy: overall minimum confidence", () => {
  it("routes below the minimum to review with a reason, at or above it to auto", () => {
    const p = policy({ minConfidence: 0.9 });
    expect(routeDecision(decision({ confidence: 0.62 }), p)).toEqual({ route: "review", reasons: ["confidence 0.62 < 0.9"], qaSampled: false });
    expect(routeDecision(decision({ confidence: 0.9 }), p).route).toBe("auto");
    expect(routeDecision(decision({ confidence: 1 }), p).route).toBe("auto");
  });

  it("has no confidence rule when minConfidence is absent", () => {
    expect(routeDecision(decision({ confidence: 0 }), policy()).route).toBe("auto");
  });
});

describe("routing policy: per-field minimum confidence", () => {
  it("fires for a field below its threshold and names the field", () => {
    const p = policy({ fieldMinConfidence: { total: 0.95 } });
    const r = routeDecision(decision({ fieldConfidence: { total: 0.8, currency: 0.1 } }), p);
    expect(r.route).toBe("review");
    expect(r.reasons).toEqual(["field total confidence 0.8 < 0.95"]);
    expect(routeDecision(decision({ fieldConfidence: { total: 0.95 } }), p).route).toBe("auto");
  });

  it("treats a missing field confidence as a reason to review", () => {
    const p = policy({ fieldMinConfidence: { total: 0.95 } });
    for (const fc of [undefined, null, {}, { currency: 0.99 }] as (Record<string, number> | null | undefined)[]) {
      const r = routeDecision(decision({ fieldConfidence: fc }), p);
      expect(r.route).toBe("review");
      expect(r.reasons).toEqual(["field total confidence missing (needs 0.95)"]);
    }
  });

  it("matches glob paths such as lines.*.amount against every line, within one segment", () => {
    const p = policy({ fieldMinConfidence: { "lines.*.amount": 0.9 } });
    const ok = routeDecision(decision({ fieldConfidence: { "lines.0.amount": 0.95, "lines.1.amount": 0.91 } }), p);
    expect(ok.route).toBe("auto");
    const bad = routeDecision(decision({ fieldConfidence: { "lines.0.amount": 0.95, "lines.1.amount": 0.5, "lines.2.amount": 0.7 } }), p);
    expect(bad.reasons).toEqual(["field lines.1.amount confidence 0.5 < 0.9", "field lines.2.amount confidence 0.7 < 0.9"]);
    // `*` stays inside one path segment: lines.0.x.amount is not lines.*.amount
    const deeper = routeDecision(decision({ fieldConfidence: { "lines.0.x.amount": 0.1 } }), p);
    expect(deeper.reasons).toEqual(["field lines.*.amount confidence missing (needs 0.9)"]);
  });

  it("records every fired rule, confidence first, then fields, then flags", () => {
    const p = policy({ minConfidence: 0.9, fieldMinConfidence: { total: 0.95, currency: 0.5 }, reviewFlags: ["policy:*", "manual"] });
    const r = routeDecision(decision({ confidence: 0.5, fieldConfidence: { total: 0.2 }, flags: ["policy:aml", "manual", "other"] }), p);
    expect(r.reasons).toEqual([
      "confidence 0.5 < 0.9",
      "field total confidence 0.2 < 0.95",
      "field currency confidence missing (needs 0.5)",
      "flag policy:aml matches policy:*",
      "flag manual matches manual",
    ]);
    expect(r.reasons.map(ruleKindOf)).toEqual(["confidence", "field", "field", "flag", "flag"]);
  });
});

describe("routing policy: flags", () => {
  it("forces review for flags matching a glob and ignores the rest", () => {
    const p = policy({ reviewFlags: ["policy:*", "kyc:?"] });
    expect(routeDecision(decision({ flags: ["policy:sanctions"] }), p).reasons).toEqual(["flag policy:sanctions matches policy:*"]);
    expect(routeDecision(decision({ flags: ["kyc:1"] }), p).route).toBe("review");
    expect(routeDecision(decision({ flags: ["kyc:12", "policy", "xpolicy:a", "POLICY:a"] }), p).route).toBe("auto");
  });

  it("treats regex metacharacters in patterns literally", () => {
    expect(globMatch("a.b", "a.b")).toBe(true);
    expect(globMatch("a.b", "axb")).toBe(false);
    expect(globMatch("(x)+[y]", "(x)+[y]")).toBe(true);
    expect(globMatch("^$\\", "^$\\")).toBe(true);
    expect(globMatch("*", "")).toBe(true);
  });
});

describe("routing policy: QA sampling", () => {
  it("is deterministic for a decision id", () => {
    for (let i = 0; i < 200; i++) {
      const id = `dec_${i.toString(36)}`;
      expect(qaSample(id, 0.3)).toBe(qaSample(id, 0.3));
      expect(uniformFromId(id)).toBe(uniformFromId(id));
    }
  });

  it("samples a fraction close to the rate over many ids, and none/all at 0/1", () => {
    const n = 50_000;
    for (const rate of [0.01, 0.05, 0.2, 0.5]) {
      let hits = 0;
      for (let i = 0; i < n; i++) if (qaSample(`dec_01J${String(i).padStart(8, "0")}`, rate)) hits++;
      const sd = Math.sqrt(rate * (1 - rate) * n);
      expect(Math.abs(hits - rate * n)).toBeLessThan(5 * sd);
    }
    expect([...Array(1000).keys()].some((i) => qaSample(`d${i}`, 0))).toBe(false);
    expect([...Array(1000).keys()].every((i) => qaSample(`d${i}`, 1))).toBe(true);
  });

  it("is monotone in the rate: an id sampled at a rate stays sampled at higher rates", () => {
    for (let i = 0; i < 2000; i++) {
      const id = `x${i}`;
      if (qaSample(id, 0.1)) expect(qaSample(id, 0.2)).toBe(true);
    }
  });

  it("only samples auto decisions", () => {
    const p = policy({ minConfidence: 0.9, qaSampleRate: 1 });
    expect(routeDecision(decision({ confidence: 0.99 }), p)).toEqual({ route: "auto", reasons: [], qaSampled: true });
    expect(routeDecision(decision({ confidence: 0.1 }), p).qaSampled).toBe(false);
  });
});

describe("routing policy schema", () => {
  it("fills defaults and rejects out-of-range or unknown settings", () => {
    expect(routingPolicySchema.parse({})).toEqual({ fieldMinConfidence: {}, reviewFlags: [], qaSampleRate: 0 });
    for (const bad of [{ minConfidence: 1.5 }, { qaSampleRate: -0.1 }, { fieldMinConfidence: { total: 2 } }, { reviewFlags: [""] }, { extra: true }]) {
      expect(routingPolicySchema.safeParse(bad).success).toBe(false);
    }
  });
});
