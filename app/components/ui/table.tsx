/** Plain, dense data tables: semantic markup with the house styling. */
/**
 * `scrolls`: a wide table whose frame scrolls sideways on narrow screens; the frame is then a named,
 * focusable region so keyboard users can scroll it too.
 */
export function Table({
  children,
  label,
  className = "",
  scrolls = false,
}: {
  children: React.ReactNode;
  label: string;
  className?: string;
  scrolls?: boolean;
}) {
  const frame = scrolls ? { role: "region", "aria-label": `${label} (scrolls sideways)`, tabIndex: 0 } : {};
  return (
    <div {...frame} className={`overflow-x-auto rounded-lg border border-slate-200 bg-white ${className}`}>
      <table aria-label={label} className="min-w-full divide-y divide-slate-200 text-sm">
        {children}
      </table>
    </div>
  );
}

export function THead({ children }: { children: React.ReactNode }) {
  return (
    <thead className="bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-600">
      <tr>{children}</tr>
    </thead>
  );
}

/** A column header (in THead) or, with scope="row", the header cell that names a body row. */
export function TH({
  children,
  className = "",
  numeric = false,
  scope = "col",
}: {
  children?: React.ReactNode;
  className?: string;
  numeric?: boolean;
  scope?: "col" | "row";
}) {
  return (
    <th scope={scope} className={`whitespace-nowrap px-3 py-2 ${numeric ? "text-right" : ""} ${scope === "row" ? "text-left" : ""} ${className}`}>
      {children}
    </th>
  );
}

export function TBody({ children }: { children: React.ReactNode }) {
  return <tbody className="divide-y divide-slate-100">{children}</tbody>;
}

export function TD({
  children,
  className = "",
  numeric = false,
  colSpan,
}: {
  children?: React.ReactNode;
  className?: string;
  numeric?: boolean;
  colSpan?: number;
}) {
  return (
    <td colSpan={colSpan} className={`px-3 py-2 align-top ${numeric ? "text-right tabular-nums" : ""} ${className}`}>
      {children}
    </td>
  );
}

export function EmptyRow({ colSpan, children }: { colSpan: number; children: React.ReactNode }) {
  return (
    <tr>
      <td colSpan={colSpan} className="px-3 py-6 text-center text-slate-500">
        {children}
      </td>
    </tr>
  );
}
