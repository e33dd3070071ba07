/**
 * The one home of display formatting: numbers, rates, durations and timestamps.
 * Deterministic (fixed locale and UTC), so the server render and the browser
 * agree character for character. Timestamps have one format, "2026-01-31 14:05 UTC".
 */
const NUM = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });

export function formatNumber(n: number): string {
  return NUM.format(n);
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function looksLikeDate(s: string): boolean {
  return DATE_RE.test(s) || DATETIME_RE.test(s);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function formatDate(s: string): string {
  if (DATE_RE.test(s)) {
    const [y, m, d] = s.split("-").map(Number);
    return `${d} ${MONTHS[m - 1] ?? "?"} ${y}`;
  }
  return formatTimestamp(s);
}

/** "2026-01-31 14:05 UTC"; "—" for no value or an unreadable one. */
export function formatTimestamp(ms: number | string | null | undefined): string {
  if (ms == null) return "—";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** "250 ms", "45 s", "12 min", "3 h 5 min", "2 d 4 h"; "–" for no value. */
export function formatDuration(ms: number | null): string {
  if (ms == null) return "–";
  if (ms > 0 && ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "m:ss" for a countdown. */
export function formatClock(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "unit_price" / "unitPrice" → "Unit price". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function percent(c: number): string {
  return `${Math.round(c * 100)}%`;
}

/** A rate to `digits` decimals of a percent, "12.5%"; "–" for no value. */
export function formatRate(x: number | null, digits = 1): string {
  return x == null ? "–" : `${(x * 100).toFixed(digits)}%`;
}
