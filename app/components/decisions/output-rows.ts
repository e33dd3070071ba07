/**
 * Model output vs final output, one row per leaf field: values side by side,
 * whether a human changed it (the same diff the server records), and the
 * model's confidence for that field.
 */
import { diffOutputs } from "~/domain/review/diff";

export type OutputRow = { path: string; model: unknown; final: unknown; changed: boolean; confidence: number | null };

function leaves(value: unknown, prefix: string, out: Map<string, unknown>) {
  if (Array.isArray(value)) {
    if (value.length === 0 && prefix) out.set(prefix, value);
    value.forEach((v, i) => leaves(v, prefix ? `${prefix}.${i}` : String(i), out));
  } else if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, value);
    for (const [k, v] of entries) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, value);
}

/** Confidence for a concrete path: exact key, else the key with array indexes as `*`. */
function confidenceFor(fc: Record<string, number>, path: string): number | null {
  if (path in fc) return fc[path];
  const generic = path.replace(/\.\d+(?=\.|$)/g, ".*");
  return generic in fc ? fc[generic] : null;
}

export function outputRows(model: unknown, final: unknown, fieldConfidence: Record<string, number>): OutputRow[] {
  const m = new Map<string, unknown>();
  const f = new Map<string, unknown>();
  leaves(model, "", m);
  if (final != null) leaves(final, "", f);
  const changed = new Set(final == null ? [] : diffOutputs(model, final).map((c) => c.path));
  const paths = [...m.keys(), ...[...f.keys()].filter((p) => !m.has(p))];
  // A changed path can sit above the leaves (an array item added or removed): mark its leaves too.
  const isChanged = (p: string) => changed.has(p) || [...changed].some((c) => p.startsWith(`${c}.`) || c.startsWith(`${p}.`));
  return paths.map((path) => ({
    path,
    model: m.get(path),
    final: final == null ? undefined : f.get(path),
    changed: final != null && isChanged(path),
    confidence: confidenceFor(fieldConfidence, path),
  }));
}
