/** A labelled <select> for a page's GET filter form (reports, team); `idPrefix` keeps ids unique per page. */
export function FilterSelect({
  label,
  name,
  value,
  options,
  idPrefix = "filter",
}: {
  label: string;
  name: string;
  value: string;
  options: [string, string][];
  idPrefix?: string;
}) {
  return (
    <div className="flex flex-col text-sm font-medium text-slate-700">
      <label htmlFor={`${idPrefix}-${name}`}>{label}</label>
      <select
        id={`${idPrefix}-${name}`}
        name={name}
        defaultValue={value}
        key={`${name}-${value}`}
        className="mt-1 rounded border border-slate-300 bg-white px-2 py-1.5 font-normal"
      >
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}
