/**
 * The one way every shared-memory block of the workspace is laid out: a builder that hands out
 * cumulative offsets, in the spirit of Agrona's buffer descriptors. A layout module declares its
 * words in order and gets their indices; nothing writes a numeric offset by hand.
 *
 * Rule: every word written by a different thread (or written often by the same thread while others
 * read) starts a new pair of 64-byte cache lines, {@link LINE_BYTES}, so that one writer's stores
 * never invalidate another writer's line (Agrona's adjacent-line padding). Words that one writer
 * updates together, or that are written once and read-only afterwards, may share a line pair.
 *
 * ```ts
 * const b = new SharedLayout();
 * export const STOP_INDEX = b.line().int32();      // Int32Array index, own line pair
 * export const STATE_INDEX = b.line().int32();
 * export const COUNTERS_F64 = b.line().float64s(8); // Float64Array index of the first of 8
 * export const BLOCK_BYTES = b.bytes();              // rounded up to a whole line pair
 * ```
 *
 * The builder runs once, at module load; the constants it yields are plain numbers on hot paths.
 */

import { describeValue, RingBufRangeError } from './errors.js';

/** Bytes per 32-bit word. */
export const WORD_BYTES = 4;
/** Bytes per 64-bit float. */
export const DOUBLE_BYTES = 8;
/** Each independently written word gets two 64-byte cache lines (adjacent-line prefetch). */
export const LINE_BYTES = 128;

/** Hands out the offsets of one shared block, in declaration order. */
export class SharedLayout {
  private offset: number;

  /** @param start byte offset of the first field (a multiple of 8). */
  constructor(start = 0) {
    if (!Number.isInteger(start) || start < 0 || start % DOUBLE_BYTES !== 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `a shared layout starts at a non-negative multiple of 8, got ${describeValue(start)}`,
      );
    }
    this.offset = start;
  }

  /** Starts the next field on a new pair of cache lines (no-op when already at a line start). */
  line(): this {
    this.offset = Math.ceil(this.offset / LINE_BYTES) * LINE_BYTES;
    return this;
  }

  /** Moves to byte `offset` (at or after the current one), e.g. to put a data area on a page. */
  at(offset: number): this {
    if (!Number.isInteger(offset) || offset < this.offset || offset % DOUBLE_BYTES !== 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `cannot move a shared layout back or off 8-byte alignment (at ${this.offset}, asked ${describeValue(offset)})`,
      );
    }
    this.offset = offset;
    return this;
  }

  /** One 32-bit word; returns its `Int32Array` index. */
  int32(): number {
    return this.int32s(1);
  }

  /** `n` consecutive 32-bit words; returns the `Int32Array` index of the first. */
  int32s(n: number): number {
    checkCount(n);
    const index = this.offset / WORD_BYTES;
    this.offset += n * WORD_BYTES;
    return index;
  }

  /** One 64-bit float, 8-byte aligned; returns its `Float64Array` index. */
  float64(): number {
    return this.float64s(1);
  }

  /** `n` consecutive 64-bit floats, 8-byte aligned; returns the `Float64Array` index of the first. */
  float64s(n: number): number {
    checkCount(n);
    this.offset = Math.ceil(this.offset / DOUBLE_BYTES) * DOUBLE_BYTES;
    const index = this.offset / DOUBLE_BYTES;
    this.offset += n * DOUBLE_BYTES;
    return index;
  }

  /** Byte offset of the next field (for layouts that need a byte position, such as a data area). */
  here(): number {
    return this.offset;
  }

  /** Bytes of the block so far, rounded up to a whole line pair. */
  bytes(): number {
    return Math.ceil(this.offset / LINE_BYTES) * LINE_BYTES;
  }
}

function checkCount(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2 ** 24) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `a shared layout field count must be an integer from 0 to 2^24, got ${describeValue(n)}`,
    );
  }
}
