/**
 * Pacing: how an open-loop producer waits for a send time (and a closed-loop one backs off after a
 * failed reservation): sleep on the control block's stop word, so a stop request ends the wait at
 * once, then spin the last stretch on the clock so the send is on time. Thread: the producer's.
 */
import { clockMicros } from '@ringbuf/instrument';
import { STOP_INDEX, STOP_SLEEPERS_INDEX } from './stats-layout.js';

/**
 * The last stretch before an open-loop send time that is spun rather than slept: a sleep ends late
 * by the kernel's timer slack (50 us by default) plus a wakeup (13-20 us), and that lateness would
 * be charged to the ring as latency. 200 us covers both with margin; gaps shorter than this are
 * spun whole.
 */
export const SPIN_BEFORE_SEND_US = 200;
/** Clock reads between two looks at the stop word while spinning. */
const SPIN_STOP_CHECK = 64;

/**
 * The times waitUntil works with, as fields of one object: a double passed to or returned from a
 * function V8 does not inline is boxed (16 bytes a call, a scavenge every second or so at 20 k
 * sends/s, and each scavenge a pause in the producer's send lag); a double field is updated in place.
 */
export const pace = {
  /** When waitUntil is to return (clockMicros()). */
  until: 0,
  /** clockMicros() when it returned. */
  now: 0,
};

/**
 * Open loop: wait until `pace.until`: sleep on the stop word (so a stop request ends the sleep) in
 * whole milliseconds until at most SPIN_BEFORE_SEND_US + 1 ms before it, then spin on the clock so
 * the send is on time. Sets `pace.now` to clockMicros() on return.
 */
export function waitUntil(ctl: Int32Array): void {
  const until = pace.until;
  for (;;) {
    const now = clockMicros();
    if (now >= until) {
      pace.now = now;
      return;
    }
    // Whole milliseconds of sleep (a computed double timeout is boxed by Atomics.wait on Node 20):
    // what is left below a millisecond plus the spin stretch is spun.
    const sleepMs = Math.floor((until - now - SPIN_BEFORE_SEND_US) / 1000);
    if (sleepMs < 1) {
      spinUntil(ctl);
      return;
    }
    // Announces a sleeper so the stop request notifies; pairs with the main thread's load of it.
    Atomics.add(ctl, STOP_SLEEPERS_INDEX, 1);
    // Sleeps unless stop was requested; woken by the main thread's notify after its STOP store.
    Atomics.wait(ctl, STOP_INDEX, 0, sleepMs);
    // Withdraws the announcement.
    Atomics.sub(ctl, STOP_SLEEPERS_INDEX, 1);
    // Observes a stop request that ended the sleep.
    if (Atomics.load(ctl, STOP_INDEX) !== 0) {
      pace.now = clockMicros();
      return;
    }
  }
}

/** Spins on the clock until `pace.until`, looking at the stop word every SPIN_STOP_CHECK reads; sets `pace.now`. */
function spinUntil(ctl: Int32Array): void {
  const until = pace.until;
  for (let i = 1; ; i++) {
    const now = clockMicros();
    // Observes a stop request while spinning (every SPIN_STOP_CHECK reads); pairs with the main thread's STOP store.
    if (now >= until || (i % SPIN_STOP_CHECK === 0 && Atomics.load(ctl, STOP_INDEX) !== 0)) {
      pace.now = now;
      return;
    }
  }
}
