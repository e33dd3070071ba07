/**
 * /docs/api: the API reference, rendered on the server from the OpenAPI
 * document (/api/openapi.json). Public, like the document: integrators read it
 * before they have an account. No script of its own, so the strict CSP holds.
 */
import type { MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Fragment } from "react";
import { PageHeader } from "~/components/ui/page-header";
import { apiReference, type OperationView } from "~/domain/api/reference.server";

export const meta: MetaFunction = () => [{ title: "API reference · Lastmile" }];

export const loader = () => apiReference();

const METHOD_STYLE: Record<string, string> = {
  GET: "bg-sky-100 text-sky-800",
  POST: "bg-emerald-100 text-emerald-800",
  PUT: "bg-amber-100 text-amber-800",
  PATCH: "bg-amber-100 text-amber-800",
  DELETE: "bg-rose-100 text-rose-800",
};

const anchor = (op: Pick<OperationView, "id">) => `op-${op.id}`;

/** A type expression with the names of shared schemas linked to their definitions. */
function TypeText({ text, names }: { text: string; names: RegExp | null }) {
  const parts = names ? text.split(names) : [text];
  return (
    <pre className="overflow-x-auto rounded bg-slate-50 p-3 font-mono text-xs leading-relaxed text-slate-800">
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <a key={i} href={`#schema-${p}`} className="text-indigo-700 underline">
            {p}
          </a>
        ) : (
          <Fragment key={i}>{p}</Fragment>
        ),
      )}
    </pre>
  );
}

/** A description as the document writes it (CommonMark): `code` spans are shown as code, the rest as text. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split("`").map((part, i) =>
        i % 2 === 1 ? (
          <code key={i} className="rounded bg-slate-100 px-1 font-mono text-[0.85em]">
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </>
  );
}

function Operation({ op, names }: { op: OperationView; names: RegExp | null }) {
  return (
    <article id={anchor(op)} aria-labelledby={`${anchor(op)}-title`} className="scroll-mt-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h3 id={`${anchor(op)}-title`} className="flex flex-wrap items-center gap-2 text-sm">
        <span className={`rounded px-2 py-0.5 font-mono text-xs font-semibold ${METHOD_STYLE[op.method] ?? "bg-slate-100"}`}>{op.method}</span>
        <code className="font-mono font-semibold text-slate-900">{op.path}</code>
        <span className="text-slate-600">· {op.summary}</span>
      </h3>
      {op.description ? (
        <p className="mt-2 text-sm text-slate-700">
          <Prose text={op.description} />
        </p>
      ) : null}
      <p className="mt-2 text-xs text-slate-600">
        {op.permission ? (
          <>
            Needs an API key allowing <code className="font-mono">{op.permission}</code>.
          </>
        ) : (
          "Public: no API key needed."
        )}{" "}
        Operation id <code className="font-mono">{op.id}</code>.
      </p>
      {op.params.length ? (
        <div className="mt-3">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Parameters</h4>
          <table className="mt-1 w-full text-left text-sm">
            <thead className="text-xs text-slate-500">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Name
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  In
                </th>
                <th scope="col" className="py-1 pr-3 font-medium">
                  Type
                </th>
                <th scope="col" className="py-1 font-medium">
                  Description
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {op.params.map((p) => (
                <tr key={`${p.in}-${p.name}`} className="align-top">
                  <td className="py-1 pr-3 font-mono text-xs">
                    {p.name}
                    {p.required ? <span className="text-rose-700"> *</span> : null}
                  </td>
                  <td className="py-1 pr-3 text-xs text-slate-600">{p.in}</td>
                  <td className="py-1 pr-3 font-mono text-xs">{p.type}</td>
                  <td className="py-1 text-xs text-slate-700">{p.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {op.body ? (
        <div className="mt-3">
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Body (application/json{op.body.required ? "" : ", optional"})</h4>
          <TypeText text={op.body.type} names={names} />
        </div>
      ) : null}
      <div className="mt-3">
        <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Responses</h4>
        <dl className="mt-1 space-y-2 text-sm">
          {op.responses.map((r) => (
            <div key={r.status}>
              <dt className="flex flex-wrap items-baseline gap-2">
                <span className={`font-mono text-xs font-semibold ${Number(r.status) < 400 ? "text-emerald-800" : "text-rose-800"}`}>{r.status}</span>
                <span className="text-slate-700">{r.description}</span>
                {r.media
                  .filter((m) => m.mediaType !== "application/json")
                  .map((m) => (
                    <code key={m.mediaType} className="rounded bg-slate-100 px-1 font-mono text-xs text-slate-600">
                      {m.mediaType}
                    </code>
                  ))}
              </dt>
              {r.media
                .filter((m) => m.type && Number(r.status) < 400)
                .map((m) => (
                  <dd key={m.mediaType}>
                    <TypeText text={m.type!} names={names} />
                  </dd>
                ))}
            </div>
          ))}
        </dl>
      </div>
    </article>
  );
}

export default function ApiDocs() {
  const ref = useLoaderData<typeof loader>();
  const names = ref.schemas.length ? new RegExp(`\\b(${ref.schemas.map((s) => s.name).join("|")})\\b`) : null;
  return (
    <div className="mx-auto max-w-5xl">
      <PageHeader
        title={`${ref.title} ${ref.version}`}
        description={
          <>
            <Prose text={ref.description} /> The machine-readable contract is{" "}
            <a href="/api/openapi.json" className="text-indigo-700 underline">
              /api/openapi.json
            </a>{" "}
            (OpenAPI 3.1). Authenticate with <code className="font-mono">Authorization: Bearer &lt;API key&gt;</code>.
          </>
        }
      />
      <nav aria-label="Operations" className="mb-8 grid gap-4 text-sm sm:grid-cols-2 lg:grid-cols-3">
        {ref.tags.map((t) => (
          <div key={t.name}>
            <a href={`#tag-${t.name.replace(/\W+/g, "-")}`} className="font-semibold text-slate-900 underline">
              {t.name}
            </a>
            <ul className="mt-1 space-y-0.5">
              {t.operations.map((op) => (
                <li key={op.id}>
                  <a href={`#${anchor(op)}`} className="text-indigo-700 hover:underline">
                    <span className="font-mono text-xs">{op.method}</span> {op.path.replace("/api/v1", "")}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </nav>
      {ref.tags.map((t) => (
        <section key={t.name} aria-labelledby={`tag-${t.name.replace(/\W+/g, "-")}`} className="mb-10">
          <h2 id={`tag-${t.name.replace(/\W+/g, "-")}`} className="scroll-mt-4 text-lg font-semibold text-slate-900">
            {t.name}
          </h2>
          <p className="mb-3 text-sm text-slate-600">
            <Prose text={t.description} />
          </p>
          <div className="space-y-4">
            {t.operations.map((op) => (
              <Operation key={op.id} op={op} names={names} />
            ))}
          </div>
        </section>
      ))}
      <section aria-labelledby="schemas" className="mb-10">
        <h2 id="schemas" className="text-lg font-semibold text-slate-900">
          Schemas
        </h2>
        <p className="mb-3 text-sm text-slate-600">
          Shapes shared by several operations. Every error answers <a href="#schema-Error">Error</a>.
        </p>
        <div className="space-y-4">
          {ref.schemas.map((s) => (
            <div key={s.name} id={`schema-${s.name}`} className="scroll-mt-4">
              <h3 className="font-mono text-sm font-semibold text-slate-900">{s.name}</h3>
              <TypeText text={s.type} names={names} />
            </div>
          ))}
        </div>
      </section>
    </div>
  );
}
