// A credit report as one self-contained HTML page: inline CSS, no scripts, no external
// assets; every value from the report is HTML-escaped.

import type { JsonValue } from '../codec/canonicalJson.js';
import type { CreditReport, ProviderOutcome, ReportRecord } from './report.js';

const ESCAPES: { [c: string]: string } = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const date = (ms: number) => escapeHtml(new Date(ms).toISOString().slice(0, 10));

function value(v: JsonValue): string {
  return escapeHtml(typeof v === 'string' ? v : JSON.stringify(v));
}

function dataTable(data: { readonly [k: string]: JsonValue }): string {
  const rows = Object.entries(data).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${value(v)}</td></tr>`);
  return `<table class="data">${rows.join('')}</table>`;
}

function disputeBlock(r: ReportRecord): string {
  const d = r.dispute;
  if (d === undefined) return '';
  const state =
    d.status === 'open' ? `open since ${date(d.openedAt)}, due ${date(d.dueAt)}${d.overdue ? ' — OVERDUE' : ''}` : `resolved: ${escapeHtml(d.outcome ?? '')}`;
  const statement = d.statement === undefined ? '<p><em>statement not delivered</em></p>' : `<blockquote>${escapeHtml(d.statement)}</blockquote>`;
  return `<div class="dispute"><strong>Disputed by the subject</strong> (${state})<p>The subject's statement:</p>${statement}</div>`;
}

function recordBlock(r: ReportRecord): string {
  const badges = [
    r.negative ? '<span class="neg">negative</span>' : '<span class="pos">positive</span>',
    r.dispute?.status === 'open' ? '<span class="mark">DISPUTED</span>' : '',
  ];
  const facts = [
    `provider ${escapeHtml(r.provider)}`,
    `version ${r.version}`,
    `anchored ${date(r.anchoredAt)}`,
    ...(r.conductEnd === undefined ? [] : [`conduct ended ${escapeHtml(r.conductEnd)}`]),
    ...(r.expiresAt === undefined ? [] : [`shown until ${date(r.expiresAt)}`]),
  ];
  return `<section class="record"><h3>${escapeHtml(r.schema)} ${badges.join(' ')}</h3><p class="facts">${facts.join(' · ')}</p>${dataTable(r.data)}${disputeBlock(r)}<p class="proof">verified against commitment <code>${escapeHtml(r.commitment)}</code> in batch <code>${escapeHtml(r.root)}</code> · record <code>${escapeHtml(r.id)}</code></p></section>`;
}

function providerRow(p: ProviderOutcome): string {
  const err = p.error === undefined ? '' : `${escapeHtml(p.error.code)}: ${escapeHtml(p.error.message)}`;
  return `<tr class="${p.status === 'ok' ? 'ok' : 'bad'}"><td>${escapeHtml(p.provider)}</td><td>${escapeHtml(p.status)}</td><td>${p.delivered} / ${p.expected}</td><td>${err}</td></tr>`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}h3{font-size:1rem;margin:0 0 .3rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.record{border:1px solid #ccc;border-radius:6px;padding:.8rem;margin:1rem 0}.facts,.proof{color:#555;font-size:.85rem}
.proof code{word-break:break-all}.neg{background:#fde2e2;color:#8a1010}.pos{background:#e2f5e2;color:#1d5e1d}
.mark{background:#fff1c2;color:#7a5600;font-weight:bold}.neg,.pos,.mark{padding:0 .4rem;border-radius:4px;font-size:.8rem}
.dispute{background:#fffaf0;border-left:4px solid #e0a800;padding:.4rem .8rem;margin-top:.6rem}
blockquote{margin:.3rem 0;white-space:pre-wrap}tr.bad td{background:#fde2e2}.warn{background:#fde2e2;padding:.5rem}`;

export function renderReportHtml(r: CreditReport): string {
  const warn = r.complete
    ? ''
    : `<p class="warn">This report is incomplete: ${r.missing.length} record(s) were not delivered or did not verify. See the providers below.</p>`;
  const records = r.records.length === 0 ? '<p>No records.</p>' : r.records.map(recordBlock).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Credit report ${escapeHtml(r.subject)}</title><style>${STYLE}</style></head>
<body><h1>Credit report</h1>
<table><tr><th>Subject</th><td>${escapeHtml(r.subject)}</td></tr><tr><th>Requested by</th><td>${escapeHtml(r.consumer)}</td></tr>
<tr><th>Purpose</th><td>${escapeHtml(r.purpose)}</td></tr><tr><th>Categories</th><td>${escapeHtml(r.categories.join(', '))}</td></tr>
<tr><th>Access</th><td><code>${escapeHtml(r.accessId)}</code> under consent <code>${escapeHtml(r.consentId)}</code></td></tr>
<tr><th>Generated</th><td>${escapeHtml(new Date(r.generatedAt).toISOString())} at chain height ${r.chain.height} (${escapeHtml(r.chain.chainId)})</td></tr></table>
${warn}<h2>Records (${r.records.length})</h2>
${records}
<h2>Providers</h2><table><tr><th>Provider</th><th>Status</th><th>Delivered / on chain</th><th>Error</th></tr>${r.providers.map(providerRow).join('')}</table>
<p class="proof">Every record above was checked against its salted commitment and batch root on chain and the provider's signature. Expired records are not shown.</p>
</body></html>
`;
}
