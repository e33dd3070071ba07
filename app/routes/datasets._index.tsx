import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from "@remix-run/node";
import { Form, Link, useActionData, useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import { getDb } from "@db/client.server";
import { can } from "~/domain/auth/permissions";
import { requireUser } from "~/domain/auth/session.server";
import { listDecisionTypes } from "~/domain/decision-types/decision-types.server";
import { describeFilter, EXAMPLE_ACTIONS, filterInputFromParams } from "~/domain/datasets/filter";
import { createDataset, listDatasets } from "~/domain/datasets/datasets.server";
import { formFailure } from "~/lib/form-failure.server";
import { issueAt } from "~/lib/form-failure";
import { Field, StatusBadge } from "~/components/datasets/ui";
import type { loader as previewLoader } from "./datasets.preview";
import { readForm } from "~/lib/read-form.server";

export const meta: MetaFunction = () => [{ title: "Datasets · Lastmile" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const who = await requireUser(request, "datasets:read");
  const db = getDb();
  return {
    canWrite: can(who, "datasets:write"),
    datasets: (await listDatasets(db)).map((d) => ({ ...d, filterText: describeFilter(d.filter) })),
    types: (await listDecisionTypes(getDb())).map((t) => ({ key: t.key, name: t.name, reasonCodes: t.reasonCodes })),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const who = await requireUser(request, "datasets:write");
  const form = await readForm(request);
  const input = { name: String(form.get("name") ?? ""), description: String(form.get("description") ?? "") || undefined, filter: filterInputFromParams(form) };
  try {
    const d = await createDataset(getDb(), input, who.actor);
    return redirect(`/datasets/${d.id}`);
  } catch (e) {
    return formFailure(e, "create");
  }
}

export default function Datasets() {
  const { datasets, types, canWrite } = useLoaderData<typeof loader>();
  return (
    <div className="space-y-8">
      <section aria-labelledby="datasets-heading">
        <h1 id="datasets-heading" className="text-xl font-semibold">
          Datasets
        </h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          Every finished human review is a labelled example. A dataset is a filter over them; a snapshot freezes it into files you can train on, with a content
          hash and a data card.
        </p>
        {datasets.length === 0 ? (
          <p className="mt-4 text-slate-600">No datasets yet.</p>
        ) : (
          <table className="mt-4 w-full rounded border border-slate-200 bg-white text-sm">
            <thead>
              <tr className="border-b border-slate-200 text-left text-xs uppercase text-slate-500">
                <th scope="col" className="px-3 py-2 font-medium">
                  Name
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Filter
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Snapshots
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Latest
                </th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.id} className="border-b border-slate-100">
                  <td className="px-3 py-2">
                    <Link to={`/datasets/${d.id}`} className="font-medium text-indigo-700 underline-offset-2 hover:underline">
                      {d.name}
                    </Link>
                  </td>
                  <td className="px-3 py-2 text-slate-600">{d.filterText}</td>
                  <td className="px-3 py-2 tabular-nums">{d.snapshotCount}</td>
                  <td className="px-3 py-2">
                    {d.latestSnapshot ? (
                      <span className="flex items-center gap-2">
                        v{d.latestSnapshot.number} <StatusBadge status={d.latestSnapshot.status} />
                        {d.latestSnapshot.rowCount !== null ? (
                          <span className="text-slate-600">{d.latestSnapshot.rowCount.toLocaleString("en")} rows</span>
                        ) : null}
                      </span>
                    ) : (
                      <span className="text-slate-500">none</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {canWrite ? <CreateDataset types={types} /> : null}
    </div>
  );
}

type TypeOption = { key: string; name: string; reasonCodes: { code: string; label: string }[] };

function CreateDataset({ types }: { types: TypeOption[] }) {
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === "submitting";
  const preview = useFetcher<typeof previewLoader>();
  const formRef = useRef<HTMLFormElement>(null);
  const [typeKey, setTypeKey] = useState(types[0]?.key ?? "");
  const reasonCodes = types.find((t) => t.key === typeKey)?.reasonCodes ?? [];
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const issues = result?.issues ?? {};
  // Filter fields are posted flat but validated under "filter." in the domain.
  const f = (k: string) => issueAt(issues, k) ?? issueAt(issues, `filter.${k}`);

  const refresh = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      if (!formRef.current) return;
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(formRef.current)) if (k !== "name" && k !== "description" && typeof v === "string") params.append(k, v);
      preview.load(`/datasets/preview?${params}`);
    }, 250);
  };
  // First count as soon as the form is on screen.
  useEffect(refresh, [typeKey]); // eslint-disable-line react-hooks/exhaustive-deps

  if (types.length === 0) return <p className="text-slate-600">Create a decision type first: datasets are defined per type.</p>;
  const count = preview.data?.count;
  return (
    <section aria-labelledby="create-heading" className="max-w-3xl rounded-lg border border-slate-200 bg-white p-5">
      <h2 id="create-heading" className="text-lg font-semibold">
        New dataset
      </h2>
      <Form method="post" ref={formRef} onChange={refresh} className="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-2" noValidate>
        <Field label="Name" htmlFor="name" error={f("name")}>
          <input id="name" name="name" required aria-invalid={Boolean(f("name"))} className="mt-1 w-full rounded border border-slate-300 px-3 py-2" />
        </Field>
        <Field label="Decision type" htmlFor="type" error={f("type")}>
          <select
            id="type"
            name="type"
            value={typeKey}
            onChange={(e) => setTypeKey(e.target.value)}
            className="mt-1 w-full rounded border border-slate-300 px-3 py-2"
          >
            {types.map((t) => (
              <option key={t.key} value={t.key}>
                {t.name} ({t.key})
              </option>
            ))}
          </select>
        </Field>
        <div className="sm:col-span-2">
          <Field label="Description" htmlFor="description" error={f("description")}>
            <input id="description" name="description" className="mt-1 w-full rounded border border-slate-300 px-3 py-2" />
          </Field>
        </div>
        <Field label="Reviewed from" htmlFor="from" error={f("from")} hint="Final verdict on or after this day (UTC)">
          <input id="from" name="from" type="date" className="mt-1 w-full rounded border border-slate-300 px-3 py-2" />
        </Field>
        <Field label="Reviewed before" htmlFor="to" error={f("to")} hint="Final verdict before this day (UTC)">
          <input id="to" name="to" type="date" className="mt-1 w-full rounded border border-slate-300 px-3 py-2" />
        </Field>
        <Field label="Model versions" htmlFor="modelVersion" error={f("modelVersions")} hint="Comma-separated; empty for all">
          <input id="modelVersion" name="modelVersion" className="mt-1 w-full rounded border border-slate-300 px-3 py-2" />
        </Field>
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Actions</legend>
          <div className="mt-2 flex gap-4 text-sm">
            {EXAMPLE_ACTIONS.map((a) => (
              <label key={a} className="flex items-center gap-1.5">
                <input type="checkbox" name="action" value={a} /> {a}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Route</legend>
          <div className="mt-2 flex gap-4 text-sm">
            <label className="flex items-center gap-1.5">
              <input type="checkbox" name="route" value="review" /> review lane
            </label>
            <label className="flex items-center gap-1.5">
              <input type="checkbox" name="route" value="auto" /> auto lane (QA samples)
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Reason codes</legend>
          <div className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-sm">
            {reasonCodes.length === 0 ? <span className="text-slate-500">This type has no reason codes.</span> : null}
            {reasonCodes.map((r) => (
              <label key={r.code} className="flex items-center gap-1.5">
                <input type="checkbox" name="reasonCode" value={r.code} /> {r.label}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="sm:col-span-2">
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" name="agreementOnly" value="true" /> Only examples two reviewers agreed on (four-eyes)
          </label>
        </div>
        <div className="flex items-center gap-4 sm:col-span-2">
          <button type="submit" disabled={busy} className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700 disabled:opacity-60">
            {busy ? "Creating…" : "Create dataset"}
          </button>
          <p role="status" aria-live="polite" className="text-sm text-slate-700">
            {count === undefined || count === null
              ? preview.state !== "idle"
                ? "Counting…"
                : ""
              : `${preview.data?.exact ? "" : "More than "}${count.toLocaleString("en")} matching examples right now`}
          </p>
        </div>
        {result?.message && Object.keys(issues).length === 0 ? (
          <p role="alert" className="rounded bg-red-50 px-3 py-2 text-sm text-red-800 sm:col-span-2">
            {result.message}
          </p>
        ) : null}
      </Form>
    </section>
  );
}
