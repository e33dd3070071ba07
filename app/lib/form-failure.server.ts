/**
 * How page actions answer a failure: always the FormFailure shape
 * (form-failure.ts) with a 4xx status, through one of three helpers:
 * `formError` for a refusal the route itself decides, `formFailure` for a
 * domain error caught around the domain call (anything that is not the user's
 * input is rethrown to the error boundary), and `parseForm` for a zod schema
 * over the posted fields (its issues land beside the fields).
 */
import { data } from "@remix-run/node";
import type { z } from "zod";
import { AppError, invalid, zodIssues, type Issue } from "./errors";
import { issuesByPath, type FormFailure, type FormIssues } from "./form-failure";

export function formError(intent: string, message: string, issues: Issue[] | FormIssues = [], init: ResponseInit = {}) {
  const grouped = Array.isArray(issues) ? issuesByPath(issues) : issues;
  return data<FormFailure>({ ok: false, intent, message, issues: grouped }, { ...init, status: init.status ?? 400 });
}

export function formFailure(e: unknown, intent: string) {
  if (e instanceof AppError && e.status < 500) return formError(intent, e.message, e.issues, { status: e.status });
  throw e;
}

/** The posted fields through `schema`, or an AppError (400) naming each field; answer it with `formFailure`. */
export function parseForm<S extends z.ZodType>(schema: S, input: FormData | Record<string, unknown>, message = "Fix the marked fields."): z.infer<S> {
  const parsed = schema.safeParse(input instanceof FormData ? Object.fromEntries(input) : input);
  if (!parsed.success) throw invalid(message, zodIssues(parsed.error));
  return parsed.data;
}
