// Error codes of the privacy protocols (stable; mapped to HTTP statuses in api/errors.ts).

export const PrivacyCodes = {
  /** A protocol message that does not parse, is out of order, or belongs to another job. */
  BAD_MESSAGE: 'PRIVACY_BAD_MESSAGE',
  /** A protocol message seen before (same job, kind and sequence number). */
  REPLAYED: 'PRIVACY_REPLAYED',
  /** A received group element that is non-canonical, off the group, or of low order. */
  BAD_POINT: 'PRIVACY_BAD_POINT',
  /** Declared and received sizes differ, or a set is over the job's limit. */
  SIZE_MISMATCH: 'PRIVACY_SIZE_MISMATCH',
  /** A party stopped answering, or dropped out before the protocol finished. */
  PARTY_DROPPED: 'PRIVACY_PARTY_DROPPED',
  /** A proof or credential that does not verify. */
  BAD_PROOF: 'PRIVACY_BAD_PROOF',
  /** The job does not exist, or is in a state that does not allow this step. */
  JOB_STATE: 'PRIVACY_JOB_STATE',
} as const;
