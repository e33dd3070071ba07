/**
 * Glob patterns for flags and field paths: `*` matches any run of characters
 * (within one segment when a separator is given), `?` one character.
 */
const cache = new Map<string, RegExp>();

export function globMatch(pattern: string, value: string, separator?: string): boolean {
  const key = `${separator ?? ""}\u0000${pattern}`;
  let re = cache.get(key);
  if (!re) {
    const any = separator ? `[^${escape(separator)}]*` : ".*";
    const one = separator ? `[^${escape(separator)}]` : ".";
    const body = pattern
      .split("")
      .map((c) => (c === "*" ? any : c === "?" ? one : escape(c)))
      .join("");
    re = new RegExp(`^${body}$`, "s");
    if (cache.size > 10_000) cache.clear();
    cache.set(key, re);
  }
  return re.test(value);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
