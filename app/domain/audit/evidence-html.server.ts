/**
 * The printable page of an evidence pack: plain HTML, no scripts, one style
 * element (carrying the request's CSP nonce when there is one).
 */
import type { EvidencePack } from "./evidence.server";

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const pre = (v: unknown) => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
const iso = (ms: number) => new Date(ms).toISOString();

function rows(pairs: [string, string][]): string {
  return `<table class="kv">${pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</table>`;
}

const STYLE = `
body{font:13px/1.45 system-ui,sans-serif;color:#0f172a;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:20px;margin:0 0 .25rem}h2{font-size:15px;margin:1.5rem 0 .5rem;border-bottom:1px solid #cbd5e1}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:3px 6px;border-bottom:1px solid #e2e8f0}
.kv th{width:12rem;color:#475569;font-weight:500}pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:12px}
code,.hash{font-family:ui-monospace,monospace;font-size:11px;word-break:break-all}.muted{color:#64748b}
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}`;

export function renderEvidenceHtml(pack: EvidencePack, nonce?: string): string {
  const d = pack.decision;
  const a = pack.audit;
  const reviews = !d.sealed
    ? d.reviews.length
      ? `<table><tr><th>When</th><th>Reviewer</th><th>Kind</th><th>Action</th><th>Reason codes</th><th>Changed fields</th><th>Note</th></tr>${d.reviews
          .map(
            (r) =>
              `<tr><td>${esc(r.at)}</td><td>${esc(r.reviewer)}</td><td>${esc(r.kind)}</td><td>${esc(r.action)}</td><td>${esc(r.reasonCodes.join(", "))}</td><td>${esc(r.changedFields.join(", "))}</td><td>${esc(r.note)}</td></tr>`,
          )
          .join("")}</table>`
      : `<p class="muted">No human review.</p>`
    : `<p class="muted">The decision is waiting for review: verdicts given so far (a four-eyes first verdict) stay sealed until it is final.</p>`;
  const entries = `<table><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th>Data</th><th>Hash</th></tr>${a.entries
    .map((e) =>
      e.content
        ? `<tr><td>${e.seq}</td><td>${esc(iso(e.content.at))}</td><td>${esc(e.content.actor)}</td><td>${esc(e.content.action)}</td><td><code>${esc(e.content.data)}</code></td><td class="hash">${esc(e.hash)}</td></tr>`
        : `<tr><td>${e.seq}</td><td colspan="4" class="muted">Sealed while the decision waits for review (only its hash is shown)</td><td class="hash">${esc(e.hash)}</td></tr>`,
    )
    .join("")}</table>`;
  const checkpoints = a.proofs.length
    ? `<table><tr><th>Covers through #</th><th>Signed at</th><th>Head hash</th><th>Key</th><th>Links in proof</th></tr>${a.proofs
        .map(
          (p) =>
            `<tr><td>${p.checkpoint.seq}</td><td>${esc(iso(p.checkpoint.at))}</td><td class="hash">${esc(p.checkpoint.headHash)}</td><td><code>${esc(p.checkpoint.keyId)}</code></td><td>${p.links.length}</td></tr>`,
        )
        .join("")}</table>`
    : `<p class="muted">No signed checkpoint covers these entries yet.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evidence pack · ${esc(d.id)}</title>
<style${nonce ? ` nonce="${esc(nonce)}"` : ""}>${STYLE}</style></head>
<body>
<h1>Evidence pack: decision ${esc(d.id)}</h1>
<p class="muted">Generated ${esc(pack.generatedAt)} · format ${esc(pack.format)}</p>
<h2>Decision</h2>
${rows([
  ["Type", esc(d.type)],
  ["External id", esc(d.externalId)],
  ["Model", `${esc(d.model.name)} ${esc(d.model.version)}`],
  ["Routing policy version", esc(d.policyVersion)],
  ["Received", esc(d.receivedAt)],
  ["Confidence", esc(d.confidence)],
  ["Flags", esc(d.flags.join(", ") || "none")],
])}
<h2>Why it was routed</h2>
${rows([
  ["Route", esc(d.route)],
  ["Reasons", esc(d.reasons.join("; ") || "none")],
  ["QA sample", d.qaSampled ? "yes" : "no"],
])}
<h2>Input</h2>${pre(d.input)}
<h2>Model output</h2>${pre(d.output)}
<h2>Reviews</h2>${reviews}
<h2>Final outcome</h2>
${
  d.final
    ? rows([
        ["Status", esc(d.status)],
        ["Finalized", esc(d.finalizedAt ?? "—")],
        ["Finalized by", esc(d.finalizedBy ?? "—")],
      ]) + pre(d.finalOutput ?? d.output)
    : `<p>Not final: status <strong>${esc(d.status)}</strong>.</p>`
}
<h2>Audit entries</h2>${entries}
<h2>Signed checkpoints</h2>${checkpoints}
${a.unproven ? `<p><strong>Not proven:</strong> entries ${esc(a.unproven.seqs.join(", "))}: ${esc(a.unproven.reason)}</p>` : ""}
<p class="muted">Hash formula: ${esc(a.hashFormula)}. Checkpoints are signed with Ed25519 (key ${esc(a.publicKey.keyId)}; public key at ${esc(a.publicKey.url)}).
To check this pack, download its JSON and run <code>npx lastmile audit verify --pack FILE --public-key KEY.pem</code>.</p>
</body></html>`;
}
