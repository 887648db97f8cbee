/**
 * Crash recovery of one dead producer on one ring (docs/DESIGN.md, crash recovery): free the lock if
 * it holds it and discard its BUSY records (`RingBuffer.recoverProducer`), retrying asynchronously
 * while the lock cannot be taken in time, never blocking this thread long: another dead producer
 * may hold the lock, and only this thread can free it. `recoverProducer` also ends any consumer
 * sleep the dead producer claimed but never notified.
 * Thread: the pool's.
 */
import type { RingBuffer } from '@ringbuf/core';

/** Recovery keeps retrying for the ring's lock this long before it reports failure (-1). */
const RECOVERY_GIVE_UP_MS = 30_000;
/** Pause between attempts: lets this thread learn of other deaths (one may hold the lock). */
const RECOVERY_RETRY_MS = 1;

export interface RecoveryOutcome {
  lockRecovered: boolean;
  /** BUSY records of the dead producer that recovery discarded; -1 when it gave up on the lock. */
  recordsDiscarded: number;
}

/** Recovers `deadId` on the ring behind `handle` (a handle with another producer id). */
export async function recover(handle: RingBuffer, deadId: number): Promise<RecoveryOutcome> {
  let lockRecovered = false;
  let recordsDiscarded = -1;
  const since = performance.now();
  for (;;) {
    // Blocks at most the handle's lock timeout; returns -1 discarded when the lock was not taken.
    const r = handle.recoverProducer(deadId);
    lockRecovered ||= r.lockRecovered;
    recordsDiscarded = r.recordsDiscarded;
    if (recordsDiscarded >= 0 || performance.now() - since > RECOVERY_GIVE_UP_MS) break;
    await new Promise((resolve) => setTimeout(resolve, RECOVERY_RETRY_MS));
  }
  return { lockRecovered, recordsDiscarded };
}
