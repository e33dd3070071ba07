import { getDb } from "@db/client.server";
import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation, useRevalidator } from "@remix-run/react";
import { Breadcrumb } from "~/components/ui/breadcrumb";
import { useEffect } from "react";
import { can } from "~/domain/auth/permissions";
import { requireUser } from "~/domain/auth/session.server";
import { DEFAULT_SPLIT, describeFilter, FORMATS } from "~/domain/datasets/filter";
import { getDataset } from "~/domain/datasets/datasets.server";
import { createSnapshot } from "~/domain/datasets/snapshots.server";
import { orErrorResponse } from "~/lib/invariant";
import { formFailure } from "~/lib/form-failure.server";
import { issueAt } from "~/lib/form-failure";
import { Field, FORMAT_LABELS, Progress, SPLIT_LABELS, StatusBadge } from "~/components/datasets/ui";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: `${data?.dataset.name ?? "Dataset"} · Datasets · Lastmile` }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  const who = await requireUser(request, "datasets:read");
  const dataset = await orErrorResponse(async () => getDataset(getDb(), params.id!));
  return { dataset: { ...dataset, filterText: describeFilter(dataset.filter) }, canWrite: can(who, "datasets:write"), canIdentities: can(who, "users:write") };
}

export async function action({ request, params }: ActionFunctionArgs) {
  const who = await requireUser(request, "datasets:write");
  const form = await readForm(request);
  const num = (k: string) => (form.get(k) === "" || form.get(k) === null ? NaN : Number(form.get(k)));
  const body = { split: { train: num("train"), validation: num("validation"), test: num("test") }, identities: form.get("identities") === "true" };
  try {
    const s = await createSnapshot(getDb(), params.id!, body, who);
    return { ok: true as const, number: s.number };
  } catch (e) {
    return formFailure(e, "snapshot");
  }
}

export default function DatasetPage() {
  const { dataset, canWrite, canIdentities } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const { revalidate, state } = useRevalidator();
  const building = dataset.snapshots.some((s) => s.status === "building");

  // Poll while a snapshot builds: the build runs in the background, the page only reads its progress.
  useEffect(() => {
    if (!building) return;
    const t = setInterval(() => state === "idle" && revalidate(), 1000);
    return () => clearInterval(t);
  }, [building, revalidate, state]);

  const failed = result && !result.ok ? result : null;
  const f = (k: string) => issueAt(failed?.issues, `split.${k}`);
  return (
    <div className="space-y-6">
      <Breadcrumb trail={[{ to: "/datasets", label: "Datasets" }]} current={dataset.name} />
      <header>
        <h1 className="text-xl font-semibold">{dataset.name}</h1>
        {dataset.description ? <p className="mt-1 text-slate-700">{dataset.description}</p> : null}
        <p className="mt-1 text-sm text-slate-600">
          Filter: {dataset.filterText} · created by {dataset.createdBy} on {dataset.createdAt?.slice(0, 10)}
        </p>
      </header>

      {canWrite ? (
        <section aria-labelledby="snapshot-heading" className="max-w-3xl rounded-lg border border-slate-200 bg-white p-5">
          <h2 id="snapshot-heading" className="text-lg font-semibold">
            Create a snapshot
          </h2>
          <p className="mt-1 text-sm text-slate-600">
            Freezes the examples matching the filter now. Each external id lands in a split by its hash, so it stays in the same split across snapshots.
          </p>
          <Form method="post" className="mt-4 flex flex-wrap items-end gap-4" noValidate>
            {(["train", "validation", "test"] as const).map((k) => (
              <Field key={k} label={`${SPLIT_LABELS[k]} fraction`} htmlFor={k} error={f(k)}>
                <input
                  id={k}
                  name={k}
                  type="number"
                  min={0}
                  max={1}
                  step={0.05}
                  defaultValue={DEFAULT_SPLIT[k]}
                  aria-invalid={Boolean(f(k))}
                  className="mt-1 w-28 rounded border border-slate-300 px-3 py-2"
                />
              </Field>
            ))}
            {canIdentities ? (
              <label className="flex items-center gap-2 pb-2 text-sm">
                <input type="checkbox" name="identities" value="true" /> Include reviewer emails
              </label>
            ) : null}
            <button type="submit" disabled={busy} className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60">
              {busy ? "Starting…" : "Create snapshot"}
            </button>
          </Form>
          {failed ? (
            <p role="alert" className="mt-3 rounded bg-red-50 px-3 py-2 text-sm text-red-800">
              {failed.message}
            </p>
          ) : null}
        </section>
      ) : null}

      <section aria-labelledby="snapshots-heading">
        <h2 id="snapshots-heading" className="text-lg font-semibold">
          Snapshots
        </h2>
        {dataset.snapshots.length === 0 ? <p className="mt-2 text-slate-600">No snapshots yet.</p> : null}
        <ul className="mt-3 space-y-3">
          {dataset.snapshots.map((s) => (
            <li key={s.id} className="rounded-lg border border-slate-200 bg-white p-4" aria-label={`Snapshot ${s.number}`}>
              <div className="flex flex-wrap items-center gap-3">
                <h3 className="font-semibold">Snapshot {s.number}</h3>
                <StatusBadge status={s.status} />
                {s.status === "building" ? (
                  <Progress processed={s.progress.processed} total={s.progress.total} label={`Snapshot ${s.number} progress`} />
                ) : null}
                {s.rowCount !== null ? <span className="text-sm text-slate-700">{s.rowCount.toLocaleString("en")} examples</span> : null}
                <span className="text-sm text-slate-600">
                  split {s.split.train}/{s.split.validation}/{s.split.test}
                  {s.identities ? " · with reviewer emails" : ""} · by {s.createdBy} · {s.createdAt?.replace("T", " ").slice(0, 16)} UTC
                </span>
              </div>
              {s.contentHash ? (
                <p className="mt-1 break-all font-mono text-xs text-slate-500" title="SHA-256 of the JSONL file">
                  sha256 {s.contentHash}
                </p>
              ) : null}
              {s.error ? (
                <p role="alert" className="mt-2 text-sm text-red-800">
                  {s.error}
                </p>
              ) : null}
              {s.status === "ready" ? (
                <div className="mt-3 flex flex-wrap items-start gap-6">
                  <table className="text-sm">
                    <caption className="sr-only">Downloads of snapshot {s.number}</caption>
                    <thead>
                      <tr className="text-left text-xs uppercase text-slate-500">
                        <th scope="col" className="pr-4 font-medium">
                          Split
                        </th>
                        {FORMATS.map((fmt) => (
                          <th key={fmt} scope="col" className="pr-4 font-medium">
                            {FORMAT_LABELS[fmt]}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {(["all", "train", "validation", "test"] as const).map((split) => (
                        <tr key={split}>
                          <th scope="row" className="pr-4 text-left font-normal text-slate-700">
                            {SPLIT_LABELS[split]}{" "}
                            <span className="text-slate-500">({s.files.find((x) => x.split === split)?.rows.toLocaleString("en") ?? 0})</span>
                          </th>
                          {FORMATS.map((fmt) => {
                            const file = s.files.find((x) => x.format === fmt && x.split === split);
                            return (
                              <td key={fmt} className="pr-4">
                                {file ? (
                                  <a
                                    href={file.url}
                                    download
                                    className="text-indigo-700 underline-offset-2 hover:underline"
                                    aria-label={`Download snapshot ${s.number} ${SPLIT_LABELS[split]} as ${FORMAT_LABELS[fmt]}`}
                                  >
                                    {(file.bytes / 1024).toFixed(file.bytes < 10240 ? 1 : 0)} KB
                                  </a>
                                ) : null}
                              </td>
                            );
                          })}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <div className="text-sm">
                    <Link to={`/datasets/${dataset.id}/snapshots/${s.number}`} className="font-medium text-indigo-700 underline-offset-2 hover:underline">
                      Data card
                    </Link>
                    <span className="text-slate-500"> · </span>
                    <a href={s.card?.markdown} className="text-indigo-700 underline-offset-2 hover:underline">
                      Markdown
                    </a>
                    <span className="text-slate-500"> · </span>
                    <a href={s.card?.json} className="text-indigo-700 underline-offset-2 hover:underline">
                      JSON
                    </a>
                  </div>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
