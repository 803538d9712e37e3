// The HTML report escapes every value from the report: no text a provider or subject wrote
// can open a tag, and the page loads nothing from elsewhere.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CreditReport } from './report.js';
import { escapeHtml, renderReportHtml } from './reportHtml.js';

function report(text: string): CreditReport {
  return {
    kind: 'credence-credit-report',
    version: 1,
    subject: `E:${text}`,
    consumer: text,
    accessId: text,
    consentId: text,
    purpose: text,
    categories: [text],
    generatedAt: 0,
    chain: { chainId: text, height: 1 },
    complete: false,
    providers: [{ provider: text, status: 'forged', expected: 1, delivered: 0, error: { code: text, message: text } }],
    records: [
      {
        id: text,
        provider: text,
        schema: text,
        category: text,
        version: 1,
        negative: true,
        data: { [text]: text, n: 5 },
        conductEnd: text,
        anchoredAt: 0,
        commitment: text,
        root: text,
        dispute: { id: text, status: 'open', openedAt: 0, dueAt: 1, overdue: true, statement: text },
      },
    ],
    missing: [text],
  };
}

describe('report HTML', () => {
  it('escapes the five HTML characters', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('no value can inject markup, whatever it holds', () => {
    const baseline = renderReportHtml(report('plain'));
    const tags = (html: string) => (html.match(/</g) ?? []).length;
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const html = renderReportHtml(report(`${s}<img src=x onerror=alert(1)>"'`));
        assert.equal(tags(html), tags(baseline));
        assert.ok(!/<img|<script|<link/i.test(html));
      }),
      { numRuns: 200 },
    );
  });
});
