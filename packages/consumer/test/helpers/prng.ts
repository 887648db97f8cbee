/**
 * A tiny seeded PRNG for tests (mulberry32: 32-bit state, period 2^32).
 *
 * Every randomized test takes its seed from {@link seedFromEnv} and prints it with `t.log`, so any
 * failure can be replayed with `RINGBUF_SEED=<seed> npx ava ...`.
 *
 * Thread: any; each instance is independent and not shared between threads.
 */

/** A seeded pseudo-random number generator. */
export interface Prng {
  /** The seed this generator was created with (print it). */
  readonly seed: number;
  /** Next raw 32-bit unsigned value. */
  nextU32(): number;
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive). @throws RangeError if hi < lo. */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. @throws RangeError if the array is empty. */
  pick<T>(items: readonly T[]): T;
  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void;
}

/**
 * Creates a mulberry32 generator.
 * @param seed - any number; it is reduced to an unsigned 32-bit integer.
 */
export function mulberry32(seed: number): Prng {
  let state = seed >>> 0;
  const nextU32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  const next = (): number => nextU32() / 4294967296;
  return {
    seed: seed >>> 0,
    nextU32,
    next,
    int(lo: number, hi: number): number {
      if (hi < lo) throw new RangeError(`int(${lo}, ${hi}): hi < lo`);
      return lo + Math.floor(next() * (hi - lo + 1));
    },
    chance(p: number): boolean {
      return next() < p;
    },
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick() from an empty array');
      return items[Math.floor(next() * items.length)] as T;
    },
    fill(bytes: Uint8Array): void {
      for (let i = 0; i < bytes.length; i++) bytes[i] = nextU32() & 0xff;
    },
  };
}

/**
 * The seed for a randomized test: `RINGBUF_SEED` from the environment if set (decimal or 0x-hex),
 * otherwise a fresh random one. Print it with `t.log(\`seed=${seed}\`)`.
 * @throws RangeError if RINGBUF_SEED is set but not an integer.
 */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['RINGBUF_SEED'];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new RangeError(`RINGBUF_SEED=${raw} is not an integer`);
    return n >>> 0;
  }
  return (Math.random() * 4294967296) >>> 0;
}
