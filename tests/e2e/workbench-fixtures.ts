/**
 * Data for the workbench browser tests: a realistic invoice type (every field
 * kind, line items) under a key unique to the test, and decisions ingested
 * through the real domain path.
 */
import { ingestDecisions } from "../../app/domain/ingest/ingest.server";
import { claimNextTask } from "../../app/domain/queue/queue.server";
import { getDecision } from "../../app/domain/decisions/decisions.server";
import { createType, e2eDb } from "./utils";

let n = 0;
export function uniqueKey(prefix: string): string {
  n += 1;
  return `${prefix}-${Date.now().toString(36)}-${n}`;
}

export async function workbenchType(owner: string, overrides: Record<string, unknown> = {}) {
  const key = uniqueKey("inv");
  const def = {
    key,
    name: `Invoice ${key.slice(-4)}`,
    owner,
    outputSchema: {
      type: "object",
      required: ["total", "currency"],
      properties: {
        invoiceNumber: { type: "string", title: "Invoice number" },
        issuedOn: { type: "string", format: "date", title: "Issued on" },
        total: { type: "number", minimum: 0 },
        currency: { type: "string", enum: ["EUR", "USD", "GBP"] },
        pages: { type: "integer", minimum: 1 },
        reverseCharge: { type: "boolean", title: "Reverse charge" },
        lines: {
          type: "array",
          title: "Line items",
          items: { type: "object", required: ["sku", "amount"], properties: { sku: { type: "string", title: "SKU" }, amount: { type: "number", minimum: 0 } } },
        },
      },
    },
    routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95, "lines.*.amount": 0.9 }, reviewFlags: ["policy:*"], qaSampleRate: 0 },
    slaMinutes: 240,
    reasonCodes: [
      { code: "WRONG_TOTAL", label: "Total misread" },
      { code: "WRONG_LINE", label: "Line item misread" },
      { code: "NOT_AN_INVOICE", label: "Not an invoice" },
    ],
    ...overrides,
  };
  await createType(def);
  return def;
}

export function invoice(typeKey: string, i: number, overrides: Record<string, unknown> = {}) {
  return {
    type: typeKey,
    externalId: `INV-${1000 + i}`,
    model: { name: "invoice-extractor", version: "2.3.1" },
    input: {
      document: { fileName: `scan-${1000 + i}.pdf`, pages: 2, receivedVia: "email" },
      vendor: { name: "ACME Industrial Supplies GmbH", vatId: "DE811907980", address: "Hauptstraße 5, 10115 Berlin" },
      issuedOn: "2026-11-02",
      text: "Invoice INV-" + (1000 + i) + "\nACME Industrial Supplies GmbH — payment within 30 days. Thank you for your business; questions go to billing@acme.example.",
      lines: [
        { description: "Steel bolts M8 (box of 500)", quantity: 4, unitPrice: 25 },
        { description: "Delivery", quantity: 1, unitPrice: 20.5 },
      ],
    },
    output: { invoiceNumber: `INV-${1000 + i}`, issuedOn: "2026-11-02", total: 120.5, currency: "EUR", pages: 2, reverseCharge: false, lines: [{ sku: "BOLT-M8", amount: 100 }, { sku: "DELIVERY", amount: 20.5 }] },
    confidence: 0.81,
    fieldConfidence: { total: 0.62, currency: 0.99, invoiceNumber: 0.97, "lines.1.amount": 0.55, "lines.0.amount": 0.96 },
    flags: ["policy:new-vendor"],
    ...overrides,
  };
}

export async function ingest(items: unknown[]) {
  return ingestDecisions(e2eDb(), items, { batch: true, actor: "e2e" });
}

export async function claimWithShortLease(user: { id: string; email: string }, typeKey: string, leaseMs: number) {
  return claimNextTask(e2eDb(), user, { type: typeKey, leaseMs });
}

export async function decision(id: string) {
  return getDecision(e2eDb(), id);
}
