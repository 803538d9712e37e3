// The registry of crypto suites, keyed by the name a network fixes at genesis. Callers resolve
// a suite once at wiring time and pass the CryptoSuite down; nothing below `node` picks one itself.

import { CredenceError, Codes } from '../util/errors.js';
import { defaultSuite } from './default.js';
import { gmSuite } from './gm.js';
import type { CryptoSuite, SuiteName } from './suite.js';

const SUITES: Readonly<Record<SuiteName, CryptoSuite>> = { default: defaultSuite, gm: gmSuite };

/** Every supported suite name. */
export const SUITE_NAMES: readonly SuiteName[] = Object.freeze(['default', 'gm'] as const);

export function isSuiteName(name: string): name is SuiteName {
  return (SUITE_NAMES as readonly string[]).includes(name);
}

/**
 * The suite called `name`; throws CredenceError UNSUPPORTED_SUITE otherwise.
 * @example getSuite('gm').hash(utf8('abc'))
 */
export function getSuite(name: string): CryptoSuite {
  if (!isSuiteName(name)) {
    throw new CredenceError(Codes.UNSUPPORTED_SUITE, `unknown crypto suite "${name}"; use one of: ${SUITE_NAMES.join(', ')}`, {
      suite: name.slice(0, 64),
    });
  }
  return SUITES[name];
}
