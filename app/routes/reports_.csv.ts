import type { LoaderFunctionArgs } from "@remix-run/node";
import { stringify } from "csv-stringify/sync";
import { z } from "zod";
import { getDb } from "@db/client.server";
import { requireApi } from "~/domain/auth/session.server";
import { backlog, readReportQuery, reportPage } from "~/domain/reports/reports.server";
import { reportQuerySchema } from "~/domain/reports/query";
import { reportTables, tableRecords, TABLE_NAMES } from "~/domain/reports/tables";
import { api } from "~/lib/http.server";
import { requireQuery } from "~/lib/query";

const REPORT_PARAMS = Object.keys(reportQuerySchema.shape);

/** GET /reports/csv?table=NAME&type=…&from=…&to=…&bucket=…[&modelVersion=…]: one report table as CSV. */
export const loader = async ({ request }: LoaderFunctionArgs) =>
  api(async () => {
    await requireApi(request, "reports:read");
    const params = new URL(request.url).searchParams;
    // The table is this route's own parameter; the rest is the report query.
    const { table } = requireQuery(z.object({ table: z.enum(TABLE_NAMES) }), params, { ignore: REPORT_PARAMS });
    const db = getDb();
    const now = Date.now();
    const isBacklog = table.startsWith("backlog");
    const page = isBacklog
      ? { series: [], byVersion: [], byPolicy: [], fields: [], rules: [], reasons: [] }
      : await reportPage(db, await readReportQuery(db, params, { now, ignore: ["table"] }));
    const t = reportTables(page, isBacklog ? await backlog(db, now) : { queues: [], owners: [] })[table];
    const name = isBacklog ? `lastmile-${table}.csv` : `lastmile-${params.get("type")}-${table}.csv`;
    return new Response(stringify(tableRecords(t)), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${name.replace(/[^\w.-]/g, "_")}"`,
        "Cache-Control": "no-store",
      },
    });
  });
