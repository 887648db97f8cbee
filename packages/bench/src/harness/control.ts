/**
 * The control block's hand-off protocol between the bench's threads: the b2b trigger and batch
 * words (publish, then notify only a waiter that announced itself), and the stop check. Where the
 * words live is layout.ts.
 */
import { CONTROL_BYTES, STOP_INDEX } from './layout.js';

/** A fresh, zeroed control block. */
export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES);
}

/** Spins before a waiter announces itself and sleeps (a b2b hand-off is usually sub-microsecond). */
const HANDOFF_SPINS = 4000;
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
