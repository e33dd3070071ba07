/** A Prometheus scrape, parsed (the ops tests and bench:load read the servers' /metrics). */
import parsePrometheusTextFormat, { type PromFamily, type PromSample } from "parse-prometheus-text-format";

export type Scrape = { families: Map<string, PromFamily>; samples: Map<string, PromSample[]> };

/**
 * A scrape parsed by parse-prometheus-text-format. It reads each family's type and help right, but
 * folds a histogram's labelled series into one, so for the samples the histograms are parsed a
 * second time declared untyped: then every `_bucket`, `_sum` and `_count` line is a sample with its labels.
 */
export function parseScrape(text: string): Scrape {
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  const samples = new Map<string, PromSample[]>();
  for (const f of parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped"))) {
    samples.set(f.name, [...(samples.get(f.name) ?? []), ...f.metrics]);
  }
  return { families, samples };
}
