import { describe, expect, it } from "vitest";
import {
  accuracy,
  auc,
  crossFit,
  decide,
  loadCreditApplications,
  MODEL_V1,
  MODEL_V2,
  parseCreditCsv,
  predictGood,
  splitTrainTest,
  trainCreditModel,
  type CreditApplication,
} from "../../scripts/demo/credit-model";

const rows = loadCreditApplications();
const label = (r: CreditApplication) => (r.status === "good" ? 1 : 0);

describe("credit data", () => {
  it("reads every application with its outcome and missing values", () => {
    expect(rows).toHaveLength(4454);
    expect(rows.filter((r) => r.status === "good")).toHaveLength(3200);
    expect(rows.filter((r) => r.income === null)).toHaveLength(381);
    expect(rows[0]).toMatchObject({ row: 1, status: "good", seniority: 9, home: "rent", income: 129, amount: 800, price: 846 });
  });

  it("refuses a file with an unexpected layout", () => {
    expect(() => parseCreditCsv('"Status","Age"\n"good",30\n')).toThrow(/header/);
  });
});

describe("metrics", () => {
  it("computes AUC as a rank statistic, ties counting one half", () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.5, 0.5], [0, 1])).toBe(0.5);
    // pairs (pos,neg): (0.8>0.3) (0.8>0.6) (0.4>0.3) (0.4<0.6) -> 3/4
    expect(auc([0.8, 0.4, 0.3, 0.6], [1, 1, 0, 0])).toBe(0.75);
  });

  it("computes accuracy at a threshold", () => {
    expect(accuracy([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 0])).toBe(0.75);
  });
});

describe("logistic regression on the real applications", () => {
  const { train, test } = splitTrainTest(rows, 0.25, 42);
  const testLabels = test.map(label);
  const goodShare = testLabels.reduce<number>((s, v) => s + v, 0) / testLabels.length;
  const majority = Math.max(goodShare, 1 - goodShare);

  it("splits the same way every time, without overlap", () => {
    const again = splitTrainTest(rows, 0.25, 42);
    expect(again.test.map((r) => r.row)).toEqual(test.map((r) => r.row));
    const trainRows = new Set(train.map((r) => r.row));
    expect(test.some((r) => trainRows.has(r.row))).toBe(false);
    expect(train.length + test.length).toBe(rows.length);
  });

  it("beats the majority-class baseline on held-out applications", () => {
    const model = trainCreditModel(train, MODEL_V2, "2.0.0");
    const probs = test.map((r) => predictGood(model, r));
    const acc = accuracy(probs, testLabels);
    const a = auc(probs, testLabels);
    expect(acc).toBeGreaterThan(majority + 0.03);
    expect(a).toBeGreaterThan(0.8);
  });

  it("v2 (all inputs) ranks applicants better than v1 (four numeric inputs)", () => {
    const v1 = trainCreditModel(train, MODEL_V1, "1.0.0");
    const v2 = trainCreditModel(train, MODEL_V2, "2.0.0");
    const aucOf = (m: typeof v1) =>
      auc(
        test.map((r) => predictGood(m, r)),
        testLabels,
      );
    expect(aucOf(v1)).toBeGreaterThan(0.65);
    expect(aucOf(v2)).toBeGreaterThan(aucOf(v1) + 0.03);
  });

  it("is deterministic: the same data gives the same weights", () => {
    const a = trainCreditModel(train, MODEL_V2, "2.0.0", { iterations: 100 });
    const b = trainCreditModel(train, MODEL_V2, "2.0.0", { iterations: 100 });
    expect(b.weights).toEqual(a.weights);
    expect(b.bias).toBe(a.bias);
  });

  it("learns the expected directions: adverse records lower P(good), long employment raises it", () => {
    const model = trainCreditModel(train, MODEL_V2, "2.0.0");
    const base = rows[0];
    const p = predictGood(model, base);
    expect(predictGood(model, { ...base, records: "yes" })).toBeLessThan(p);
    expect(predictGood(model, { ...base, seniority: 25 })).toBeGreaterThan(p);
  });

  it("scores applications with missing values and unseen categories", () => {
    const model = trainCreditModel(train, MODEL_V2, "2.0.0", { iterations: 100 });
    const blank: CreditApplication = {
      row: 0,
      status: "good",
      seniority: null,
      home: null,
      time: null,
      age: null,
      marital: null,
      records: null,
      job: "astronaut",
      expenses: null,
      income: null,
      assets: null,
      debt: null,
      amount: null,
      price: null,
    };
    const p = predictGood(model, blank);
    expect(Number.isFinite(p)).toBe(true);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
  });

  it("cross-fitting scores every application with a model that did not see it", () => {
    const subset = rows.slice(0, 600);
    const { scores, fold, models } = crossFit(subset, MODEL_V1, "1.0.0", 3, 7, { iterations: 50 });
    expect(models).toHaveLength(3);
    expect(scores.every((s) => s > 0 && s < 1)).toBe(true);
    expect(new Set(fold)).toEqual(new Set([0, 1, 2]));
    subset.forEach((r, i) => expect(scores[i]).toBe(predictGood(models[fold[i]], r)));
  });

  it("turns P(good) into a decision with the probability of that decision as confidence", () => {
    expect(decide(0.9)).toEqual({ decision: "approve", confidence: 0.9 });
    expect(decide(0.2)).toEqual({ decision: "decline", confidence: 0.8 });
  });
});
