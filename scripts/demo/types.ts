/**
 * The two demo decision types, in the public contract's shape (the same JSON
 * an integrator would PUT to /api/v1/decision-types/:key or `lastmile types apply`).
 */

export const CREDIT_TYPE_KEY = "consumer_credit";
export const INVOICE_TYPE_KEY = "invoice_extraction";
/**
 * The demo's third type: the last hours of a production-sized feed of credit applications (tens a minute),
 * written by `lastmile simulate`, so the drift monitors have traffic to watch. Its settings are the credit type's.
 */
export const LIVE_CREDIT_TYPE = { key: "credit_live", name: "Consumer credit, live feed (simulated)" } as const;

/** Reasons a credit application is declined; the model names its main one in `declineReason`. */
export const DECLINE_REASONS = [
  { code: "INCOME_TOO_LOW", label: "Income too low for the requested amount" },
  { code: "HIGH_DEBT_RATIO", label: "Debt or repayment burden too high" },
  { code: "ADVERSE_RECORDS", label: "Adverse credit records" },
  { code: "SHORT_EMPLOYMENT", label: "Employment too recent or unstable" },
  { code: "INSUFFICIENT_ASSETS", label: "Insufficient assets or collateral" },
  { code: "LOAN_TO_VALUE_HIGH", label: "Loan too high for the financed good" },
  { code: "RISK_SCORE", label: "Overall risk score too high" },
] as const;

export type DeclineReason = (typeof DECLINE_REASONS)[number]["code"];

export function creditType(owner: string) {
  return {
    key: CREDIT_TYPE_KEY,
    name: "Consumer credit application",
    owner,
    outputSchema: {
      type: "object",
      required: ["decision", "riskGrade"],
      properties: {
        decision: { type: "string", title: "Decision", enum: ["approve", "decline"] },
        riskGrade: { type: "string", title: "Risk grade", description: "A (lowest risk) to E", enum: ["A", "B", "C", "D", "E"] },
        approvedAmount: { type: "number", title: "Approved amount", minimum: 0 },
        declineReason: { type: "string", title: "Main decline reason", enum: DECLINE_REASONS.map((r) => r.code) },
      },
    },
    routing: { minConfidence: 0.8, reviewFlags: ["policy:*", "kyc:*"], qaSampleRate: 0.08 },
    // Large loans need a second, independent review.
    fourEyes: { flags: ["policy:large_loan"] },
    // Drift monitors: the override rate per application channel; income and loan amount watched for drift.
    monitors: { segmentField: "channel", inputs: ["applicant.monthlyIncome", "loan.amount"] },
    slaMinutes: 240,
    reasonCodes: [
      ...DECLINE_REASONS,
      { code: "COMPENSATING_FACTORS", label: "Approve: compensating factors outweigh the score" },
      { code: "KYC_FAILED", label: "Identity could not be verified" },
      { code: "INCOMPLETE_APPLICATION", label: "Application incomplete" },
    ],
  };
}

export const CURRENCIES = ["EUR", "USD", "GBP", "CHF"] as const;

export function invoiceType(owner: string) {
  return {
    key: INVOICE_TYPE_KEY,
    name: "Invoice field extraction",
    owner,
    outputSchema: {
      type: "object",
      required: ["vendor", "invoiceNumber", "invoiceDate", "currency", "total", "lines"],
      properties: {
        vendor: { type: "string", title: "Vendor", minLength: 1 },
        invoiceNumber: { type: "string", title: "Invoice number", minLength: 1 },
        invoiceDate: { type: "string", title: "Invoice date", format: "date" },
        currency: { type: "string", title: "Currency", enum: [...CURRENCIES] },
        tax: { type: "number", title: "Tax", minimum: 0 },
        total: { type: "number", title: "Total", minimum: 0 },
        lines: {
          type: "array",
          title: "Line items",
          items: {
            type: "object",
            required: ["description", "quantity", "unitPrice", "amount"],
            properties: {
              sku: { type: "string", title: "SKU" },
              description: { type: "string", title: "Description" },
              quantity: { type: "number", title: "Quantity", minimum: 0 },
              unitPrice: { type: "number", title: "Unit price", minimum: 0 },
              amount: { type: "number", title: "Amount", minimum: 0 },
            },
          },
        },
      },
    },
    routing: {
      minConfidence: 0.85,
      fieldMinConfidence: { total: 0.9, "lines.*.amount": 0.85, invoiceDate: 0.8 },
      reviewFlags: ["policy:*", "dup:*"],
      qaSampleRate: 0.1,
    },
    slaMinutes: 480,
    reasonCodes: [
      { code: "WRONG_TOTAL", label: "Total misread" },
      { code: "WRONG_LINE_AMOUNT", label: "Line amount misread" },
      { code: "MISSING_LINE", label: "Line item missing" },
      { code: "WRONG_DATE", label: "Invoice date misread" },
      { code: "WRONG_VENDOR", label: "Vendor misread" },
      { code: "WRONG_CURRENCY", label: "Currency misread" },
      { code: "WRONG_INVOICE_NUMBER", label: "Invoice number misread" },
      { code: "DUPLICATE_INVOICE", label: "Duplicate of an invoice already received" },
      { code: "NOT_AN_INVOICE", label: "Document is not an invoice" },
    ],
  };
}
