/**
 * Records as an async iterator, for the main thread (or any thread with an event loop): a
 * `Consumer` underneath, waiting with `pollAsync` (Atomics.waitAsync), so the event loop keeps
 * running while no record is ready.
 *
 * ```ts
 * for await (const { ring, data } of iterateRecords([ringA, ringB])) { ... }
 * ```
 *
 * - Each step consumes exactly one record and yields a **copy** of its payload: the record's space
 *   is released when the callback returns (consumer_pos moves past it, as in libbpf), so a view
 *   would not survive until the loop body runs. Breaking out of the loop therefore loses nothing:
 *   every record not yet yielded is still in its ring.
 * - Rings are visited round-robin, one record at a time, so a busy ring does not starve the others.
 * - A pending wait does not keep the process alive on its own (Atomics.waitAsync does not ref the
 *   event loop): a program whose only work is this loop exits when its producers are gone.
 * - `stop()`, an aborted `signal`, or `return()` (a `break`) end the iteration cleanly: a pending
 *   `next()` resolves `{ done: true }` at once (stop() wakes the wait) and the consumer slot is freed.
 * - A ring whose positions or headers cannot be right rejects `next()` with the walk's
 *   RingBufCorruptionError; the iteration then ends (the consumer slot is freed) and later calls
 *   resolve done. Nothing is yielded from the bad spot.
 *
 * Thread: one iterator is used from one thread; it is the ring's (single) consumer while it runs.
 */
import { RingBuffer, wakeConsumer } from '@ringbuf/core';
import { Consumer } from '../consumer.js';
import { BUSY_HEAD_WAIT_MS, WAIT_NOW, ringsBound, waitForWorkAsync, type WorkCheck } from '../wait.js';
import { RuntimeError } from './errors.js';

/** One record as the iterator yields it. */
export interface IteratedRecord {
  /** Index of its ring in the rings given. */
  ring: number;
  /** A copy of the payload (owned by the caller). */
  data: Uint8Array;
}

/** Options of {@link iterateRecords}. */
export interface IterateOptions {
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
}

/** The value a callback returns to end a pass after its one record. */
const ONE_RECORD = -1;

/**
 * An async iterator over the records of one or more rings (see the module comment).
 * Thread: the thread that created it.
 */
export class RecordIterator implements AsyncIterableIterator<IteratedRecord, undefined> {
  private readonly consumer: Consumer;
  private readonly rings: readonly RingBuffer[];
  private readonly ringCount: number;
  private nextRing = 0;
  private pending: IteratedRecord | undefined;
  private stopped = false;
  private closed = false;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.stop();
  /**
   * The re-check of a wait (wait.ts): a stop, or a ring with a committed head, ends it; a BUSY head
   * bounds it by BUSY_HEAD_WAIT_MS (without the bound, a loop over a BUSY head would spin on
   * microtasks and starve the event loop; a normal commit of the head wakes the wait at once).
   */
  private readonly waitCheck: WorkCheck = {
    recheck: () => (this.stopped ? WAIT_NOW : ringsBound(this.rings, BUSY_HEAD_WAIT_MS)),
    onSleep: () => undefined,
    // The consumer heartbeat while the loop waits (its consumeRing calls stamp while it runs).
    beat: () => this.consumer.heartbeat(),
  };

  /**
   * @throws RuntimeError `ERR_RUNTIME_OPTIONS` for no rings; RingBufError as `Consumer.add`
   *   (`ERR_RINGBUF_CONSUMER_EXISTS`, `ERR_RINGBUF_WAKE_GROUP`).
   */
  constructor(rings: RingBuffer | readonly RingBuffer[], options: IterateOptions = {}) {
    const list = rings instanceof RingBuffer ? [rings] : rings;
    const [first, ...others]: readonly (RingBuffer | undefined)[] = Array.isArray(list)
      ? (list as readonly RingBuffer[])
      : [];
    if (first === undefined) {
      throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'iterateRecords needs a ring or a non-empty array of rings');
    }
    const callbackFor =
      (ring: number) =>
      (data: Uint8Array, offset: number, size: number): number => {
        this.pending = { ring, data: data.slice(offset, offset + size) };
        return ONE_RECORD;
      };
    const consumer = new Consumer(first, callbackFor(0));
    try {
      others.forEach((ring, i) => consumer.add(ring as RingBuffer, callbackFor(i + 1)));
    } catch (err) {
      consumer.close();
      throw err;
    }
    this.consumer = consumer;
    this.rings = list.slice();
    this.ringCount = list.length;
    this.signal = options.signal;
    if (this.signal?.aborted) this.stop();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next record, waiting (without blocking the event loop) until one is committed. */
  async next(): Promise<IteratorResult<IteratedRecord, undefined>> {
    for (;;) {
      if (this.stopped) return this.finish();
      let took: boolean;
      try {
        took = this.takeOne();
      } catch (err) {
        // Corruption (or a bug): end the iteration; the error goes to this next() only.
        this.stop();
        throw err;
      }
      if (took) return this.yieldPending();
      // Nothing committed at any head: wait (without blocking the event loop) for a commit, a
      // stop(), or the BUSY-head bound; then look again.
      await waitForWorkAsync(this.consumer.wakeWord, this.waitCheck, Infinity);
    }
  }

  /** Ends the iteration (a `break` calls this). Records not yet yielded stay in their rings. */
  /* eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw in stop() rejects the promise an
   * async iterator's return() owes */
  async return(): Promise<IteratorResult<IteratedRecord, undefined>> {
    this.stop();
    return this.finish();
  }

  /**
   * Ends the iteration from anywhere on this thread: a pending `next()` resolves done at once.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    // Close first: a pending pollAsync that wakes finds the consumer closed and consumes nothing
    // (a record it took now could never be yielded).
    this.close();
    // Ends a pending wait (a no-op when nobody sleeps).
    wakeConsumer(this.consumer.wakeWord);
  }

  /** One record from the rings, round-robin; false when none is committed. */
  private takeOne(): boolean {
    for (let k = 0; k < this.ringCount; k++) {
      const i = this.nextRing;
      this.nextRing = i + 1 === this.ringCount ? 0 : i + 1;
      if (this.consumer.consumeRing(i, 1) === ONE_RECORD) return true;
    }
    return false;
  }

  private yieldPending(): IteratorResult<IteratedRecord, undefined> {
    const value = this.pending;
    if (value === undefined) throw new Error('RecordIterator: no pending record (a bug)');
    this.pending = undefined;
    return { value, done: false };
  }

  private finish(): IteratorResult<IteratedRecord, undefined> {
    this.close();
    return { value: undefined, done: true };
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.consumer.close();
  }
}

/**
 * Iterates the records of `rings` (see {@link RecordIterator}). Thread: any thread with an event loop.
 * @throws as the RecordIterator constructor.
 */
export function iterateRecords(rings: RingBuffer | readonly RingBuffer[], options?: IterateOptions): RecordIterator {
  return new RecordIterator(rings, options);
}
