/**
 * How page actions answer a domain error: the inline-form failure shape
 * (message + issues grouped by field path) with the error's 4xx status.
 * Anything else is not the user's input and is rethrown to the error boundary.
 */
import { data } from "@remix-run/node";
import { issuesByPath } from "~/components/admin/issues";
import { AppError } from "./errors";

export type FormFailure = { ok: false; intent: string; message: string; issues: Record<string, string[]> };

export function formFailure(e: unknown, intent: string) {
  if (e instanceof AppError && e.status < 500) {
    return data<FormFailure>({ ok: false, intent, message: e.message, issues: issuesByPath(e.issues) }, { status: e.status });
  }
  throw e;
}
