/**
 * The wake word: what the kernel's `irq_work` + wait queue + epoll become here.
 *
 * Who writes it: the consumer (AWAKE -> SLEEPING before it sleeps, SLEEPING -> AWAKE when it gives
 * up sleeping) and any producer whose commit decides to wake (SLEEPING -> AWAKE, then notify).
 *
 * The protocol is a Dekker handshake on sequentially consistent atomics:
 *   consumer: store(wake, SLEEPING); load(producer_pos) per ring; sleep only if nothing is ready
 *   producer: RMW(record header);    load(wake); if SLEEPING and the kernel rule says wake: notify
 * Either the producer sees SLEEPING and wakes the consumer, or the consumer's re-check sees the
 * committed record; a wakeup cannot be lost. A producer that sees AWAKE skips the notify (45 ns even
 * with nobody waiting) and the consumer_pos load: an awake consumer re-checks before it sleeps.
 *
 * A ring normally owns its wake word (in its own buffer). Rings that one consumer polls together
 * must share one, because `Atomics.wait` waits on one address where epoll waits on many fds: they
 * are created with a {@link WakeGroup}.
 */
import { waitTimeoutMs } from './clock.js';
import { describeValue, RingBufError } from './errors.js';
import {
  LAYOUT_VERSION,
  MAGIC_INDEX,
  VERSION_INDEX,
  WAKE_AWAKE,
  WAKE_GROUP_BYTES,
  WAKE_GROUP_MAGIC,
  WAKE_ID_INDEX,
  WAKE_NOTIFIES_INDEX,
  WAKE_SLEEPING,
  WAKE_WORD_INDEX,
} from './layout.js';

/** An `Int32Array` over a buffer that holds a wake line at the layout's WAKE offsets. */
export type WakeWord = Int32Array;

/**
 * Refuses anything but an Int32Array over shared memory long enough to hold a wake line: the
 * Atomics calls below would otherwise throw untyped errors, or wait on a private buffer forever.
 */
function checkWake(wake: WakeWord, what: string): void {
  if (
    !(wake instanceof Int32Array) ||
    !(wake.buffer instanceof SharedArrayBuffer) ||
    wake.length <= WAKE_NOTIFIES_INDEX
  ) {
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      `${what} needs a wake word (a ring's or a WakeGroup's Int32Array over shared memory)`,
    );
  }
}

/** A random non-zero 31-bit id that ties rings to the wake word their producers notify. */
export function newWakeId(): number {
  let id = 0;
  while (id === 0) id = (Math.random() * 0x7fffffff) | 0;
  return id;
}

/** Consumer: announce the intent to sleep. Must be followed by a re-check of every ring. */
export function announceSleep(wake: WakeWord): void {
  checkWake(wake, 'announceSleep');
  // Publishes "consumer sleeping" before the re-check of producer_pos; pairs with wakeConsumer()'s load.
  Atomics.store(wake, WAKE_WORD_INDEX, WAKE_SLEEPING);
}

/** Consumer: withdraw the announcement (the re-check found data, or the sleep ended). */
export function cancelSleep(wake: WakeWord): void {
  checkWake(wake, 'cancelSleep');
  // Publishes "consumer awake" so producers stop paying for wake decisions; pairs with wakeConsumer()'s load.
  Atomics.store(wake, WAKE_WORD_INDEX, WAKE_AWAKE);
}

/**
 * Whether this thread may block in `Atomics.wait`. Browsers forbid it on the main thread (it throws
 * a TypeError there); Node allows it everywhere. Probed once, on a private word.
 */
export const CAN_BLOCK: boolean = (() => {
  try {
    // A private word that never equals 1: returns 'not-equal' at once where blocking is allowed.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/**
 * Consumer: sleep while the word says SLEEPING. Returns Atomics.wait's result.
 * @throws RingBufError `ERR_RINGBUF_CANNOT_BLOCK` on a thread that may not block (a browser's main
 *   thread): use `sleepAsync` (the consumer's `pollAsync`, `iterateRecords`) there.
 */
export function sleep(wake: WakeWord, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
  checkWake(wake, 'sleep');
  checkTimeout(timeoutMs, 'sleep');
  if (!CAN_BLOCK) {
    // Withdraws the caller's announcement: nobody will sleep, so producers must stop notifying.
    cancelSleep(wake);
    throw new RingBufError(
      'ERR_RINGBUF_CANNOT_BLOCK',
      'this thread may not block in Atomics.wait (a browser main thread): use pollAsync or iterateRecords',
    );
  }
  // Sleeps until wakeConsumer()'s notify, unless a producer already flipped the word to AWAKE.
  // Whole milliseconds, rounded up: a computed double timeout would be boxed (see clock.ts).
  return Atomics.wait(wake, WAKE_WORD_INDEX, WAKE_SLEEPING, waitTimeoutMs(timeoutMs));
}

/** Consumer on an event loop: as {@link sleep}, resolved through `Atomics.waitAsync`. */
export function sleepAsync(wake: WakeWord, timeoutMs: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
  checkWake(wake, 'sleepAsync');
  checkTimeout(timeoutMs, 'sleepAsync');
  // Same pairing as sleep(); the notify resolves the promise on this thread's event loop.
  const result = Atomics.waitAsync(wake, WAKE_WORD_INDEX, WAKE_SLEEPING, waitTimeoutMs(timeoutMs));
  return result.async ? result.value : Promise.resolve(result.value);
}

/** Producer: is anyone sleeping on this word right now? One load, no write. */
export function consumerSleeping(wake: WakeWord): boolean {
  checkWake(wake, 'consumerSleeping');
  return isSleeping(wake);
}

/** As {@link consumerSleeping}, unchecked: the producers' per-commit test on their own wake word. */
export function isSleeping(wake: WakeWord): boolean {
  // Observes the consumer's announceSleep(); pairs with its store.
  return Atomics.load(wake, WAKE_WORD_INDEX) === WAKE_SLEEPING;
}

/**
 * Producer (or anyone stopping the consumer): wake a sleeping consumer. Concurrent wakers coalesce
 * like the kernel's already-queued irq_work: only the one that flips SLEEPING -> AWAKE notifies.
 * Returns whether this call sent the notification.
 */
export function wakeConsumer(wake: WakeWord): boolean {
  checkWake(wake, 'wakeConsumer');
  // Claims the wakeup; pairs with announceSleep()'s store and sleep()'s expected value.
  if (Atomics.exchange(wake, WAKE_WORD_INDEX, WAKE_AWAKE) !== WAKE_SLEEPING) return false;
  // Counts notifications actually sent (the waking path only); read by stats.
  Atomics.add(wake, WAKE_NOTIFIES_INDEX, 1);
  // Ends sleep()/sleepAsync() of the consumer.
  Atomics.notify(wake, WAKE_WORD_INDEX, 1);
  return true;
}

/**
 * Recovery: notify the consumer whatever the wake word says. A producer that died between claiming
 * a wakeup (its exchange to AWAKE) and its notify leaves the consumer asleep on a word that no longer
 * says SLEEPING; only a notify ends that sleep. A spurious wakeup is harmless: poll re-checks.
 */
export function rescueSleeper(wake: WakeWord): void {
  checkWake(wake, 'rescueSleeper');
  // Ends any sleep()/sleepAsync() on the word; pairs with nothing (it carries no data).
  Atomics.notify(wake, WAKE_WORD_INDEX);
}

/** Notifications sent so far on this wake word. */
export function wakeNotifies(wake: WakeWord): number {
  checkWake(wake, 'wakeNotifies');
  // Observes wakeConsumer()'s counter.
  return Atomics.load(wake, WAKE_NOTIFIES_INDEX) >>> 0;
}

/**
 * A wake word in a buffer of its own, shared by several rings so that one consumer can sleep in one
 * wait that any of their producers can end (the multi-ring `ring_buffer__poll`).
 */
export class WakeGroup {
  /** Post this to other threads along with each ring's buffer. */
  readonly buffer: SharedArrayBuffer;
  readonly id: number;
  /** @internal */
  readonly word: WakeWord;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.word = new Int32Array(buffer);
    this.id = this.word[WAKE_ID_INDEX]!;
  }

  /** A new wake group. Thread: any. */
  static create(): WakeGroup {
    const buffer = new SharedArrayBuffer(WAKE_GROUP_BYTES);
    const i32 = new Int32Array(buffer);
    i32[MAGIC_INDEX] = WAKE_GROUP_MAGIC;
    i32[VERSION_INDEX] = LAYOUT_VERSION;
    i32[WAKE_ID_INDEX] = newWakeId();
    return new WakeGroup(buffer);
  }

  /**
   * Wraps a wake group's buffer received from another thread.
   * @throws RingBufError `ERR_RINGBUF_FOREIGN_BUFFER` when the buffer is not a wake group's.
   */
  static attach(buffer: SharedArrayBuffer): WakeGroup {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== WAKE_GROUP_BYTES) {
      throw new RingBufError('ERR_RINGBUF_FOREIGN_BUFFER', 'not a wake group buffer (wrong type or length)');
    }
    const i32 = new Int32Array(buffer);
    if (i32[MAGIC_INDEX] !== WAKE_GROUP_MAGIC || i32[VERSION_INDEX] !== LAYOUT_VERSION) {
      throw new RingBufError('ERR_RINGBUF_FOREIGN_BUFFER', 'not a wake group buffer (bad magic or version)');
    }
    return new WakeGroup(buffer);
  }

  /** Wake the consumer sleeping on this group, if it sleeps (for stop requests and tests). */
  wake(): boolean {
    return wakeConsumer(this.word);
  }
}

/** A timeout in milliseconds: a number that is not NaN (Infinity waits forever, as Atomics.wait). */
function checkTimeout(ms: number, what: string): void {
  if (typeof ms !== 'number' || ms !== ms) {
    throw new RingBufError('ERR_RINGBUF_ARGUMENT', `${what} needs a timeout in milliseconds, got ${describeValue(ms)}`);
  }
}
