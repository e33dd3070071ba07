/** The one query-string reader (lib/query.ts): the same rules for every page and API route. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readQuery, requireQuery } from "~/lib/query";

const schema = z.object({
  type: z.string().max(5).optional(),
  limit: z.coerce.number().int().min(1).default(10),
  tags: z.array(z.string()).default([]),
});
const q = (s: string, ignore?: string[]) => readQuery(schema, new URLSearchParams(s), { ignore });

describe("readQuery", () => {
  it("trims values and treats empty ones as absent", () => {
    expect(q("type=%20ab%20&limit=")).toEqual({ data: { type: "ab", limit: 10, tags: [] }, issues: [] });
  });
  it("names unknown and repeated parameters, unless the caller owns them", () => {
    expect(q("color=red&type=a&type=b").issues).toEqual([
      { path: "color", message: "unknown parameter" },
      { path: "type", message: "give this parameter once" },
    ]);
    expect(q("color=red", ["color"]).issues).toEqual([]);
  });
  it("collects list fields from repeated keys and comma lists", () => {
    expect(q("tags=a,b&tags=c").data?.tags).toEqual(["a", "b", "c"]);
  });
  it("reports a malformed value and drops it, keeping the rest", () => {
    const { data, issues } = q("type=abc&limit=zero");
    expect(issues.map((i) => i.path)).toEqual(["limit"]);
    expect(data).toEqual({ type: "abc", limit: 10, tags: [] });
  });
  it("requireQuery refuses with a 400 naming each parameter", () => {
    expect(requireQuery(schema, new URLSearchParams("limit=3")).limit).toBe(3);
    try {
      requireQuery(schema, new URLSearchParams("limit=0&x=1"));
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ status: 400, message: "Invalid query" });
      expect((e as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual(["limit", "x"]);
    }
  });
});
