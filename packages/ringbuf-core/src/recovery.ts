/**
 * Producer recovery, for both rings (ring.ts, user-ring.ts): a producer that died (worker
 * terminated, uncaught exception, `process.exit`) at any instruction may hold the reservation lock
 * and may have left BUSY records that would stop the consumer for good. Agrona's `unblock()` and the
 * kernel's resilient lock are the models; the kernel itself never loses a CPU mid-reservation.
 */
import { walkRecords, type FramedRing } from './framing.js';
import {
  BPF_RINGBUF_DISCARD_BIT,
  BUSY_BIT_I32,
  CONS_POS_INDEX,
  HDR_OWNER_WORD,
  PROD_POS_INDEX,
  headerIndex,
} from './layout.js';
import { forceUnlock } from './lock.js';
import { posMax } from './positions.js';
import { rescueSleeper, type WakeWord } from './wake.js';

/** What recoverDeadProducer needs of the recovering handle. */
export interface RecoverySteps {
  /** Takes the reservation lock (true at once for an exclusive holder); false on a timeout. */
  lock(): boolean;
  /** Releases it (unless the handle holds it for good). */
  release(): void;
  /** Under the lock: discards the dead producer's BUSY records and returns how many. */
  discardRecords(): number;
}

/**
 * The recovery of a dead producer `deadId` on the ring whose words are `i32`: frees the lock if it
 * holds it (counted at `lockCounter`, or not when -1), then, under the lock, discards every record it
 * reserved and never committed (`steps.discardRecords`, counted at `recordCounter`), and finally
 * notifies the consumer on `wake` unconditionally, in case the producer died between claiming a
 * wakeup and sending it (see rescueSleeper; a spurious wakeup is harmless). Returns -1 in
 * `recordsDiscarded` when the lock could not be taken in time.
 */
export function recoverDeadProducer(
  i32: Int32Array,
  wake: WakeWord,
  deadId: number,
  lockCounter: number,
  recordCounter: number,
  steps: RecoverySteps,
): { lockRecovered: boolean; recordsDiscarded: number } {
  const lockRecovered = forceUnlock(i32, deadId);
  if (lockRecovered && lockCounter >= 0) {
    // Counts recoveries for stats; written under no lock, hence atomic.
    Atomics.add(i32, lockCounter, 1);
  }
  if (!steps.lock()) {
    rescueSleeper(wake);
    return { lockRecovered, recordsDiscarded: -1 };
  }
  let discarded = 0;
  try {
    discarded = steps.discardRecords();
    // Counts discarded records for stats.
    Atomics.add(i32, recordCounter, discarded);
  } finally {
    steps.release();
  }
  rescueSleeper(wake);
  return { lockRecovered, recordsDiscarded: discarded };
}

/**
 * Discards the record whose header word `hdr` was read at `index` if it is BUSY and `deadId`'s,
 * exactly as its own discard() would have. Returns whether it did (false also when a live commit or
 * another recoverer changed the header first).
 */
export function discardIfDead(i32: Int32Array, index: number, hdr: number, deadId: number): boolean {
  if ((hdr & BUSY_BIT_I32) === 0 || i32[index + HDR_OWNER_WORD] !== deadId) return false;
  // Commits the dead producer's record as discarded; pairs with the consumer's header load, and
  // with a concurrent commit of the same header (one of the two compare-exchanges wins).
  return Atomics.compareExchange(i32, index, hdr, (hdr & ~BUSY_BIT_I32) | BPF_RINGBUF_DISCARD_BIT) === hdr;
}

/** What discardDeadRecords reads of a kernel ring (a `RingBuffer`, structurally). */
export interface RecoverableRing extends FramedRing {
  /** Whether the ring is in overwrite mode (the walk then starts at overwrite_pos when it is ahead). */
  readonly overwrite: boolean;
  /** See `RingBuffer.overwritePos`. */
  overwritePos(): number;
}

/**
 * The kernel ring's recovery walk, under the lock: discards every BUSY record of `deadId` between
 * the consumer (or overwrite_pos) and producer_pos, calls `discarded(offset)` for each (the caller
 * applies the wake rule there, as its own discard would) and returns how many.
 * @throws RingBufCorruptionError when a header on the way cannot be right.
 */
export function discardDeadRecords(ring: RecoverableRing, deadId: number, discarded: (offset: number) => void): number {
  const i32 = ring.i32;
  const mask = ring.mask;
  // Under the lock no record ahead of the consumer can be reused, so the framing is stable.
  // Observes the dead holder's last producer_pos store: an exclusive holder (claimExclusive)
  // never released the lock after it, so the lock alone would not order its writes before ours.
  const prodPos = Atomics.load(i32, PROD_POS_INDEX);
  // Observes the consumer's progress; records behind it are committed and need no look.
  const consPos = Atomics.load(i32, CONS_POS_INDEX);
  const from = ring.overwrite ? posMax(consPos, ring.overwritePos()) : consPos;
  let count = 0;
  walkRecords(ring, from, prodPos, (pos: number, hdr: number) => {
    if (discardIfDead(i32, headerIndex(pos & mask), hdr, deadId)) {
      count++;
      discarded(pos & mask);
    }
  });
  return count;
}
