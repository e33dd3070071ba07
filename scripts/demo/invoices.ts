/**
 * Synthetic invoices for the demo: recurring vendors with their own catalogues,
 * tax rates, numbering and date formats; line items and totals that add up;
 * the OCR text a reviewer checks against; and an extraction model that
 * sometimes misreads a field (usually with a low field confidence, now and
 * then confidently wrong so that QA sampling has something to catch).
 * Everything is drawn from a seeded PRNG.
 */
import type { Rng } from "./random";
import type { Verdict } from "./credit";
import { INVOICE_TYPE_KEY, type CURRENCIES } from "./types";

export const INVOICE_MODEL = { name: "invoice-extractor", version: "3.2.0" };

type Currency = (typeof CURRENCIES)[number];
type DateStyle = "iso" | "de" | "us" | "uk";

type Vendor = {
  name: string;
  address: string;
  currency: Currency;
  taxRate: number;
  taxLabel: string;
  dateStyle: DateStyle;
  number: (n: number, year: number) => string;
  catalog: { sku: string; description: string; unitPrice: number; qty: [number, number] }[];
  /** Relative share of the invoice stream. */
  weight: number;
};

const VENDORS: Vendor[] = [
  {
    name: "Nordwind Logistik GmbH",
    address: "Hafenstraße 12, 20457 Hamburg, DE",
    currency: "EUR",
    taxRate: 0.19,
    taxLabel: "USt 19%",
    dateStyle: "de",
    number: (n, y) => `NW-${y}-${String(n).padStart(6, "0")}`,
    catalog: [
      { sku: "FRT-PAL", description: "Pallet freight, domestic", unitPrice: 85, qty: [1, 12] },
      { sku: "FRT-EXP", description: "Express parcel", unitPrice: 24.9, qty: [1, 30] },
      { sku: "WH-STOR", description: "Warehouse storage per pallet-week", unitPrice: 6.4, qty: [10, 120] },
      { sku: "FUEL-SC", description: "Fuel surcharge", unitPrice: 18.75, qty: [1, 4] },
    ],
    weight: 14,
  },
  {
    name: "Bürobedarf Schmitt KG",
    address: "Lindenallee 4, 50668 Köln, DE",
    currency: "EUR",
    taxRate: 0.19,
    taxLabel: "USt 19%",
    dateStyle: "de",
    number: (n) => `RE-${110000 + n}`,
    catalog: [
      { sku: "PAP-A4-500", description: "Copy paper A4, 500 sheets", unitPrice: 4.79, qty: [5, 60] },
      { sku: "TON-HP59A", description: "Toner cartridge HP 59A", unitPrice: 89.9, qty: [1, 6] },
      { sku: "ORD-A4-8", description: "Lever arch file A4, 8 cm", unitPrice: 2.35, qty: [10, 50] },
      { sku: "PEN-BL-50", description: "Ballpoint pens blue, box of 50", unitPrice: 12.5, qty: [1, 5] },
      { sku: "CHR-ERG", description: "Ergonomic office chair", unitPrice: 349, qty: [1, 4] },
    ],
    weight: 12,
  },
  {
    name: "Atlas Cloud Services Ltd",
    address: "71 Clerkenwell Road, London EC1R 5BL, UK",
    currency: "GBP",
    taxRate: 0.2,
    taxLabel: "VAT 20%",
    dateStyle: "uk",
    number: (n) => `ACS-INV-${String(40000 + n)}`,
    catalog: [
      { sku: "SUB-PRO", description: "Pro plan, per seat, monthly", unitPrice: 39, qty: [5, 80] },
      { sku: "STO-TB", description: "Additional storage, per TB", unitPrice: 21.5, qty: [1, 20] },
      { sku: "SUP-PRM", description: "Premium support", unitPrice: 450, qty: [1, 1] },
    ],
    weight: 8,
  },
  {
    name: "Hudson Industrial Supply Inc.",
    address: "410 Water Street, Newark, NJ 07105, US",
    currency: "USD",
    taxRate: 0.06625,
    taxLabel: "Sales tax 6.625%",
    dateStyle: "us",
    number: (n) => `H${String(700000 + n * 7)}`,
    catalog: [
      { sku: "GLV-NIT-L", description: "Nitrile gloves L, case of 1000", unitPrice: 64.2, qty: [1, 10] },
      { sku: "DRL-18V", description: "Cordless drill 18V kit", unitPrice: 189, qty: [1, 3] },
      { sku: "SAF-GLS", description: "Safety glasses, clear", unitPrice: 3.15, qty: [10, 100] },
      { sku: "LDR-8FT", description: "Fiberglass step ladder 8 ft", unitPrice: 214.5, qty: [1, 2] },
    ],
    weight: 9,
  },
  {
    name: "Keystone IT Hardware LLC",
    address: "2200 Market Street, Philadelphia, PA 19103, US",
    currency: "USD",
    taxRate: 0,
    taxLabel: "Tax exempt",
    dateStyle: "us",
    number: (n) => `KIT-${String(2026000 + n)}`,
    catalog: [
      { sku: "LT-14-PRO", description: 'Laptop 14" Pro, 32 GB', unitPrice: 1899, qty: [1, 8] },
      { sku: "MON-27-4K", description: 'Monitor 27" 4K', unitPrice: 429, qty: [1, 10] },
      { sku: "DOCK-TB4", description: "Thunderbolt 4 dock", unitPrice: 249, qty: [1, 10] },
      { sku: "WTY-3Y", description: "Extended warranty, 3 years", unitPrice: 159, qty: [1, 8] },
    ],
    weight: 5,
  },
  {
    name: "Alpenblick Reinigung AG",
    address: "Seestrasse 88, 8002 Zürich, CH",
    currency: "CHF",
    taxRate: 0.081,
    taxLabel: "MWST 8.1%",
    dateStyle: "de",
    number: (n) => `AR ${String(5000 + n)}`,
    catalog: [
      { sku: "CLN-HR", description: "Office cleaning, per hour", unitPrice: 48, qty: [8, 60] },
      { sku: "WIN-M2", description: "Window cleaning per m²", unitPrice: 3.2, qty: [50, 400] },
      { sku: "MAT-SUP", description: "Cleaning supplies", unitPrice: 126.4, qty: [1, 2] },
    ],
    weight: 6,
  },
  {
    name: "Van der Berg Verpakkingen BV",
    address: "Industrieweg 31, 3044 AS Rotterdam, NL",
    currency: "EUR",
    taxRate: 0.21,
    taxLabel: "BTW 21%",
    dateStyle: "iso",
    number: (n, y) => `VDB${y}${String(n).padStart(5, "0")}`,
    catalog: [
      { sku: "BOX-40", description: "Shipping box 40×30×30, bundle of 25", unitPrice: 31.75, qty: [2, 40] },
      { sku: "TAPE-PP", description: "Packing tape 50 mm, 36 rolls", unitPrice: 54.9, qty: [1, 10] },
      { sku: "FILL-PAP", description: "Paper void fill, 450 m", unitPrice: 42, qty: [1, 12] },
      { sku: "STR-WRAP", description: "Stretch film 23 µm", unitPrice: 17.8, qty: [4, 36] },
    ],
    weight: 10,
  },
  {
    name: "Thames Facilities Management Ltd",
    address: "3 Riverside Walk, Reading RG1 8EQ, UK",
    currency: "GBP",
    taxRate: 0.2,
    taxLabel: "VAT 20%",
    dateStyle: "uk",
    number: (n) => `TFM/${String(n).padStart(5, "0")}`,
    catalog: [
      { sku: "MNT-HVAC", description: "HVAC maintenance visit", unitPrice: 285, qty: [1, 3] },
      { sku: "SEC-NGT", description: "Night security, per shift", unitPrice: 168, qty: [5, 31] },
      { sku: "REP-ELC", description: "Electrical repair, per hour", unitPrice: 72.5, qty: [1, 12] },
    ],
    weight: 7,
  },
  {
    name: "Lumière Traiteur SARL",
    address: "18 rue de la Roquette, 75011 Paris, FR",
    currency: "EUR",
    taxRate: 0.1,
    taxLabel: "TVA 10%",
    dateStyle: "uk",
    number: (n, y) => `F${y}-${String(n).padStart(4, "0")}`,
    catalog: [
      { sku: "BUF-STD", description: "Lunch buffet per person", unitPrice: 32, qty: [10, 120] },
      { sku: "COF-BRK", description: "Coffee break per person", unitPrice: 9.5, qty: [10, 120] },
      { sku: "SRV-HR", description: "Service staff, per hour", unitPrice: 38, qty: [4, 24] },
    ],
    weight: 5,
  },
  {
    name: "Pacific Paper Co.",
    address: "1200 Harbor Way, Oakland, CA 94607, US",
    currency: "USD",
    taxRate: 0.1025,
    taxLabel: "Sales tax 10.25%",
    dateStyle: "us",
    number: (n) => `PPC-${String(88000 + n)}`,
    catalog: [
      { sku: "LBL-4X6", description: "Thermal labels 4×6, roll of 500", unitPrice: 14.6, qty: [4, 48] },
      { sku: "PAP-LTR", description: "Letter paper, case of 10 reams", unitPrice: 52.99, qty: [1, 20] },
      { sku: "ENV-10", description: "#10 envelopes, box of 500", unitPrice: 27.4, qty: [1, 10] },
    ],
    weight: 6,
  },
];

/** One-off suppliers: each appears once, so the invoice carries policy:new_vendor. */
const NEW_VENDORS = [
  "Kowalski Elektro Sp. z o.o.",
  "Brightline Signage Ltd",
  "Fjordkraft Event AS",
  "Moreno Impresión S.L.",
  "Greenleaf Plant Rental",
  "Oakridge Calibration Services",
  "Studio Ferraro S.r.l.",
  "Blue Harbor Translations",
  "Ostsee Catering GmbH",
  "Summit Fire Safety Inc.",
  "Delta Courier BV",
  "Helvetia Schlüsseldienst GmbH",
  "Northgate Print & Copy",
  "Quayside Furniture Hire",
  "Rhein-Main Elektrotechnik GmbH",
  "Maple & Finch Consulting",
];

export type Misread = "total" | "line_amount" | "missing_line" | "date" | "vendor" | "currency" | "invoice_number";

const MISREAD_CODE: Record<Misread, string> = {
  total: "WRONG_TOTAL",
  line_amount: "WRONG_LINE_AMOUNT",
  missing_line: "MISSING_LINE",
  date: "WRONG_DATE",
  vendor: "WRONG_VENDOR",
  currency: "WRONG_CURRENCY",
  invoice_number: "WRONG_INVOICE_NUMBER",
};

export type InvoiceLine = { sku: string; description: string; quantity: number; unitPrice: number; amount: number };
export type InvoiceOutput = {
  vendor: string;
  invoiceNumber: string;
  invoiceDate: string;
  currency: Currency;
  tax: number;
  total: number;
  lines: InvoiceLine[];
};

export type InvoiceCase = {
  kind: "invoice";
  externalId: string;
  occurredAt: number;
  /** What is really on the page. */
  truth: InvoiceOutput;
  output: InvoiceOutput;
  misreads: Misread[];
  special: "duplicate" | "not_invoice" | null;
  flags: string[];
  item: Record<string, unknown>;
};

const round2 = (n: number) => Math.round(n * 100) / 100;

function formatDate(iso: string, style: DateStyle): string {
  const [y, m, d] = iso.split("-");
  if (style === "de") return `${d}.${m}.${y}`;
  if (style === "us") return `${m}/${d}/${y}`;
  if (style === "uk") return `${d}/${m}/${y}`;
  return iso;
}

const money = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function ocrText(v: { name: string; address: string; taxLabel: string; dateStyle: DateStyle }, inv: InvoiceOutput): string {
  const rows = inv.lines.map(
    (l) =>
      `${l.sku.padEnd(11)} ${l.description.slice(0, 38).padEnd(38)} ${String(l.quantity).padStart(5)} ${money(l.unitPrice).padStart(10)} ${money(l.amount).padStart(11)}`,
  );
  const subtotal = round2(inv.lines.reduce((s, l) => s + l.amount, 0));
  return [
    v.name.toUpperCase(),
    v.address,
    "",
    `INVOICE ${inv.invoiceNumber}`,
    `Date: ${formatDate(inv.invoiceDate, v.dateStyle)}`,
    "",
    `${"SKU".padEnd(11)} ${"Description".padEnd(38)} ${"Qty".padStart(5)} ${"Unit price".padStart(10)} ${"Amount".padStart(11)}`,
    ...rows,
    "",
    `Subtotal ${inv.currency} ${money(subtotal)}`,
    `${v.taxLabel} ${money(inv.tax)}`,
    `TOTAL ${inv.currency} ${money(inv.total)}`,
  ].join("\n");
}

const DIGIT_CONFUSION: Record<string, string> = { "1": "7", "7": "1", "3": "8", "8": "3", "5": "6", "6": "5", "0": "8", "9": "4", "4": "9", "2": "7" };

/** Misreads one digit of an amount the way OCR does (1↔7, 3↔8, 5↔6 ...). */
function misreadAmount(n: number, rng: Rng): number {
  const s = n.toFixed(2);
  const positions = [...s].map((c, i) => (c in DIGIT_CONFUSION ? i : -1)).filter((i) => i >= 0);
  for (let tries = 0; tries < 5; tries++) {
    const i = rng.pick(positions);
    const out = Number(s.slice(0, i) + DIGIT_CONFUSION[s[i]] + s.slice(i + 1));
    if (out !== n && out >= 0) return out;
  }
  return round2(n * 10);
}

function misreadText(s: string, rng: Rng): string {
  const swaps: [RegExp, string][] = [
    [/O/, "0"],
    [/0/, "O"],
    [/1/, "I"],
    [/I/, "1"],
    [/S/, "5"],
    [/5/, "S"],
    [/B/, "8"],
    [/8/, "B"],
    [/i/, "l"],
    [/rn/, "m"],
    [/e/, "c"],
  ];
  for (const [re, to] of rng.shuffle(swaps)) if (re.test(s)) return s.replace(re, to);
  return s + ".";
}

function confidence(rng: Rng, lo: number, hi: number): number {
  return Math.round((lo + rng.next() * (hi - lo)) * 1000) / 1000;
}

export class InvoiceGenerator {
  private counters = new Map<string, number>();
  private issued: InvoiceCase[] = [];
  private newVendorIndex = 0;

  constructor(private rng: Rng) {}

  next(occurredAt: number, seq: number): InvoiceCase {
    const rng = this.rng;
    const externalId = `DOC-${String(seq).padStart(6, "0")}`;
    // A re-sent invoice: same content under a new document id.
    if (this.issued.length > 20 && rng.chance(0.015)) {
      const orig = rng.pick(this.issued.filter((c) => c.special === null).slice(-200));
      return this.finish({ externalId, occurredAt, truth: orig.truth, misreads: [], special: "duplicate", vendor: this.vendorOf(orig.truth.vendor) });
    }
    if (rng.chance(0.008)) return this.notAnInvoice(externalId, occurredAt);

    let vendor: Vendor;
    let newVendor = false;
    if (this.newVendorIndex < NEW_VENDORS.length && rng.chance(0.012)) {
      const base = rng.pick(VENDORS);
      vendor = { ...base, name: NEW_VENDORS[this.newVendorIndex++], weight: 0 };
      newVendor = true;
    } else {
      vendor = rng.weighted(VENDORS.map((v) => [v, v.weight] as const));
    }
    const n = (this.counters.get(vendor.name) ?? rng.int(100, 900)) + rng.int(1, 9);
    this.counters.set(vendor.name, n);
    const date = new Date(occurredAt - rng.int(0, 6) * 86_400_000);
    const invoiceDate = date.toISOString().slice(0, 10);
    const nLines = rng.weighted([
      [1, 4],
      [2, 5],
      [3, 4],
      [4, 3],
      [5, 2],
      [6, 1],
      [8, 1],
    ] as const);
    const items = rng.shuffle(vendor.catalog);
    const lines: InvoiceLine[] = [];
    for (let i = 0; i < nLines; i++) {
      const c = items[i % items.length];
      const quantity = rng.int(c.qty[0], c.qty[1]);
      lines.push({
        sku: c.sku,
        description: i >= items.length ? `${c.description} (add-on)` : c.description,
        quantity,
        unitPrice: c.unitPrice,
        amount: round2(quantity * c.unitPrice),
      });
    }
    const subtotal = round2(lines.reduce((s, l) => s + l.amount, 0));
    const tax = round2(subtotal * vendor.taxRate);
    const truth: InvoiceOutput = {
      vendor: vendor.name,
      invoiceNumber: vendor.number(n, date.getUTCFullYear()),
      invoiceDate,
      currency: vendor.currency,
      tax,
      total: round2(subtotal + tax),
      lines,
    };
    const misreads: Misread[] = [];
    if (rng.chance(0.2)) {
      const options: Misread[] = ["total", "line_amount", "vendor", "invoice_number", "currency"];
      if (lines.length >= 2) options.push("missing_line");
      const [, m, d] = invoiceDate.split("-").map(Number);
      if (d <= 12 && d !== m && vendor.dateStyle !== "iso") options.push("date", "date");
      misreads.push(rng.pick(options));
      if (rng.chance(0.15)) {
        const second = rng.pick(options);
        if (!misreads.includes(second)) misreads.push(second);
      }
    }
    const c = this.finish({ externalId, occurredAt, truth, misreads, special: null, vendor, newVendor });
    this.issued.push(c);
    return c;
  }

  private vendorOf(name: string): Vendor {
    return VENDORS.find((v) => v.name === name) ?? { ...VENDORS[0], name };
  }

  private notAnInvoice(externalId: string, occurredAt: number): InvoiceCase {
    const rng = this.rng;
    const vendor = rng.pick(VENDORS);
    const kind = rng.pick(["STATEMENT OF ACCOUNT", "DELIVERY NOTE", "ORDER CONFIRMATION", "PAYMENT REMINDER"]);
    const invoiceDate = new Date(occurredAt - rng.int(0, 10) * 86_400_000).toISOString().slice(0, 10);
    const balance = round2(rng.int(200, 9000) + rng.int(0, 99) / 100);
    const output: InvoiceOutput = {
      vendor: vendor.name,
      invoiceNumber: `${rng.int(10000, 99999)}`,
      invoiceDate,
      currency: vendor.currency,
      tax: 0,
      total: balance,
      lines: [],
    };
    const text = [
      vendor.name.toUpperCase(),
      vendor.address,
      "",
      kind,
      `Date: ${formatDate(invoiceDate, vendor.dateStyle)}`,
      "",
      `Balance carried forward ${vendor.currency} ${money(balance)}`,
      "This is not an invoice. Please do not pay from this document.",
    ].join("\n");
    const fieldConfidence = {
      vendor: confidence(rng, 0.85, 0.98),
      invoiceNumber: confidence(rng, 0.2, 0.5),
      invoiceDate: confidence(rng, 0.6, 0.9),
      currency: confidence(rng, 0.8, 0.95),
      total: confidence(rng, 0.3, 0.6),
    };
    const item = {
      type: INVOICE_TYPE_KEY,
      externalId,
      model: INVOICE_MODEL,
      input: {
        documentId: externalId,
        fileName: `${kind.toLowerCase().replace(/ /g, "-")}-${rng.int(1000, 9999)}.pdf`,
        source: "ap-inbox@demo.lastmile",
        pages: 1,
        ocrText: text,
      },
      output,
      confidence: confidence(rng, 0.25, 0.55),
      fieldConfidence,
      flags: [],
      occurredAt: new Date(occurredAt).toISOString(),
    };
    return { kind: "invoice", externalId, occurredAt, truth: output, output, misreads: [], special: "not_invoice", flags: [], item };
  }

  private finish(p: {
    externalId: string;
    occurredAt: number;
    truth: InvoiceOutput;
    misreads: Misread[];
    special: "duplicate" | null;
    vendor: Vendor;
    newVendor?: boolean;
  }): InvoiceCase {
    const rng = this.rng;
    const { truth, misreads } = p;
    const output: InvoiceOutput = structuredClone(truth);
    // Confidently wrong now and then: the misread slips through on high confidence.
    const sneaky = misreads.length > 0 && rng.chance(0.15);
    const good = () => confidence(rng, 0.93, 0.998);
    const bad = () => (sneaky ? confidence(rng, 0.91, 0.97) : confidence(rng, 0.42, 0.83));
    const fc: Record<string, number> = { vendor: good(), invoiceNumber: good(), invoiceDate: good(), currency: good(), tax: good(), total: good() };
    let docConfidence = confidence(rng, 0.88, 0.99);
    for (const m of misreads) {
      if (m === "total") {
        output.total = misreadAmount(truth.total, rng);
        fc.total = bad();
      } else if (m === "vendor") {
        output.vendor = misreadText(truth.vendor, rng);
        fc.vendor = bad();
        docConfidence = Math.min(docConfidence, sneaky ? docConfidence : fc.vendor + 0.02);
      } else if (m === "invoice_number") {
        output.invoiceNumber = misreadText(truth.invoiceNumber, rng);
        fc.invoiceNumber = bad();
        docConfidence = Math.min(docConfidence, sneaky ? docConfidence : fc.invoiceNumber + 0.03);
      } else if (m === "currency") {
        const others = (["EUR", "USD", "GBP", "CHF"] as const).filter((c) => c !== truth.currency);
        output.currency = rng.pick(others);
        fc.currency = bad();
        docConfidence = Math.min(docConfidence, sneaky ? docConfidence : fc.currency + 0.02);
      } else if (m === "date") {
        const [y, mo, d] = truth.invoiceDate.split("-");
        output.invoiceDate = `${y}-${d}-${mo}`;
        fc.invoiceDate = bad();
      }
    }
    const lineConf = output.lines.map(() => ({ amount: good(), quantity: good() }));
    if (misreads.includes("line_amount")) {
      const i = rng.int(0, output.lines.length - 1);
      output.lines[i] = { ...output.lines[i], amount: misreadAmount(output.lines[i].amount, rng) };
      lineConf[i].amount = bad();
    }
    if (misreads.includes("missing_line")) {
      output.lines = output.lines.slice(0, -1);
      lineConf.pop();
      // Lines no longer add up to the total: the model knows something is off.
      if (!sneaky) docConfidence = confidence(rng, 0.55, 0.83);
    }
    // False alarms: a correct field read with low confidence.
    if (misreads.length === 0 && p.special === null && rng.chance(0.08)) {
      const field = rng.pick(["total", "invoiceDate", "line"] as const);
      if (field === "line" && lineConf.length > 0) lineConf[rng.int(0, lineConf.length - 1)].amount = confidence(rng, 0.6, 0.84);
      else if (field === "total") fc.total = confidence(rng, 0.7, 0.89);
      else fc.invoiceDate = confidence(rng, 0.6, 0.79);
    }
    lineConf.forEach((l, i) => {
      fc[`lines.${i}.amount`] = l.amount;
      fc[`lines.${i}.quantity`] = l.quantity;
    });

    const flags: string[] = [];
    const eurValue = truth.total * (truth.currency === "USD" ? 0.92 : truth.currency === "GBP" ? 1.17 : truth.currency === "CHF" ? 1.06 : 1);
    if (eurValue > 10_000) flags.push("policy:amount_over_10000");
    if (p.newVendor) flags.push("policy:new_vendor");
    if (p.special === "duplicate") flags.push("dup:possible_duplicate");

    const pages = output.lines.length > 5 ? 2 : 1;
    const item = {
      type: INVOICE_TYPE_KEY,
      externalId: p.externalId,
      model: INVOICE_MODEL,
      input: {
        documentId: p.externalId,
        fileName: `${truth.invoiceNumber.replace(/[^A-Za-z0-9-]/g, "_")}.pdf`,
        source: "ap-inbox@demo.lastmile",
        pages,
        ocrText: ocrText({ ...p.vendor, name: truth.vendor }, truth),
      },
      output,
      confidence: Math.round(docConfidence * 1000) / 1000,
      fieldConfidence: fc,
      flags,
      priority: flags.includes("policy:amount_over_10000") ? 1 : 0,
      occurredAt: new Date(p.occurredAt).toISOString(),
    };
    return { kind: "invoice", externalId: p.externalId, occurredAt: p.occurredAt, truth, output, misreads, special: p.special, flags, item };
  }
}

/** What the simulated AP clerk does with an invoice task: compare with the page, fix what was misread. */
export function invoiceVerdict(c: InvoiceCase, taskKind: string, rng: Rng): Verdict {
  if (c.special === "not_invoice") return { action: "reject", reasonCodes: ["NOT_AN_INVOICE"], note: "Statement/delivery note, nothing to book." };
  if (c.special === "duplicate" && rng.chance(0.9))
    return { action: "reject", reasonCodes: ["DUPLICATE_INVOICE"], note: `Already received as ${c.truth.invoiceNumber}.` };
  if (taskKind === "review" && c.flags.includes("policy:new_vendor") && c.truth.total > 1500) {
    return {
      action: "escalate",
      reasonCodes: [],
      note: "Large first invoice from a vendor not in master data; please confirm the supplier before we book it.",
    };
  }
  if (c.misreads.length === 0 || JSON.stringify(c.output) === JSON.stringify(c.truth)) return { action: "approve", reasonCodes: [] };
  return { action: "correct", output: c.truth, reasonCodes: [...new Set(c.misreads.map((m) => MISREAD_CODE[m]))] };
}
