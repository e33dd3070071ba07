/**
 * Credit decisions for the demo: every real application in data/credit_data.csv
 * scored by the project's own logistic regression (out-of-fold, two model
 * versions), turned into an automated decision, plus what a reviewer decides
 * when it reaches the queue: the observed outcome (`Status`).
 */
import type { CreditApplication, CreditModel } from "./credit-model";
import { contributions, decide } from "./credit-model";
import type { Rng } from "./random";
import { CREDIT_TYPE_KEY, type DeclineReason } from "./types";

export const CREDIT_MODEL_NAME = "credit-risk-logreg";

export type CreditOutput = {
  decision: "approve" | "decline";
  riskGrade: "A" | "B" | "C" | "D" | "E";
  approvedAmount: number;
  declineReason?: DeclineReason;
};

export type CreditCase = {
  kind: "credit";
  externalId: string;
  app: CreditApplication;
  occurredAt: number;
  pGood: number;
  output: CreditOutput;
  flags: string[];
  /** What the reviewer concludes: the observed outcome. */
  truth: "approve" | "decline";
  item: Record<string, unknown>;
};

export function riskGrade(pGood: number): CreditOutput["riskGrade"] {
  return pGood >= 0.9 ? "A" : pGood >= 0.8 ? "B" : pGood >= 0.65 ? "C" : pGood >= 0.5 ? "D" : "E";
}

/** The model's main decline reason: the input group pushing hardest towards "bad". */
export function modelDeclineReason(model: CreditModel, a: CreditApplication): DeclineReason {
  const groups = new Map<DeclineReason, number>();
  for (const { feature, value } of contributions(model, a)) {
    const g = featureGroup(feature);
    groups.set(g, (groups.get(g) ?? 0) + value);
  }
  let best: DeclineReason = "RISK_SCORE";
  let worst = -0.15;
  for (const [g, v] of groups) {
    if (g !== "RISK_SCORE" && v < worst) {
      best = g;
      worst = v;
    }
  }
  return best;
}

function featureGroup(feature: string): DeclineReason {
  const base = feature.split(/[=_]/)[0];
  if (feature.startsWith("payment_to_income") || base === "debt" || base === "expenses") return "HIGH_DEBT_RATIO";
  if (feature.startsWith("loan_to_value") || base === "amount" || base === "price" || base === "time") return "LOAN_TO_VALUE_HIGH";
  if (base === "income") return "INCOME_TOO_LOW";
  if (base === "records") return "ADVERSE_RECORDS";
  if (base === "seniority" || base === "job") return "SHORT_EMPLOYMENT";
  if (base === "assets" || base === "home") return "INSUFFICIENT_ASSETS";
  return "RISK_SCORE";
}

/** How an underwriter explains a decline the model missed, read from the application itself. */
export function underwriterReasons(a: CreditApplication): DeclineReason[] {
  const out: DeclineReason[] = [];
  if (a.records === "yes") out.push("ADVERSE_RECORDS");
  const monthly = a.amount != null && a.time ? a.amount / a.time : 0;
  if (a.income != null && a.income > 0 && (monthly + (a.debt ?? 0) / 24) / a.income > 0.25) out.push("HIGH_DEBT_RATIO");
  if (a.income != null && a.income < 90) out.push("INCOME_TOO_LOW");
  if (a.seniority != null && a.seniority < 2) out.push("SHORT_EMPLOYMENT");
  if (a.amount != null && a.price && a.amount / a.price > 0.9) out.push("LOAN_TO_VALUE_HIGH");
  if (out.length === 0) out.push((a.assets ?? 0) === 0 ? "INSUFFICIENT_ASSETS" : "RISK_SCORE");
  return out.slice(0, 2);
}

export function buildCreditCase(app: CreditApplication, occurredAt: number, pGood: number, model: CreditModel, modelVersion: string, rng: Rng): CreditCase {
  const p = Math.round(pGood * 10_000) / 10_000;
  const { decision, confidence } = decide(p);
  const output: CreditOutput =
    decision === "approve"
      ? { decision, riskGrade: riskGrade(p), approvedAmount: app.amount ?? 0 }
      : { decision, riskGrade: "E", approvedAmount: 0, declineReason: modelDeclineReason(model, app) };
  const flags: string[] = [];
  if (app.income == null) flags.push("policy:income_unverified");
  if ((app.amount ?? 0) >= 3000) flags.push("policy:large_loan");
  if (rng.chance(0.02)) flags.push(rng.pick(["kyc:address_mismatch", "kyc:document_expired", "kyc:name_mismatch"]));
  const channel = rng.weighted([
    ["web", 6],
    ["branch", 2],
    ["broker", 2],
  ] as const);
  const externalId = `APP-${String(app.row).padStart(5, "0")}`;
  const item = {
    type: CREDIT_TYPE_KEY,
    externalId,
    model: { name: CREDIT_MODEL_NAME, version: modelVersion },
    input: {
      applicationId: externalId,
      channel,
      applicant: {
        age: app.age,
        maritalStatus: app.marital,
        housing: app.home,
        employment: app.job,
        yearsWithEmployer: app.seniority,
        monthlyIncome: app.income,
        monthlyExpenses: app.expenses,
        assets: app.assets,
        debt: app.debt,
        adverseRecords: app.records == null ? null : app.records === "yes",
      },
      loan: { amount: app.amount, termMonths: app.time, purchasePrice: app.price },
      score: { pGood: p },
    },
    output,
    confidence: Math.round(confidence * 10_000) / 10_000,
    flags,
    occurredAt: new Date(occurredAt).toISOString(),
  };
  return { kind: "credit", externalId, app, occurredAt, pGood: p, output, flags, truth: app.status === "good" ? "approve" : "decline", item };
}

export type Verdict = { action: "approve" | "correct" | "reject" | "escalate"; output?: Record<string, unknown>; reasonCodes: string[]; note?: string };

/** What the simulated underwriter does with a credit task. */
export function creditVerdict(c: CreditCase, taskKind: string, rng: Rng): Verdict {
  const kyc = c.flags.find((f) => f.startsWith("kyc:"));
  if (kyc && taskKind === "review") {
    const r = rng.next();
    if (r < 0.3)
      return {
        action: "escalate",
        reasonCodes: [],
        note: `${kyc.slice(4).replace(/_/g, " ")}: documents contradict each other; needs the owner's call before we lend.`,
      };
    if (r < 0.5) return { action: "reject", reasonCodes: ["KYC_FAILED"], note: "Applicant did not respond to the identity check." };
  }
  return outcomeVerdict(c, rng);
}

/** Keep the model's answer when it matches the observed outcome, otherwise correct it. */
export function outcomeVerdict(c: CreditCase, rng: Rng): Verdict {
  if (c.output.decision === c.truth) return { action: "approve", reasonCodes: [] };
  if (c.truth === "decline") {
    const reasons = underwriterReasons(c.app);
    return {
      action: "correct",
      output: { decision: "decline", riskGrade: "E", approvedAmount: 0, declineReason: reasons[0] },
      reasonCodes: reasons,
      note: rng.chance(0.3) ? "Score looks fine but the file does not support the amount." : undefined,
    };
  }
  return {
    action: "correct",
    output: { decision: "approve", riskGrade: "D", approvedAmount: c.app.amount ?? 0 },
    reasonCodes: ["COMPENSATING_FACTORS"],
    note: rng.chance(0.4) ? compensatingNote(c.app) : undefined,
  };
}

function compensatingNote(a: CreditApplication): string {
  if ((a.seniority ?? 0) >= 5) return `Stable employment (${a.seniority} years with the employer).`;
  if ((a.assets ?? 0) > (a.amount ?? 0)) return "Assets cover the requested amount.";
  if (a.home === "owner") return "Home owner, low existing debt.";
  return "Verified income covers the repayments comfortably.";
}
