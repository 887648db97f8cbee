/**
 * A tiny seeded PRNG (mulberry32): allocation-free, deterministic across threads, good enough for
 * load shapes and fault schedules (not for cryptography).
 */
import { PoolError, describe } from './errors.js';

/** Whether `seed` is a 32-bit seed: an integer from -2^31 to 2^32 - 1 (signed or unsigned form). */
export function isSeed(seed: unknown): seed is number {
  return typeof seed === 'number' && Number.isInteger(seed) && seed >= -(2 ** 31) && seed <= 2 ** 32 - 1;
}

export class Prng {
  private state: number;

  /**
   * @param seed a 32-bit seed (an integer from -2^31 to 2^32 - 1; a seed and its unsigned form are
   *   the same seed).
   * @throws PoolError `ERR_POOL_ARGUMENT` for any other seed (a fraction, NaN, a BigInt, a string, a
   *   seed of more than 32 bits that would silently alias another).
   */
  constructor(seed: number) {
    if (!isSeed(seed))
      throw new PoolError(
        'ERR_POOL_ARGUMENT',
        `Prng seed must be an integer from -2^31 to 2^32 - 1, got ${describe(seed)}`,
      );
    this.state = seed | 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** Derives a per-producer seed from the pool's seed and the producer id (splitmix-style mixing). */
export function deriveSeed(seed: number, producerId: number): number {
  let z = (seed ^ Math.imul(producerId, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}
