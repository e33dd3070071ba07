/**
 * The data card that goes with every snapshot: what was selected and how the
 * labels are distributed (per split, action, label value, reason code, model
 * version), which output fields humans corrected, and the date range. Built
 * row by row while a snapshot is written; pure, rendered as JSON and Markdown.
 */
import type { ObjectSchema } from "../decision-types/output-schema";
import { z } from "zod";
import { describeFilter, exampleFilterSchema, type ExampleFilter, type SplitFractions } from "./filter";

type Counts = Record<string, number>;

const countsSchema = z.record(z.string(), z.number());
const spanSchema = z.object({ from: z.iso.datetime().nullable(), to: z.iso.datetime().nullable() });

/** A snapshot's data card (GET …/snapshots/:n/card?format=json): what the examples are and how they are spread. */
export const dataCardSchema = z
  .object({
    title: z.string(),
    dataset: z.object({ id: z.string(), name: z.string(), description: z.string().nullable() }),
    snapshot: z.object({
      number: z.number().int(),
      createdAt: z.iso.datetime(),
      createdBy: z.string(),
      watermarkSeq: z.number().int(),
      asOf: z.iso.datetime(),
      contentHash: z.string().nullable(),
    }),
    type: z.string(),
    filter: exampleFilterSchema,
    filterText: z.string(),
    splitFractions: z.object({ train: z.number(), validation: z.number(), test: z.number() }),
    identities: z.boolean(),
    rows: z.number().int(),
    counts: z.object({
      split: countsSchema,
      action: countsSchema,
      seenBecause: countsSchema,
      modelVersion: countsSchema,
      reasonCode: countsSchema,
      label: z.record(z.string(), countsSchema).describe("Final-output values of the type's enum and boolean fields: field → value → count"),
    }),
    fieldCorrections: countsSchema.describe('How often each output field was corrected ("lines.*.amount" for array items)'),
    fourEyes: z.object({ reviewed: z.number().int(), agreed: z.number().int() }),
    weightSum: z.number().describe("Sum of inverse-probability weights: the population these examples stand for"),
    reviewedAt: spanSchema,
    receivedAt: spanSchema,
  })
  .meta({ id: "DataCard" });

export type DataCard = {
  title: string;
  dataset: { id: string; name: string; description: string | null };
  snapshot: { number: number; createdAt: string; createdBy: string; watermarkSeq: number; asOf: string; contentHash: string | null };
  type: string;
  filter: ExampleFilter;
  filterText: string;
  splitFractions: SplitFractions;
  identities: boolean;
  rows: number;
  counts: {
    split: Counts;
    action: Counts;
    seenBecause: Counts;
    modelVersion: Counts;
    reasonCode: Counts;
    /** Final-output values of the type's enum and boolean fields: field → value → count. */
    label: Record<string, Counts>;
  };
  /** How often each output field was corrected ("lines.*.amount" for array items). */
  fieldCorrections: Counts;
  fourEyes: { reviewed: number; agreed: number };
  /** Sum of inverse-probability weights: the population these examples stand for. */
  weightSum: number;
  reviewedAt: { from: string | null; to: string | null };
  receivedAt: { from: string | null; to: string | null };
};

export type CardRow = {
  split: string;
  action: string;
  seenBecause: string;
  modelVersion: string;
  reasonCodes: string;
  changedFields: string;
  finalOutput: string | null;
  weight: number | null;
  agreement: boolean | null;
  reviewedAt: number;
  receivedAt: number;
};

const MAX_LABEL_VALUES = 100;

/** Top-level enum and boolean fields: the ones that read as class labels. */
export function labelFields(schema: ObjectSchema | null | undefined): string[] {
  if (!schema) return [];
  return Object.entries(schema.properties)
    .filter(([, f]) => f.type === "boolean" || (f.type === "string" && Array.isArray(f.enum)))
    .map(([name]) => name);
}

export class CardBuilder {
  rows = 0;
  private split: Counts = { train: 0, validation: 0, test: 0 };
  private action: Counts = { approved: 0, corrected: 0, rejected: 0 };
  private seenBecause: Counts = {};
  private modelVersion: Counts = {};
  private reasonCode: Counts = {};
  private label: Record<string, Counts>;
  private fieldCorrections: Counts = {};
  private fourEyes = { reviewed: 0, agreed: 0 };
  private weightSum = 0;
  private reviewed: [number, number] | null = null;
  private received: [number, number] | null = null;

  constructor(private labels: string[]) {
    this.label = Object.fromEntries(labels.map((l) => [l, {}]));
  }

  add(r: CardRow): void {
    this.rows++;
    inc(this.split, r.split);
    inc(this.action, r.action);
    inc(this.seenBecause, r.seenBecause);
    inc(this.modelVersion, r.modelVersion);
    if (r.reasonCodes !== "[]") for (const c of JSON.parse(r.reasonCodes) as string[]) inc(this.reasonCode, c);
    if (r.changedFields !== "[]") for (const p of JSON.parse(r.changedFields) as string[]) inc(this.fieldCorrections, p.replace(/\.\d+(?=\.|$)/g, ".*"));
    if (this.labels.length && r.finalOutput) {
      const out = JSON.parse(r.finalOutput) as Record<string, unknown>;
      for (const l of this.labels) {
        const v = out[l];
        if (v === undefined || v === null) continue;
        const counts = this.label[l];
        const key = String(v);
        if (key in counts || Object.keys(counts).length < MAX_LABEL_VALUES) inc(counts, key);
        else inc(counts, "(other)");
      }
    }
    if (r.agreement !== null) {
      this.fourEyes.reviewed++;
      if (r.agreement) this.fourEyes.agreed++;
    }
    this.weightSum += r.weight ?? 0;
    this.reviewed = widen(this.reviewed, r.reviewedAt);
    this.received = widen(this.received, r.receivedAt);
  }

  build(
    meta: Omit<DataCard, "rows" | "counts" | "fieldCorrections" | "fourEyes" | "weightSum" | "reviewedAt" | "receivedAt" | "filterText" | "title">,
  ): DataCard {
    return {
      title: `${meta.dataset.name} — snapshot ${meta.snapshot.number}`,
      ...meta,
      filterText: describeFilter(meta.filter),
      rows: this.rows,
      counts: {
        split: this.split,
        action: this.action,
        seenBecause: sorted(this.seenBecause),
        modelVersion: sorted(this.modelVersion),
        reasonCode: sorted(this.reasonCode),
        label: Object.fromEntries(Object.entries(this.label).map(([k, v]) => [k, sorted(v)])),
      },
      fieldCorrections: sorted(this.fieldCorrections),
      fourEyes: this.fourEyes,
      weightSum: Math.round(this.weightSum * 1000) / 1000,
      reviewedAt: range(this.reviewed),
      receivedAt: range(this.received),
    };
  }
}

function inc(c: Counts, k: string) {
  c[k] = (c[k] ?? 0) + 1;
}
function widen(r: [number, number] | null, v: number): [number, number] {
  return r ? [Math.min(r[0], v), Math.max(r[1], v)] : [v, v];
}
function range(r: [number, number] | null) {
  return { from: r ? new Date(r[0]).toISOString() : null, to: r ? new Date(r[1]).toISOString() : null };
}
/** Largest first, then by key: deterministic, so equal data gives an equal card. */
function sorted(c: Counts): Counts {
  return Object.fromEntries(Object.entries(c).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

function table(title: string, counts: Counts, total?: number): string {
  const entries = Object.entries(counts);
  if (entries.length === 0) return `### ${title}\n\n_none_\n`;
  const lines = entries.map(([k, v]) => `| ${k.replace(/\|/g, "\\|")} | ${v} |${total ? ` ${total ? ((100 * v) / total).toFixed(1) : "0"}% |` : ""}`);
  return `### ${title}\n\n| value | count |${total ? " share |" : ""}\n| --- | ---: |${total ? " ---: |" : ""}\n${lines.join("\n")}\n`;
}

export function cardToMarkdown(c: DataCard): string {
  const parts = [
    `# ${c.title}`,
    "",
    `- Decision type: \`${c.type}\``,
    `- Filter: ${c.filterText}`,
    `- Rows: ${c.rows}`,
    `- Split fractions: train ${c.splitFractions.train}, validation ${c.splitFractions.validation}, test ${c.splitFractions.test} (by SHA-256 of externalId)`,
    `- Reviewed between: ${c.reviewedAt.from ?? "—"} and ${c.reviewedAt.to ?? "—"}`,
    `- Decisions received between: ${c.receivedAt.from ?? "—"} and ${c.receivedAt.to ?? "—"}`,
    `- Created: ${c.snapshot.createdAt} by ${c.snapshot.createdBy}; data as of review #${c.snapshot.watermarkSeq} (${c.snapshot.asOf})`,
    `- Content hash (SHA-256 of the JSONL file): \`${c.snapshot.contentHash ?? "pending"}\``,
    `- Reviewers: ${c.identities ? "real email addresses" : "pseudonymous ids (HMAC of the user id)"}`,
    `- Four-eyes: ${c.fourEyes.reviewed} examples had a second review, ${c.fourEyes.agreed} agreed`,
    `- Sum of inverse-probability weights: ${c.weightSum}`,
    "",
    "## Counts",
    "",
    table("Per split", c.counts.split, c.rows),
    table("Per action", c.counts.action, c.rows),
    table("Why a human saw it", c.counts.seenBecause, c.rows),
    table("Per model version", c.counts.modelVersion, c.rows),
    table("Per reason code", c.counts.reasonCode),
    ...Object.entries(c.counts.label).map(([field, counts]) => table(`Label \`${field}\``, counts, c.rows)),
    "## Field-level corrections",
    "",
    table("Corrections per output field", c.fieldCorrections),
  ];
  return parts.join("\n");
}
