/**
 * Walks the permission matrix (tests/support/permission-matrix.ts) over real
 * HTTP: every row as no session, as each role's session and as each kind of
 * API key, and compares what each principal got with what the table promises.
 * Also keeps the table complete (every file in app/routes/ is in it) and the
 * README equal to it.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedOutcome, matrixMarkdown, MATRIX, PRINCIPALS, type MatrixRow, type PrincipalName } from "../support/permission-matrix";
import { castOf, pathOf, signIn, type Cast } from "../support/principals";
import { startServer, type TestServer } from "../support/server";

const ROUTES_DIR = path.join(__dirname, "../../app/routes");

describe("permission matrix", () => {
  let s: TestServer;
  let creds: Cast["creds"];
  let ids: Cast["ids"];
  beforeAll(async () => {
    s = await startServer();
    ({ creds, ids } = await castOf(s));
  });
  afterAll(async () => s?.close());

  async function send(row: MatrixRow, p: PrincipalName): Promise<Response> {
    const url = s.url + pathOf(row, ids);
    let c = creds[p];
    if (row.endsSession && c.cookie) c = { cookie: await signIn(s.url, c.email!) };
    const headers: Record<string, string> = {};
    if (c.cookie) headers.Cookie = c.cookie;
    if (c.key) headers.Authorization = `Bearer ${c.key}`;
    let body: string | undefined;
    if (row.method !== "GET") {
      // What the app's own pages send: same origin.
      headers.Origin = s.url;
      headers["Sec-Fetch-Site"] = "same-origin";
      if (row.form) {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        body = new URLSearchParams(row.form).toString();
      } else if (row.body !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(row.body);
      }
    }
    return fetch(url, { method: row.method, headers, body, redirect: "manual" });
  }

  /**
   * What a response means: a refusal (401, 403, redirect to sign-in) or "allow"; a 5xx or 429 is reported as such and
   * fails. An API refusal must also carry the JSON error shape.
   */
  async function outcomeOf(row: MatrixRow, res: Response): Promise<string> {
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      if (row.kind !== "api") return String(res.status);
      let code: unknown;
      try {
        code = JSON.parse(text).error.code;
      } catch {
        /* not the error shape */
      }
      return code === (res.status === 401 ? "unauthenticated" : "forbidden") ? String(res.status) : `${res.status} without the JSON error shape`;
    }
    const location = res.headers.get("Location");
    if (
      res.status >= 300 &&
      res.status < 400 &&
      location &&
      new URL(location, s.url).pathname === "/login" &&
      new URL(location, s.url).searchParams.has("redirectTo")
    )
      return "login";
    if (res.status >= 500 || res.status === 429) return `${res.status}`;
    return "allow";
  }

  it.each(MATRIX.map((row) => [`${row.method} ${row.path}`, row] as const))("%s", async (_name, row) => {
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const p of PRINCIPALS) {
      got[p] = await outcomeOf(row, await send(row, p));
      want[p] = expectedOutcome(row, p);
    }
    expect(got).toEqual(want);
  });

  it("lists every route file, and every file's loader and action", () => {
    const files = fs.readdirSync(ROUTES_DIR).filter((f) => /\.tsx?$/.test(f));
    const listed = new Set(MATRIX.flatMap((r) => r.files));
    expect(
      files.filter((f) => !listed.has(f)),
      "route files missing from tests/support/permission-matrix.ts",
    ).toEqual([]);
    expect(
      [...listed].filter((f) => !files.includes(f)),
      "rows naming route files that do not exist",
    ).toEqual([]);
    for (const f of files) {
      const src = fs.readFileSync(path.join(ROUTES_DIR, f), "utf8");
      // A handler that only answers 405 needs no row; any other loader needs a GET row and any other action a write row.
      const handles = (name: string) => new RegExp(`export (async )?function ${name}\\b|export const ${name} = (?!\\(\\) => methodNotAllowed)`).test(src);
      if (handles("loader"))
        expect(
          MATRIX.some((r) => r.method === "GET" && r.files.includes(f)),
          `${f}: its loader has no GET row`,
        ).toBe(true);
      if (handles("action"))
        expect(
          MATRIX.some((r) => r.method !== "GET" && r.files.includes(f)),
          `${f}: its action has no POST/PUT row`,
        ).toBe(true);
    }
  });

  it("is the README's permission matrix, word for word", () => {
    const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
    const section = matrixMarkdown();
    const at = readme.indexOf(section);
    expect(at, "README.md is out of date: run `npm run permission-matrix -- --write`").toBeGreaterThanOrEqual(0);
    const after = readme.slice(at + section.length);
    expect(after === "" || after.startsWith("\n## "), "README.md's matrix has rows the table does not").toBe(true);
  });
});
