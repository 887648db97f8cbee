/**
 * The consumer heartbeat (beyond the kernel; Agrona's ring buffers keep a consumer heartbeat time
 * for the same purpose): when a consumer thread dies, its producers see only a full ring, which
 * looks the same as a slow consumer. The consumer stamps a word of the control page
 * (layout.ts `CONSUMER_HEARTBEAT_INDEX`) with the time, and anyone can ask how old the stamp is
 * (`RingBuffer.consumerHeartbeatAgeMs()`).
 *
 * The clock is core's `monotonicMs()` (clock.ts), one time base for every thread of the process
 * (Node: `process.hrtime`, CLOCK_MONOTONIC; a browser: `performance.timeOrigin +
 * performance.now()`), in whole milliseconds reduced modulo 2^32 and compared by signed 32-bit
 * difference. The consumer package's `Consumer` stamps it (see its doc comment):
 * - while it runs: when calls (poll, consume, ...) start, a clock read about every HEARTBEAT_STAMP_MS
 *   at the rate calls arrive (a countdown of 1 to 64 calls between reads), and one store
 *   per HEARTBEAT_STAMP_MS at most, never per record;
 * - while it sleeps: before the sleep and every HEARTBEAT_IDLE_MS of it (the wait is cut into
 *   slices of that length; the wake word stays SLEEPING throughout, so producers and the kernel's
 *   wake rule see one sleep).
 *
 * So a live consumer's stamp is at most about HEARTBEAT_IDLE_MS old, or one call (one pass of
 * callbacks) old, whichever is longer. A stamp older than a threshold is only a hint: a consumer
 * stopped in a debugger, descheduled, paused by a long garbage collection or stuck in a slow
 * callback looks exactly like a dead one, and only its thread's owner knows which it is.
 */

import { monotonicMs } from './clock.js';

/** The consumer stores a stamp at most this often while it runs (ms). */
export const HEARTBEAT_STAMP_MS = 5;
/** A sleeping consumer wakes to re-stamp at least this often (ms), without waking from its wait. */
export const HEARTBEAT_IDLE_MS = 250;
/**
 * A suggested threshold for "stalled" (ms): a stamp older than this, with unread data in the ring,
 * means the consumer is dead or stuck, not merely slow (a hint; see the module comment). Eight
 * idle slices, so that a descheduled or garbage-collecting live consumer does not cross it.
 */
export const HEARTBEAT_STALL_MS = 2000;
/** The word's value for "never stamped". */
export const HEARTBEAT_NEVER = 0;

/** A clock reading in ms as the heartbeat word stores it: its low 32 bits, 0 written as 1. */
export function heartbeatWord(ms: number): number {
  const word = ms | 0;
  return word === HEARTBEAT_NEVER ? 1 : word;
}

/** The heartbeat clock now, in ms (any thread). */
export function heartbeatNowMs(): number {
  return monotonicMs();
}
