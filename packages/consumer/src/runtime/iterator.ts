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
 *
 * Thread: one iterator is used from one thread; it is the ring's (single) consumer while it runs.
 */
import { RingBuffer, announceSleep, cancelSleep, layout, posDiff, sleepAsync, wakeConsumer } from '@ringbuf/core';
import { Consumer } from '../consumer.js';
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
 * Bound of a wait while a ring's head record is BUSY (the safety net for a NO_WAKEUP commit of the
 * head; a normal commit wakes the wait at once by the kernel's rule). Without it, pollAsync (level-
 * triggered on producer_pos != consumer_pos) would return at once and the loop would spin on
 * microtasks, starving the event loop.
 */
const BUSY_HEAD_WAIT_MS = 1;

const { BUSY_BIT_I32, CONS_POS_INDEX, PROD_POS_INDEX, headerIndex } = layout;

/**
 * An async iterator over the records of one or more rings (see the module comment).
 * Thread: the thread that created it.
 */
export class RecordIterator implements AsyncIterableIterator<IteratedRecord> {
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
   * @throws RuntimeError `ERR_RUNTIME_OPTIONS` for no rings; RingBufError as `Consumer.add`
   *   (`ERR_RINGBUF_CONSUMER_EXISTS`, `ERR_RINGBUF_WAKE_GROUP`).
   */
  constructor(rings: RingBuffer | readonly RingBuffer[], options: IterateOptions = {}) {
    const list = rings instanceof RingBuffer ? [rings] : rings;
    if (!Array.isArray(list) || list.length === 0) {
      throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'iterateRecords needs a ring or a non-empty array of rings');
    }
    const callbackFor =
      (ring: number) =>
      (data: Uint8Array, offset: number, size: number): number => {
        this.pending = { ring, data: data.slice(offset, offset + size) };
        return ONE_RECORD;
      };
    const consumer = new Consumer(list[0]!, callbackFor(0));
    try {
      for (let i = 1; i < list.length; i++) consumer.add(list[i]!, callbackFor(i));
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
  async next(): Promise<IteratorResult<IteratedRecord>> {
    for (;;) {
      if (this.stopped) return this.finish();
      if (this.takeOne()) return this.yieldPending();
      let res = 0;
      if (this.headBusy()) await this.waitBusyHead();
      else res = await this.consumer.pollAsync(-1);
      if (res === ONE_RECORD && this.pending !== undefined) return this.yieldPending();
      // (After stop() the consumer is closed and pollAsync returned 0: the loop head ends it.)
    }
  }

  /** Ends the iteration (a `break` calls this). Records not yet yielded stay in their rings. */
  async return(): Promise<IteratorResult<IteratedRecord>> {
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

  /** Whether some ring holds records but none is committed at its head (takeOne just failed). */
  private headBusy(): boolean {
    for (const ring of this.rings) {
      // Observes the producers' reservations and our own consumer_pos.
      if (posDiff(Atomics.load(ring.i32, PROD_POS_INDEX), Atomics.load(ring.i32, CONS_POS_INDEX)) !== 0) return true;
    }
    return false;
  }

  /** A bounded sleep on the wake word while a head record is BUSY; its committer wakes it. */
  private async waitBusyHead(): Promise<void> {
    const wake = this.consumer.wakeWord;
    announceSleep(wake);
    // Dekker re-check after announcing: a head committed before our store did not see us sleeping.
    let ready = this.stopped;
    for (const ring of this.rings) {
      // Observes our consumer_pos and the head record's commit (pairs with submit's header RMW).
      const cons = Atomics.load(ring.i32, CONS_POS_INDEX);
      if (Atomics.load(ring.i32, PROD_POS_INDEX) === cons) continue;
      if (ring.overwrite || (Atomics.load(ring.i32, headerIndex(cons & ring.mask)) & BUSY_BIT_I32) === 0) ready = true;
    }
    if (!ready) await sleepAsync(wake, BUSY_HEAD_WAIT_MS);
    cancelSleep(wake);
  }

  private yieldPending(): IteratorResult<IteratedRecord> {
    const value = this.pending!;
    this.pending = undefined;
    return { value, done: false };
  }

  private finish(): IteratorResult<IteratedRecord> {
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
