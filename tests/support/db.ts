/**
 * Test databases and the small fixtures tests build their data from:
 * each test creates exactly the users, keys and types it needs.
 */
import type { Db } from "@db/client.server";
import { createApiKey, createUser } from "~/domain/auth/users.server";
import { upsertDecisionType } from "~/domain/decision-types/decision-types.server";
import type { Role, Scope } from "~/domain/auth/permissions";

export { testDb, testStore, storeEnv, openStore, onPostgres, tempDir, type TestStore } from "./store";

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.com`;
}

export const TEST_PASSWORD = "correct horse battery staple";

export async function makeUser(db: Db, role: Role, email = uniqueEmail(role)) {
  const { user } = await createUser(db, { email, role, password: TEST_PASSWORD }, "test");
  return { ...user, password: TEST_PASSWORD };
}

export async function makeKey(db: Db, scopes: Scope[], userEmail?: string): Promise<string> {
  return (await createApiKey(db, { name: `test-${scopes.join("-")}-${++counter}`, scopes, user: userEmail }, "test")).key;
}

export function invoiceType(owner: string, overrides: Record<string, unknown> = {}) {
  return {
    key: "invoice",
    name: "Invoice extraction",
    owner,
    outputSchema: {
      type: "object",
      required: ["total", "currency"],
      properties: {
        total: { type: "number", minimum: 0 },
        currency: { type: "string", enum: ["EUR", "USD"] },
        lines: { type: "array", items: { type: "object", properties: { sku: { type: "string" }, amount: { type: "number" } } } },
      },
    },
    routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95 }, reviewFlags: ["policy:*"], qaSampleRate: 0 },
    slaMinutes: 240,
    reasonCodes: [
      { code: "WRONG_TOTAL", label: "Total misread" },
      { code: "NOT_AN_INVOICE", label: "Not an invoice" },
    ],
    ...overrides,
  };
}

export async function makeType(db: Db, def: Record<string, unknown>) {
  return (await upsertDecisionType(db, def, "test")).type;
}

export function invoiceDecision(externalId: string, overrides: Record<string, unknown> = {}) {
  return {
    type: "invoice",
    externalId,
    model: { name: "invoice-extractor", version: "1.0.0" },
    input: { vendor: "ACME GmbH", pages: 2 },
    output: {
      total: 120.5,
      currency: "EUR",
      lines: [
        { sku: "A-1", amount: 100 },
        { sku: "B-2", amount: 20.5 },
      ],
    },
    confidence: 0.97,
    fieldConfidence: { total: 0.99, currency: 0.99 },
    flags: [],
    ...overrides,
  };
}
