import { TokenBucket } from '../../protocol/index.js';

/**
 * Token buckets by key (a client address, a project), kept outside any one connection so a
 * client cannot refill its allowance by reconnecting. A full bucket is the same as a new one,
 * so full buckets are swept; past `maxKeys` the oldest keys are dropped (memory stays bounded
 * however many addresses an attacker cycles through).
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token from `key`'s bucket; false if it is empty. */
  take(key: string): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.sweep();
      bucket = new TokenBucket(this.perSecond, this.burst);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Keys currently tracked (for tests and stats). */
  get size(): number {
    return this.buckets.size;
  }

  /** Drops full buckets; if that frees too little, the oldest tenth. */
  sweep(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
    if (this.buckets.size < this.maxKeys * 0.9) return;
    let drop = Math.ceil(this.maxKeys / 10);
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}
