// parse-prometheus-text-format ships no types: its output follows prom2json's JSON (values are strings).
declare module "parse-prometheus-text-format" {
  export type PromSample = { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string };
  export type PromFamily = { name: string; help: string; type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED"; metrics: PromSample[] };
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
