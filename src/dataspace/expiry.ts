// The expiry sweeper (Reg Art 16: negative information is kept 5 years from the end of the
// conduct, then deleted). It asks the vault for records due by its clock, keeps those the
// chain also considers due (expiresAt <= the newest block's time: block time comes from the
// orderer, never from this node), marks them expired on chain with `records.expire`, and
// only then destroys their keys in the vault. A record the chain already shows expired (a
// crash after the transaction) just has its key destroyed. The clock is injected, so tests
// control which records the sweeper considers; the chain still has the last word.

import { isCredenceError } from '../util/errors.js';
import type { ChainPort } from './chainPort.js';
import { EXPIRE_IDS_MAX } from '../contracts/records.js';
import type { BatchVault } from './vault.js';

export interface SweepResult {
  /** Records marked expired on chain and destroyed in the vault in this sweep. */
  readonly expired: string[];
  /** Records due by the sweeper's clock that the chain does not consider due yet. */
  readonly notDue: number;
  readonly error?: { code: string; message: string };
}

export class ExpirySweeper {
  constructor(
    private readonly vault: BatchVault & { destroyKeys(ids: readonly string[]): number },
    private readonly chain: ChainPort,
    private readonly clock: () => number = Date.now,
    private readonly commitTimeoutMs = 60_000,
  ) {}

  /** One sweep; `now` overrides the injected clock for this sweep only. */
  async sweep(now = this.clock()): Promise<SweepResult> {
    const due = this.vault.dueForExpiry(now, EXPIRE_IDS_MAX);
    const blockTime = this.chain.blockTime();
    const alreadyExpired: string[] = [];
    const toExpire: string[] = [];
    let notDue = 0;
    for (const id of due) {
      const r = this.chain.record(id);
      if (r?.status === 'expired') alreadyExpired.push(id);
      else if (r !== undefined && r.provider === this.chain.orgId && r.expiresAt !== undefined && r.expiresAt <= blockTime) toExpire.push(id);
      else notDue++;
    }
    this.vault.destroyKeys(alreadyExpired);
    if (toExpire.length === 0) return { expired: alreadyExpired, notDue };
    try {
      const tx = await this.chain.sign('records', 'expire', { ids: toExpire });
      const outcome = await this.chain.submit(tx, this.commitTimeoutMs);
      if (outcome.kind === 'ok') {
        this.vault.destroyKeys(toExpire);
        return { expired: [...alreadyExpired, ...toExpire], notDue };
      }
      const error =
        outcome.kind === 'refused'
          ? { code: outcome.code, message: outcome.message }
          : { code: 'PENDING', message: 'expire transaction not committed yet; the next sweep settles it' };
      return { expired: alreadyExpired, notDue, error };
    } catch (e) {
      if (!isCredenceError(e)) throw e;
      return { expired: alreadyExpired, notDue, error: { code: e.code, message: e.message } };
    }
  }
}
