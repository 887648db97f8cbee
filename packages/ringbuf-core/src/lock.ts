/**
 * The reservation lock: the kernel's `rb->spinlock`, built on Atomics.
 *
 * Who writes the lock word: any producer (acquire, release), and crash recovery (`forceUnlock`) when
 * the owner is known to be dead. Value: 0 when free, else `ownerId << 1 | LOCK_WAITERS_BIT`, with
 * LOCK_EXCLUSIVE_BIT while a producer holds it for good (claimExclusive): acquisition then fails at
 * once rather than waiting for a release that only that producer's releaseExclusive (or its
 * recovery) brings.
 *
 * - Uncontended acquire is one compare-exchange; release is one exchange, and a notify only when the
 *   waiters bit says someone sleeps (Drepper's "futexes are tricky", mutex 2, with the owner kept).
 * - Contended: a short spin (the holder only runs ~20 instructions under the lock), then the waiters
 *   bit and `Atomics.wait` with the remaining time (a spin on a thread that may not block, such as
 *   a browser's main thread).
 * - Acquisition gives up after a bounded time, like the kernel's resilient `rqspinlock` (2025): the
 *   reservation then fails instead of hanging, and a crashed holder can be recovered by id.
 *
 * JS atomics are sequentially consistent, so the compare-exchange that takes the lock orders every
 * later plain access of lock-protected words after the releasing exchange of the previous holder.
 */
import { LOCK_EXCLUSIVE_BIT, LOCK_INDEX, LOCK_WAITERS_BIT } from './layout.js';
import { monotonicMs, waitTimeoutMs } from './clock.js';
import { CAN_BLOCK } from './wake.js';

/** Spins before the waiters bit and `Atomics.wait`. */
export const LOCK_SPINS = 64;
/** Default acquisition deadline, as the kernel's rqspinlock timeout (250 ms). */
export const DEFAULT_LOCK_TIMEOUT_MS = 250;

/** Counters kept by one thread's handle; plain numbers, touched only on slow paths. */
export interface LockStats {
  /** Acquisitions that found the lock held. */
  contended: number;
  /** `Atomics.wait` calls made while waiting for the lock. */
  waits: number;
  /** Acquisitions that gave up at the deadline. */
  timeouts: number;
}

/** The lock word value a producer writes when it takes the lock. */
export function lockTag(ownerId: number): number {
  return ownerId << 1;
}

/** The owner id recorded in a lock word value (0 when free). */
export function lockOwner(word: number): number {
  return (word & ~(LOCK_EXCLUSIVE_BIT | LOCK_WAITERS_BIT)) >>> 1;
}

/** One attempt, never waits: the kernel's NMI `spin_trylock` path. */
export function tryLock(i32: Int32Array, tag: number): boolean {
  // Takes the lock; pairs with the releasing exchange in unlock() (or forceUnlock()).
  return Atomics.compareExchange(i32, LOCK_INDEX, 0, tag) === 0;
}

/**
 * Takes the lock or gives up after `timeoutMs` (Infinity waits forever). Returns false on timeout.
 * Thread: any producer.
 */
export function lock(i32: Int32Array, tag: number, timeoutMs: number, stats: LockStats): boolean {
  // Fast path: takes the free lock; pairs with the releasing exchange in unlock().
  if (Atomics.compareExchange(i32, LOCK_INDEX, 0, tag) === 0) return true;
  return lockSlow(i32, tag, timeoutMs, stats);
}

function lockSlow(i32: Int32Array, tag: number, timeoutMs: number, stats: LockStats): boolean {
  stats.contended++;
  // Observes an exclusive holder (claimExclusive): no release is coming, fail at once.
  if ((Atomics.load(i32, LOCK_INDEX) & LOCK_EXCLUSIVE_BIT) !== 0) return false;
  for (let spin = 0; spin < LOCK_SPINS; spin++) {
    // Observes the holder's release (exchange to 0) without writing the line.
    if (Atomics.load(i32, LOCK_INDEX) === 0 && Atomics.compareExchange(i32, LOCK_INDEX, 0, tag) === 0) {
      return true;
    }
  }
  const deadline = monotonicMs() + timeoutMs;
  // After sleeping we take the lock with the waiters bit set: others may still sleep, and the bit
  // makes our release wake one of them (Drepper's mutex 2).
  const contendedTag = tag | LOCK_WAITERS_BIT;
  for (;;) {
    // Observes the current holder and whether the waiters bit is already set.
    let word = Atomics.load(i32, LOCK_INDEX);
    if ((word & LOCK_EXCLUSIVE_BIT) !== 0) return false;
    if (word === 0) {
      // Takes the free lock; pairs with the releasing exchange in unlock().
      if (Atomics.compareExchange(i32, LOCK_INDEX, 0, contendedTag) === 0) return true;
      continue;
    }
    if ((word & LOCK_WAITERS_BIT) === 0) {
      // Announces a sleeper so the holder's release notifies; pairs with the exchange in unlock().
      const seen = Atomics.compareExchange(i32, LOCK_INDEX, word, word | LOCK_WAITERS_BIT);
      if (seen !== word) continue;
      word |= LOCK_WAITERS_BIT;
    }
    const remaining = deadline - monotonicMs();
    if (remaining <= 0) {
      stats.timeouts++;
      return false;
    }
    stats.waits++;
    if (!CAN_BLOCK) {
      // A thread that may not block (a browser's main thread) spins until the holder releases.
      // Observes the holder's release; bounded by the deadline above.
      while (Atomics.load(i32, LOCK_INDEX) === word && monotonicMs() < deadline);
      continue;
    }
    // Sleeps while the word still shows a holder with waiters; woken by unlock()'s notify. Whole
    // milliseconds: a computed double timeout would be boxed (see clock.ts).
    Atomics.wait(i32, LOCK_INDEX, word, waitTimeoutMs(remaining));
  }
}

/** Releases the lock. Thread: the holder. */
export function unlock(i32: Int32Array): void {
  // Releases every lock-protected write; pairs with the acquiring compare-exchange in lock().
  if ((Atomics.exchange(i32, LOCK_INDEX, 0) & LOCK_WAITERS_BIT) !== 0) {
    // Wakes one sleeper of lockSlow(); only reached when one announced itself.
    Atomics.notify(i32, LOCK_INDEX, 1);
  }
}

/**
 * Marks the lock, held by the caller, as held for good; wakes its sleepers so that they see it and
 * fail at once. Thread: the holder.
 */
function markExclusive(i32: Int32Array): void {
  // Publishes the exclusive hold to other producers' lockSlow loads.
  const word = Atomics.or(i32, LOCK_INDEX, LOCK_EXCLUSIVE_BIT);
  if ((word & LOCK_WAITERS_BIT) !== 0) {
    // Ends the sleeps announced by the waiters bit; they re-check and see the exclusive bit.
    Atomics.notify(i32, LOCK_INDEX);
  }
}

/**
 * Takes the lock for good (either ring's `claimExclusive`): `lock`, then `markExclusive`. Returns
 * false, and holds nothing, when the lock could not be taken within `timeoutMs`. Thread: a producer.
 */
export function lockExclusive(i32: Int32Array, tag: number, timeoutMs: number, stats: LockStats): boolean {
  if (!lock(i32, tag, timeoutMs, stats)) return false;
  markExclusive(i32);
  return true;
}

/**
 * Frees the lock if, and only if, `ownerId` still holds it. Recovery calls this for a producer it
 * knows to be dead; a live owner must never be passed. Returns whether the lock was freed.
 */
export function forceUnlock(i32: Int32Array, ownerId: number): boolean {
  for (;;) {
    // Observes the holder recorded by its acquiring compare-exchange.
    const word = Atomics.load(i32, LOCK_INDEX);
    if (word === 0 || lockOwner(word) !== ownerId) return false;
    // Frees the dead holder's lock; pairs with lock()'s compare-exchange like a normal release. It
    // fails only when a waiter set the waiters bit meanwhile (the dead owner cannot release): retry.
    if (Atomics.compareExchange(i32, LOCK_INDEX, word, 0) !== word) continue;
    // Wakes every sleeper: they re-contend with the waiters bit set.
    if ((word & LOCK_WAITERS_BIT) !== 0) Atomics.notify(i32, LOCK_INDEX);
    return true;
  }
}
