import { getDb } from "@db/client.server";
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Breadcrumb } from "~/components/ui/breadcrumb";
import { requireUser } from "~/domain/auth/session.server";
import { snapshotCard } from "~/domain/datasets/snapshots.server";
import { orErrorResponse } from "~/lib/invariant";
import { CountTable } from "~/components/datasets/ui";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.card.title ?? "Data card"} · Lastmile` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const who = await requireUser(request, "datasets:read");
  const { card } = await orErrorResponse(async () => snapshotCard(getDb(), params.id!, Number(params.n), "json", who));
  return { card, datasetId: params.id!, number: Number(params.n) };
}

export default function DataCardPage() {
  const { card, datasetId, number } = useLoaderData<typeof loader>();
  const base = `/api/v1/datasets/${datasetId}/snapshots/${number}`;
  return (
    <div className="space-y-6">
      <Breadcrumb
        trail={[
          { to: "/datasets", label: "Datasets" },
          { to: `/datasets/${datasetId}`, label: card.dataset.name },
        ]}
        current={`snapshot ${number}`}
      />
      <header>
        <h1 className="text-xl font-semibold">Data card: {card.title}</h1>
        <p className="mt-1 text-sm">
          <a href={`${base}/card?format=md`} className="text-indigo-700 underline-offset-2 hover:underline">
            Markdown
          </a>{" "}
          ·{" "}
          <a href={`${base}/card?format=json`} className="text-indigo-700 underline-offset-2 hover:underline">
            JSON
          </a>
        </p>
      </header>
      <dl className="grid max-w-4xl grid-cols-1 gap-x-6 gap-y-2 rounded-lg border border-slate-200 bg-white p-5 text-sm sm:grid-cols-[max-content_1fr]">
        <dt className="font-medium text-slate-600">Decision type</dt>
        <dd className="font-mono">{card.type}</dd>
        <dt className="font-medium text-slate-600">Filter</dt>
        <dd>{card.filterText}</dd>
        <dt className="font-medium text-slate-600">Examples</dt>
        <dd>{card.rows.toLocaleString("en")}</dd>
        <dt className="font-medium text-slate-600">Split fractions</dt>
        <dd>
          train {card.splitFractions.train} · validation {card.splitFractions.validation} · test {card.splitFractions.test}
        </dd>
        <dt className="font-medium text-slate-600">Reviewed</dt>
        <dd>
          {card.reviewedAt.from ?? "—"} → {card.reviewedAt.to ?? "—"}
        </dd>
        <dt className="font-medium text-slate-600">Decisions received</dt>
        <dd>
          {card.receivedAt.from ?? "—"} → {card.receivedAt.to ?? "—"}
        </dd>
        <dt className="font-medium text-slate-600">Data as of</dt>
        <dd>
          review #{card.snapshot.watermarkSeq} ({card.snapshot.asOf}), created by {card.snapshot.createdBy}
        </dd>
        <dt className="font-medium text-slate-600">Reviewers</dt>
        <dd>{card.identities ? "email addresses" : "pseudonymous ids (HMAC of the user id)"}</dd>
        <dt className="font-medium text-slate-600">Four-eyes</dt>
        <dd>
          {card.fourEyes.reviewed} with a second review, {card.fourEyes.agreed} agreed
        </dd>
        <dt className="font-medium text-slate-600">Sum of weights</dt>
        <dd>{card.weightSum} (inverse sampling probability)</dd>
        <dt className="font-medium text-slate-600">Content hash</dt>
        <dd className="break-all font-mono text-xs">{card.snapshot.contentHash}</dd>
      </dl>
      <div className="grid max-w-5xl grid-cols-1 gap-6 md:grid-cols-2">
        <CountTable caption="Per split" counts={card.counts.split} total={card.rows} />
        <CountTable caption="Per action" counts={card.counts.action} total={card.rows} />
        <CountTable caption="Why a human saw it" counts={card.counts.seenBecause} total={card.rows} />
        <CountTable caption="Per model version" counts={card.counts.modelVersion} total={card.rows} />
        <CountTable caption="Per reason code" counts={card.counts.reasonCode} />
        <CountTable caption="Field-level corrections" counts={card.fieldCorrections} />
        {Object.entries(card.counts.label).map(([field, counts]) => (
          <CountTable key={field} caption={`Label: ${field}`} counts={counts} total={card.rows} />
        ))}
      </div>
    </div>
  );
}
