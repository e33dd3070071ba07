/**
 * The compact diff shown before a correction is submitted: one line per
 * changed field, model value → corrected value. Same diff the server records.
 */
import { diffOutputs } from "~/domain/review/diff";
import { Scalar } from "./input-view";

export function DiffView({ before, after }: { before: unknown; after: unknown }) {
  const changes = diffOutputs(before, after);
  if (changes.length === 0) return <p className="text-sm text-slate-600">No field differs from the model output.</p>;
  return (
    <table className="w-full text-sm" aria-label="Changes to the model output">
      <thead className="text-left text-xs text-slate-500">
        <tr>
          <th scope="col" className="py-1 pr-3 font-medium">
            Field
          </th>
          <th scope="col" className="py-1 pr-3 font-medium">
            Model
          </th>
          <th scope="col" className="py-1 font-medium">
            Corrected
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {changes.map((c) => (
          <tr key={c.path}>
            <td className="py-1 pr-3 font-mono text-xs text-slate-700">{c.path}</td>
            <td className="py-1 pr-3 text-red-800 line-through decoration-red-300">
              {c.before === undefined ? <span className="no-underline">(none)</span> : <Scalar value={c.before} />}
            </td>
            <td className="py-1 text-emerald-800">{c.after === undefined ? "(removed)" : <Scalar value={c.after} />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
