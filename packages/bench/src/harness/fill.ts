/**
 * How a bench producer copies its staged payload into a reservation. Nothing here allocates per
 * record: the views are made once, by payloadFiller.
 */
import { BenchRangeError } from '../errors.js';

/** 'set': one `Uint8Array.prototype.set` call; 'words': 32-bit word stores (payload a multiple of 4). */
export type FillMode = 'set' | 'words';

/**
 * A function that copies `payload` to payload offset `off` of `data` (a ring's data area, mirror
 * tail included): with one `set` call, or word by word through Int32Array views of both, the way a
 * producer writes a record's fields in place (for 16 bytes, four stores: a `set` call costs some
 * 20-40 ns on Node 20 however few bytes it copies). Payload offsets are 8-aligned, so every word
 * store is aligned. Thread: the producer.
 * @throws BenchRangeError `ERR_BENCH_COUNT` when mode is 'words' and the payload is not a whole
 *   number of 32-bit words at a 4-aligned offset of its buffer.
 */
export function payloadFiller(data: Uint8Array, payload: Uint8Array, mode: FillMode): (off: number) => void {
  if (mode === 'set') {
    return (off) => {
      data.set(payload, off);
    };
  }
  if ((payload.length & 3) !== 0 || (payload.byteOffset & 3) !== 0 || (data.byteOffset & 3) !== 0) {
    throw new BenchRangeError(
      'ERR_BENCH_COUNT',
      `fill 'words' needs a payload of whole 32-bit words, got ${payload.length} bytes at offset ${payload.byteOffset}`,
    );
  }
  const dataWords = new Int32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
  const payloadWords = new Int32Array(payload.buffer, payload.byteOffset, payload.length >> 2);
  const words = payloadWords.length;
  return (off) => {
    const at = off >> 2;
    for (let k = 0; k < words; k++) dataWords[at + k] = payloadWords[k]!;
  };
}
