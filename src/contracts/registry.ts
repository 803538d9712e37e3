// The registry of system contracts a node runs. Later contracts (identity, schemas, records,
// consents, access, disputes, compute jobs) register here.

import type { Contract } from '../execution/runtime.js';
import { governance } from './governance.js';
import { kv } from './kv.js';

export function systemContracts(): Map<string, Contract> {
  return new Map([governance, kv].map((c) => [c.name, c]));
}
