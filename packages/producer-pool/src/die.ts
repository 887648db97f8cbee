/**
 * The die points: how a producer dies when the fault-injection hooks ask it to (test hooks, checked
 * once per record only when the pool injects faults). The main thread stores DIE_METHOD, then
 * DIE_POINT; the producer observes DIE_POINT at each point of its record and dies there as DIE_METHOD
 * says. Thread: the producer's.
 */
import type { RingBuffer } from '@ringbuf/core';
import {
  DIE_METHOD_INDEX,
  METHOD_EXIT,
  METHOD_TERMINATE,
  METHOD_THROW,
  METHOD_UNCAUGHT,
  STATE_INDEX,
  STATE_PARKED,
} from './stats-layout.js';
import { InjectedDeath } from './errors.js';

/** Exit code of a producer killed by the `exit` hook. */
const INJECTED_EXIT_CODE = 70;

/** A record's outcome (see record-loop.ts): a hook made this producer die asynchronously. */
export const DYING = 3;

/** Spins to take the lock for the in-lock death hook before giving up and dying between records. */
const HOOK_LOCK_SPINS = 1_000_000;

/** Dies as the death request says. Returns DYING for the uncaught-exception method. */
export function die(st: Int32Array): number {
  // Observes the method stored before the death point.
  const method = Atomics.load(st, DIE_METHOD_INDEX);
  if (method === METHOD_EXIT) process.exit(INJECTED_EXIT_CODE);
  if (method === METHOD_UNCAUGHT) {
    // Thrown from a microtask once the task has returned: nothing catches it, the thread ends.
    queueMicrotask(() => {
      throw new InjectedDeath('injected uncaught exception');
    });
    return DYING;
  }
  if (method === METHOD_TERMINATE) {
    // Publishes "parked at the death point"; the main thread observes it and terminates us.
    Atomics.store(st, STATE_INDEX, STATE_PARKED);
    // Parks for good: only worker.terminate() ends this.
    for (;;) Atomics.wait(st, STATE_INDEX, STATE_PARKED);
  }
  if (method === METHOD_THROW) throw new InjectedDeath('injected death (throw)');
  throw new InjectedDeath(`unknown death method ${method}`);
}

/** The in-lock point: takes the ring's lock as reserve() would and dies holding it; recovery frees it. */
export function dieInLock(st: Int32Array, ring: RingBuffer): number {
  for (let spin = 0; spin < HOOK_LOCK_SPINS; spin++) if (ring.tryHoldLockForFaultInjection()) break;
  return die(st);
}
