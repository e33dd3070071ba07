import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { dialectOf, sqlAll, sqlOne, transaction, type Db } from "@db/client.server";
import { decisions, outbox, tasks } from "@db/schema/index";
import { insertRows, jsonText } from "@db/bulk-insert.server";
import { invoiceType, makeType, makeUser, testDb } from "../support/db";
import { failure } from "../support/reads";

/** The stored row as the driver returns it (what insertRows must match byte for byte), without its sequence number. */
const raw = async (db: Db, table: string, id: string, idCol = "id") => {
  const row = (await sqlOne(db, sql`SELECT * FROM ${sql.identifier(table)} WHERE ${sql.identifier(idCol)} = ${id}`))!;
  delete row.seq;
  return row;
};
const count = async (db: Db, table: string) => (await sqlOne<{ n: number }>(db, sql`SELECT count(*) AS n FROM ${sql.identifier(table)}`))!.n;
/** A false boolean as the store keeps it. */
const storedFalse = (db: Db) => (dialectOf(db) === "postgres" ? false : 0);
/** A unique constraint violation, as each store words it. */
const UNIQUE_VIOLATION = /UNIQUE|duplicate key value violates unique constraint/;

/** A decisions row released automatically (of the invoice type), with what a test varies on top. */
function autoRow<T extends object>(fields: T) {
  return {
    typeKey: "invoice",
    bodyHash: "h",
    modelName: "m",
    modelVersion: "1",
    input: {},
    output: {},
    confidence: 1,
    flags: [] as string[],
    occurredAt: 1,
    receivedAt: 1,
    route: "auto" as const,
    reasons: [] as string[],
    policyVersion: 1,
    status: "auto_approved" as const,
    updatedAt: 1,
    ...fields,
  };
}

describe("insertRows writes exactly what drizzle's insert writes", () => {
  it("encodes JSON, booleans, NULLs and defaults the same way", async () => {
    const db = await testDb();
    await makeType(db, invoiceType((await makeUser(db, "admin")).email));
    const base = {
      typeKey: "invoice",
      bodyHash: "h",
      modelName: "m",
      modelVersion: "1",
      input: JSON.parse('{"a": [1, {"b": null}], "__proto__": {"x": 1}}'),
      output: { total: 1 },
      confidence: 0.5,
      fieldConfidence: null,
      flags: ["x"],
      occurredAt: 1,
      receivedAt: 2,
      route: "review" as const,
      reasons: ["confidence 0.5 < 0.9"],
      policyVersion: 1,
      status: "pending_review" as const,
      finalOutput: null,
      updatedAt: 3,
    };
    await transaction(db, async (tx) => {
      await tx.insert(decisions).values({ ...base, id: "via-drizzle", externalId: "a" });
      await insertRows(tx, decisions, [{ ...base, id: "via-insertRows", externalId: "b" }]);
      await tx.insert(tasks).values({ id: "t1", decisionId: "via-drizzle", typeKey: "invoice", kind: "qa", status: "open", dueAt: 5, createdAt: 4 });
      await insertRows(tx, tasks, [{ id: "t2", decisionId: "via-drizzle", typeKey: "invoice", kind: "qa", status: "open", dueAt: 5, createdAt: 4 }]);
      await tx.insert(outbox).values({ eventType: "e", entityId: "o1", payload: "{}", createdAt: 1, nextAttemptAt: 1 });
      await insertRows(tx, outbox, [{ eventType: "e", entityId: "o2", payload: "{}", createdAt: 1, nextAttemptAt: 1 }]);
    });
    const a = await raw(db, "decisions", "via-drizzle");
    const b = await raw(db, "decisions", "via-insertRows");
    expect({ ...b, id: a.id, external_id: a.external_id }).toEqual(a);
    expect(b.final_output).toBeNull();
    expect(b.field_confidence).toBeNull();
    expect(b.qa_sampled).toBe(storedFalse(db));
    expect(b.priority).toBe(0);
    expect({ ...(await raw(db, "tasks", "t2")), id: "t1" }).toEqual(await raw(db, "tasks", "t1"));
    expect({ ...(await raw(db, "outbox", "o2", "entity_id")), entity_id: "o1" }).toEqual(await raw(db, "outbox", "o1", "entity_id"));
  });

  it("writes inside the surrounding transaction, so a failure rolls it back", async () => {
    const db = await testDb();
    await expect(
      transaction(db, async (tx) => {
        await insertRows(tx, outbox, [{ eventType: "e", entityId: "x", payload: "{}", createdAt: 1, nextAttemptAt: 1 }]);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await count(db, "outbox")).toBe(0);
  });

  it("writes many rows in order across statement chunks, with the same values as one by one", async () => {
    const db = await testDb();
    await makeType(db, invoiceType((await makeUser(db, "admin")).email));
    const row = (i: number) => ({
      eventType: "e",
      typeKey: i % 3 ? "invoice" : null,
      entityId: `o${i}`,
      payload: JSON.stringify({ i }),
      createdAt: i,
      nextAttemptAt: i + 1,
    });
    const n = 257; // more than two full statements of rows plus a remainder
    await transaction(db, (tx) =>
      insertRows(
        tx,
        outbox,
        Array.from({ length: n }, (_, i) => row(i)),
      ),
    );
    const stored = await sqlAll(db, sql`SELECT * FROM outbox ORDER BY seq`);
    expect(stored.map((r) => r.entity_id)).toEqual(Array.from({ length: n }, (_, i) => `o${i}`));
    const viaDrizzle = await testDb();
    for (let i = 0; i < n; i++) await viaDrizzle.insert(outbox).values(row(i));
    expect(await sqlAll(viaDrizzle, sql`SELECT * FROM outbox ORDER BY seq`)).toEqual(stored);
  });

  it("rolls back every chunk when a later row breaks a constraint", async () => {
    const db = await testDb();
    await makeType(db, invoiceType((await makeUser(db, "admin")).email));
    const rows = Array.from({ length: 150 }, (_, i) => autoRow({ id: `d${i}`, externalId: i === 149 ? "e0" : `e${i}` }));
    expect(await failure(transaction(db, (tx) => insertRows(tx, decisions, rows)))).toMatch(UNIQUE_VIOLATION);
    expect(await count(db, "decisions")).toBe(0);
  });

  it("stores an object shared by two columns (output and final output) in both", async () => {
    const db = await testDb();
    await makeType(db, invoiceType((await makeUser(db, "admin")).email));
    const output = { total: 5, lines: [{ sku: "a" }] };
    const row = autoRow({ id: "d1", externalId: "e1", input: output, output, finalOutput: output });
    await transaction(db, (tx) => insertRows(tx, decisions, [row]));
    const stored = await sqlOne(db, sql`SELECT input, output, final_output, flags, reasons FROM decisions`);
    expect(stored).toEqual({ input: JSON.stringify(output), output: JSON.stringify(output), final_output: JSON.stringify(output), flags: "[]", reasons: "[]" });
  });

  it("writes JSON texts the caller already serialised as they are, and reads them back as the values they stand for", async () => {
    const db = await testDb();
    await makeType(db, invoiceType((await makeUser(db, "admin")).email));
    const outputText = '{"total":5,"lines":[{"sku":"a"}]}';
    const row = autoRow({
      id: "d1",
      externalId: "e1",
      input: jsonText<Record<string, unknown>>('{"b":1,"a":2}'),
      output: jsonText<Record<string, unknown>>(outputText),
      fieldConfidence: jsonText<Record<string, number>>('{"total":0.5}'),
      flags: jsonText<string[]>('["x"]'),
      finalOutput: jsonText<Record<string, unknown>>(outputText),
    });
    await transaction(db, (tx) => insertRows(tx, decisions, [row]));
    expect(await sqlOne(db, sql`SELECT input, output, field_confidence, flags, final_output FROM decisions`)).toEqual({
      input: '{"b":1,"a":2}',
      output: outputText,
      field_confidence: '{"total":0.5}',
      flags: '["x"]',
      final_output: outputText,
    });
    expect((await db.select().from(decisions).limit(1))[0]).toMatchObject({
      input: { b: 1, a: 2 },
      output: { total: 5, lines: [{ sku: "a" }] },
      fieldConfidence: { total: 0.5 },
      flags: ["x"],
    });
    // serialised anywhere else (a payload, a log line), it stands for its value, not for a wrapper
    expect(JSON.stringify({ output: row.output })).toBe(`{"output":${outputText}}`);
  });
});
