// Dispute statements stay off chain (they may contain personal data): the provider's node
// keeps each text, under the dispute id, in its data directory; the chain holds its hash.
// Reports deliver the text with the record and the consumer checks it against the hash.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CredenceError, Codes } from '../util/errors.js';

const ID_RE = /^[0-9a-f]{16,128}$/;

export class StatementStore {
  constructor(private readonly dir: string) {}

  private path(disputeId: string): string {
    if (!ID_RE.test(disputeId)) throw new CredenceError(Codes.MALFORMED, 'dispute id must be hex');
    return join(this.dir, `${disputeId}.txt`);
  }

  put(disputeId: string, text: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.path(disputeId), text, { mode: 0o600 });
  }

  get(disputeId: string): string | undefined {
    const p = this.path(disputeId);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }
}
