import { describe, expect, it } from "vitest";
import { compileOutputSchema, type ObjectSchema } from "~/domain/decision-types/output-schema";
import { decisionInputSchema } from "~/domain/ingest/ingest.server";
import { buildCreditCase, creditVerdict, underwriterReasons } from "../../scripts/demo/credit";
import { loadCreditApplications, MODEL_V2, trainCreditModel } from "../../scripts/demo/credit-model";
import { InvoiceGenerator, invoiceVerdict } from "../../scripts/demo/invoices";
import { Rng } from "../../scripts/demo/random";
import { creditType, invoiceType } from "../../scripts/demo/types";

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const invoices = (seed: number, n = 400) => {
  const g = new InvoiceGenerator(new Rng(seed));
  return Array.from({ length: n }, (_, i) => g.next(T0 + i * 20 * 60_000, i + 1));
};

describe("synthetic invoices", () => {
  const cases = invoices(1);
  const validate = compileOutputSchema(invoiceType("o@example.com").outputSchema as ObjectSchema);

  it("are the same for the same seed and differ for another", () => {
    expect(invoices(1, 50).map((c) => c.item)).toEqual(cases.slice(0, 50).map((c) => c.item));
    expect(invoices(2, 50).map((c) => c.item)).not.toEqual(cases.slice(0, 50).map((c) => c.item));
  });

  it("post valid decisions whose output fits the type's schema, and whose true totals add up", () => {
    for (const c of cases) {
      expect(decisionInputSchema.safeParse(c.item).success).toBe(true);
      expect(validate.safeParse(c.output).success, JSON.stringify(c.output)).toBe(true);
      expect(validate.safeParse(c.truth).success).toBe(true);
      if (c.special === "not_invoice") continue;
      const sum = c.truth.lines.reduce((s, l) => s + l.amount, 0);
      expect(Math.abs(sum + c.truth.tax - c.truth.total)).toBeLessThan(0.005);
      for (const l of c.truth.lines) expect(Math.abs(l.quantity * l.unitPrice - l.amount)).toBeLessThan(0.005);
      expect(String(c.item.input && (c.item.input as { ocrText: string }).ocrText)).toContain(c.truth.invoiceNumber);
    }
  });

  it("misread some fields, mostly with a low confidence, and a reviewer restores what is on the page", () => {
    const misread = cases.filter((c) => c.misreads.length > 0);
    expect(misread.length).toBeGreaterThan(cases.length * 0.1);
    expect(misread.length).toBeLessThan(cases.length * 0.35);
    const rng = new Rng(3);
    for (const c of misread) {
      const v = invoiceVerdict(c, "review", rng);
      if (v.action === "correct") {
        expect(v.output).toEqual(c.truth);
        expect(v.reasonCodes.length).toBeGreaterThan(0);
      }
    }
    const lowConfidence = misread.filter(
      (c) => (c.item.confidence as number) < 0.85 || Object.values(c.item.fieldConfidence as Record<string, number>).some((f) => f < 0.85),
    );
    expect(lowConfidence.length).toBeGreaterThan(misread.length * 0.7);
    for (const c of cases.filter((c) => c.misreads.length === 0 && c.special === null)) {
      expect(c.output).toEqual(c.truth);
      expect(invoiceVerdict(c, "qa", rng).action).toBe("approve");
    }
  });
});

describe("credit cases", () => {
  const rows = loadCreditApplications();
  const model = trainCreditModel(rows, MODEL_V2, "2.0.0", { iterations: 100 });
  const validate = compileOutputSchema(creditType("o@example.com").outputSchema as ObjectSchema);

  it("post valid decisions; the reviewer answers with the observed outcome", () => {
    const rng = new Rng(5);
    let corrected = 0;
    for (const app of rows.slice(0, 300)) {
      const c = buildCreditCase(app, T0, 0.3 + 0.6 * rng.next(), model, "2.0.0", rng);
      expect(decisionInputSchema.safeParse(c.item).success).toBe(true);
      expect(validate.safeParse(c.output).success).toBe(true);
      const v = creditVerdict(c, "qa", rng);
      const final = v.action === "correct" ? (v.output as { decision: string }).decision : c.output.decision;
      expect(final).toBe(app.status === "good" ? "approve" : "decline");
      if (v.action === "correct") {
        corrected++;
        expect(validate.safeParse(v.output).success).toBe(true);
        expect(v.reasonCodes.length).toBeGreaterThan(0);
      }
    }
    expect(corrected).toBeGreaterThan(0);
  });

  it("names adverse records first when an underwriter overrides an approval", () => {
    expect(underwriterReasons({ ...rows[0], records: "yes" })[0]).toBe("ADVERSE_RECORDS");
  });
});
