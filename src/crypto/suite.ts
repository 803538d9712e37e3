// The crypto seam. A network picks one suite at genesis ("default" or "gm") and every hash,
// signature and seal on that chain goes through it. Implementations sit on node:crypto.

export type SuiteName = 'default' | 'gm';

/**
 * A signer is just a function from a 32-byte digest to a signature, so a key can later live
 * in an HSM or a remote KMS without touching any caller.
 */
export type SignFn = (digest: Uint8Array) => Promise<Uint8Array>;

/** A signing identity: the raw public key (as carried in transactions) and its sign function. */
export interface Signer {
  readonly publicKey: Uint8Array;
  readonly sign: SignFn;
}

/** A freshly generated key pair, in PEM (PKCS#8 private, SPKI public) plus the raw public key. */
export interface GeneratedKey {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly publicKey: Uint8Array;
}

export interface CryptoSuite {
  readonly name: SuiteName;
  /** Digest length in bytes (32 for both suites). */
  readonly hashBytes: number;
  /** SHA-256 (default) or SM3 (gm). */
  hash(data: Uint8Array): Uint8Array;
  /** `hash(data)` written into `out` at `offset` (no new array: for many hashes in a row). */
  hashInto(data: Uint8Array, out: Uint8Array, offset: number): void;
  /** HMAC with the suite's hash (HMAC-SHA-256 or HMAC-SM3). */
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;

  /** Raw public key length in bytes: 32 (Ed25519) or 65 (SM2, uncompressed point). */
  readonly publicKeyBytes: number;
  /** Largest signature this suite produces (64 for Ed25519, 72 for DER SM2). */
  readonly signatureBytesMax: number;
  generateSigningKey(): GeneratedKey;
  /** Signer from a PKCS#8 PEM private key; throws CredenceError BAD_KEY if it is not this suite's. */
  signerFromPem(privateKeyPem: string): Signer;
  /** Raw public key from an SPKI PEM; throws CredenceError BAD_KEY. */
  publicKeyFromPem(publicKeyPem: string): Uint8Array;
  /** SPKI PEM for a raw public key. */
  publicKeyToPem(publicKey: Uint8Array): string;
  /** Verify a signature over a 32-byte digest. Never throws on bad input: returns false. */
  verify(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean;

  /** Symmetric authenticated encryption under a 32-byte key: AES-256-GCM (default) or SM4 (gm). */
  encrypt(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Length of what `encrypt` gives for a plaintext of this many bytes. */
  sealedLength(plaintextBytes: number): number;
  /** `encrypt` written into `out` at `offset` (sealedLength(plaintext) bytes), for many seals into one buffer. */
  encryptInto(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array, offset: number): void;
  /** Throws CredenceError DECRYPT_FAILED on any tampering. */
  decrypt(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;

  /** Key pair for sealing to a recipient: X25519 (default, HPKE) or SM2 (gm). */
  generateSealingKey(): GeneratedKey;
  /** Seal plaintext to a recipient's raw sealing public key (HPKE base mode for default). */
  seal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, info?: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Open a sealed message with the recipient's PKCS#8 PEM sealing private key. */
  open(recipientPrivateKeyPem: string, sealed: Uint8Array, info?: Uint8Array, aad?: Uint8Array): Uint8Array;
}
