/**
 * Wrap-safe arithmetic on 32-bit logical positions.
 *
 * Positions live in `Int32Array` words and wrap at 2^32. Any two positions that matter at the same
 * time are less than 2^31 apart (the ring is at most 2^30 bytes), so the signed 32-bit difference
 * orders them correctly across the wrap, where the kernel's `cons_pos < prod_pos` would not.
 */

import { RingBufRangeError } from './errors.js';

/**
 * Refuses a non-number (a BigInt, a string) instead of coercing it: the arithmetic below would
 * otherwise throw an untyped TypeError or return a silently wrong position. With number arguments
 * V8 folds the check away.
 */
function num(x: number, what: string): number {
  if (typeof x !== 'number')
    throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `${what} needs number positions, got ${typeof x}`);
  return x;
}

/** `a - b` as a signed 32-bit distance: positive when `a` is ahead of `b`. */
export function posDiff(a: number, b: number): number {
  return (num(a, 'posDiff') - num(b, 'posDiff')) | 0;
}

/** `pos + n`, wrapped to the 32-bit range (kept in signed Int32 form, as stored). */
export function posAdd(pos: number, n: number): number {
  return (num(pos, 'posAdd') + num(n, 'posAdd')) | 0;
}

/** A stored position as the unsigned value the kernel's query would return. */
export function posToUnsigned(pos: number): number {
  return num(pos, 'posToUnsigned') >>> 0;
}

/** Whichever of two positions is further along. */
export function posMax(a: number, b: number): number {
  return posDiff(a, b) >= 0 ? a : b;
}
