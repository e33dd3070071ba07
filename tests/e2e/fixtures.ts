/**
 * The one home of the browser tests' helpers. Every test imports `test` and `expect` from here.
 *
 * Tests reach the app only the ways a customer can, so the same suite runs on SQLite and Postgres:
 * - the `lastmile` CLI, once per worker, for the first admin (the "operator") and an admin API key;
 * - the HTTP API with API keys (`api`: types, decisions, claims, verdicts, the audit feed);
 * - the admin pages' forms over HTTP for people and their keys (`accounts`, `api.createKey`);
 * - POST /login for sessions (`signIn`): a page gets its cookie without typing into the form
 *   (tests/e2e/auth.test.ts is the test that signs in through the form).
 *
 * Names, one meaning each:
 * - Account: a person who signs in (id, email, password, role); `accounts.create(role)` makes a fresh
 *   one per test, disabled again when the test ends.
 * - api.postDecisions / api.postDecision: ingest through POST /api/v1/decisions.
 * - api.claimNext / api.submitVerdict / api.releaseTask: the review API, acting as an account.
 * - api.reviewNext: claim the next task of a type and submit a verdict on it, as an account.
 * - api.readDecision: GET /api/v1/decisions/:id with a key of nobody (sees no sealed verdict).
 */
import { test as base, expect, type BrowserContext, type BrowserContextOptions, type Page } from "@playwright/test";
import type { components, operations } from "../../scripts/client/index";
import type { ApiAnswer } from "../support/answer";
import { cliCreateApiKey, cliCreateUser } from "./lastmile-cli";

export { expect };

export type Role = "admin" | "manager" | "reviewer" | "auditor";
export type Scope = "ingest" | "review" | "read" | "admin";

/** A person who signs in. */
export type Account = { id: string; email: string; password: string; role: Role };

let counter = 0;
/** Unique across workers, runs and tests. */
export function uniqueSuffix(): string {
  counter += 1;
  return `${process.pid}-${Date.now().toString(36)}-${counter}`;
}
export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${uniqueSuffix()}@example.com`;
}
export function uniqueKey(prefix: string): string {
  return `${prefix}-${uniqueSuffix()}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing (Node's fetch: usable from worker-scoped fixtures, where no page exists)

type JsonResponse = { status: number; body: ApiAnswer };
/** An audit entry as tests read it: `data` is the entry's JSON object. */
export type AuditEntry = Omit<components["schemas"]["AuditEntry"], "data"> & { data: Record<string, unknown> };

async function callApi(baseURL: string, method: string, path: string, key: string, body?: unknown): Promise<JsonResponse> {
  const res = await fetch(baseURL + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed as ApiAnswer };
}

/** POST /login over HTTP: the session cookie (name=value), or an error saying why not. */
async function sessionCookie(baseURL: string, account: { email: string; password: string }): Promise<string> {
  const res = await fetch(`${baseURL}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: account.email, password: account.password, redirectTo: "/" }).toString(),
  });
  const cookie = (res.headers.get("set-cookie") ?? "").match(/lastmile_session=[^;]+/)?.[0];
  if (res.status !== 302 || !cookie) throw new Error(`sign-in of ${account.email} answered ${res.status}`);
  return cookie;
}

/** An admin's session used like a browser without JavaScript: the admin pages' forms, posted. */
class AdminForms {
  constructor(
    private readonly baseURL: string,
    private readonly cookie: string,
  ) {}

  async post(path: string, fields: [string, string][]): Promise<string> {
    const res = await fetch(this.baseURL + path, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: this.cookie },
      body: new URLSearchParams(fields).toString(),
    });
    const html = await res.text();
    if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status}`);
    return html;
  }

  /** The users page's "Add a user": the one-time password it shows, and the id from the user's row. */
  async createUser(email: string, role: Role): Promise<Account> {
    const html = await this.post("/admin/users", [
      ["intent", "create"],
      ["email", email],
      ["role", role],
    ]);
    const password = html.match(/data-testid="one-time-password"[^>]*>([^<]+)</)?.[1]?.trim();
    const row = html.split("<tr").find((r) => r.includes(`>${email}</td>`));
    const id = row?.match(/name="id" value="([^"]+)"/)?.[1];
    if (!password || !id) throw new Error(`creating ${email} showed no one-time password or row`);
    return { id, email, password, role };
  }

  async disableUser(account: Account): Promise<void> {
    const html = await this.post("/admin/users", [
      ["intent", "disable"],
      ["id", account.id],
    ]);
    if (!html.includes(`${account.email} is disabled`)) throw new Error(`disabling ${account.email} was not confirmed`);
  }

  /** The API keys page's "Create key": the key it shows once. */
  async createKey(scopes: Scope[], user?: string): Promise<string> {
    const fields: [string, string][] = [
      ["intent", "create"],
      ["name", uniqueKey(`e2e-${scopes.join("-")}`)],
      ...scopes.map((s): [string, string] => ["scopes", s]),
    ];
    if (user) fields.push(["user", user]);
    const html = await this.post("/admin/api-keys", fields);
    const key = html.match(/data-testid="new-api-key"[^>]*>([^<]+)</)?.[1]?.trim();
    if (!key) throw new Error(`creating a ${scopes.join(",")} key showed no key`);
    return key;
  }
}

/** The worker's operator: an admin made with the CLI, signed in over HTTP, and an admin API key of nobody. */
type Operator = { email: string; forms: AdminForms; key: string; baseURL: string };

// ---------------------------------------------------------------------------------------------
// The store, through the HTTP API

export type Claim = {
  task: { id: string; decisionId: string; route: string; status: string; leaseExpiresAt: string | null };
  decision: { id: string; externalId: string };
};
export type Posted = { id: string; externalId: string; status: string; route: string };

export class LastmileApi {
  private readonly reviewKeys = new Map<string, string>();
  constructor(private readonly operator: Operator) {}

  private call(method: string, path: string, body?: unknown, key = this.operator.key) {
    return callApi(this.operator.baseURL, method, path, key, body);
  }

  /** A new API key with these scopes, acting as `account` when given (the admin page's form). */
  async createKey(scopes: Scope[], account?: { email: string }): Promise<string> {
    return this.operator.forms.createKey(scopes, account?.email);
  }

  /** The review-scoped key the API helpers act as `account` with (one per account). */
  async reviewKeyOf(account: Account): Promise<string> {
    let key = this.reviewKeys.get(account.email);
    if (!key) {
      key = await this.createKey(["review"], account);
      this.reviewKeys.set(account.email, key);
    }
    return key;
  }

  /** PUT /api/v1/decision-types/:key (creates the type). */
  async putType<T extends { key: string }>(def: T): Promise<T> {
    const res = await this.call("PUT", `/api/v1/decision-types/${encodeURIComponent(def.key)}`, def);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return def;
  }

  /** POST /api/v1/decisions with a batch; the created decisions in order. */
  async postDecisions(items: unknown[]): Promise<Posted[]> {
    const res = await this.call("POST", "/api/v1/decisions", { decisions: items });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.decisions;
  }

  /** POST /api/v1/decisions with one decision. */
  async postDecision(item: unknown): Promise<Posted> {
    const res = await this.call("POST", "/api/v1/decisions", item);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** GET /api/v1/decisions/:id as a key of nobody: what anybody may read (no sealed verdict). */
  async readDecision(id: string): Promise<components["schemas"]["Decision"]> {
    const res = await this.call("GET", `/api/v1/decisions/${encodeURIComponent(id)}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as components["schemas"]["Decision"];
  }

  /** GET /api/v1/audit, every page: the entries matching `query`, oldest first. */
  async auditEntries(query: Record<string, string>): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const qs = new URLSearchParams({ ...query, limit: "500", ...(cursor ? { cursor } : {}) });
      const res = await this.call("GET", `/api/v1/audit?${qs}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      out.push(...(res.body.entries as AuditEntry[]));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  /** POST /api/v1/tasks/claim as `account`: the task claimed, or null when none is open. */
  async claimNext(account: Account, body: { type?: string; leaseSeconds?: number } = {}): Promise<Claim | null> {
    const res = await this.call("POST", "/api/v1/tasks/claim", body, await this.reviewKeyOf(account));
    if (res.status === 204) return null;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  /** POST /api/v1/tasks/:id/review as `account`. */
  async submitVerdict(
    account: Account,
    taskId: string,
    verdict: Record<string, unknown>,
  ): Promise<operations["submitReview"]["responses"][200]["content"]["application/json"]> {
    const res = await this.call("POST", `/api/v1/tasks/${encodeURIComponent(taskId)}/review`, verdict, await this.reviewKeyOf(account));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  /** POST /api/v1/tasks/:id/release as `account`. */
  async releaseTask(account: Account, taskId: string): Promise<void> {
    const res = await this.call("POST", `/api/v1/tasks/${encodeURIComponent(taskId)}/release`, undefined, await this.reviewKeyOf(account));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  /** Claims the next task of `type` as `account` and submits `verdict` on it; the claim. */
  async reviewNext(account: Account, type: string, verdict: Record<string, unknown>): Promise<Claim> {
    const claim = await this.claimNext(account, { type });
    if (!claim) throw new Error(`no open task of ${type} for ${account.email}`);
    await this.submitVerdict(account, claim.task.id, verdict);
    return claim;
  }
}

// ---------------------------------------------------------------------------------------------
// Data: decision types and decisions the tests send

/** A small invoice type (total, currency, plain line items), key unique unless given. No random QA sampling: a test that wants it sets qaSampleRate, so an auto-released decision never grows a QA task by chance. */
export function plainInvoiceType(owner: string, overrides: Record<string, unknown> = {}) {
  return {
    key: uniqueKey("inv"),
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

/** A decision of a plainInvoiceType. */
export function plainInvoiceDecision(type: string, externalId: string, overrides: Record<string, unknown> = {}) {
  return {
    type,
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

/** The workbench's realistic invoice type: every field kind, line items; key unique to the test. */
export function workbenchInvoiceType(owner: string, overrides: Record<string, unknown> = {}) {
  const key = uniqueKey("inv");
  return {
    key,
    name: `Invoice ${key.slice(-6)}`,
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
    } as { type: string; required: string[]; properties: Record<string, unknown> },
    routing: { minConfidence: 0.9, fieldMinConfidence: { total: 0.95, "lines.*.amount": 0.9 }, reviewFlags: ["policy:*"], qaSampleRate: 0 },
    slaMinutes: 240,
    reasonCodes: [
      { code: "WRONG_TOTAL", label: "Total misread" },
      { code: "WRONG_LINE", label: "Line item misread" },
      { code: "NOT_AN_INVOICE", label: "Not an invoice" },
    ],
    ...overrides,
  };
}

/** Invoice number 1000+i of a workbench type, routed to review (low confidence, a policy flag). */
export function workbenchInvoice(typeKey: string, i: number, overrides: Record<string, unknown> = {}) {
  return {
    type: typeKey,
    externalId: `INV-${1000 + i}`,
    model: { name: "invoice-extractor", version: "2.3.1" },
    input: {
      document: { fileName: `scan-${1000 + i}.pdf`, pages: 2, receivedVia: "email" },
      vendor: { name: "ACME Industrial Supplies GmbH", vatId: "DE811907980", address: "Hauptstraße 5, 10115 Berlin" },
      issuedOn: "2026-11-02",
      text:
        "Invoice INV-" +
        (1000 + i) +
        "\nACME Industrial Supplies GmbH — payment within 30 days. Thank you for your business; questions go to billing@acme.example.",
      lines: [
        { description: "Steel bolts M8 (box of 500)", quantity: 4, unitPrice: 25 },
        { description: "Delivery", quantity: 1, unitPrice: 20.5 },
      ],
    },
    output: {
      invoiceNumber: `INV-${1000 + i}`,
      issuedOn: "2026-11-02",
      total: 120.5,
      currency: "EUR",
      pages: 2,
      reverseCharge: false,
      lines: [
        { sku: "BOLT-M8", amount: 100 },
        { sku: "DELIVERY", amount: 20.5 },
      ],
    },
    confidence: 0.81,
    fieldConfidence: { total: 0.62, currency: 0.99, invoiceNumber: 0.97, "lines.1.amount": 0.55, "lines.0.amount": 0.96 },
    flags: ["policy:new-vendor"],
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Pages

/**
 * Collects console errors and uncaught page errors. Form actions answer invalid
 * input with 400/409 and an inline message; the browser logs those responses,
 * so they alone are not counted (a missing asset or a 500 still is), nor is a
 * request the router aborted because a newer one replaced it.
 */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/Failed to load resource: the server responded with a status of (400|409)/.test(m.text())) return;
    // A fetcher load (the dataset preview) cut short because the user submitted the form: the router aborts it on purpose.
    if (/^AbortError: signal is aborted without reason/.test(m.text())) return;
    errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Gives `context` a session of `account`: POST /login through the context's own request client, so the cookie lands in the context. */
async function signInContext(context: BrowserContext, account: { email: string; password: string }): Promise<void> {
  const res = await context.request.post("/login", { form: { email: account.email, password: account.password, redirectTo: "/" }, maxRedirects: 0 });
  expect(res.status(), `sign-in of ${account.email}`).toBe(302);
  expect(
    (await context.cookies()).some((c) => c.name === "lastmile_session"),
    `session cookie of ${account.email}`,
  ).toBe(true);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

type WorkerFixtures = { operator: Operator };
type TestFixtures = {
  /** HTTP API helpers (see LastmileApi). */
  api: LastmileApi;
  /** Fresh people, disabled when the test ends. */
  accounts: { create: (role: Role) => Promise<Account> };
  /** Signs `page` (the test's page unless given) in as `account`, by cookie. */
  signIn: (account: { email: string; password: string }, page?: Page) => Promise<void>;
  /** A fresh account of `role`, signed in on the test's page. */
  signedInAs: (role: Role) => Promise<Account>;
  /** A new browser context and page signed in as `account` (closed when the test ends). */
  newSignedInPage: (account: { email: string; password: string }, options?: BrowserContextOptions) => Promise<Page>;
  /** A fresh decision type (created through the API; types cannot be deleted, keys are unique). */
  freshType: {
    workbench: (owner: string, overrides?: Record<string, unknown>) => Promise<ReturnType<typeof workbenchInvoiceType>>;
    plain: (owner: string, overrides?: Record<string, unknown>) => Promise<ReturnType<typeof plainInvoiceType>>;
  };
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  operator: [
    async ({}, use, workerInfo) => {
      const baseURL = workerInfo.project.use.baseURL!;
      const admin = cliCreateUser(uniqueEmail(`operator-w${workerInfo.workerIndex}`), "admin");
      const key = cliCreateApiKey(uniqueKey(`e2e-operator-w${workerInfo.workerIndex}`), ["admin"]);
      const forms = new AdminForms(baseURL, await sessionCookie(baseURL, admin));
      await use({ email: admin.email, forms, key, baseURL });
    },
    { scope: "worker" },
  ],

  api: async ({ operator }, use) => {
    await use(new LastmileApi(operator));
  },

  accounts: async ({ operator }, use) => {
    const made: Account[] = [];
    await use({
      create: async (role) => {
        const account = await operator.forms.createUser(uniqueEmail(role), role);
        made.push(account);
        return account;
      },
    });
    // People cannot be deleted; disabled, they sign in no more and their sessions end.
    for (const account of made) await operator.forms.disableUser(account);
  },

  signIn: async ({ page }, use) => {
    await use(async (account, target = page) => signInContext(target.context(), account));
  },

  signedInAs: async ({ accounts, signIn }, use) => {
    await use(async (role) => {
      const account = await accounts.create(role);
      await signIn(account);
      return account;
    });
  },

  newSignedInPage: async ({ browser }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (account, options) => {
      const context = await browser.newContext(options);
      contexts.push(context);
      await signInContext(context, account);
      return context.newPage();
    });
    for (const c of contexts) await c.close();
  },

  freshType: async ({ api }, use) => {
    await use({
      workbench: (owner, overrides) => api.putType(workbenchInvoiceType(owner, overrides)),
      plain: (owner, overrides) => api.putType(plainInvoiceType(owner, overrides)),
    });
  },
});
