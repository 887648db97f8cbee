/**
 * The causal token: a counter in the control block handed round the producer slots. Slot i emits
 * only while it holds token t with (t - 1) % producers === i, and hands it on (t + 1) after its
 * event is committed, so the events of all producers form one order the consumer can check.
 * Thread: the producers' (the main thread stores FIRST_TOKEN before they start).
 */
import { clockMicros } from '@ringbuf/instrument';
import { STOP_INDEX, TOKEN_INDEX, TOKEN_WAITERS_INDEX } from './stats-layout.js';

/** Spins on the causal token before sleeping on it. */
const TOKEN_SPINS = 256;
/** Longest sleep on the token before re-checking the stop word and the deadline. */
const TOKEN_WAIT_MS = 50;

/**
 * Causal: wait until this slot holds the token ((token - 1) % producers === slot). Returns the token,
 * or 0 when the run stops or its deadline passes first.
 */
export function awaitToken(ctl: Int32Array, slot: number, producers: number, endAt: number): number {
  for (let spin = 0; ; spin++) {
    // Observes the previous holder's hand-over; pairs with its store in passToken().
    const token = Atomics.load(ctl, TOKEN_INDEX);
    if ((token - 1) % producers === slot) return token;
    // Observes a stop request.
    if (Atomics.load(ctl, STOP_INDEX) !== 0) return 0;
    if (spin < TOKEN_SPINS) continue;
    const now = clockMicros();
    if (now >= endAt) return 0;
    // Announces a waiter so the hand-over notifies; pairs with passToken()'s load of it.
    Atomics.add(ctl, TOKEN_WAITERS_INDEX, 1);
    // Sleeps while the token is unchanged; woken by passToken() or a stop request.
    Atomics.wait(ctl, TOKEN_INDEX, token, Math.min(TOKEN_WAIT_MS, (endAt - now) / 1000));
    // Withdraws the announcement.
    Atomics.sub(ctl, TOKEN_WAITERS_INDEX, 1);
  }
}

/** Causal: hand the token to the next slot, waking waiters only if someone sleeps. */
export function passToken(ctl: Int32Array, token: number): void {
  // Publishes the hand-over (and, before it, our committed event); pairs with awaitToken()'s load.
  Atomics.store(ctl, TOKEN_INDEX, token + 1);
  // Observes whether any slot announced that it sleeps on the token.
  if (Atomics.load(ctl, TOKEN_WAITERS_INDEX) > 0) {
    // Wakes the sleepers of awaitToken(); only the next slot proceeds, the rest sleep again.
    Atomics.notify(ctl, TOKEN_INDEX);
  }
}
