// Synthetic source data for the demo and tests: SMEs with valid Unified Social Credit Codes,
// persons with valid resident ID numbers, and several years of records in every category,
// written as the JSONL files each provider imports. Deterministic for a given seed, so a
// test can regenerate the same raw identifiers and look for them where they must not be.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../codec/canonicalJson.js';
import { residentIdCheckChar, usccCheckChar } from './identifiers.js';
import { rng } from '../util/rng.js';

export interface SyntheticScale {
  readonly smes: number;
  readonly persons: number;
  readonly years: number;
}

export const FULL_SCALE: SyntheticScale = { smes: 1000, persons: 300, years: 4 };
export const SMALL_SCALE: SyntheticScale = { smes: 40, persons: 12, years: 2 };

/** One source file: which provider imports it, under which schema. */
export interface SourceFile {
  readonly provider: string;
  readonly schema: string;
  readonly file: string;
  readonly rows: number;
}

type Row = { [k: string]: JsonValue };

const USCC_BODY = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const REGIONS = ['330100', '330200', '320100', '320500', '110105', '310115'];

export class SyntheticData {
  readonly smes: string[] = [];
  readonly persons: string[] = [];
  private readonly r: () => number;

  constructor(
    readonly scale: SyntheticScale,
    seed = 20240601,
  ) {
    this.r = rng(seed);
    const seen = new Set<string>();
    while (this.smes.length < scale.smes) {
      const first = `91${this.pick(REGIONS)}${Array.from({ length: 9 }, () => this.pick([...USCC_BODY])).join('')}`;
      const code = first + usccCheckChar(first);
      if (!seen.has(code)) this.smes.push(code);
      seen.add(code);
    }
    while (this.persons.length < scale.persons) {
      const birth = new Date(Date.UTC(1960 + this.int(0, 40), this.int(0, 11), this.int(1, 28))).toISOString().slice(0, 10).replaceAll('-', '');
      const first = `${this.pick(REGIONS)}${birth}${String(this.int(0, 999)).padStart(3, '0')}`;
      const id = first + residentIdCheckChar(first);
      if (!seen.has(id)) this.persons.push(id);
      seen.add(id);
    }
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.r() * (max - min + 1));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)] as T;
  }

  private chance(p: number): boolean {
    return this.r() < p;
  }

  /** Years covered, most recent last (ending last year). */
  years(): number[] {
    const last = new Date().getUTCFullYear() - 1;
    return Array.from({ length: this.scale.years }, (_, i) => last - this.scale.years + 1 + i);
  }

  private date(year: number, month = this.int(1, 12)): string {
    return `${year}-${String(month).padStart(2, '0')}-${String(this.int(1, 28)).padStart(2, '0')}`;
  }

  /** Every source file's rows, keyed by provider and schema. */
  sources(): { provider: string; schema: string; rows: Row[] }[] {
    const years = this.years();
    const quarters = [3, 6, 9, 12];
    const tax: Row[] = [];
    const grades: Row[] = [];
    const social: Row[] = [];
    const utility: Row[] = [];
    const loansA: Row[] = [];
    const loansB: Row[] = [];
    const judgments: Row[] = [];
    const dishonest: Row[] = [];
    const penalties: Row[] = [];
    const licences: Row[] = [];
    this.smes.forEach((uscc, i) => {
      const s = { uscc };
      licences.push({
        ...s,
        ref: `lic-${i}`,
        licenceNumber: `L${100000 + i}`,
        authority: 'Market Regulation Bureau',
        licenceType: this.pick(['food trading', 'construction', 'road transport', 'pharma retail']),
        issuedOn: this.date(years[0] as number),
        status: 'valid',
      });
      for (const y of years) {
        const points = this.int(30, 100);
        const grade = points >= 90 ? 'A' : points >= 70 ? 'B' : points >= 40 ? 'C' : 'D';
        grades.push({ ...s, ref: `grade-${i}-${y}`, year: y, grade, points, assessedBy: 'Provincial Tax Bureau' });
        for (const q of quarters) {
          const onTime = this.chance(0.93);
          tax.push({
            ...s,
            ref: `vat-${i}-${y}-${q}`,
            period: `${y}-${String(q).padStart(2, '0')}`,
            taxType: 'vat',
            amountCents: this.int(10_000, 5_000_000),
            dueOn: `${y}-${String(q).padStart(2, '0')}-15`,
            onTime,
          });
          social.push({
            ...s,
            ref: `si-${i}-${y}-${q}`,
            period: `${y}-${String(q).padStart(2, '0')}`,
            scheme: 'pension',
            insuredCount: this.int(3, 200),
            amountCents: this.int(50_000, 2_000_000),
            status: this.chance(0.95) ? 'paid' : 'arrears',
          });
        }
        if (i % 3 === 0) {
          const bank = i % 2 === 0 ? loansA : loansB;
          bank.push({
            ...s,
            ref: `loan-${i}-${y}`,
            period: `${y}-12`,
            loanRef: `WC-${i}`,
            loanType: 'working-capital',
            balanceCents: this.int(1_000_000, 50_000_000),
            overdueDays: this.chance(0.1) ? this.int(1, 120) : 0,
            status: this.chance(0.1) ? 'overdue' : 'current',
          });
        }
      }
      if (i % 25 === 0) {
        const y = this.pick(years);
        judgments.push({
          ...s,
          ref: `jud-${i}`,
          caseNumber: `(${y})浙0106民初${1000 + i}号`,
          court: 'Hangzhou Xihu District Court',
          judgmentDate: this.date(y),
          causeOfAction: 'sales contract dispute',
          amountCents: this.int(100_000, 10_000_000),
          performedOn: this.date(y),
        });
      }
      if (i % 40 === 1) {
        const y = this.pick(years);
        dishonest.push({
          ...s,
          ref: `dis-${i}`,
          caseNumber: `(${y})浙0106执${500 + i}号`,
          court: 'Hangzhou Xihu District Court',
          listedOn: this.date(y),
          obligation: 'pay the judgment debt',
          unperformedCents: this.int(100_000, 5_000_000),
          delistedOn: this.date(y, 12),
        });
      }
      if (i % 20 === 2) {
        const y = this.pick(years);
        penalties.push({
          ...s,
          ref: `pen-${i}`,
          decisionNumber: `杭市监罚〔${y}〕${i}号`,
          authority: 'Hangzhou Market Regulation Bureau',
          decidedOn: this.date(y),
          violation: 'false advertising',
          penaltyType: 'fine',
          amountCents: this.int(10_000, 500_000),
          performedOn: this.date(y),
        });
      }
    });
    this.persons.forEach((residentId, i) => {
      const p = { residentId };
      for (const y of years) {
        for (const q of quarters) {
          utility.push({
            ...p,
            ref: `ut-${i}-${y}-${q}`,
            period: `${y}-${String(q).padStart(2, '0')}`,
            utility: this.pick(['water', 'electricity', 'gas']),
            billedCents: this.int(2_000, 80_000),
            status: this.chance(0.95) ? 'paid' : 'late',
          });
        }
        (i % 2 === 0 ? loansA : loansB).push({
          ...p,
          ref: `pl-${i}-${y}`,
          period: `${y}-12`,
          loanRef: `CC-${i}`,
          loanType: 'credit-card',
          balanceCents: this.int(0, 3_000_000),
          overdueDays: 0,
          status: 'current',
        });
      }
      if (i % 30 === 0) {
        const y = this.pick(years);
        judgments.push({
          ...p,
          ref: `pjud-${i}`,
          caseNumber: `(${y})浙0106民初${9000 + i}号`,
          court: 'Hangzhou Xihu District Court',
          judgmentDate: this.date(y),
          causeOfAction: 'private lending dispute',
          amountCents: this.int(10_000, 1_000_000),
          performedOn: this.date(y),
        });
      }
    });
    // One judgment whose conduct ended more than five years ago: due to expire at once (the demo's expiry step).
    const old = new Date(Date.now() - (5 * 366 + 3) * 86_400_000).toISOString().slice(0, 10);
    judgments.push({
      uscc: this.smes[0] as string,
      ref: 'jud-expired',
      caseNumber: '(2019)浙0106民初1号',
      court: 'Hangzhou Xihu District Court',
      judgmentDate: old,
      causeOfAction: 'lease dispute',
      performedOn: old,
    });
    return [
      { provider: 'tax', schema: 'tax-payment', rows: tax },
      { provider: 'tax', schema: 'tax-credit-grade', rows: grades },
      { provider: 'zj-credit', schema: 'social-insurance', rows: social },
      { provider: 'js-credit', schema: 'utility-payment', rows: utility },
      { provider: 'bank-a', schema: 'loan-repayment', rows: loansA },
      { provider: 'bank-b', schema: 'loan-repayment', rows: loansB },
      { provider: 'court', schema: 'court-judgment', rows: judgments },
      { provider: 'court', schema: 'dishonest-debtor', rows: dishonest },
      { provider: 'zj-credit', schema: 'administrative-penalty', rows: penalties },
      { provider: 'js-credit', schema: 'administrative-licence', rows: licences },
    ];
  }

  /** Write every source as `DIR/<provider>-<schema>.jsonl`; returns what was written. */
  write(dir: string): SourceFile[] {
    mkdirSync(dir, { recursive: true });
    return this.sources().map((s) => {
      const file = join(dir, `${s.provider}-${s.schema}.jsonl`);
      writeFileSync(
        file,
        s.rows
          .map((r) => JSON.stringify(r))
          .join('\n')
          .concat('\n'),
      );
      return { provider: s.provider, schema: s.schema, file, rows: s.rows.length };
    });
  }
}
