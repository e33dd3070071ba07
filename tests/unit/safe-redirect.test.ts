import { describe, expect, it } from "vitest";
import { safeRedirectPath } from "~/lib/safe-redirect";

describe("safeRedirectPath", () => {
  it.each([
    "/\t/evil.example/phish",
    "/\n/evil.example/",
    "/\r/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "queue",
    "",
    "/\u0085/evil.example",
  ])("%j falls back to /", (to) => expect(safeRedirectPath(to)).toBe("/"));

  it("keeps same-origin paths, normalised by the URL parser", () => {
    expect(safeRedirectPath("/queue?type=a#x")).toBe("/queue?type=a#x");
    expect(safeRedirectPath("/a/../b")).toBe("/b");
    expect(safeRedirectPath("/%09/evil.example")).toBe("/%09/evil.example");
    expect(safeRedirectPath("/décisions")).toBe("/d%C3%A9cisions");
  });

  it("takes a fallback, and refuses non-strings", () => {
    expect(safeRedirectPath(undefined, "/queue")).toBe("/queue");
    expect(safeRedirectPath(null)).toBe("/");
    expect(safeRedirectPath("/x".repeat(2000))).toBe("/");
  });
});
