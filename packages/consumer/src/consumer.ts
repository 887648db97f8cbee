/**
 * The consumer side: libbpf's `ring_buffer__*` (tools/lib/bpf/ringbuf.c) over one or more rings.
 *
 * Who writes what: the consumer is the only writer of each ring's consumer_pos (and, in overwrite
 * mode, of its delivered-records word) and of the CLAIM word it took; it flips the wake word to
 * SLEEPING before it sleeps and back to AWAKE after. Everything else it only reads.
 *
 * The walk is libbpf's `ringbuf_process_ring`: records in position order, stop at the first BUSY
 * one, skip discarded ones without counting them, publish consumer_pos after every record (so a
 * slow callback never holds space), and a negative callback result stops the pass and is returned
 * (that record is consumed and not delivered again). `poll` is level-triggered like the kernel's
 * `ringbuf_map_poll_kern`: ready when producer_pos != consumer_pos.
 *
 * Thread: a `Consumer` is used from one thread only, and at most one live consumer exists per ring.
 */
import {
  RingBuffer,
  RingBufCorruptionError,
  RingBufError,
  RingBufRangeError,
  announceSleep,
  cancelSleep,
  layout,
  posDiff,
  sleep,
  sleepAsync,
  type WakeWord,
} from '@ringbuf/core';

const {
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  BUSY_BIT_I32,
  CLAIM_INDEX,
  CONSUMED_RECORDS_INDEX,
  CONS_POS_INDEX,
  HDR_LEN_MASK,
  PROD_POS_INDEX,
  headerIndex,
  recordFootprint,
} = layout;

/**
 * Called for each committed record, zero-copy: the payload is `data[offset, offset + size)` (in
 * overwrite mode, a private copy at offset 0). Return a negative number to stop the pass; that
 * value is returned by poll/consume. Any other return (or none) continues.
 */
export type SampleCallback = (data: Uint8Array, offset: number, size: number) => number | void;

/** libbpf caps record counts at INT_MAX. */
const INT_MAX = 0x7fffffff;

/**
 * Pauses without touching shared memory, so that producers can finish the cache lines they are
 * writing before the consumer reads them. Beyond libbpf (whose poll returns at once, and whose
 * epoll sleeps at once): `poll` pauses about a microsecond after a pass, and re-checks a few times
 * before it announces sleep, because a sleeping consumer costs the next committer a notify with a
 * waiter (microseconds) and itself a wakeup of about 13 us. Results are the same; only timing moves.
 */
const pauseWord = new Int32Array(1);
function pause(loads: number): void {
  // A private, unshared word: each load takes a few ns and cannot be optimised away.
  for (let i = 0; i < loads; i++) Atomics.load(pauseWord, 0);
}
/** Pause after a pass of poll(timeout != 0): about 1 us. */
const PASS_PAUSE_LOADS = 140;
/** Re-checks before sleeping, each after a pause of about 1 us. */
const GRACE_ROUNDS = 4;
const GRACE_PAUSE_LOADS = 140;
/** pollAsync: longest wait for a BUSY head record's commit (a safety net for NO_WAKEUP commits). */
const STALL_WAIT_MS = 1;

/** Per-ring counters, plain numbers updated once per pass. */
export interface RingCounters {
  /** Records delivered to the callback. */
  records: number;
  /** Payload bytes delivered. */
  bytes: number;
  /** Discarded records skipped. */
  discarded: number;
  /** Passes that stopped at a BUSY record with data behind it (head-of-line waits). */
  busyStalls: number;
  /** Overwrite mode: committed records overwritten before this consumer could read them. */
  lost: number;
}

/** Counters of the consumer as a whole. */
export interface ConsumerCounters {
  /** poll / pollAsync calls. */
  polls: number;
  /** Times the consumer went to sleep on the wake word. */
  sleeps: number;
  /** Sleeps ended by a producer's (or a stopper's) notification rather than the timeout. */
  wakeups: number;
}

/** One ring as the consumer holds it. */
interface Entry {
  readonly ring: RingBuffer;
  readonly i32: Int32Array;
  readonly data: Uint8Array;
  readonly mask: number;
  readonly callback: SampleCallback;
  readonly token: number;
  readonly counters: RingCounters;
  /** Overwrite mode: the private copy handed to the callback, as bytes and as words. */
  readonly scratch: Uint8Array | undefined;
  readonly scratchWords: Int32Array | undefined;
  readonly dataWords: Int32Array | undefined;
}

let nextToken = 1;

/**
 * A libbpf-style consumer over one or more rings (`ring_buffer__new` / `ring_buffer__add`).
 * Thread: the consumer thread only.
 */
export class Consumer {
  private readonly entries: Entry[] = [];
  /** Set by processReady(): whether any ring had producer_pos != consumer_pos. */
  private sawReady = false;
  /** Set by the walk when a pass stopped at a BUSY record. */
  private stalled = false;
  private wake: WakeWord | undefined;
  private closed = false;
  /** Whole-consumer counters; read them at any time from this thread. */
  readonly counters: ConsumerCounters = { polls: 0, sleeps: 0, wakeups: 0 };

  /**
   * `ring_buffer__new`: a consumer of `ring`, delivering to `callback`.
   * @throws RingBufError `ERR_RINGBUF_CONSUMER_EXISTS` when the ring already has a live consumer.
   */
  constructor(ring: RingBuffer, callback: SampleCallback) {
    this.add(ring, callback);
  }

  /**
   * `ring_buffer__add`: consume another ring in the same poll. Rings polled together must share a
   * wake word: create them with the same `wakeGroup`.
   * @throws RingBufError `ERR_RINGBUF_CONSUMER_EXISTS`, `ERR_RINGBUF_WAKE_GROUP`, `ERR_RINGBUF_CLOSED`.
   */
  add(ring: RingBuffer, callback: SampleCallback): void {
    this.checkOpen();
    if (!(ring instanceof RingBuffer)) throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'add needs a RingBuffer');
    if (typeof callback !== 'function') throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'add needs a callback function');
    if (this.wake !== undefined && ring.wake.buffer !== this.wake.buffer) {
      throw new RingBufError(
        'ERR_RINGBUF_WAKE_GROUP',
        'rings polled by one consumer must share a wake word: create them with the same wakeGroup',
      );
    }
    nextToken = (nextToken + 1) & 0x7fffffff || 1;
    const token = nextToken;
    // Takes the ring's single consumer slot; pairs with close()'s release and other consumers' attempts.
    if (Atomics.compareExchange(ring.i32, CLAIM_INDEX, 0, token) !== 0) {
      throw new RingBufError('ERR_RINGBUF_CONSUMER_EXISTS', 'this ring already has a live consumer (only one is allowed)');
    }
    const overwrite = ring.overwrite;
    const scratchBuffer = overwrite ? new ArrayBuffer(ring.maxPayload + 8) : undefined;
    this.entries.push({
      ring,
      i32: ring.i32,
      data: ring.data,
      mask: ring.mask,
      callback,
      token,
      counters: { records: 0, bytes: 0, discarded: 0, busyStalls: 0, lost: 0 },
      scratch: scratchBuffer && new Uint8Array(scratchBuffer),
      scratchWords: scratchBuffer && new Int32Array(scratchBuffer),
      dataWords: overwrite ? new Int32Array(ring.buffer, ring.data.byteOffset, ring.data.byteLength >> 2) : undefined,
    });
    this.wake = ring.wake;
  }

  /** `ring_buffer__ring`: the ring at `index`, or undefined when out of range (libbpf: NULL, ERANGE). */
  ring(index: number): RingBuffer | undefined {
    return this.entries[index]?.ring;
  }

  /** Number of rings added. */
  get ringCount(): number {
    return this.entries.length;
  }

  /** Counters of the ring at `index` (same object every call; updated after each pass). */
  ringCounters(index: number): RingCounters | undefined {
    return this.entries[index]?.counters;
  }

  /**
   * `ring_buffer__poll`: process every ready ring at once, else sleep until a producer's wake
   * decision or the timeout. `timeoutMs`: -1 (any negative) waits forever, 0 never waits. Returns the
   * records delivered (capped at INT_MAX), or the first negative callback result.
   * @throws RingBufCorruptionError when a header cannot be right.
   */
  poll(timeoutMs: number): number {
    this.checkOpen();
    checkTimeout(timeoutMs);
    this.counters.polls++;
    const total = this.processReady();
    if (this.sawReady) {
      if (timeoutMs !== 0) pause(PASS_PAUSE_LOADS);
      return total;
    }
    if (timeoutMs === 0) return 0;
    // Grace period before sleeping: a producer in full flow commits again within a microsecond, and
    // a sleeping consumer costs it a notify with a waiter (microseconds) and us a 13 us wakeup.
    for (let round = 0; round < GRACE_ROUNDS; round++) {
      pause(GRACE_PAUSE_LOADS);
      const got = this.processReady();
      if (this.sawReady) return got;
    }
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const wake = this.wake!;
    announceSleep(wake);
    // Dekker re-check after announcing: a producer that committed before our store did not see us.
    const ready = this.processReady();
    if (this.sawReady) {
      cancelSleep(wake);
      return ready;
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      cancelSleep(wake);
      return 0;
    }
    this.counters.sleeps++;
    const result = sleep(wake, remaining);
    cancelSleep(wake);
    // Woken by a producer's commit or a stop request (which may leave nothing to read), or timed out.
    if (result !== 'timed-out') this.counters.wakeups++;
    return this.processReady();
  }

  /**
   * As `poll`, sleeping with `Atomics.waitAsync` so the event loop keeps running (main thread). A
   * pending wait does not keep the process alive by itself. Unlike `poll`, a pass that stopped at a
   * BUSY record with nothing delivered does not return at once (a loop of such calls would starve
   * the event loop on microtasks): it waits for that record's commit, which wakes us by the kernel's
   * rule (consumer_pos == its offset), for at most STALL_WAIT_MS, so that a head committed with
   * BPF_RB_NO_WAKEUP is still picked up.
   */
  async pollAsync(timeoutMs: number): Promise<number> {
    this.checkOpen();
    checkTimeout(timeoutMs);
    this.counters.polls++;
    const total = this.processReady();
    if (this.sawReady && !(this.stalled && total === 0)) return total;
    if (timeoutMs === 0) return total;
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const wake = this.wake!;
    announceSleep(wake);
    // Dekker re-check after announcing, as in poll().
    const ready = this.processReady();
    if (this.sawReady && !(this.stalled && ready === 0)) {
      cancelSleep(wake);
      return ready;
    }
    let remaining = deadline - performance.now();
    if (this.sawReady && remaining > STALL_WAIT_MS) remaining = STALL_WAIT_MS;
    if (remaining <= 0) {
      cancelSleep(wake);
      return ready;
    }
    this.counters.sleeps++;
    const result = await sleepAsync(wake, remaining);
    cancelSleep(wake);
    if (this.closed) return 0;
    if (result !== 'timed-out') this.counters.wakeups++;
    return this.processReady();
  }

  /** `ring_buffer__consume`: process every ring without waiting. Returns as `poll`. */
  consume(): number {
    this.checkOpen();
    let total = 0;
    for (const entry of this.entries) {
      const res = this.processRing(entry, INT_MAX);
      if (res < 0) return res;
      total += res;
    }
    return total > INT_MAX ? INT_MAX : total;
  }

  /**
   * `ring_buffer__consume_n`: process at most `n` records over the rings in order. `n = 0` processes
   * nothing (libbpf's size_t arithmetic would wrap there).
   */
  consumeN(n: number): number {
    this.checkOpen();
    if (!Number.isInteger(n) || n < 0) {
      throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `consumeN needs a non-negative integer, got ${String(n)}`);
    }
    let left = n > INT_MAX ? INT_MAX : n;
    let total = 0;
    for (const entry of this.entries) {
      if (left === 0) break;
      const res = this.processRing(entry, left);
      if (res < 0) return res;
      total += res;
      left -= res;
    }
    return total;
  }

  /** `ring__consume_n` for the ring at `index`. */
  consumeRing(index: number, n = INT_MAX): number {
    this.checkOpen();
    const entry = this.entries[index];
    if (entry === undefined) throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `no ring at index ${index}`);
    if (!Number.isInteger(n) || n < 0) {
      throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `consumeRing needs a non-negative integer count, got ${String(n)}`);
    }
    // As consumeN: n = 0 processes nothing; counts are capped at INT_MAX like libbpf's.
    if (n === 0) return 0;
    return this.processRing(entry, n > INT_MAX ? INT_MAX : n);
  }

  /** `ring_buffer__free`: release every ring's consumer slot. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.entries) {
      // Releases the consumer slot taken in add(); pairs with the next consumer's compare-exchange.
      Atomics.compareExchange(entry.i32, CLAIM_INDEX, entry.token, 0);
    }
  }

  /**
   * Frees a ring's consumer slot held by a consumer that can no longer close it (its thread died).
   * Thread: any; only when that consumer is known to be gone.
   */
  static releaseDeadConsumer(ring: RingBuffer): void {
    // Frees the slot whatever token holds it; pairs with add()'s compare-exchange.
    Atomics.store(ring.i32, CLAIM_INDEX, 0);
  }

  /** The wake word this consumer sleeps on (for stop requests from other threads). */
  get wakeWord(): WakeWord {
    return this.wake!;
  }

  /**
   * Process each ready ring fully, as `ring_buffer__poll` does for the epoll events it got. Sets
   * `sawReady`: whether any ring was ready (level-triggered: producer_pos != consumer_pos).
   */
  private processReady(): number {
    let total = 0;
    let ready = false;
    this.stalled = false;
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      // Observes the producers' reservations; pairs with reserve's producer_pos store.
      const prodPos = Atomics.load(entry.i32, PROD_POS_INDEX);
      // Observes our own last store of consumer_pos (or a test's deliberate write).
      const consPos = Atomics.load(entry.i32, CONS_POS_INDEX);
      if (prodPos === consPos) continue;
      ready = true;
      const res = entry.scratch === undefined ? this.walk(entry, INT_MAX, consPos, prodPos) : this.walkOverwrite(entry, INT_MAX);
      if (res < 0) {
        this.sawReady = true;
        return res;
      }
      total += res;
    }
    this.sawReady = ready;
    return total > INT_MAX ? INT_MAX : total;
  }

  private processRing(entry: Entry, n: number): number {
    if (entry.scratch !== undefined) return this.walkOverwrite(entry, n);
    // Observes our own last store of consumer_pos and the producers' latest reservation.
    return this.walk(entry, n, Atomics.load(entry.i32, CONS_POS_INDEX), Atomics.load(entry.i32, PROD_POS_INDEX));
  }

  /**
   * libbpf's `ringbuf_process_ring`, zero-copy, from `startPos`, first up to `firstProdPos`, then
   * re-reading producer_pos until a pass finds nothing new.
   */
  private walk(entry: Entry, n: number, startPos: number, firstProdPos: number): number {
    const { i32, data, mask, callback, counters } = entry;
    let consPos = startPos;
    let prodPos = firstProdPos;
    let count = 0;
    let bytes = 0;
    let discarded = 0;
    let result = 0;
    // try/finally: a callback that throws leaves the records before it consumed and counted; the
    // throwing record is not consumed (consumer_pos stays before it) and will be delivered again.
    try {
      outer: for (;;) {
        let gotNewData = false;
        while (posDiff(prodPos, consPos) > 0) {
          const hdrOffset = consPos & mask;
          // Observes the commit RMW (submit/discard compare-exchange, output's AND); payload writes happen-before it.
          const hdr = Atomics.load(i32, headerIndex(hdrOffset));
          if ((hdr & BUSY_BIT_I32) !== 0) {
            counters.busyStalls++;
            this.stalled = true;
            break outer;
          }
          const size = hdr & HDR_LEN_MASK;
          const len = recordFootprint(size);
          if (len > posDiff(prodPos, consPos)) throw this.corruption(consPos, size, prodPos);
          gotNewData = true;
          consPos = (consPos + len) | 0;
          if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) {
            const res = callback(data, hdrOffset + BPF_RINGBUF_HDR_SZ, size) as number;
            if (res < 0) {
              // Releases the record's space even though the pass stops (libbpf does the same).
              Atomics.store(i32, CONS_POS_INDEX, consPos);
              count++;
              bytes += size;
              result = res;
              break outer;
            }
            count++;
            bytes += size;
          } else {
            discarded++;
          }
          // Releases the record's space; pairs with the producers' consumer_pos loads.
          Atomics.store(i32, CONS_POS_INDEX, consPos);
          if (count >= n) break outer;
        }
        if (!gotNewData) break;
        // Observes reservations published during this pass; pairs with reserve's producer_pos store.
        prodPos = Atomics.load(i32, PROD_POS_INDEX);
      }
    } finally {
      counters.records += count;
      counters.bytes += bytes;
      counters.discarded += discarded;
    }
    // libbpf counts the stopping record as consumed but returns the callback's error.
    return result < 0 ? result : count;
  }

  /**
   * Overwrite mode, beyond libbpf (which cannot consume such rings yet): resume from
   * max(consumer_pos, overwrite_pos); copy each record out and re-check overwrite_pos before
   * delivering the copy, so a record overwritten while it was read is skipped, never delivered torn.
   * Losses are counted exactly from the producers' overwritten-records counter.
   */
  private walkOverwrite(entry: Entry, n: number): number {
    const { ring, i32, mask, callback, counters } = entry;
    const scratch = entry.scratch!;
    const scratchWords = entry.scratchWords!;
    const dataWords = entry.dataWords!;
    // Observes our own last stores.
    let consPos = Atomics.load(i32, CONS_POS_INDEX);
    let delivered = Atomics.load(i32, CONSUMED_RECORDS_INDEX) >>> 0;
    let count = 0;
    let result = 0;
    outer: for (;;) {
      if (posDiff(ring.overwritePos(), consPos) > 0) consPos = this.skipOverwritten(entry, delivered);
      // Observes reservations published after the overwrite_pos we checked (its store precedes it).
      const prodPos = Atomics.load(i32, PROD_POS_INDEX);
      let gotNewData = false;
      while (posDiff(prodPos, consPos) > 0) {
        const hdrOffset = consPos & mask;
        // Observes the commit; payload writes happen-before it.
        const hdr = Atomics.load(i32, headerIndex(hdrOffset));
        if ((hdr & BUSY_BIT_I32) !== 0) {
          if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
          counters.busyStalls++;
          break outer;
        }
        const size = hdr & HDR_LEN_MASK;
        const len = recordFootprint(size);
        if (len > posDiff(prodPos, consPos)) {
          if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
          throw this.corruption(consPos, size, prodPos);
        }
        if ((hdr & BPF_RINGBUF_DISCARD_BIT) !== 0) {
          consPos = (consPos + len) | 0;
          counters.discarded++;
          // Releases the discarded record.
          Atomics.store(i32, CONS_POS_INDEX, consPos);
          gotNewData = true;
          continue;
        }
        // Copy word by word (payloads start 8-aligned), allocation-free.
        const from = (hdrOffset + BPF_RINGBUF_HDR_SZ) >> 2;
        const words = (size + 3) >> 2;
        for (let w = 0; w < words; w++) scratchWords[w] = dataWords[from + w]!;
        // A producer that overwrites this record advances overwrite_pos before writing into it.
        if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
        consPos = (consPos + len) | 0;
        delivered++;
        gotNewData = true;
        const res = callback(scratch, 0, size) as number;
        // Publishes the delivered count before the position; skipOverwritten() reads them.
        Atomics.store(i32, CONSUMED_RECORDS_INDEX, delivered);
        // Releases the record's space.
        Atomics.store(i32, CONS_POS_INDEX, consPos);
        count++;
        counters.bytes += size;
        if (res < 0) {
          result = res;
          break outer;
        }
        if (count >= n) break outer;
      }
      if (!gotNewData) break;
    }
    counters.records += count;
    return result < 0 ? result : count;
  }

  /** Jump to overwrite_pos; every committed record before it that we did not deliver is lost. */
  private skipOverwritten(entry: Entry, delivered: number): number {
    const { pos, overwritten } = entry.ring.readOverwrite();
    entry.counters.lost = (overwritten - delivered) >>> 0;
    // Moves past the overwritten records.
    Atomics.store(entry.i32, CONS_POS_INDEX, pos);
    return pos;
  }

  private corruption(pos: number, size: number, prodPos: number): RingBufCorruptionError {
    return new RingBufCorruptionError(
      pos >>> 0,
      `corrupt record header at position ${pos >>> 0}: length ${size} runs past producer_pos ${prodPos >>> 0}`,
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new RingBufError('ERR_RINGBUF_CLOSED', 'this consumer is closed');
  }
}

function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || timeoutMs !== timeoutMs) {
    throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `poll timeout must be a number of milliseconds, got ${String(timeoutMs)}`);
  }
}
