/**
 * Which output fields a human changed: leaf paths (dotted, array indexes as
 * numbers) where the model output and the final output differ. Pure and
 * isomorphic, so the review screen shows the same diff the server records.
 */
export type FieldChange = { path: string; before: unknown; after: unknown };

export function diffOutputs(before: unknown, after: unknown, prefix = ""): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => diffOutputs(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    const out: FieldChange[] = [];
    for (let i = 0; i < n; i++) out.push(...diffOutputs(before[i], after[i], prefix ? `${prefix}.${i}` : String(i)));
    return out;
  }
  if (isPlainObject(before) && after === undefined) return diffOutputs(before, {}, prefix);
  if (before === undefined && isPlainObject(after)) return diffOutputs({}, after, prefix);
  return Object.is(before, after) || JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: prefix, before, after }];
}

export function changedPaths(before: unknown, after: unknown): string[] {
  return diffOutputs(before, after).map((c) => c.path);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
