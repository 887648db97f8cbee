/**
 * The consumer's wait for work, written once: announce -> Dekker re-check -> sleep, used by
 * `Consumer.poll`, `Consumer.pollAsync`, the runtime worker and the record iterator.
 *
 *   consumer: announceSleep(wake); re-check every ring (and whatever else ends the wait); sleep
 *             only if the re-check found nothing; cancelSleep(wake) whatever happened
 *   producer: commit (header RMW); if the wake word says SLEEPING and the kernel's rule says wake:
 *             notify (wake.ts)
 *
 * Either the producer sees SLEEPING and notifies, or the re-check sees its commit: no wakeup is lost
 * (the kernel's `ringbuf_map_poll_kern` / libbpf's epoll pair, see wake.ts in @ringbuf/core).
 *
 * The re-check is the caller's: a {@link WorkCheck} object made once (never a closure per call, so
 * the synchronous path allocates nothing). It answers with {@link WAIT_NOW} (work is ready: do not
 * sleep) or the longest the sleep may last, e.g. {@link BUSY_HEAD_WAIT_MS} while a ring's head
 * record is BUSY: its committer wakes us by the kernel's rule (consumer_pos == its offset), and the
 * bound is the safety net that still picks up a head committed with BPF_RB_NO_WAKEUP.
 *
 * The consumer heartbeat (core's heartbeat.ts): the caller's {@link WorkCheck.beat} stamps it before
 * the sleep and after every HEARTBEAT_IDLE_MS of it. A longer sleep is cut into slices of that
 * length that all wait on the same SLEEPING word, without a re-check in between: a producer's
 * notify, or its flip of the word to AWAKE between two slices (the next slice then returns
 * 'not-equal' at once), ends it exactly as it ends one long wait, and a BPF_RB_NO_WAKEUP commit
 * leaves it asleep, as the kernel's rule says. A live consumer asleep on an empty ring therefore
 * stamps every HEARTBEAT_IDLE_MS (a wakeup of some microseconds four times a second).
 */
import {
  HEARTBEAT_IDLE_MS,
  announceSleep,
  cancelSleep,
  layout,
  monotonicMs,
  posDiff,
  type RingBuffer,
  sleep,
  sleepAsync,
  type WakeWord,
} from '@ringbuf/core';

const { BUSY_BIT_I32 } = layout;

/**
 * Longest sleep while a ring's head record is BUSY (reserved, not committed): 1 ms. A normal commit
 * of the head wakes the sleeper at once; this bound only matters for a NO_WAKEUP commit. (The
 * kernel's level-triggered epoll would spin here instead.)
 */
export const BUSY_HEAD_WAIT_MS = 1;

/** What {@link WorkCheck.recheck} returns when work is ready: do not sleep. */
export const WAIT_NOW = -1;

/** The caller's side of the wait: made once, reused for every wait. */
export interface WorkCheck {
  /**
   * Called after the sleep was announced: look at every ring (and any stop request). Returns
   * {@link WAIT_NOW} when the wait must not sleep, else the longest the sleep may last in ms
   * (Infinity for no bound). May consume records (Consumer.poll's re-check does).
   */
  recheck(): number;
  /** Called just before the sleep starts (counters that readers see while it lasts). */
  onSleep(): void;
  /** Stamps the consumer heartbeat (Consumer.heartbeat): before the sleep and every HEARTBEAT_IDLE_MS of it. */
  beat(): void;
}

/** Results of {@link waitForWork}. */
/** The re-check found work: no sleep. */
export const WAITED_READY = 0;
/** The timeout (or the re-check's bound) had already passed: no sleep. */
export const WAITED_EXPIRED = 1;
/** Slept; a notification (a producer's wake decision, a stopper) or a changed word ended it. */
export const WAITED_WOKEN = 2;
/** Slept until the timeout. */
const WAITED_TIMED_OUT = 3;
export type WaitResult = typeof WAITED_READY | typeof WAITED_EXPIRED | typeof WAITED_WOKEN | typeof WAITED_TIMED_OUT;

/**
 * Announce, re-check, sleep for at most `timeoutMs` (Infinity: no limit) or the re-check's bound,
 * whichever is shorter. The wake word says AWAKE again when this returns. Allocation-free.
 * Thread: the consumer's (blocks it with Atomics.wait).
 */
export function waitForWork(wake: WakeWord, check: WorkCheck, timeoutMs: number): WaitResult {
  const remaining = announceAndRecheck(wake, check, timeoutMs);
  if (remaining < 0) return remaining === WAIT_NOW ? WAITED_READY : WAITED_EXPIRED;
  check.onSleep();
  check.beat();
  // Where a sliced sleep ends (see the module comment): `remaining` from now, Infinity for no bound.
  const end = remaining > HEARTBEAT_IDLE_MS && remaining !== Infinity ? monotonicMs() + remaining : Infinity;
  let result = sleep(wake, remaining < HEARTBEAT_IDLE_MS ? remaining : HEARTBEAT_IDLE_MS);
  if (result === 'timed-out' && remaining > HEARTBEAT_IDLE_MS) {
    // The other slices of the same sleep.
    for (let left = end - monotonicMs(); result === 'timed-out' && left > 0; left = end - monotonicMs()) {
      check.beat();
      result = sleep(wake, left < HEARTBEAT_IDLE_MS ? left : HEARTBEAT_IDLE_MS);
    }
  }
  cancelSleep(wake);
  return result === 'timed-out' ? WAITED_TIMED_OUT : WAITED_WOKEN;
}

/**
 * As {@link waitForWork}, sleeping with `Atomics.waitAsync` so that the event loop keeps running. A
 * pending wait does not keep the process alive by itself. Thread: any with an event loop.
 */
export async function waitForWorkAsync(wake: WakeWord, check: WorkCheck, timeoutMs: number): Promise<WaitResult> {
  const remaining = announceAndRecheck(wake, check, timeoutMs);
  if (remaining < 0) return remaining === WAIT_NOW ? WAITED_READY : WAITED_EXPIRED;
  check.onSleep();
  check.beat();
  // Slices of one sleep, as waitForWork's.
  const end = remaining > HEARTBEAT_IDLE_MS && remaining !== Infinity ? monotonicMs() + remaining : Infinity;
  let result = await sleepAsync(wake, remaining < HEARTBEAT_IDLE_MS ? remaining : HEARTBEAT_IDLE_MS);
  if (result === 'timed-out' && remaining > HEARTBEAT_IDLE_MS) {
    for (let left = end - monotonicMs(); result === 'timed-out' && left > 0; left = end - monotonicMs()) {
      check.beat();
      result = await sleepAsync(wake, left < HEARTBEAT_IDLE_MS ? left : HEARTBEAT_IDLE_MS);
    }
  }
  cancelSleep(wake);
  return result === 'timed-out' ? WAITED_TIMED_OUT : WAITED_WOKEN;
}

/** Returned by announceAndRecheck when the time is up. */
const EXPIRED = -2;

/**
 * The announce and the Dekker re-check. Returns WAIT_NOW or EXPIRED (the announcement withdrawn),
 * or the ms to sleep (the announcement stands).
 */
function announceAndRecheck(wake: WakeWord, check: WorkCheck, timeoutMs: number): number {
  const start = timeoutMs === Infinity ? 0 : monotonicMs();
  announceSleep(wake);
  // Dekker re-check after announcing: a producer that committed before our store did not see us.
  const bound = check.recheck();
  if (bound === WAIT_NOW) {
    cancelSleep(wake);
    return WAIT_NOW;
  }
  let remaining = timeoutMs === Infinity ? Infinity : timeoutMs - (monotonicMs() - start);
  if (bound < remaining) remaining = bound;
  if (!(remaining > 0)) {
    cancelSleep(wake);
    return EXPIRED;
  }
  return remaining;
}

/** Head states of a ring, for the sleep decision. */
const HEAD_EMPTY = 0;
const HEAD_READY = 1;
const HEAD_BUSY = 2;

/**
 * What the head of `ring` holds: nothing (producer_pos == consumer_pos), a BUSY record, or
 * something to do (a committed or discarded record, overwritten records to skip, or positions that
 * cannot be right: the walk that follows reports those). Thread: the ring's consumer.
 */
function headState(ring: RingBuffer): number {
  const cons = ring.consumerPos();
  const prod = ring.producerPos();
  if (prod === cons) return HEAD_EMPTY;
  // Positions that cannot be right (off a record boundary, out of span): the walk reports them.
  if (!ring.isSpan(cons, prod)) return HEAD_READY;
  if (ring.overwrite && posDiff(ring.overwritePos(), cons) > 0) return HEAD_READY;
  return (ring.headerAt(cons & ring.mask) & BUSY_BIT_I32) !== 0 ? HEAD_BUSY : HEAD_READY;
}

/**
 * The re-check bound for a set of rings: WAIT_NOW when some head is ready, `busyBoundMs` when some
 * head is BUSY, else Infinity (every ring empty: only a wakeup ends the sleep). Thread: their consumer.
 */
export function ringsBound(rings: readonly RingBuffer[], busyBoundMs: number): number {
  let bound = Infinity;
  for (const ring of rings) {
    const state = headState(ring);
    if (state === HEAD_READY) return WAIT_NOW;
    if (state === HEAD_BUSY) bound = busyBoundMs;
  }
  return bound;
}
