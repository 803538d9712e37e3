// The registry of system contracts a node runs. Contracts that check signatures or hashes
// get the network's crypto suite here.

import type { CryptoSuite } from '../crypto/suite.js';
import type { Contract } from '../execution/runtime.js';
import { access } from './access.js';
import { compute } from './compute.js';
import { consentsContract } from './consents.js';
import { deliveries } from './deliveries.js';
import { disputesContract } from './disputes.js';
import { governance } from './governance.js';
import { identityContract } from './identity.js';
import { kv } from './kv.js';
import { recordsContract } from './records.js';

export function systemContracts(suite: CryptoSuite): Map<string, Contract> {
  const all = [governance, kv, identityContract(suite), recordsContract(suite), consentsContract(suite), access, disputesContract(suite), compute, deliveries];
  return new Map(all.map((c) => [c.name, c]));
}
