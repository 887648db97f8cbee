/**
 * Framing errors and the walk over framed records of the kernel ring (ring.ts). The checks
 * themselves, `RingBuffer.isFramed` and `RingBuffer.isSpan`, stay methods of the ring: the consumer's
 * walk calls them once per record and per batch, and they must stay inlinable there. What is here
 * runs once per error or off the hot paths: naming what a refused header or span has wrong, and
 * the walk recovery and left-behind counting make.
 */
import { RingBufCorruptionError, RingBufError } from './errors.js';
import { HDR_LEN_MASK, HDR_OWNER_WORD, headerIndex, recordFootprint } from './layout.js';
import { posDiff } from './positions.js';

/** What the framing functions read of a ring (a `RingBuffer`, structurally). */
export interface FramedRing {
  /** The whole buffer as 32-bit words. */
  readonly i32: Int32Array;
  /** Data area bytes. */
  readonly size: number;
  /** `size - 1`. */
  readonly mask: number;
  /** Largest payload a record can have in this ring. */
  readonly maxPayload: number;
  /** See `RingBuffer.isFramed`. */
  isFramed(pos: number, limit: number, hdr: number): boolean;
  /** See `RingBuffer.isSpan`. */
  isSpan(from: number, prodPos: number): boolean;
  /** See `RingBuffer.headerAt`. */
  headerAt(offset: number): number;
}

/** The error for a header that `RingBuffer.isFramed` refused, naming what is wrong with it. */
export function frameError(ring: FramedRing, pos: number, limit: number, hdr: number): RingBufCorruptionError {
  const size = hdr & HDR_LEN_MASK;
  const at = pos >>> 0;
  if (size > ring.maxPayload) {
    return new RingBufCorruptionError(
      at,
      `corrupt record header at position ${at}: length ${size} exceeds the largest payload ${ring.maxPayload}`,
    );
  }
  if (recordFootprint(size) > ((limit - pos) | 0)) {
    return new RingBufCorruptionError(
      at,
      `corrupt record header at position ${at}: length ${size} runs past producer_pos ${limit >>> 0}`,
    );
  }
  const owner = ring.i32[headerIndex(pos & ring.mask) + HDR_OWNER_WORD]! >>> 0;
  return new RingBufCorruptionError(
    at,
    `corrupt record header at position ${at}: owner word ${owner} is not a producer id`,
  );
}

/** The error for a span that `RingBuffer.isSpan` refused, in a ring of `size` bytes. */
export function spanError(size: number, from: number, prodPos: number): RingBufCorruptionError {
  const d = (prodPos - from) | 0;
  if (((from | prodPos) & 7) !== 0) {
    const [what, pos] = (from & 7) !== 0 ? ['consumer_pos', from] : ['producer_pos', prodPos];
    return new RingBufCorruptionError(
      from >>> 0,
      `corrupt positions: ${what} ${pos >>> 0} is not a record boundary (records start 8-byte aligned)`,
    );
  }
  return new RingBufCorruptionError(
    from >>> 0,
    d < 0
      ? `corrupt positions: producer_pos ${prodPos >>> 0} is behind consumer_pos ${from >>> 0}`
      : `corrupt positions: producer_pos ${prodPos >>> 0} is ${d >>> 0} bytes ahead of consumer_pos ${from >>> 0}, ` +
          `at least the ring's ${size} (a position moved by a lap or more)`,
  );
}

/**
 * The error for corruption reserveLocked found under the lock (the caller releases the lock first):
 * a pending_pos not within a ring of producer_pos, a header the pending walk refused, or an
 * overwrite_pos or header the overwrite walk refused.
 */
export function reserveCorruption(
  ring: FramedRing,
  pos: number,
  prodPos: number,
  hdr: number,
  what: 'pending' | 'header' | 'overwrite',
): RingBufCorruptionError {
  if (what === 'header') return frameError(ring, pos, prodPos, hdr);
  if (what === 'pending') {
    return new RingBufCorruptionError(
      pos >>> 0,
      `corrupt positions: pending_pos ${pos >>> 0} is not within a ring of producer_pos ${prodPos >>> 0}`,
    );
  }
  return new RingBufCorruptionError(pos >>> 0, `corrupt overwrite_pos or header before producer_pos ${prodPos >>> 0}`);
}

/**
 * The one walk over framed records that is not the consumer's hot path: from `from` to `prodPos`,
 * calls `visit(pos, hdr)` for every record (BUSY ones included) in position order. Every header is
 * checked by `isFramed`; the walk is bounded by the span, which is checked first.
 * @throws RingBufCorruptionError at the first position that cannot be right.
 */
export function walkRecords(ring: FramedRing, from: number, prodPos: number, visit: unknown): void {
  if (typeof visit !== 'function')
    throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'forEachRecord needs a visit function');
  if (!ring.isSpan(from, prodPos)) throw spanError(ring.size, from, prodPos);
  let pos = from;
  while (posDiff(prodPos, pos) > 0) {
    const hdr = ring.headerAt(pos & ring.mask);
    if (!ring.isFramed(pos, prodPos, hdr)) throw frameError(ring, pos, prodPos, hdr);
    (visit as (pos: number, hdr: number) => void)(pos, hdr);
    pos = (pos + recordFootprint(hdr & HDR_LEN_MASK)) | 0;
  }
}
