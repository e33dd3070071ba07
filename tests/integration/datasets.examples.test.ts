import { beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@db/client.server";
import { countExamples, currentWindow, exampleToObject, iterateExamples, previewCount } from "~/domain/datasets/examples.server";
import { exampleFilterSchema, type ExampleFilter } from "~/domain/datasets/filter";
import { invoiceType, makeType, makeUser, testDb } from "../support/db";
import { CORRECTED, ingest, openTask, review, reviewed, type Person } from "../support/labelled";
import { generateReviewedInvoices } from "../../scripts/bench/generate";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const filter = (f: Partial<ExampleFilter> = {}) => exampleFilterSchema.parse({ type: "invoice", ...f });
const examples = async (db: Db, f: Partial<ExampleFilter> = {}, opts: Parameters<typeof iterateExamples>[2] = {}) =>
  (await collect(iterateExamples(db, filter(f), opts))).map((r) => exampleToObject(r) as Record<string, unknown> & { reviewedAt: string; receivedAt: string });

describe("labelled examples derived from reviews", () => {
  let db: Db;
  let owner: Person & { email: string };
  let alice: Person;
  let bob: Person;
  beforeEach(async () => {
    db = await testDb();
    owner = await makeUser(db, "manager");
    alice = await makeUser(db, "reviewer");
    bob = await makeUser(db, "reviewer");
    await makeType(db, invoiceType(owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0.5 } }));
  });

  it("turns a correction into an example with its full lineage", async () => {
    const d = await reviewed(db, alice, "inv-1", { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"], note: "total misread" });
    const [ex] = await examples(db);
    expect(ex).toMatchObject({
      decisionId: d.id,
      type: "invoice",
      externalId: "inv-1",
      action: "corrected",
      modelOutput: { total: 120.5, currency: "EUR" },
      finalOutput: CORRECTED,
      changedFields: ["total", "lines.0.amount", "lines.1.sku", "lines.1.amount"],
      reasonCodes: ["WRONG_TOTAL"],
      note: "total misread",
      confidence: 0.5,
      fieldConfidence: { total: 0.99, currency: 0.99 },
      modelName: "invoice-extractor",
      modelVersion: "1.0.0",
      route: "review",
      routeReasons: ["confidence 0.5 < 0.9"],
      policyVersion: 1,
      seenBecause: "review_rule",
      samplingProbability: 1,
      weight: 1,
      secondReviewer: null,
      agreement: null,
    });
    expect(ex.reviewer).toMatch(/^rv_[0-9a-f]{16}$/);
    expect(ex.finalReviewer).toBe(ex.reviewer);
    expect(JSON.stringify(ex)).not.toContain(alice.email);
    expect(["train", "validation", "test"]).toContain(ex.split);
    expect(Date.parse(ex.reviewedAt)).toBeGreaterThanOrEqual(Date.parse(ex.receivedAt));
  });

  it("maps approve and reject, keeps pseudonyms stable and shows emails only when asked", async () => {
    await reviewed(db, alice, "a", { action: "approve" });
    await reviewed(db, alice, "r", { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    await reviewed(db, bob, "b", { action: "approve" });
    const rows = await examples(db);
    expect(rows.map((r) => [r.externalId, r.action])).toEqual([
      ["a", "approved"],
      ["r", "rejected"],
      ["b", "approved"],
    ]);
    expect(rows[0].finalOutput).toEqual(rows[0].modelOutput);
    expect(rows[1].finalOutput).toBeNull();
    expect(rows[0].reviewer).toBe(rows[1].reviewer);
    expect(rows[0].reviewer).not.toBe(rows[2].reviewer);
    const named = await examples(db, {}, { identities: true });
    expect(named.map((r) => r.reviewer)).toEqual([alice.email, alice.email, bob.email]);
  });

  it("weights QA samples by the inverse of the policy version's sample rate", async () => {
    let sampled: string | undefined;
    for (let i = 0; i < 40 && !sampled; i++) {
      const d = await ingest(db, `auto-${i}`);
      if (await openTask(db, d.id, "qa")) sampled = d.id;
    }
    expect(sampled).toBeDefined();
    await review(db, alice, sampled!, { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"] });
    const [ex] = await examples(db);
    expect(ex).toMatchObject({
      decisionId: sampled,
      route: "auto",
      seenBecause: "qa_sample",
      samplingProbability: 0.5,
      weight: 2,
      action: "corrected",
      finalOutput: CORRECTED,
    });
  });

  it("represents an escalation by the owner's final verdict", async () => {
    const d = await reviewed(db, alice, "esc", { action: "escalate", note: "vendor unknown" });
    expect(await examples(db)).toEqual([]);
    await review(db, owner, d.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    const rows = await examples(db, {}, { identities: true });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "rejected", seenBecause: "escalation", reviewer: alice.email, finalReviewer: owner.email, samplingProbability: 1 });
  });

  it("joins a four-eyes second review, records agreement and waits for it", async () => {
    await makeType(db, invoiceType(owner.email, { routing: { minConfidence: 0.9, qaSampleRate: 0.5 }, fourEyes: { flags: ["four:*"] } }));
    const fourEyes = { flags: ["four:eyes"] };
    const agree = await reviewed(db, alice, "fe-agree", { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"] }, fourEyes);
    const differ = await reviewed(db, alice, "fe-differ", { action: "approve" }, fourEyes);
    await reviewed(db, alice, "single", { action: "approve" });
    // While the second reviews are open, only the single-review decision is a finished example.
    expect(await openTask(db, agree.id, "second")).toBeDefined();
    expect((await examples(db)).map((r) => r.externalId)).toEqual(["single"]);
    await review(db, bob, agree.id, { action: "correct", output: { ...CORRECTED }, reasonCodes: ["WRONG_TOTAL"] });
    await review(db, bob, differ.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    // The disagreement went to the owner; until the owner decides, it is no example.
    expect(await openTask(db, differ.id, "escalation")).toBeDefined();
    expect((await examples(db)).map((r) => r.externalId).sort()).toEqual(["fe-agree", "single"]);
    await review(db, owner, differ.id, { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] });
    const rows = await examples(db, {}, { identities: true });
    const byId = Object.fromEntries(rows.map((r) => [r.externalId, r]));
    expect(byId["fe-agree"]).toMatchObject({
      reviewer: alice.email,
      secondReviewer: bob.email,
      finalReviewer: bob.email,
      agreement: true,
      action: "corrected",
    });
    expect(byId["fe-differ"]).toMatchObject({
      reviewer: alice.email,
      secondReviewer: bob.email,
      finalReviewer: owner.email,
      agreement: false,
      action: "rejected",
    });
    expect(byId.single.agreement).toBeNull();
    expect((await examples(db, { agreementOnly: true })).map((r) => r.externalId)).toEqual(["fe-agree"]);
    expect(await countExamples(db, filter({ agreementOnly: true }))).toBe(1);
  });

  it("filters by action, route, model version, reason code and period, and counts the same rows", async () => {
    const t0 = Date.UTC(2026, 0, 10);
    await reviewed(db, alice, "c1", { action: "correct", output: CORRECTED, reasonCodes: ["WRONG_TOTAL"] }, {}, t0);
    await reviewed(
      db,
      alice,
      "r1",
      { action: "reject", reasonCodes: ["NOT_AN_INVOICE"] },
      { model: { name: "invoice-extractor", version: "2.0.0" } },
      t0 + 86_400_000,
    );
    await reviewed(db, bob, "a1", { action: "approve" }, { model: { name: "invoice-extractor", version: "2.0.0" } }, t0 + 2 * 86_400_000);
    const ids = async (f: Partial<ExampleFilter>) => {
      const got = (await examples(db, f)).map((r) => r.externalId);
      expect(await countExamples(db, filter(f))).toBe(got.length);
      return got;
    };
    expect(await ids({})).toEqual(["c1", "r1", "a1"]);
    expect(await ids({ actions: ["corrected", "rejected"] })).toEqual(["c1", "r1"]);
    expect(await ids({ modelVersions: ["2.0.0"] })).toEqual(["r1", "a1"]);
    expect(await ids({ reasonCodes: ["NOT_AN_INVOICE"] })).toEqual(["r1"]);
    expect(await ids({ routes: ["auto"] })).toEqual([]);
    expect(await ids({ from: new Date(t0 + 86_400_000).toISOString() })).toEqual(["r1", "a1"]);
    expect(await ids({ to: new Date(t0 + 86_400_000).toISOString() })).toEqual(["c1"]);
    expect(await ids({ type: "other" } as Partial<ExampleFilter>)).toEqual([]);
    expect(await previewCount(db, filter(), 10)).toEqual({ count: 3, exact: true });
    expect(await previewCount(db, filter(), 2)).toEqual({ count: 2, exact: false });
  });

  it("reads as of a watermark: later reviews do not change what an earlier window sees", async () => {
    await reviewed(db, alice, "early", { action: "approve" });
    const w = await currentWindow(db);
    const d = await reviewed(db, alice, "late", { action: "approve" });
    const esc = await reviewed(db, alice, "esc-late", { action: "escalate", note: "?" });
    expect((await examples(db, {}, w)).map((r) => r.externalId)).toEqual(["early"]);
    expect((await examples(db)).map((r) => r.externalId)).toEqual(["early", "late"]);
    await review(db, owner, esc.id, { action: "approve" });
    expect((await examples(db, {}, w)).map((r) => r.externalId)).toEqual(["early"]);
    expect(d.id).toBeTruthy();
  });

  it("pages through many examples in order", async () => {
    for (let i = 0; i < 25; i++) await reviewed(db, alice, `p-${String(i).padStart(2, "0")}`, { action: "approve" });
    const got = (await collect(iterateExamples(db, filter(), { pageSize: 7 }))).map((r) => r.externalId);
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => `p-${String(i).padStart(2, "0")}`));
  });

  it("splits an example the same way whatever else is in the set", { timeout: 60_000 }, async () => {
    const store = await testDb();
    await generateReviewedInvoices(store, 600);
    const all = await examples(store, {});
    const splitOfId = new Map(all.map((r) => [r.externalId as string, r.split as string]));
    expect(new Set(splitOfId.values())).toEqual(new Set(["train", "validation", "test"]));
    // Each narrower set leaves out different examples; the ones it keeps stay in their split.
    for (const f of [{ modelVersions: ["2.0.0"] }, { routes: ["review" as const] }, { actions: ["corrected" as const] }, { from: "2026-01-01T00:04:00Z" }]) {
      const part = await examples(store, f);
      expect(part.length).toBeGreaterThan(0);
      expect(part.length).toBeLessThan(all.length);
      for (const r of part) expect(r.split).toBe(splitOfId.get(r.externalId as string));
    }
  });
});
