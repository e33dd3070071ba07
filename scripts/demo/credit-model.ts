/**
 * The demo's credit model: a logistic regression the project trains itself on
 * the real applications in data/credit_data.csv (read with csv-parse). Pure
 * TypeScript: log-transformed and standardized numeric features with median
 * imputation plus a "missing" indicator, one-hot categoricals (a missing value
 * is its own level), full-batch gradient descent with L2 regularization from a
 * zero start, so training is deterministic. Also the metrics (AUC, accuracy,
 * log-loss) and a seeded train/test split used by the unit test and the README.
 */
import fs from "node:fs";
import { parse } from "csv-parse/sync";
import { fileURLToPath } from "node:url";
import { Rng } from "./random";

export const CREDIT_DATA_FILE = fileURLToPath(new URL("./data/credit_data.csv", import.meta.url));

export type CreditApplication = {
  /** 1-based row number in the CSV: a stable application id. */
  row: number;
  status: "good" | "bad";
  seniority: number | null;
  home: string | null;
  time: number | null;
  age: number | null;
  marital: string | null;
  records: string | null;
  job: string | null;
  expenses: number | null;
  income: number | null;
  assets: number | null;
  debt: number | null;
  amount: number | null;
  price: number | null;
};

export const NUMERIC_FIELDS = ["seniority", "time", "age", "expenses", "income", "assets", "debt", "amount", "price"] as const;
export const CATEGORICAL_FIELDS = ["home", "marital", "records", "job"] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];
export type CategoricalField = (typeof CATEGORICAL_FIELDS)[number];

const HEADER = ["Status", "Seniority", "Home", "Time", "Age", "Marital", "Records", "Job", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"];

/** Parses the CSV with csv-parse (quoted strings; NA for missing). */
export function parseCreditCsv(text: string): CreditApplication[] {
  const records = parse(text, { skip_empty_lines: true, relax_column_count: true }) as string[][];
  const header = records[0] ?? [];
  if (header.join(",") !== HEADER.join(",")) throw new Error(`unexpected credit_data.csv header: ${header.join(",")}`);
  return records.slice(1).map((f, i) => {
    if (f.length !== HEADER.length) throw new Error(`credit_data.csv line ${i + 2}: expected ${HEADER.length} fields, got ${f.length}`);
    const num = (s: string) => (s === "NA" ? null : Number(s));
    const cat = (s: string) => (s === "NA" ? null : s);
    if (f[0] !== "good" && f[0] !== "bad") throw new Error(`credit_data.csv line ${i + 2}: Status must be good or bad`);
    return {
      row: i + 1,
      status: f[0],
      seniority: num(f[1]),
      home: cat(f[2]),
      time: num(f[3]),
      age: num(f[4]),
      marital: cat(f[5]),
      records: cat(f[6]),
      job: cat(f[7]),
      expenses: num(f[8]),
      income: num(f[9]),
      assets: num(f[10]),
      debt: num(f[11]),
      amount: num(f[12]),
      price: num(f[13]),
    };
  });
}

export function loadCreditApplications(file = CREDIT_DATA_FILE): CreditApplication[] {
  return parseCreditCsv(fs.readFileSync(file, "utf8"));
}

// ---- features ----

/** Which inputs a model version uses. */
export type FeatureSpec = {
  numeric: readonly NumericField[];
  categorical: readonly CategoricalField[];
  /** Adds loan-to-value and payment-to-income ratios. */
  ratios: boolean;
};

/** v1: a quick first model on a few numeric inputs. */
export const MODEL_V1: FeatureSpec = { numeric: ["seniority", "income", "amount", "age"], categorical: [], ratios: false };
/** v2: every input, categoricals and ratios. */
export const MODEL_V2: FeatureSpec = { numeric: NUMERIC_FIELDS, categorical: CATEGORICAL_FIELDS, ratios: true };

/** Heavy-tailed money amounts are log-transformed before standardizing. */
const LOG_FIELDS = new Set<string>(["income", "assets", "debt", "amount", "price", "expenses"]);

type RawFeature = { name: string; value: (a: CreditApplication) => number | null };

function rawFeatures(spec: FeatureSpec): RawFeature[] {
  const out: RawFeature[] = spec.numeric.map((f) => ({
    name: f,
    value: (a: CreditApplication) => {
      const v = a[f];
      return v == null ? null : LOG_FIELDS.has(f) ? Math.log1p(Math.max(0, v)) : v;
    },
  }));
  if (spec.ratios) {
    out.push({ name: "loan_to_value", value: (a) => (a.amount != null && a.price ? Math.min(a.amount / a.price, 3) : null) });
    out.push({
      name: "payment_to_income",
      value: (a) => (a.amount != null && a.time && a.income ? Math.min(a.amount / a.time / a.income, 5) : null),
    });
  }
  return out;
}

/** Everything learned from the training rows that turns an application into a vector. */
export type Encoder = {
  numeric: { name: string; median: number; mean: number; sd: number; missingIndicator: boolean }[];
  categorical: { field: CategoricalField; levels: string[] }[];
  spec: FeatureSpec;
};

const MISSING = "(missing)";

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fitEncoder(rows: CreditApplication[], spec: FeatureSpec): Encoder {
  const numeric = rawFeatures(spec).map((f) => {
    const present = rows.map(f.value).filter((v): v is number => v != null && Number.isFinite(v));
    const med = median(present);
    const filled = rows.map((r) => f.value(r) ?? med);
    const mean = filled.reduce((s, v) => s + v, 0) / filled.length;
    const sd = Math.sqrt(filled.reduce((s, v) => s + (v - mean) ** 2, 0) / filled.length) || 1;
    return { name: f.name, median: med, mean, sd, missingIndicator: present.length < rows.length };
  });
  const categorical = spec.categorical.map((field) => {
    const levels = [...new Set(rows.map((r) => r[field] ?? MISSING))].sort();
    // The most frequent level is the reference (dropped) column.
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r[field] ?? MISSING, (counts.get(r[field] ?? MISSING) ?? 0) + 1);
    const reference = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
    return { field, levels: levels.filter((l) => l !== reference) };
  });
  return { numeric, categorical, spec };
}

export function featureNames(enc: Encoder): string[] {
  return [
    ...enc.numeric.flatMap((n) => (n.missingIndicator ? [n.name, `${n.name}_missing`] : [n.name])),
    ...enc.categorical.flatMap((c) => c.levels.map((l) => `${c.field}=${l}`)),
  ];
}

export function encode(enc: Encoder, a: CreditApplication): number[] {
  const raw = rawFeatures(enc.spec);
  const x: number[] = [];
  enc.numeric.forEach((n, i) => {
    const v = raw[i].value(a);
    const missing = v == null || !Number.isFinite(v);
    x.push(((missing ? n.median : v) - n.mean) / n.sd);
    if (n.missingIndicator) x.push(missing ? 1 : 0);
  });
  for (const c of enc.categorical) {
    const level = a[c.field] ?? MISSING;
    for (const l of c.levels) x.push(level === l ? 1 : 0);
  }
  return x;
}

// ---- model ----

export type CreditModel = {
  version: string;
  encoder: Encoder;
  weights: number[];
  bias: number;
  /** Final training log-loss, for the README. */
  trainLoss: number;
};

export type TrainOptions = { iterations?: number; learningRate?: number; l2?: number };

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Full-batch gradient descent on mean log-loss + L2; label 1 = good. */
export function trainCreditModel(rows: CreditApplication[], spec: FeatureSpec, version: string, opts: TrainOptions = {}): CreditModel {
  const iterations = opts.iterations ?? 300;
  const lr = opts.learningRate ?? 2.5;
  const l2 = opts.l2 ?? 1e-3;
  const encoder = fitEncoder(rows, spec);
  const encoded = rows.map((r) => encode(encoder, r));
  const n = encoded.length;
  const d = encoded[0]?.length ?? 0;
  // One flat row-major matrix: the inner loops stay on typed arrays.
  const X = new Float64Array(n * d);
  encoded.forEach((x, i) => X.set(x, i * d));
  const y = new Float64Array(rows.map((r) => (r.status === "good" ? 1 : 0)));
  const w = new Float64Array(d);
  let b = 0;
  const grad = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    grad.fill(0);
    let gb = 0;
    for (let i = 0, off = 0; i < n; i++, off += d) {
      let z = b;
      for (let j = 0; j < d; j++) z += w[j] * X[off + j];
      const err = 1 / (1 + Math.exp(-z)) - y[i];
      gb += err;
      for (let j = 0; j < d; j++) grad[j] += err * X[off + j];
    }
    for (let j = 0; j < d; j++) w[j] -= lr * (grad[j] / n + l2 * w[j]);
    b -= lr * (gb / n);
  }
  const model: CreditModel = { version, encoder, weights: [...w], bias: b, trainLoss: 0 };
  model.trainLoss = logLoss(
    rows.map((r) => predictGood(model, r)),
    [...y],
  );
  return model;
}

/** Predicted probability that the applicant turns out good. */
export function predictGood(model: CreditModel, a: CreditApplication): number {
  const x = encode(model.encoder, a);
  let z = model.bias;
  for (let j = 0; j < x.length; j++) z += model.weights[j] * x[j];
  return sigmoid(z);
}

/** The model's automated decision: approve when P(good) ≥ threshold; confidence = P(chosen outcome). */
export function decide(pGood: number, threshold = 0.5): { decision: "approve" | "decline"; confidence: number } {
  return pGood >= threshold ? { decision: "approve", confidence: pGood } : { decision: "decline", confidence: 1 - pGood };
}

// ---- metrics ----

/** Area under the ROC curve (rank statistic; ties count one half). Labels: 1 positive, 0 negative. */
export function auc(scores: number[], labels: number[]): number {
  const idx = scores.map((s, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[idx[k]] === 1) {
        rankSumPos += avgRank;
        pos++;
      }
    i = j + 1;
  }
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function accuracy(probs: number[], labels: number[], threshold = 0.5): number {
  let ok = 0;
  probs.forEach((p, i) => {
    if ((p >= threshold ? 1 : 0) === labels[i]) ok++;
  });
  return ok / labels.length;
}

export function logLoss(probs: number[], labels: number[]): number {
  const eps = 1e-12;
  return -probs.reduce((s, p, i) => s + (labels[i] ? Math.log(Math.max(p, eps)) : Math.log(Math.max(1 - p, eps))), 0) / probs.length;
}

/** Seeded shuffle split: the same seed always gives the same train/test rows. */
export function splitTrainTest<T>(rows: T[], testFraction: number, seed: number): { train: T[]; test: T[] } {
  const shuffled = new Rng(seed).shuffle(rows);
  const nTest = Math.round(rows.length * testFraction);
  return { test: shuffled.slice(0, nTest), train: shuffled.slice(nTest) };
}

/**
 * Out-of-fold scores: each application is scored by a model trained on the
 * other k-1 folds, so the demo never shows a model grading its own training rows.
 */
export function crossFit(
  rows: CreditApplication[],
  spec: FeatureSpec,
  version: string,
  k: number,
  seed: number,
  opts: TrainOptions = {},
): { scores: number[]; models: CreditModel[]; fold: number[] } {
  const order = new Rng(seed).shuffle(rows.map((_, i) => i));
  const fold = new Array<number>(rows.length);
  order.forEach((rowIndex, pos) => (fold[rowIndex] = pos % k));
  const scores = new Array<number>(rows.length);
  const models: CreditModel[] = [];
  for (let f = 0; f < k; f++) {
    const model = trainCreditModel(
      rows.filter((_, i) => fold[i] !== f),
      spec,
      version,
      opts,
    );
    models.push(model);
    rows.forEach((r, i) => {
      if (fold[i] === f) scores[i] = predictGood(model, r);
    });
  }
  return { scores, models, fold };
}

/** Each feature's push on the log-odds of "good" for one application (negative = towards bad). */
export function contributions(model: CreditModel, a: CreditApplication): { feature: string; value: number }[] {
  const x = encode(model.encoder, a);
  return featureNames(model.encoder).map((feature, j) => ({ feature, value: model.weights[j] * x[j] }));
}

export type HoldoutReport = { version: string; n: number; auc: number; accuracy: number; baselineAccuracy: number; logLoss: number };

/** Metrics of out-of-fold scores (each row scored by a model that never saw it). */
export function outOfFoldReport(rows: CreditApplication[], scores: number[], version: string): HoldoutReport {
  const labels = rows.map((r) => (r.status === "good" ? 1 : 0));
  const goodShare = labels.reduce<number>((s, v) => s + v, 0) / labels.length;
  return {
    version,
    n: rows.length,
    auc: auc(scores, labels),
    accuracy: accuracy(scores, labels),
    baselineAccuracy: Math.max(goodShare, 1 - goodShare),
    logLoss: logLoss(scores, labels),
  };
}

/** Trains on a seeded 75 % split and measures on the held-out 25 %. */
export function holdoutReport(rows: CreditApplication[], spec: FeatureSpec, version: string, seed = 42): HoldoutReport {
  const { train, test } = splitTrainTest(rows, 0.25, seed);
  const model = trainCreditModel(train, spec, version);
  const probs = test.map((r) => predictGood(model, r));
  const labels = test.map((r) => (r.status === "good" ? 1 : 0));
  const goodShare = labels.reduce<number>((s, v) => s + v, 0) / labels.length;
  return {
    version,
    n: test.length,
    auc: auc(probs, labels),
    accuracy: accuracy(probs, labels),
    baselineAccuracy: Math.max(goodShare, 1 - goodShare),
    logLoss: logLoss(probs, labels),
  };
}
