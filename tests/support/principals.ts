/**
 * One of every principal the permission matrix names (sessions signed in
 * through the login form, API keys of each scope) and real ids for the routes'
 * parameters, against a started test server.
 */
import { expect } from "vitest";
import { answer, client, createDataset, createSnapshot, createWebhook, freshType, ingest, reviewDecision, tasksOf } from "./api";
import { makeKey, makeUser, TEST_PASSWORD } from "./db";
import type { MatrixRow, PrincipalName } from "./permission-matrix";
import { waitForSnapshot, type TestServer } from "./server";

/** Signs in through the login form, as a browser would, and returns the session cookie. */
export async function signIn(url: string, email: string, password = TEST_PASSWORD): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: url, "Sec-Fetch-Site": "same-origin" },
    body: new URLSearchParams({ email, password }),
    redirect: "manual",
  });
  await res.text();
  const cookie = res.headers.getSetCookie().find((c) => !/max-age=0/i.test(c));
  if (res.status !== 302 || !cookie) throw new Error(`sign-in as ${email} failed: ${res.status}`);
  return cookie.split(";")[0];
}

export type Credentials = { cookie?: string; key?: string; email?: string };

export type Cast = {
  creds: Record<PrincipalName, Credentials>;
  /** Ids for the `:type`, `:decision`, `:task`, `:dataset`, `:n`, `:webhook` and `:delivery` placeholders. */
  ids: Record<string, string>;
};

export async function castOf(s: TestServer): Promise<Cast> {
  const creds = { anonymous: {} } as Record<PrincipalName, Credentials>;
  for (const role of ["admin", "manager", "reviewer", "auditor"] as const) {
    const u = await makeUser(s.db, role);
    creds[role] = { cookie: await signIn(s.url, u.email), email: u.email };
  }
  for (const scope of ["ingest", "review", "read", "admin"] as const) creds[`key:${scope}`] = { key: await makeKey(s.db, [scope]) };
  creds["key:review@reviewer"] = { key: await makeKey(s.db, ["review"], creds.reviewer.email) };

  // Real ids, so every route gets past "not found" to its permission check.
  const ids: Record<string, string> = {};
  ids.type = await freshType(s.db, creds.manager.email!);
  const dec = await ingest(s, creds["key:ingest"].key!, reviewDecision(ids.type, "matrix-1"));
  expect(dec.status).toBe(201);
  ids.decision = dec.body.id;
  ids.task = (await tasksOf(s.db, ids.decision))[0].id;
  const admin = creds["key:admin"].key!;
  const ds = await createDataset(s, admin, { name: "Matrix", filter: { type: ids.type } });
  expect(ds.status).toBe(201);
  ids.dataset = ds.body.id;
  const snap = await createSnapshot(s, admin, ids.dataset, { split: { train: 0.8, validation: 0.1, test: 0.1 } });
  expect(snap.status).toBe(202);
  ids.n = String(snap.body.number);
  await waitForSnapshot(s, admin, snap.headers.get("Location")!);
  // A disabled subscription (so it never gets deliveries, which a background worker would write to) and a delivery number.
  const hook = await createWebhook(s, admin, { url: "http://127.0.0.1:9/matrix", events: ["decision.finalized"] });
  expect(hook.status).toBe(201);
  ids.webhook = hook.body.id;
  expect((await answer(client(s, admin).PATCH("/api/v1/webhooks/{id}", { params: { path: { id: ids.webhook } }, body: { enabled: false } }))).status).toBe(200);
  ids.delivery = "1";
  return { creds, ids };
}

/** A row's path with the cast's ids in place of its placeholders. */
export function pathOf(row: MatrixRow, ids: Record<string, string>): string {
  return row.path.replace(/:(type|decision|task|dataset|n|webhook|delivery)\b/g, (_, k: string) => ids[k]);
}
