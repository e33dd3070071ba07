/**
 * How the API's answers are written (scripts/api-dispatch.js, sendWhole): an answer of up to 256 kB is written whole,
 * with its Content-Length, compressed (when the client accepts it and it is 1 kB or more) by the same rules as the
 * compression middleware that writes every other answer: brotli, gzip or deflate as negotiated, `Vary:
 * Accept-Encoding`, nothing for a client that sends no Accept-Encoding. A larger answer still streams. Read here as
 * raw bytes (node:http: fetch would decompress them), and decompressed by hand.
 */
import http from "node:http";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshType, ingest, reviewDecision, type Person } from "../support/api";
import { type TestServer } from "../support/server";
import { setupServer } from "../support/setup";

type Raw = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

function get(s: TestServer, path: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${s.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

const decode: Record<string, (b: Buffer) => Buffer> = {
  br: zlib.brotliDecompressSync,
  gzip: zlib.gunzipSync,
  deflate: zlib.inflateSync,
};

function json(r: Raw): unknown {
  const encoding = r.headers["content-encoding"];
  return JSON.parse((encoding ? decode[encoding](r.body) : r.body).toString("utf8"));
}

describe("API answers", () => {
  let s: TestServer;
  let admin: Person;
  let type: string;
  const auth = () => ({ Authorization: `Bearer ${admin.key}` });

  beforeAll(async () => {
    let ingestKey: string;
    ({ s, admin, ingestKey } = await setupServer());
    type = await freshType(s.db, admin.email);
    // 500 decisions of about 1 kB each: a page of 500 is well over 256 kB, a page of 5 a few kB.
    const decisions = Array.from({ length: 500 }, (_, i) =>
      reviewDecision(type, `answers-${i}`, { input: { vendor: "ACME GmbH", pages: 2, note: "n".repeat(700) } }),
    );
    for (let i = 0; i < decisions.length; i += 100) {
      const r = await ingest(s, ingestKey, { decisions: decisions.slice(i, i + 100) });
      expect(r.status).toBe(201);
    }
  });
  afterAll(async () => s?.close());

  it("writes a small answer whole, compressed as the client asks, and the same JSON as uncompressed", async () => {
    const path = `/api/v1/decisions?type=${type}&limit=5`;
    const plain = await get(s, path, auth());
    expect(plain.status).toBe(200);
    // No Accept-Encoding: as it is, with its length.
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(Number(plain.headers["content-length"])).toBe(plain.body.byteLength);
    expect(plain.body.byteLength).toBeGreaterThan(1024);
    expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
    const expected = json(plain);
    expect((expected as { decisions: unknown[] }).decisions).toHaveLength(5);

    for (const [accept, encoding] of [
      ["gzip, deflate", "gzip"],
      ["gzip, deflate, br", "br"],
      ["gzip;q=0, deflate", "deflate"],
      ["identity", undefined],
    ] as const) {
      const r = await get(s, path, { ...auth(), "Accept-Encoding": accept });
      expect(r.status, accept).toBe(200);
      expect(r.headers["content-encoding"], accept).toBe(encoding);
      expect(r.headers["transfer-encoding"], accept).toBeUndefined();
      expect(Number(r.headers["content-length"]), accept).toBe(r.body.byteLength);
      expect(r.headers.vary, accept).toMatch(/Accept-Encoding/i);
      if (encoding) expect(r.body.byteLength, accept).toBeLessThan(plain.body.byteLength);
      expect(json(r), accept).toEqual(expected);
    }
  });

  it("leaves an answer under 1 kB uncompressed, and streams one over 256 kB compressed", async () => {
    const refused = await get(s, `/api/v1/decisions?type=${type}`, { "Accept-Encoding": "gzip" });
    expect(refused.status).toBe(401);
    expect(refused.headers["content-encoding"]).toBeUndefined();
    expect(Number(refused.headers["content-length"])).toBe(refused.body.byteLength);
    expect((json(refused) as { error: { code: string } }).error.code).toBe("unauthenticated");

    const path = `/api/v1/decisions?type=${type}&limit=500`;
    const plain = await get(s, path, auth());
    expect(plain.status).toBe(200);
    expect(plain.body.byteLength).toBeGreaterThan(256 * 1024);
    const big = await get(s, path, { ...auth(), "Accept-Encoding": "gzip" });
    expect(big.status).toBe(200);
    expect(big.headers["content-encoding"]).toBe("gzip");
    expect(big.headers["transfer-encoding"]).toBe("chunked");
    const answer = json(big) as { decisions: { externalId: string }[] };
    expect(answer.decisions).toHaveLength(500);
    expect(answer).toEqual(json(plain));
  });
});
