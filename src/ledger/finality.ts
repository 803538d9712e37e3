// Finality for a light client: a block is final when checkpoints signed by a majority of the
// member organizations name exactly its hash and state root. Checked offline against a list
// of organizations and their keys (by default the genesis; pass the current members when
// organizations have joined since).

import { type Checkpoint, checkpointDigest, decodeCheckpoint } from '../codec/checkpoint.js';
import type { BlockHeader } from '../codec/block.js';
import { headerHash } from '../codec/block.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { bytesEqual, fromHexStrict, toHex } from '../util/bytes.js';
import type { OrgSpec } from './genesis.js';

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
