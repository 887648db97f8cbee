/**
 * The bench lab's shared memory: the one module that knows where each word of its two blocks
 * lives, both laid out with core's {@link SharedLayout} (every independently written word starts a
 * new pair of cache lines, LINE_BYTES). The ring's own words are in `@ringbuf/core`'s layout.ts.
 *
 * ## Control block (Int32 words): one per threaded scenario run
 *
 * ```text
 *  line pair (LINE_BYTES each, so writers never share one)
 *  0  MAIN      start, stop, phase                  written by main, read by workers
 *  1  BARRIER   ready count, exited count           workers add
 *  2  HITS      records consumed                    consumer writes (once per pass)
 *  3  TRIGGER   b2b batch number, producer-asleep   consumer writes the number; producer its flag
 *  4  BATCH     b2b batch produced, consumer-asleep producer writes the number; consumer its flag
 *  5+p DROPS    failed reservations of producer p   producer p writes (once per batch)
 * ```
 *
 * ## Wake-floor pair (Int32 words, Float64 for the send time): two worker threads
 *
 * ```text
 *  line pair
 *  0  FLAG    0 armed, 1 notified        notifier: store + notify; waiter: wait, re-arm
 *  1  READY   sample the waiter is       waiter: store before it waits; notifier: spins on it
 *             about to wait for
 *  2  SEND    (f64) send time, µs        notifier: clockMicros() before the FLAG store
 * ```
 */
import { SharedLayout } from '@ringbuf/core';

// ---- control block ----
const control = new SharedLayout();
/** Set to 1 by main: the barrier opens. */
export const START_INDEX = control.line().int32();
/** Set to 1 by main: every loop ends. */
export const STOP_INDEX = control.int32();
/**
 * Main's phase: 0 (warm-up: the zeroed block's value), then {@link PHASE_SETTLE}, {@link PHASE_MEASURE},
 * {@link PHASE_DONE}.
 */
export const PHASE_INDEX = control.int32();
/** Workers that reached the start barrier. */
export const READY_INDEX = control.line().int32();
/** Workers that posted their report. */
export const EXITED_INDEX = control.int32();
/** Records the consumer delivered (published once per pass). */
export const HITS_INDEX = control.line().int32();
/** b2b: the batch number the consumer asks for. */
export const TRIGGER_INDEX = control.line().int32();
/** 1 while the b2b producer sleeps on TRIGGER (so the consumer notifies only then). */
export const TRIGGER_SLEEPER_INDEX = control.int32();
/** b2b: the batch number the producer finished. */
export const BATCH_DONE_INDEX = control.line().int32();
/** 1 while the b2b consumer sleeps on BATCH_DONE. */
export const BATCH_SLEEPER_INDEX = control.int32();

/** Most producers a run may have. */
export const MAX_PRODUCERS = 16;
const DROPS: readonly number[] = Array.from({ length: MAX_PRODUCERS }, () => control.line().int32());
/** Bytes of a control block. */
export const CONTROL_BYTES = control.bytes();

/** Main's phase after the settle phase: the windows are open. */
export const PHASE_MEASURE = 1;
/** Main's phase after the last window. */
export const PHASE_DONE = 2;
/**
 * Between warm-up and measurement: each worker forces one collection of its start-up garbage (module
 * loading, compilation), so that a scavenge in the windows can only come from steady-state garbage.
 */
export const PHASE_SETTLE = 3;

/**
 * Index of producer `p`'s drop counter (read once per worker at start, and per window by main).
 * @throws RangeError when `p` is not a producer slot from 0 to MAX_PRODUCERS - 1.
 */
export function dropsIndex(p: number): number {
  const index = DROPS[p];
  if (index === undefined) throw new RangeError(`producer slot ${p} is not from 0 to ${MAX_PRODUCERS - 1}`);
  return index;
}

// ---- wake-floor pair ----
const floor = new SharedLayout();
/** Int32 index of the flag the waiter sleeps on. */
export const FLOOR_FLAG_INDEX = floor.line().int32();
/** Int32 index of the waiter's "about to wait for sample i". */
export const FLOOR_READY_INDEX = floor.line().int32();
/** Float64 index of the notifier's send time (µs, clockMicros()). */
export const FLOOR_SEND_F64 = floor.line().float64();
/** Bytes of the wake-floor pair's buffer. */
export const FLOOR_BYTES = floor.bytes();
