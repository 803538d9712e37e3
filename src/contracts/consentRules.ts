// The consent rule, as a pure function so every place that needs it (the access contract,
// a provider before delivery, privacy-computing jobs) applies the same rule:
// a consent authorizes a consumer to use a subject's records in some categories for one
// purpose until it expires; a revocation takes effect from the block after the one that
// recorded it; a single-use consent authorizes exactly one access.

export interface ConsentEntry {
  readonly id: string;
  readonly subject: string;
  /** Organization id of the consumer. */
  readonly consumer: string;
  readonly categories: readonly string[];
  readonly purpose: string;
  /** Block time (ms) from which the consent no longer authorizes anything. */
  readonly expiresAt: number;
  readonly singleUse: boolean;
  /** The subject key that signed the grant, hex. */
  readonly publicKey: string;
  readonly grantedAt: number;
  readonly grantedHeight: number;
  readonly uses: number;
  readonly revokedAt?: number;
  readonly revokedHeight?: number;
}

/** What someone wants to do under a consent, at a block. */
export interface ConsentUse {
  readonly consumer: string;
  readonly subject: string;
  readonly categories: readonly string[];
  readonly purpose: string;
  readonly time: number;
  readonly height: number;
}

export const ConsentRefusals = {
  NOT_FOUND: 'CONSENT_NOT_FOUND',
  WRONG_SUBJECT: 'CONSENT_WRONG_SUBJECT',
  WRONG_CONSUMER: 'CONSENT_WRONG_CONSUMER',
  WRONG_PURPOSE: 'CONSENT_WRONG_PURPOSE',
  OUT_OF_SCOPE: 'CONSENT_OUT_OF_SCOPE',
  EXPIRED: 'CONSENT_EXPIRED',
  REVOKED: 'CONSENT_REVOKED',
  USED: 'CONSENT_USED',
} as const;
export type ConsentRefusal = (typeof ConsentRefusals)[keyof typeof ConsentRefusals];

export type ConsentCheck = { readonly ok: true } | { readonly ok: false; readonly code: ConsentRefusal };

export function isRevoked(c: ConsentEntry, height: number): boolean {
  return c.revokedHeight !== undefined && height > c.revokedHeight;
}

/** Does consent `c` authorize `use`? The first failing rule names the refusal. */
export function checkConsent(c: ConsentEntry | undefined, use: ConsentUse): ConsentCheck {
  const no = (code: ConsentRefusal): ConsentCheck => ({ ok: false, code });
  if (c === undefined) return no(ConsentRefusals.NOT_FOUND);
  if (c.subject !== use.subject) return no(ConsentRefusals.WRONG_SUBJECT);
  if (c.consumer !== use.consumer) return no(ConsentRefusals.WRONG_CONSUMER);
  if (c.purpose !== use.purpose) return no(ConsentRefusals.WRONG_PURPOSE);
  if (use.categories.length === 0 || !use.categories.every((k) => c.categories.includes(k))) return no(ConsentRefusals.OUT_OF_SCOPE);
  if (isRevoked(c, use.height)) return no(ConsentRefusals.REVOKED);
  if (use.time >= c.expiresAt) return no(ConsentRefusals.EXPIRED);
  if (c.singleUse && c.uses >= 1) return no(ConsentRefusals.USED);
  return { ok: true };
}
