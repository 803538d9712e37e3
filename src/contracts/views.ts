// Read-only views over the data-space state, for the subject view and for providers
// checking a delivery: what the chain says about one subject, at the head block.

import type { StateReader } from '../execution/runtime.js';
import { type AccessEntry, readAccess } from './access.js';
import type { ConsentEntry } from './consentRules.js';
import { consentStatus, readConsent } from './consents.js';
import { DsKeys, readIndex } from './dataspaceState.js';
import { type DeliveryOutcome, accessOutcomes } from './deliveries.js';
import { type DisputeEntry, isOverdue, readDispute } from './disputes.js';
import { readJson } from './members.js';
import { type RecordEntry, subjectRecords } from './records.js';

export interface SubjectView {
  readonly subject: string;
  readonly asOf: { readonly height: number; readonly time: number };
  readonly records: RecordEntry[];
  /** Every access decision about the subject: authorized, pending and refused. */
  readonly accesses: AccessEntry[];
  readonly consents: (ConsentEntry & { readonly state: ReturnType<typeof consentStatus> })[];
  readonly disputes: (DisputeEntry & { readonly isOverdue: boolean })[];
  /** What providers did with delivery requests under those accesses: delivered or refused. */
  readonly deliveries: DeliveryOutcome[];
}

/** Items per list in one view; older items are paged with `from`. */
export const VIEW_ITEMS_MAX = 1000;

function defined<T>(xs: (T | undefined)[]): T[] {
  return xs.filter((x): x is T => x !== undefined);
}

export function subjectOfKey(read: StateReader, keyHex: string): string | undefined {
  const s = readJson(read, DsKeys.subjectKey(keyHex));
  return typeof s === 'string' ? s : undefined;
}

export function subjectView(read: StateReader, subject: string, at: { height: number; time: number }): SubjectView {
  const ids = (kind: 'con' | 'acc' | 'dis') => readIndex(read, kind, subject, 0, VIEW_ITEMS_MAX);
  const accessIds = ids('acc');
  return {
    subject,
    asOf: at,
    records: subjectRecords(read, subject, VIEW_ITEMS_MAX),
    accesses: defined(accessIds.map((id) => readAccess(read, id))),
    consents: defined(ids('con').map((id) => readConsent(read, id))).map((c) => ({ ...c, state: consentStatus(c, at.time, at.height) })),
    disputes: defined(ids('dis').map((id) => readDispute(read, id))).map((d) => ({ ...d, isOverdue: isOverdue(d, at.time) })),
    deliveries: accessIds.flatMap((id) => accessOutcomes(read, id)).slice(0, VIEW_ITEMS_MAX),
  };
}
