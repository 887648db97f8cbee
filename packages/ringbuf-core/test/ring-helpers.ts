/** Helpers shared by the tests that compare whole ring buffers (batch, output, exclusive). */
import { RingBuffer, layout } from '../src/index.js';

/** A copy of every byte of the ring's shared memory. */
export function bytes(ring: RingBuffer): Buffer {
  return Buffer.from(new Uint8Array(ring.buffer).slice());
}

/**
 * The buffer without the overwrite generation and its two slots: a batch switches slots once where
 * single reservations may switch several times; the pair they publish is compared on its own.
 */
export function bytesButOverwriteSlots(ring: RingBuffer): Buffer {
  const copy = bytes(ring);
  copy.fill(0, layout.OVERWRITE_GEN_INDEX * 4, (layout.OVERWRITE_SLOTS_INDEX + 2 * layout.OVERWRITE_SLOT_WORDS) * 4);
  return copy;
}

/** The buffer without the lock word (a timed-out waiter may leave the waiters bit; an exclusive holder its bits). */
export function bytesButLock(ring: RingBuffer): Buffer {
  return bytes(ring).fill(0, layout.LOCK_INDEX * 4, layout.LOCK_INDEX * 4 + 4);
}

/** xorshift32, seeded; the seed is printed by the tests that use it. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Plays the consumer: moves consumer_pos to producer_pos (everything read). */
export function consumeAll(ring: RingBuffer): void {
  ring.publishConsumerPos(ring.producerPos());
}

/** Two rings that start equal (same wake id) so that their buffers can be compared whole. */
export function twins(options: {
  size: number;
  producerId: number;
  overwrite?: boolean;
  startPos?: number;
}): [RingBuffer, RingBuffer] {
  const a = RingBuffer.create(options);
  const b = RingBuffer.create(options);
  new Int32Array(b.buffer)[layout.WAKE_ID_INDEX] = new Int32Array(a.buffer)[layout.WAKE_ID_INDEX]!;
  return [a, b];
}
