/**
 * Overwrite mode's seqlock (the kernel's `BPF_F_RB_OVERWRITE`): the pair [overwrite_pos, committed
 * records overwritten] lives in two slots and a generation word (layout.ts). Producers, under the
 * reservation lock, fill the idle slot and then publish it by bumping the generation
 * (overwriteOldest); readers load the generation, the slot it names, and the generation again,
 * retrying when a producer switched slots meanwhile (readOverwritePos, readOverwrite).
 */
import {
  BPF_RINGBUF_DISCARD_BIT,
  BUSY_BIT_I32,
  HDR_LEN_MASK,
  OVERWRITE_GEN_INDEX,
  OVERWRITE_SLOTS_INDEX,
  OVERWRITE_SLOT_WORDS,
  headerIndex,
  recordFootprint,
} from './layout.js';
import type { FramedRing } from './framing.js';

/**
 * Overwrite mode, under the lock: drop the oldest whole records of `ring` until `newProdPos` fits.
 * Returns false when overwrite_pos or a header it walks cannot be right (nothing is changed then).
 */
export function overwriteOldest(ring: FramedRing, prodPos: number, newProdPos: number): boolean {
  const i32 = ring.i32;
  const mask = ring.mask;
  // The generation and both slots are written only under the lock: plain reads suffice.
  const gen = i32[OVERWRITE_GEN_INDEX]!;
  const cur = OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS;
  let overPos = i32[cur]!;
  // overwrite_pos is a record boundary at or behind producer_pos, on every reservation (one signed
  // difference and one mask on values already loaded): one ahead of producer_pos would pass the
  // fit check below when it lies within the new record, and the consumer would later jump to it
  // over committed records without counting them lost.
  if (((prodPos - overPos) | 0) < 0 || (overPos & 7) !== 0) return false;
  if ((newProdPos - overPos) >>> 0 <= mask) return true;
  if (!ring.isSpan(overPos, prodPos)) return false;
  let overwritten = i32[cur + 1]!;
  // Bounded: every step moves at least 8 bytes, and none passes producer_pos.
  do {
    // Observes the committed header (the pending check guarantees it is not BUSY).
    const hdr = Atomics.load(i32, headerIndex(overPos & mask));
    if ((hdr & BUSY_BIT_I32) !== 0 || !ring.isFramed(overPos, prodPos, hdr)) return false;
    if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) overwritten++;
    overPos = (overPos + recordFootprint(hdr & HDR_LEN_MASK)) | 0;
  } while ((newProdPos - overPos) >>> 0 > mask);
  const next = OVERWRITE_SLOTS_INDEX + ((gen + 1) & 1) * OVERWRITE_SLOT_WORDS;
  // Fill the idle slot, then switch to it; readers re-check the generation (readOverwrite()).
  Atomics.store(i32, next, overPos);
  Atomics.store(i32, next + 1, overwritten);
  // Publishes the new [overwrite_pos, overwritten] pair; pairs with readOverwrite()'s loads.
  Atomics.store(i32, OVERWRITE_GEN_INDEX, (gen + 1) | 0);
  return true;
}

/** overwrite_pos alone, without allocating (the consumer's torn-record check). */
export function readOverwritePos(i32: Int32Array): number {
  for (;;) {
    // Observes the generation published last by overwriteOldest(); pairs with its final store.
    const gen = Atomics.load(i32, OVERWRITE_GEN_INDEX);
    // Observes the slot filled before that generation was published.
    const pos = Atomics.load(i32, OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS);
    // Re-checks that no producer refilled the slot while we read it.
    if (Atomics.load(i32, OVERWRITE_GEN_INDEX) === gen) return pos;
  }
}

/** A consistent snapshot of [overwrite_pos, committed records overwritten]. */
export function readOverwrite(i32: Int32Array): { pos: number; overwritten: number } {
  for (;;) {
    // Observes the generation published last by overwriteOldest(); pairs with its final store.
    const gen = Atomics.load(i32, OVERWRITE_GEN_INDEX);
    const slot = OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS;
    // Observes the slot filled before that generation was published.
    const pos = Atomics.load(i32, slot);
    const overwritten = Atomics.load(i32, slot + 1) >>> 0;
    // Re-checks that no producer refilled the slot while we read it.
    if (Atomics.load(i32, OVERWRITE_GEN_INDEX) === gen) return { pos, overwritten };
  }
}
