import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { getDb } from "@db/client.server";
import { requireUser } from "~/domain/auth/session.server";
import { listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { queueCounts } from "~/domain/queue/queue.server";

export const meta: MetaFunction = () => [{ title: "Queue · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireUser(request, "tasks:review");
  const db = getDb();
  const counts = queueCounts(db);
  return {
    queues: listDecisionTypes(db).map((t) => {
      const mine = counts.filter((c) => c.typeKey === t.key && c.kind !== "escalation");
      return { key: t.key, name: t.name, open: mine.reduce((n, c) => n + Number(c.open), 0), inProgress: mine.reduce((n, c) => n + Number(c.claimed), 0) };
    }),
  };
}

export default function Queue() {
  const { queues } = useLoaderData<typeof loader>();
  return (
    <div>
      <h1 className="text-xl font-semibold">Queues</h1>
      {queues.length === 0 ? <p className="mt-4 text-slate-600">No decision types yet.</p> : null}
      <ul className="mt-4 divide-y divide-slate-200 rounded border border-slate-200 bg-white">
        {queues.map((q) => (
          <li key={q.key} className="flex items-center justify-between px-4 py-3">
            <span className="font-medium">{q.name}</span>
            <span className="text-sm text-slate-600">
              {q.open} open · {q.inProgress} in progress
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
