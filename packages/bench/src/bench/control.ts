/**
 * The bench's control block: one SharedArrayBuffer per run that the main thread and the bench's
 * workers use for the start barrier, phases, counters and the back-to-back trigger. This module is
 * the only place that knows where its words live (the ring's own words are in
 * `@ringbuf/core`'s layout.ts).
 *
 * ```text
 *  line (128 B each, so writers never share a cache line pair)
 *  0  MAIN      start, stop, phase                 written by main, read by workers
 *  1  BARRIER   ready count, exited count          workers add
 *  2  HITS      records consumed                   consumer writes (once per pass)
 *  3  TRIGGER   b2b batch number, producer-asleep   consumer writes the number; producer its flag
 *  4  BATCH     b2b batch produced, consumer-asleep producer writes the number; consumer its flag
 *  5+p DROPS    failed reservations of producer p   producer p writes (once per batch)
 * ```
 */

/** Int32 words per 128-byte line. */
const LINE_WORDS = 32;

/** Set to 1 by main: the barrier opens. */
export const START_INDEX = 0;
/** Set to 1 by main: every loop ends. */
export const STOP_INDEX = 1;
/** Main's phase: {@link PHASE_WARMUP}, {@link PHASE_MEASURE}, {@link PHASE_DONE}. */
export const PHASE_INDEX = 2;
export const READY_INDEX = LINE_WORDS;
export const EXITED_INDEX = LINE_WORDS + 1;
export const HITS_INDEX = 2 * LINE_WORDS;
export const TRIGGER_INDEX = 3 * LINE_WORDS;
/** 1 while the b2b producer sleeps on TRIGGER (so the consumer notifies only then). */
export const TRIGGER_SLEEPER_INDEX = 3 * LINE_WORDS + 1;
export const BATCH_DONE_INDEX = 4 * LINE_WORDS;
/** 1 while the b2b consumer sleeps on BATCH_DONE. */
export const BATCH_SLEEPER_INDEX = 4 * LINE_WORDS + 1;
const DROPS_LINE = 5;

/** Most producers a run may have. */
export const MAX_PRODUCERS = 16;

export const PHASE_WARMUP = 0;
export const PHASE_MEASURE = 1;
export const PHASE_DONE = 2;

/** Index of producer `p`'s drop counter. */
export function dropsIndex(p: number): number {
  return (DROPS_LINE + p) * LINE_WORDS;
}

/** A fresh control block. */
export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer((DROPS_LINE + MAX_PRODUCERS) * LINE_WORDS * Int32Array.BYTES_PER_ELEMENT);
}

/** Spins before a waiter announces itself and sleeps (a b2b hand-off is usually sub-microsecond). */
export const HANDOFF_SPINS = 4000;
/** Longest single sleep of a waiter, so it notices STOP without a notify. */
export const WAIT_SLICE_MS = 20;

/**
 * Publishes `value` in `word` and wakes its waiter only if it announced sleep in `sleeper`.
 * Thread: the word's single writer.
 */
export function publish(ctl: Int32Array, word: number, sleeper: number, value: number): void {
  // Publishes the new value (and everything written before it); pairs with waitChange()'s loads.
  Atomics.store(ctl, word, value);
  // Observes the waiter's announcement (Dekker with its store-then-recheck); pairs with waitChange().
  if (Atomics.load(ctl, sleeper) !== 0) {
    // Ends waitChange()'s Atomics.wait; reached only when someone sleeps.
    Atomics.notify(ctl, word);
  }
}

/**
 * Waits until `word` differs from `old`: spins, then announces itself in `sleeper` and sleeps at
 * most {@link WAIT_SLICE_MS}. Returns the word's value, which may still be `old` after a slice (the
 * caller re-checks STOP and calls again). Thread: the word's single reader.
 */
export function waitChange(ctl: Int32Array, word: number, sleeper: number, old: number): number {
  for (let i = 0; i < HANDOFF_SPINS; i++) {
    // Observes publish()'s store.
    const v = Atomics.load(ctl, word);
    if (v !== old) return v;
  }
  // Announces the sleep before the re-check; pairs with publish()'s load of the sleeper flag.
  Atomics.store(ctl, sleeper, 1);
  // Sleeps unless publish() stored already; woken by its notify.
  Atomics.wait(ctl, word, old, WAIT_SLICE_MS);
  // Withdraws the announcement so publish() stops notifying.
  Atomics.store(ctl, sleeper, 0);
  // Observes publish()'s store.
  return Atomics.load(ctl, word);
}

/** Whether main asked every loop to end. */
export function stopRequested(ctl: Int32Array): boolean {
  // Observes main's stop store.
  return Atomics.load(ctl, STOP_INDEX) !== 0;
}
