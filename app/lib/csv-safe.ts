/**
 * CSV formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell
 * that starts with =, +, -, @, tab or carriage return as a formula, so text
 * from reviewers, models or callers (`=HYPERLINK(...)`) could run on an
 * analyst's machine. Such text cells get a leading single quote, which
 * spreadsheets show as text. Only text is escaped: a cell written from a
 * number (a negative amount, a rate) stays a number, since it came from our
 * own typed column and cannot carry a formula. JSONL and Parquet stay exact.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** The text as a CSV cell that spreadsheets show as text, never run as a formula. */
export function csvSafeCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** A cell of a typed CSV writer: numbers stay numbers, text is escaped (see above). */
export function csvSafeValue<T>(value: T): T | string {
  return typeof value === "string" ? csvSafeCell(value) : value;
}

/** A whole row of a typed CSV writer, cell by cell as `csvSafeValue`. */
export function csvSafeRow(row: unknown[]): unknown[] {
  return row.map(csvSafeValue);
}
