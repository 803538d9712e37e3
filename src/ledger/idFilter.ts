// A Bloom filter over committed transaction ids, so the replay check on the admission path
// and in the executor almost never touches SQLite: "no" is certain, "maybe" (about 1% of
// fresh ids) falls through to the index. Ids are already uniform hashes, so the bit
// positions are slices of the id itself and no further hashing is needed.

const BITS_PER_ID = 10;
const PROBES = 7;

export class IdFilter {
  private bits: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(private capacity = 1 << 20) {
    this.bits = new Uint32Array(this.sizeWords(capacity));
    this.mask = this.bits.length * 32 - 1;
  }

  private sizeWords(capacity: number): number {
    let n = 1024;
    while (n * 32 < capacity * BITS_PER_ID) n *= 2;
    return n;
  }

  /** Whether the filter needs rebuilding at a larger size (then call `rebuild`). */
  get full(): boolean {
    return this.count > this.capacity;
  }

  /** Start again with room for `capacity` ids (the caller re-adds every id). */
  reset(capacity: number): void {
    this.capacity = capacity;
    this.bits = new Uint32Array(this.sizeWords(capacity));
    this.mask = this.bits.length * 32 - 1;
    this.count = 0;
  }

  private position(id: Uint8Array, i: number): number {
    const o = (i * 4) % (id.byteLength - 3);
    return (((id[o] as number) << 24) | ((id[o + 1] as number) << 16) | ((id[o + 2] as number) << 8) | (id[o + 3] as number)) & this.mask;
  }

  add(id: Uint8Array): void {
    for (let i = 0; i < PROBES; i++) {
      const p = this.position(id, i);
      this.bits[p >>> 5] = (this.bits[p >>> 5] as number) | (1 << (p & 31));
    }
    this.count += 1;
  }

  mightHave(id: Uint8Array): boolean {
    for (let i = 0; i < PROBES; i++) {
      const p = this.position(id, i);
      if (((this.bits[p >>> 5] as number) & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }
}
