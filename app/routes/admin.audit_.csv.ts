import type { LoaderFunctionArgs } from "@remix-run/node";
import { stringify } from "csv-stringify/sync";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { allAuditEntries, auditQuerySchema } from "~/domain/audit/audit-read.server";
import { viewerOf } from "~/domain/decisions/sealing.server";
import { describeIssues, failureOf } from "~/lib/form-failure";
import { invariantResponse } from "~/lib/invariant";
import { readQuery } from "~/lib/query";
import { csvSafeRow } from "~/lib/csv-safe";

const HEADER = ["seq", "at", "actor", "action", "entityType", "entityId", "data", "hash", "sealed"];

/**
 * GET /admin/audit/csv?action=&actor=&entityType=&entityId=: every entry matching the audit page's
 * filters, newest first, streamed a page at a time; sealed four-eyes entries redacted as on the page.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "audit:read");
  const { data: query, issues } = readQuery(auditQuerySchema, new URL(request.url).searchParams, { ignore: ["verify", "before", "limit"] });
  invariantResponse(query && issues.length === 0, () => `Invalid audit filter: ${describeIssues(failureOf("filter", "Invalid filter", issues))}`);
  const { before: _before, limit: _limit, ...filter } = query;
  const pages = allAuditEntries(getDb(), filter, viewerOf(who));
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(stringify([HEADER])));
    },
    async pull(controller) {
      const next = await pages.next();
      if (next.done) return controller.close();
      const rows = next.value.map((e) =>
        csvSafeRow([
          e.seq,
          new Date(e.at).toISOString(),
          e.actor ?? "",
          e.action,
          e.entityType,
          e.entityId,
          e.data === null ? "" : JSON.stringify(e.data),
          e.hash ?? "",
          e.sealed ? "true" : "false",
        ]),
      );
      controller.enqueue(encoder.encode(stringify(rows)));
    },
    async cancel() {
      await pages.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="lastmile-audit.csv"`,
      "Cache-Control": "no-store",
    },
  });
}
