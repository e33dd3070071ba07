/**
 * Plain-language messages for validation issues from the compiled output
 * schema (the same zod schema the server runs).
 */
import type { z } from "zod";

type ZodIssue = z.core.$ZodIssue;

export function fieldMessage(i: ZodIssue): string {
  switch (i.code) {
    case "invalid_type":
      // Issues carry no input by default; the message names what was received.
      if (/received (undefined|null)$/.test(i.message)) return "Required";
      if (i.expected === "number" || i.expected === "int") return i.expected === "int" ? "Enter a whole number" : "Enter a number";
      return `Expected ${i.expected}`;
    case "too_small":
      if (i.origin === "array") return `Add at least ${i.minimum} row${Number(i.minimum) === 1 ? "" : "s"}`;
      if (i.origin === "string") return `At least ${i.minimum} characters`;
      return `Must be at least ${i.minimum}`;
    case "too_big":
      if (i.origin === "array") return `At most ${i.maximum} rows`;
      if (i.origin === "string") return `At most ${i.maximum} characters`;
      return `Must be at most ${i.maximum}`;
    case "invalid_value":
      return `Choose one of: ${i.values.map(String).join(", ")}`;
    case "unrecognized_keys":
      return `Unknown field${i.keys.length === 1 ? "" : "s"}: ${i.keys.join(", ")}`;
    default:
      return i.message;
  }
}
