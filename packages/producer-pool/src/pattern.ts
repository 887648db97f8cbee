/**
 * The filler of instrumented payloads: the bytes after the instrumented header
 * (INSTRUMENTED_HEADER_BYTES, 32 bytes) are a function of (producer id, seq, byte index), so a
 * consumer can prove that no delivered record is torn (half written, or overwritten by another
 * record).
 */
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';

/** The filler byte at payload index `i` (i >= INSTRUMENTED_HEADER_BYTES) of record `seq` of `producerId`. */
export function fillerByte(producerId: number, seq: number, i: number): number {
  return (Math.imul(seq, 31) + Math.imul(producerId, 17) + i) & 0xff;
}

/** Writes the filler of one record: `data[offset + INSTRUMENTED_HEADER_BYTES, offset + size)`. Allocation-free. */
export function writeFiller(data: Uint8Array, offset: number, size: number, producerId: number, seq: number): void {
  const base = (Math.imul(seq, 31) + Math.imul(producerId, 17)) | 0;
  for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++) data[offset + i] = (base + i) & 0xff;
}

/** Whether the filler of a delivered record is intact. Allocation-free. */
export function checkFiller(data: Uint8Array, offset: number, size: number, producerId: number, seq: number): boolean {
  const base = (Math.imul(seq, 31) + Math.imul(producerId, 17)) | 0;
  for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++) {
    if (data[offset + i] !== ((base + i) & 0xff)) return false;
  }
  return true;
}
