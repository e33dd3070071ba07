import { describe, expect, it } from "vitest";
import { csvSafeCell, csvSafeValue } from "~/lib/csv-safe";

describe("csvSafeCell", () => {
  it("prefixes a single quote to text that starts with a formula character", () => {
    for (const s of ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")']) expect(csvSafeCell(s)).toBe(`'${s}`);
  });
  it("leaves other text alone", () => {
    for (const s of ["", "ACME", "1-2", " =1", "'quoted", '{"a":-1}', "[1]"]) expect(csvSafeCell(s)).toBe(s);
  });
  it("keeps numbers (negative amounts included) as numbers", () => {
    expect(csvSafeValue(-12.5)).toBe(-12.5);
    expect(csvSafeValue("-12.5")).toBe("'-12.5");
  });
});
