// Point-to-point delivery of records from a provider to a consumer, under an access
// authorization committed on chain. The provider checks the chain (`authorizedRecords`),
// seals the records (record + salt + batch inclusion proof, and any dispute statement) to
// the consumer's sealing key (HPKE in the default suite) and signs the envelope. The
// consumer (`openDelivery`) checks the provider's signature against the chain's member
// keys, opens the seal, and checks every record against its anchor: commitment, batch
// inclusion, subject, provider, schema, and the dispute statement against its hash.

import { canonicalJsonBytes } from '../codec/canonicalJson.js';
import { type AccessEntry, readAccess } from '../contracts/access.js';
import { isRevoked } from '../contracts/consentRules.js';
import { readConsent } from '../contracts/consents.js';
import { type DisputeEntry, readDispute } from '../contracts/disputes.js';
import { orgOfKey } from '../contracts/members.js';
import { type BatchCache, type RecordEntry, recordReader, subjectRecords } from '../contracts/records.js';
import { readJson } from '../contracts/members.js';
import type { CryptoSuite, Signer } from '../crypto/suite.js';
import type { StateReader } from '../execution/runtime.js';
import type { DeliveryEnvelope } from '../sdk/report.js';
import { bytesEqual, fromHex, fromHexStrict, toHex, utf8 } from '../util/bytes.js';
import { CredenceError } from '../util/errors.js';
import { SALT_BYTES, commit, verifyInclusion } from './commitment.js';
import type { Record } from './record.js';

export const DELIVERY_RECORDS_MAX = 1000;
const INFO = utf8('credence/delivery/v1');

export interface DeliveryItem {
  readonly record: Record;
  readonly salt: string;
  readonly proof: { readonly index: number; readonly size: number; readonly path: string[] };
  /** The subject's dispute statement, when the record is disputed. */
  readonly statement?: string;
}

export type Delivery = DeliveryEnvelope;

export interface VerifiedItem extends DeliveryItem {
  readonly anchor: RecordEntry;
  /** The record's salted commitment (hex), checked against its batch root. */
  readonly commitment: string;
  readonly dispute?: DisputeEntry;
}

function refuse(code: string, message: string): never {
  throw new CredenceError(code, message);
}

/**
 * What the chain lets `provider` deliver to `consumer` under `accessId` at head time `now`
 * and height `height`: the provider's current, unexpired records about the access's subject
 * in its categories. Throws NOT_AUTHORIZED with the reason otherwise.
 */
export function authorizedRecords(
  read: StateReader,
  o: { accessId: string; provider: string; consumer: string; now: number; height: number; batches?: BatchCache },
): { access: AccessEntry; records: RecordEntry[] } {
  const access = readAccess(read, o.accessId);
  if (access === undefined) refuse('NOT_AUTHORIZED', 'no such access on chain');
  if (access.consumer !== o.consumer) refuse('NOT_AUTHORIZED', 'the access belongs to another consumer');
  if (access.status !== 'authorized') refuse('NOT_AUTHORIZED', `the access is ${access.status}${access.reason === undefined ? '' : ` (${access.reason})`}`);
  if (access.validUntil === undefined || o.now > access.validUntil) refuse('NOT_AUTHORIZED', 'the access authorization has lapsed; request access again');
  const consent = readConsent(read, access.consentId);
  if (consent === undefined || isRevoked(consent, o.height)) refuse('NOT_AUTHORIZED', 'the consent has been revoked');
  if (o.now >= consent.expiresAt) refuse('NOT_AUTHORIZED', 'the consent has expired');
  const records = subjectRecords(read, access.subject, DELIVERY_RECORDS_MAX, {
    provider: o.provider,
    ...(o.batches === undefined ? {} : { cache: o.batches }),
  }).filter((r) => r.provider === o.provider && isCurrent(r, o.now) && access.categories.includes(r.category));
  return { access, records };
}

/** Active and not past its retention (the chain may not have marked it expired yet). */
export function isCurrent(r: RecordEntry, now: number): boolean {
  return r.status === 'active' && (r.expiresAt === undefined || now < r.expiresAt);
}

function envelopeDigest(suite: CryptoSuite, accessId: string, provider: string, sealed: Uint8Array): Uint8Array {
  return suite.hash(canonicalJsonBytes({ domain: 'credence/delivery/v1', accessId, provider, sealed: toHex(suite.hash(sealed)) }));
}

export async function sealDelivery(
  suite: CryptoSuite,
  signer: Signer,
  o: { accessId: string; provider: string; consumerSealKey: Uint8Array; items: readonly DeliveryItem[]; height?: number },
): Promise<Delivery> {
  const sealed = suite.seal(o.consumerSealKey, canonicalJsonBytes(o.items), INFO, utf8(o.accessId));
  const signature = toHex(await signer.sign(envelopeDigest(suite, o.accessId, o.provider, sealed)));
  const hint = o.height === undefined ? {} : { height: o.height };
  return { accessId: o.accessId, provider: o.provider, signer: toHex(signer.publicKey), sealed: toHex(sealed), signature, ...hint };
}

function forged(message: string): never {
  refuse('FORGED_DELIVERY', message);
}

type RecordAt = (id: string) => RecordEntry | undefined;

function verifyItem(suite: CryptoSuite, read: StateReader, recordAt: RecordAt, d: Delivery, access: AccessEntry, item: DeliveryItem): VerifiedItem {
  const anchor = typeof item.record?.id === 'string' ? recordAt(item.record.id) : undefined;
  if (anchor === undefined) forged('a delivered record is not anchored on chain');
  const salt = fromHexStrict(item.salt);
  if (salt === undefined || salt.byteLength !== SALT_BYTES) forged(`record ${anchor.id} comes without its salt`);
  const commitment = commit(suite, item.record, salt);
  const proof = { index: item.proof.index, size: item.proof.size, path: item.proof.path.map((p) => fromHex(p)) };
  // The id names the record's place in its batch: the proof must be for that place, in a tree of the batch's size.
  if (proof.index !== anchor.index || proof.size !== anchor.batchSize || !verifyInclusion(suite, fromHex(anchor.root), commitment, proof))
    forged(`record ${anchor.id} does not match its anchor: it is not at its place in its anchored batch`);
  if (anchor.provider !== d.provider || item.record.provider !== d.provider) forged('a record from another provider');
  if (anchor.subject !== access.subject || item.record.subject !== access.subject) forged('a record about another subject');
  if (!access.categories.includes(anchor.category)) forged('a record outside the authorized categories');
  const dispute = anchor.dispute === undefined ? undefined : readDispute(read, anchor.dispute.id);
  if (dispute !== undefined && item.statement !== undefined && !bytesEqual(suite.hash(utf8(item.statement)), fromHex(dispute.statementHash))) {
    forged(`the dispute statement of record ${anchor.id} does not match its hash on chain`);
  }
  return { ...item, anchor, commitment: toHex(commitment), ...(dispute === undefined ? {} : { dispute }) };
}

/** Check and open a delivery as the consumer; throws FORGED_DELIVERY on any mismatch. */
export function openDelivery(suite: CryptoSuite, read: StateReader, sealPrivateKeyPem: string, d: Delivery, batches?: BatchCache): VerifiedItem[] {
  const access = readAccess(read, d.accessId);
  if (access === undefined) forged('the delivery names an access that is not on chain');
  if (orgOfKey(read, d.signer)?.id !== d.provider) forged('the delivery is not signed by a key of the provider');
  const sig = fromHexStrict(d.signature);
  const sealed = typeof d.sealed === 'string' ? fromHexStrict(d.sealed) : undefined;
  if (sealed === undefined) forged('the sealed records are not hex');
  if (sig === undefined || !suite.verify(fromHex(d.signer), envelopeDigest(suite, d.accessId, d.provider, sealed), sig))
    forged("the provider's signature does not verify");
  let items: DeliveryItem[];
  try {
    items = JSON.parse(Buffer.from(suite.open(sealPrivateKeyPem, sealed, INFO, utf8(d.accessId))).toString('utf8')) as DeliveryItem[];
  } catch {
    forged('the sealed records do not open with this key');
  }
  if (!Array.isArray(items) || items.length > DELIVERY_RECORDS_MAX) forged('the sealed content is not a list of records');
  const recordAt = recordReader((k) => readJson(read, k), batches);
  return items.map((item) => verifyItem(suite, read, recordAt, d, access, item));
}
