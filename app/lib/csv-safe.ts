/**
 * CSV cells a spreadsheet shows as text (OWASP, CSV injection): a cell that
 * starts with = + - @ tab or carriage return would be read as a formula, so it
 * gets a leading apostrophe. Numbers and booleans are written as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvSafeCell(value: unknown): unknown {
  return typeof value === "string" && FORMULA_START.test(value) ? `'${value}` : value;
}

export function csvSafeRow(row: unknown[]): unknown[] {
  return row.map(csvSafeCell);
}
