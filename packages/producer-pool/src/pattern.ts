/**
 * The filler of instrumented payloads: the bytes after the instrumented header
 * (INSTRUMENTED_HEADER_BYTES, 32 bytes) are a function of (producer id, seq, byte index), so a
 * consumer can prove that no delivered record is torn (half written, or overwritten by another
 * record).
 *
 * Every function checks its arguments once, up front, before any byte is read or written (a range
 * outside `data` is refused, never half written); the checks allocate nothing and the error is built
 * off the hot path.
 */
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';
import { PoolError, describe } from './errors.js';

/** Whether `n` is an integer from 0 to 2^53 - 1 (a producer id or a sequence number). */
function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Whether `n` is an integer from 0 to 2^32 - 1 (an offset or a size). */
function isU32(n: unknown): n is number {
  return typeof n === 'number' && n >>> 0 === n;
}

/** The filler byte at payload index `i` (i >= INSTRUMENTED_HEADER_BYTES) of record `seq` of `producerId`. */
export function fillerByte(producerId: number, seq: number, i: number): number {
  if (!isCount(producerId) || !isCount(seq) || !isU32(i))
    throw argumentError('fillerByte', undefined, 0, 0, producerId, seq, i);
  return (Math.imul(seq, 31) + Math.imul(producerId, 17) + i) & 0xff;
}

/**
 * Writes the filler of one record: `data[offset + INSTRUMENTED_HEADER_BYTES, offset + size)`.
 * Allocation-free.
 * @throws PoolError `ERR_POOL_ARGUMENT` when `data` is not a Uint8Array, `[offset, offset + size)`
 *   is not inside it, or the id or seq is not a non-negative integer; nothing is written then.
 */
export function writeFiller(data: Uint8Array, offset: number, size: number, producerId: number, seq: number): void {
  if (
    !(data instanceof Uint8Array) ||
    !isU32(offset) ||
    !isU32(size) ||
    offset + size > data.length ||
    !isCount(producerId) ||
    !isCount(seq)
  ) {
    throw argumentError('writeFiller', data, offset, size, producerId, seq, 0);
  }
  const base = (Math.imul(seq, 31) + Math.imul(producerId, 17)) | 0;
  for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++) data[offset + i] = (base + i) & 0xff;
}

/**
 * Whether the filler of a delivered record is intact. Allocation-free.
 * @throws PoolError `ERR_POOL_ARGUMENT` for the arguments `writeFiller` refuses.
 */
export function checkFiller(data: Uint8Array, offset: number, size: number, producerId: number, seq: number): boolean {
  if (
    !(data instanceof Uint8Array) ||
    !isU32(offset) ||
    !isU32(size) ||
    offset + size > data.length ||
    !isCount(producerId) ||
    !isCount(seq)
  ) {
    throw argumentError('checkFiller', data, offset, size, producerId, seq, 0);
  }
  const base = (Math.imul(seq, 31) + Math.imul(producerId, 17)) | 0;
  for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++) {
    if (data[offset + i] !== ((base + i) & 0xff)) return false;
  }
  return true;
}

/** The refusal of a bad call, naming the first bad argument (cold path). */
function argumentError(
  fn: string,
  data: unknown,
  offset: unknown,
  size: unknown,
  producerId: unknown,
  seq: unknown,
  i: unknown,
): PoolError {
  return new PoolError(
    'ERR_POOL_ARGUMENT',
    `${fn}: ${firstBad(fn !== 'fillerByte', data, offset, size, producerId, seq, i)}`,
  );
}

function firstBad(
  ranged: boolean,
  data: unknown,
  offset: unknown,
  size: unknown,
  producerId: unknown,
  seq: unknown,
  i: unknown,
): string {
  if (ranged) {
    if (!(data instanceof Uint8Array)) return `data must be a Uint8Array, got ${describe(data)}`;
    if (!isU32(offset)) return `offset must be an integer from 0 to 2^32 - 1, got ${describe(offset)}`;
    if (!isU32(size)) return `size must be an integer from 0 to 2^32 - 1, got ${describe(size)}`;
    if (offset + size > data.length)
      return `bytes [${offset}, ${offset + size}) are not inside data of ${data.length} bytes`;
  }
  if (!isCount(producerId)) return `producerId must be a non-negative integer, got ${describe(producerId)}`;
  if (!isCount(seq)) return `seq must be a non-negative integer, got ${describe(seq)}`;
  return `i must be an integer from 0 to 2^32 - 1, got ${describe(i)}`;
}
