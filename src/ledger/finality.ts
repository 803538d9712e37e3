// Finality for a light client: a block is final when checkpoints signed by a majority of the
// member organizations name exactly its hash and state root. Checked offline against the
// genesis organizations, changed by the membership epochs a proof carries: each epoch is a
// block where the member list changed, final under the members before it, with the new list
// and records proven against its state root. So organizations that joined later count, and
// a server cannot invent members: every change is vouched for by the previous majority.

import { type Checkpoint, checkpointDigest, decodeCheckpoint } from '../codec/checkpoint.js';
import type { BlockHeader } from '../codec/block.js';
import { decodeHeader, headerHash } from '../codec/block.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { bytesEqual, fromHexStrict, toHex } from '../util/bytes.js';
import type { HashFn } from './merkle.js';
import type { OrgSpec } from './genesis.js';
import { type StateProof, verifyStateProof } from './stateProof.js';

export interface FinalityCheck {
  readonly final: boolean;
  /** Organizations whose valid checkpoint matches the block. */
  readonly signedBy: string[];
  readonly needed: number;
  /** Why some checkpoints did not count. */
  readonly ignored: string[];
}

/** Most checkpoints looked at in one proof. */
const CHECKPOINTS_MAX = 256;

export function checkFinality(suite: CryptoSuite, header: BlockHeader, checkpointsHex: readonly unknown[], orgs: readonly OrgSpec[]): FinalityCheck {
  const hash = (d: Uint8Array) => suite.hash(d);
  const blockHash = headerHash(hash, header);
  const orgOf = new Map<string, string>();
  for (const o of orgs) for (const k of o.keys) orgOf.set(k, o.id);
  const signedBy = new Set<string>();
  const ignored: string[] = [];
  for (const [i, hex] of checkpointsHex.slice(0, CHECKPOINTS_MAX).entries()) {
    const bytes = typeof hex === 'string' ? fromHexStrict(hex) : undefined;
    let ck: Checkpoint;
    try {
      if (bytes === undefined) throw new Error('not hex');
      ck = decodeCheckpoint(bytes);
    } catch {
      ignored.push(`checkpoint ${i} is malformed`);
      continue;
    }
    const org = orgOf.get(toHex(ck.signer));
    if (org === undefined) ignored.push(`checkpoint ${i} is signed by a key of no member organization`);
    else if (
      ck.chainId !== header.chainId ||
      ck.height !== header.height ||
      !bytesEqual(ck.blockHash, blockHash) ||
      !bytesEqual(ck.stateRoot, header.stateRoot)
    ) {
      ignored.push(`checkpoint ${i} (${org}) is for another block`);
    } else if (!suite.verify(ck.signer, checkpointDigest(hash, ck), ck.signature)) ignored.push(`checkpoint ${i} (${org}) has a bad signature`);
    else signedBy.add(org);
  }
  const needed = Math.floor(orgs.length / 2) + 1;
  return { final: signedBy.size >= needed, signedBy: [...signedBy].sort(), needed, ignored };
}

// ---- organizations that joined (or left) after genesis -------------------------------------

/**
 * A change of the member set, as a light client can check it: the block where the member list
 * changed, checkpoints of that block, and the member list and every member's record proven
 * against that block's state root (values are canonical JSON, hex).
 */
export interface MembershipEpoch {
  readonly height: number;
  readonly header: string;
  readonly checkpoints: string[];
  readonly orgList: { readonly value: string; readonly proof: StateProof };
  readonly orgs: { readonly id: string; readonly value: string; readonly proof: StateProof }[];
}

export interface Members {
  readonly orgs: OrgSpec[];
  /** Height of the last change that was accepted (0: the genesis). */
  readonly since: number;
  /** Why a change was not accepted (the members before it then stand). */
  readonly problems: string[];
}

/** Most membership changes looked at in one proof. */
const EPOCHS_MAX = 64;
const ORG_LIST_KEY = 'gov/orgs';
const orgKey = (id: string) => `gov/org/${id}`;

function provenJson(hash: HashFn, root: Uint8Array, key: string, entry: { value: unknown; proof: StateProof } | undefined): unknown {
  const bytes = typeof entry?.value === 'string' ? fromHexStrict(entry.value) : undefined;
  if (entry === undefined || bytes === undefined || !verifyStateProof(hash, root, key, bytes, entry.proof)) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** A block header from hex, or undefined when it is not one. */
export function headerFromHex(hex: unknown): BlockHeader | undefined {
  const bytes = typeof hex === 'string' ? fromHexStrict(hex) : undefined;
  try {
    return bytes === undefined ? undefined : decodeHeader(bytes);
  } catch {
    return undefined;
  }
}

/** The member set an epoch proves, or why not (its block must be final under `members`). */
function applyEpoch(suite: CryptoSuite, members: readonly OrgSpec[], e: MembershipEpoch): OrgSpec[] | string {
  const hash = (d: Uint8Array) => suite.hash(d);
  const header = headerFromHex(e.header);
  if (header === undefined) return `membership change at height ${e.height}: header is malformed`;
  if (header.height !== e.height) return `membership change at height ${e.height}: header is for height ${header.height}`;
  const f = checkFinality(suite, header, Array.isArray(e.checkpoints) ? e.checkpoints : [], members);
  if (!f.final) return `membership change at height ${e.height} is not final under the members before it (${f.signedBy.length} of ${f.needed} needed)`;
  const list = provenJson(hash, header.stateRoot, ORG_LIST_KEY, e.orgList);
  if (!Array.isArray(list) || list.length > CHECKPOINTS_MAX || !list.every((id) => typeof id === 'string'))
    return `membership change at height ${e.height}: the member list does not match the state root`;
  const out: OrgSpec[] = [];
  for (const id of list as string[]) {
    const rec = provenJson(hash, header.stateRoot, orgKey(id), Array.isArray(e.orgs) ? e.orgs.find((o) => o.id === id) : undefined) as OrgSpec | undefined;
    if (rec === undefined || rec.id !== id || !Array.isArray(rec.keys))
      return `membership change at height ${e.height}: the record of ${id} does not match the state root`;
    out.push(rec);
  }
  return out;
}

/**
 * The member organizations at `height`: the genesis ones, changed by each epoch at or below
 * `height`, in order, as long as each change is final under the members before it.
 */
export function membersAt(suite: CryptoSuite, genesisOrgs: readonly OrgSpec[], epochs: readonly unknown[], height: number): Members {
  let orgs = [...genesisOrgs];
  let since = 0;
  const list = (Array.isArray(epochs) ? epochs : []).slice(0, EPOCHS_MAX) as MembershipEpoch[];
  for (const e of [...list].filter((x) => Number.isSafeInteger(x?.height) && x.height > 0 && x.height <= height).sort((a, b) => a.height - b.height)) {
    const next = applyEpoch(suite, orgs, e);
    if (typeof next === 'string') return { orgs, since, problems: [next] };
    orgs = next;
    since = e.height;
  }
  return { orgs, since, problems: [] };
}
