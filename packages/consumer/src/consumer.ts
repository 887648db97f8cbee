/**
 * The consumer side: libbpf's `ring_buffer__*` (tools/lib/bpf/ringbuf.c) over one or more rings.
 *
 * Who writes what: the consumer is the only writer of each ring's consumer_pos (and, in overwrite
 * mode, of its delivered-records word), of its heartbeat word (core's heartbeat.ts) and of the CLAIM
 * word it took; it flips the wake word to SLEEPING before it sleeps and back to AWAKE after.
 * Everything else it only reads.
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
  describeValue,
  HEARTBEAT_STAMP_MS,
  RingBuffer,
  RingBufCorruptionError,
  RingBufError,
  RingBufRangeError,
  layout,
  monotonicMs,
  posDiff,
  type WakeWord,
} from '@ringbuf/core';
import {
  BUSY_HEAD_WAIT_MS,
  WAIT_NOW,
  WAITED_EXPIRED,
  WAITED_READY,
  WAITED_WOKEN,
  waitForWork,
  waitForWorkAsync,
  type WorkCheck,
} from './wait.js';

const { BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, BUSY_BIT_I32, HDR_LEN_MASK, recordFootprint } = layout;

/**
 * Called for each committed record, zero-copy: the payload is `data[offset, offset + size)` (in
 * overwrite mode, a private copy at offset 0). Return a negative number to stop the pass; that
 * value is returned by poll/consume. Any other return (or none) continues.
 */
/* eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- void: a callback that returns nothing type-checks
 * (libbpf's sample_cb may return 0) */
export type SampleCallback = (data: Uint8Array, offset: number, size: number) => number | void;

/** Options of a Consumer. */
export interface ConsumerOptions {
  /**
   * When the walk publishes consumer_pos: `'record'`, after every record, as libbpf's
   * `ringbuf_process_ring` does (space is released while a slow callback runs); `'pass'`, once per
   * pass over the records published so far (and before any return or throw), as the kernel bench's
   * own consumer `ringbuf_custom_process_ring` (`rb-custom` in benchs/bench_ringbufs.c) and the
   * Disruptor's BatchEventProcessor do: one store per pass instead of one per record, producers see
   * the space a pass later. Overwrite rings always publish per record.
   * @default 'record'
   */
  publish?: 'record' | 'pass';
}

/** libbpf caps record counts at INT_MAX. */
const INT_MAX = 0x7fffffff;
/**
 * At most this many calls between two clock reads of the heartbeat (tick): a consumer whose calls
 * slow down abruptly stamps again within this many of its new, slower calls (64 calls 20 ms apart:
 * 1.3 s, under HEARTBEAT_STALL_MS), while one called a million times a second reads the clock
 * 16 thousand times a second instead of a million.
 */
const MAX_BEAT_CALLS = 64;

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
 * Checks a Consumer's options (untrusted: read as `unknown`) and returns its publish mode.
 * @throws RingBufError `ERR_RINGBUF_ARGUMENT` when they are not an object or `publish` is not a mode.
 */
function publishMode(options: unknown): 'record' | 'pass' {
  if (options === null || typeof options !== 'object') {
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      `Consumer options must be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const { publish = 'record' } = options as { publish?: unknown };
  if (publish !== 'record' && publish !== 'pass') {
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      `Consumer options.publish must be 'record' or 'pass', ` +
        `got ${typeof publish === 'string' ? `'${publish}'` : typeof publish}`,
    );
  }
  return publish;
}

/**
 * A libbpf-style consumer over one or more rings (`ring_buffer__new` / `ring_buffer__add`).
 *
 * **Callbacks may not call back into their consumer.** `poll`, `pollAsync`, `consume`, `consumeN`,
 * `consumeRing` and `close` called from inside one of this consumer's callbacks throw (or, for
 * `pollAsync`, reject with) RingBufError `ERR_RINGBUF_REENTRANT` and change nothing: the record
 * being delivered is not consumed until its callback returns, so a nested walk would deliver it,
 * and the records after it, a second time (libbpf leaves this undefined). The walk in progress
 * carries on if the callback catches the error; if it lets it propagate, the outer call throws it
 * as any callback error (the records before it consumed, that record delivered again next time).
 * To stop from a callback, return a negative number; close after the call returns.
 *
 * **Heartbeat** (beyond libbpf, see core's heartbeat.ts): the consumer stamps every ring's
 * heartbeat word (`RingBuffer.stampConsumerHeartbeat`) when it is created, when calls start (a
 * clock read about every HEARTBEAT_STAMP_MS at the rate calls arrive, counted down per call, a
 * store at most that often, nothing per record), before it sleeps and every HEARTBEAT_IDLE_MS while
 * it sleeps; `close` clears it. Producers read
 * `ring.consumerHeartbeatAgeMs()`.
 *
 * Thread: the consumer thread only.
 */
export class Consumer {
  private readonly entries: Entry[] = [];
  /** Set while a walk runs (a callback may be on the stack): re-entry is refused. */
  private walking = false;
  /** The clock reading of the last heartbeat stamp (monotonicMs), -Infinity before the first. */
  private lastBeatMs = -Infinity;
  /** The clock reading tick() took last, and the calls since: what the next budget is sized from. */
  private lastReadMs = -Infinity;
  /** Calls tick() lets pass before it reads the clock again (see tick). */
  private beatBudget = 1;
  private beatCountdown = 0;
  /** Set by processReady(): whether any ring had producer_pos != consumer_pos. */
  private sawReady = false;
  /** Set by the walk when a pass stopped at a BUSY record. */
  private stalled = false;
  private wake: WakeWord | undefined;
  private closed = false;
  /** Records delivered by the last re-check of a wait (waitForWork's WorkCheck). */
  private rechecked = 0;
  /** Whole-consumer counters; read them at any time from this thread. */
  readonly counters: ConsumerCounters = { polls: 0, sleeps: 0, wakeups: 0 };
  /** ConsumerOptions.publish === 'pass'. */
  private readonly perPass: boolean;
  /** poll's re-check after announcing sleep: process every ready ring; sleep only if none was. */
  private readonly pollCheck: WorkCheck = {
    recheck: () => {
      this.rechecked = this.processReady();
      return this.sawReady ? WAIT_NOW : Infinity;
    },
    onSleep: () => {
      this.counters.sleeps++;
    },
    beat: () => this.heartbeat(),
  };
  /**
   * pollAsync's re-check: as poll's, except that a pass that stopped at a BUSY head with nothing
   * delivered sleeps too, for at most BUSY_HEAD_WAIT_MS (see pollAsync).
   */
  private readonly pollAsyncCheck: WorkCheck = {
    recheck: () => {
      const got = (this.rechecked = this.processReady());
      if (!this.sawReady) return Infinity;
      return this.stalled && got === 0 ? BUSY_HEAD_WAIT_MS : WAIT_NOW;
    },
    onSleep: () => {
      this.counters.sleeps++;
    },
    beat: () => this.heartbeat(),
  };

  /**
   * `ring_buffer__new`: a consumer of `ring`, delivering to `callback`.
   * @throws RingBufError `ERR_RINGBUF_CONSUMER_EXISTS` when the ring already has a live consumer.
   */
  constructor(ring: RingBuffer, callback: SampleCallback, options: ConsumerOptions = {}) {
    this.perPass = publishMode(options) === 'pass';
    this.add(ring, callback);
  }

  /**
   * `ring_buffer__add`: consume another ring in the same poll. Rings polled together must share a
   * wake word: create them with the same `wakeGroup`.
   * @throws RingBufError `ERR_RINGBUF_CONSUMER_EXISTS`, `ERR_RINGBUF_WAKE_GROUP`, `ERR_RINGBUF_CLOSED`.
   */
  add(ring: RingBuffer, callback: SampleCallback): void {
    // Not refused inside a callback: adding a ring re-delivers nothing.
    if (this.closed) throw new RingBufError('ERR_RINGBUF_CLOSED', 'this consumer is closed');
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
    // Takes the ring's single consumer slot; close() releases it.
    if (!ring.claimConsumer(token)) {
      throw new RingBufError(
        'ERR_RINGBUF_CONSUMER_EXISTS',
        'this ring already has a live consumer (only one is allowed)',
      );
    }
    const overwrite = ring.overwrite;
    const scratchBuffer = overwrite ? new ArrayBuffer(ring.maxPayload + 8) : undefined;
    this.entries.push({
      ring,
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
    // A consumer exists from now on: its first stamp (HEARTBEAT_STAMP_MS does not hold it back).
    this.lastBeatMs = monotonicMs();
    ring.stampConsumerHeartbeat(this.lastBeatMs);
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
    this.checkOpen('poll()');
    checkTimeout(timeoutMs);
    this.tick();
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
      if (this.readyInLastPass()) return got;
    }
    const result = waitForWork(this.wakeWord, this.pollCheck, timeoutMs < 0 ? Infinity : timeoutMs);
    if (result === WAITED_READY || result === WAITED_EXPIRED) return this.rechecked;
    // Woken by a producer's commit or a stop request (which may leave nothing to read), or timed out.
    if (result === WAITED_WOKEN) this.counters.wakeups++;
    return this.processReady();
  }

  /**
   * As `poll`, sleeping with `Atomics.waitAsync` so the event loop keeps running (main thread). A
   * pending wait does not keep the process alive by itself. Unlike `poll`, a pass that stopped at a
   * BUSY record with nothing delivered does not return at once (a loop of such calls would starve
   * the event loop on microtasks): it waits for that record's commit, which wakes us by the kernel's
   * rule (consumer_pos == its offset), for at most BUSY_HEAD_WAIT_MS, so that a head committed with
   * BPF_RB_NO_WAKEUP is still picked up.
   */
  async pollAsync(timeoutMs: number): Promise<number> {
    this.checkOpen('pollAsync()');
    checkTimeout(timeoutMs);
    this.tick();
    this.counters.polls++;
    const total = this.processReady();
    if (this.sawReady && !(this.stalled && total === 0)) return total;
    if (timeoutMs === 0) return total;
    const result = await waitForWorkAsync(this.wakeWord, this.pollAsyncCheck, timeoutMs < 0 ? Infinity : timeoutMs);
    if (result === WAITED_READY || result === WAITED_EXPIRED) return this.rechecked;
    if (this.closed) return 0;
    if (result === WAITED_WOKEN) this.counters.wakeups++;
    return this.processReady();
  }

  /** `ring_buffer__consume`: process every ring without waiting. Returns as `poll`. */
  consume(): number {
    this.checkOpen('consume()');
    this.tick();
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
    this.checkOpen('consumeN()');
    if (!Number.isInteger(n) || n < 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `consumeN needs a non-negative integer, got ${describeValue(n)}`,
      );
    }
    this.tick();
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
    this.checkOpen('consumeRing()');
    // An integer first: a BigInt or string index would otherwise find entries[0] as a property.
    const entry = Number.isInteger(index) ? this.entries[index] : undefined;
    if (entry === undefined)
      throw new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `no ring at index ${describeValue(index)}`);
    if (!Number.isInteger(n) || n < 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `consumeRing needs a non-negative integer count, got ${describeValue(n)}`,
      );
    }
    this.tick();
    // As consumeN: n = 0 processes nothing; counts are capped at INT_MAX like libbpf's.
    if (n === 0) return 0;
    return this.processRing(entry, n > INT_MAX ? INT_MAX : n);
  }

  /** `ring_buffer__free`: release every ring's consumer slot. Idempotent. */
  close(): void {
    if (this.walking) throw reentrantError('close');
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.entries) {
      // No consumer stamps any more: producers read "never stamped", not a stall.
      entry.ring.clearConsumerHeartbeat();
      // Releases the consumer slots taken in add().
      entry.ring.releaseConsumer(entry.token);
    }
  }

  /**
   * The heartbeat at the start of a call: a countdown, and a clock read only when it runs out. The
   * budget is sized at every read so that reads come about every HEARTBEAT_STAMP_MS at the rate
   * calls arrive (calls * HEARTBEAT_STAMP_MS / elapsed), from 1 (a consumer called less often than
   * that reads the clock on every call) to MAX_BEAT_CALLS, and shrinks at the first read after calls
   * slow down. A clock read costs about 30 ns and, where V8 does not inline all of it, a small
   * allocation: a consumer called millions of times a second (a busy-poll loop, one poll per pass)
   * read it per call and ran scavenges in the peers bench's windows. Waits stamp on their own.
   */
  private tick(): void {
    if (--this.beatCountdown > 0) return;
    const now = this.heartbeat();
    const elapsed = now - this.lastReadMs;
    const calls = this.beatBudget;
    this.lastReadMs = now;
    const next = elapsed > 0 ? Math.floor((calls * HEARTBEAT_STAMP_MS) / elapsed) : calls * 2;
    this.beatBudget = next < 1 ? 1 : next > MAX_BEAT_CALLS ? MAX_BEAT_CALLS : next;
    this.beatCountdown = this.beatBudget;
  }

  /**
   * Stamps every ring's heartbeat with the time now, unless the last stamp is less than
   * HEARTBEAT_STAMP_MS old (one clock read, about 30 ns; a store per ring at most that often), and
   * returns the clock reading. Every call of this consumer (through a countdown, see tick) and its
   * waits (before they sleep and every HEARTBEAT_IDLE_MS of a sleep) do it; a loop that drives the
   * consumer in another way (the runtime's, the iterator's) calls it before it sleeps.
   * Thread: the consumer's.
   */
  heartbeat(): number {
    const now = monotonicMs();
    // A closed consumer no longer stamps (a wait that ends after close() calls this once more).
    if (this.closed || now - this.lastBeatMs < HEARTBEAT_STAMP_MS) return now;
    this.lastBeatMs = now;
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) (entries[i] as Entry).ring.stampConsumerHeartbeat(now);
    return now;
  }

  /**
   * Frees a ring's consumer slot held by a consumer that can no longer close it (its thread died).
   * The heartbeat word is left as the dead consumer stamped it: its age keeps saying how long ago
   * that consumer last ran, until a new consumer stamps. Thread: any; only when that consumer is
   * known to be gone.
   */
  static releaseDeadConsumer(ring: RingBuffer): void {
    ring.forceReleaseConsumer();
  }

  /** The wake word this consumer sleeps on (for stop requests from other threads). */
  get wakeWord(): WakeWord {
    // Set by the constructor's add(): a Consumer always has at least one ring.
    return this.wake as WakeWord;
  }

  /** `sawReady` read through a call: processReady() sets it, which TypeScript's narrowing does not see. */
  private readyInLastPass(): boolean {
    return this.sawReady;
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
      const entry = entries[i] as Entry;
      const ring = entry.ring;
      // Level-triggered, as ringbuf_map_poll_kern: ready when producer_pos != consumer_pos. (Positions
      // that cannot be right are ready too: the walk reports them.)
      if (ring.producerPos() === ring.consumerPos()) continue;
      ready = true;
      const res = entry.scratch === undefined ? this.walk(entry, INT_MAX) : this.walkOverwrite(entry, INT_MAX);
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
    return entry.scratch === undefined ? this.walk(entry, n) : this.walkOverwrite(entry, n);
  }

  /**
   * libbpf's `ringbuf_process_ring`, zero-copy, from consumer_pos, first up to the producer_pos read
   * at the start, then re-reading producer_pos until a pass finds nothing new. consumer_pos is
   * published after every record (libbpf), or with `publish: 'pass'` once per pass and before any
   * return or throw (the kernel bench's `ringbuf_custom_process_ring`).
   *
   * Corruption checks (the kernel needs none: only it writes these words): every producer_pos read
   * must be at most a ring ahead of consumer_pos and never behind it (`isSpan`, once per pass), and
   * every header must frame a record (`isFramed`: length at most maxPayload, ending at or before
   * producer_pos, owner word a producer id), BUSY ones included. Either failure throws
   * RingBufCorruptionError with consumer_pos left at the bad spot, so nothing is delivered from it,
   * no read leaves the data area (the payload of a framed record lies in its mirror-extended span),
   * and every later call throws again rather than skipping records silently.
   */
  private walk(entry: Entry, n: number): number {
    const { ring, data, mask, callback, counters } = entry;
    const perPass = this.perPass;
    // Observes our own last store of consumer_pos (or a test's deliberate write), then the
    // producers' latest reservation; every header before it is framed.
    let consPos = ring.consumerPos();
    let prodPos = ring.producerPos();
    /** consumer_pos as last published by this walk (per-pass mode publishes what is ahead of it). */
    let published = consPos;
    let count = 0;
    let bytes = 0;
    let discarded = 0;
    let result = 0;
    this.walking = true;
    // try/finally: a callback that throws leaves the records before it consumed and counted; the
    // throwing record is not consumed (consumer_pos stays before it) and will be delivered again.
    try {
      outer: for (;;) {
        // Once per pass: both positions record boundaries, the distance within a ring (isSpan).
        if (!ring.isSpan(consPos, prodPos)) throw ring.spanError(consPos, prodPos);
        let gotNewData = false;
        while (posDiff(prodPos, consPos) > 0) {
          const hdrOffset = consPos & mask;
          // Observes the commit (submit/discard compare-exchange, output's AND, or the producer_pos
          // store of a record output() published finished); payload writes happen-before it.
          const hdr = ring.headerAt(hdrOffset);
          if (!ring.isFramed(consPos, prodPos, hdr)) throw ring.frameError(consPos, prodPos, hdr);
          if ((hdr & BUSY_BIT_I32) !== 0) {
            counters.busyStalls++;
            this.stalled = true;
            break outer;
          }
          const size = hdr & HDR_LEN_MASK;
          const next = (consPos + recordFootprint(size)) | 0;
          gotNewData = true;
          if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) {
            const res = callback(data, hdrOffset + BPF_RINGBUF_HDR_SZ, size) as number;
            consPos = next;
            count++;
            bytes += size;
            if (res < 0) {
              // The pass stops, the record consumed all the same (libbpf does the same): the finally
              // below releases its space.
              result = res;
              break outer;
            }
          } else {
            consPos = next;
            discarded++;
          }
          if (!perPass) {
            // Releases the record's space to the producers.
            ring.publishConsumerPos(consPos);
            published = consPos;
          }
          if (count >= n) break outer;
        }
        if (!gotNewData) break;
        if (perPass) {
          // Releases the pass's records to the producers (the kernel bench's rb-custom).
          ring.publishConsumerPos(consPos);
          published = consPos;
        }
        // Observes reservations published during this pass.
        prodPos = ring.producerPos();
      }
    } finally {
      this.walking = false;
      if (consPos !== published) {
        // Leaving with records not yet released (per-pass mode leaving early: a BUSY stall, the count
        // reached, a throw; either mode: a negative callback result): releases what it consumed.
        ring.publishConsumerPos(consPos);
      }
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
   *
   * The corruption checks are walk()'s, except that a span or header that fails them is first
   * re-checked against overwrite_pos: producers that lapped us while we read make both look wrong
   * (and move overwrite_pos past us first), so the walk resumes from overwrite_pos instead.
   */
  private walkOverwrite(entry: Entry, n: number): number {
    const { ring, mask, callback, counters } = entry;
    const scratch = entry.scratch as Uint8Array;
    const scratchWords = entry.scratchWords as Int32Array;
    const dataWords = entry.dataWords as Int32Array;
    // Observes our own last stores.
    let consPos = ring.consumerPos();
    let delivered = ring.consumedRecords();
    let count = 0;
    let result = 0;
    this.walking = true;
    // try/finally: records delivered before a throw (a callback's, or a corruption found) stay counted.
    try {
      outer: for (;;) {
        if (posDiff(ring.overwritePos(), consPos) > 0) consPos = this.skipOverwritten(entry, delivered);
        // Observes reservations published after the overwrite_pos we checked (its store precedes it).
        const prodPos = ring.producerPos();
        if (!ring.isSpan(consPos, prodPos)) {
          if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
          throw ring.spanError(consPos, prodPos);
        }
        let gotNewData = false;
        while (posDiff(prodPos, consPos) > 0) {
          const hdrOffset = consPos & mask;
          // Observes the commit; payload writes happen-before it.
          const hdr = ring.headerAt(hdrOffset);
          if (!ring.isFramed(consPos, prodPos, hdr)) {
            if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
            throw ring.frameError(consPos, prodPos, hdr);
          }
          if ((hdr & BUSY_BIT_I32) !== 0) {
            if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
            counters.busyStalls++;
            this.stalled = true;
            break outer;
          }
          const size = hdr & HDR_LEN_MASK;
          const len = recordFootprint(size);
          if ((hdr & BPF_RINGBUF_DISCARD_BIT) !== 0) {
            // As for a delivered record: a header read from bytes a producer is overwriting (payload
            // that looks like a discarded record) must not move us; the producer moved overwrite_pos
            // past this record before writing into it.
            if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
            consPos = (consPos + len) | 0;
            counters.discarded++;
            // Releases the discarded record.
            ring.publishConsumerPos(consPos);
            gotNewData = true;
            continue;
          }
          // Copy word by word (payloads start 8-aligned; size <= maxPayload fits the scratch), allocation-free.
          const from = (hdrOffset + BPF_RINGBUF_HDR_SZ) >> 2;
          const words = (size + 3) >> 2;
          for (let w = 0; w < words; w++) scratchWords[w] = dataWords[from + w] as number;
          // A producer that overwrites this record advances overwrite_pos before writing into it.
          if (posDiff(ring.overwritePos(), consPos) > 0) continue outer;
          consPos = (consPos + len) | 0;
          delivered++;
          gotNewData = true;
          const res = callback(scratch, 0, size) as number;
          // The delivered count goes out before the position: skipOverwritten() reads them in that order.
          ring.publishConsumedRecords(delivered);
          ring.publishConsumerPos(consPos);
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
    } finally {
      this.walking = false;
      counters.records += count;
    }
    return result < 0 ? result : count;
  }

  /**
   * Jump to overwrite_pos; every committed record before it that we did not deliver is lost. First
   * checks that overwrite_pos can be right, against a producer_pos read after it (producers move
   * overwrite_pos before producer_pos, and only up to the old producer_pos): a record boundary, not
   * ahead of producer_pos, within a ring of it. A read that fails is retried while overwrite_pos
   * keeps moving (producers lapping us between the two loads); one that fails with overwrite_pos
   * unchanged is corruption, and consumer_pos stays where it was.
   * @throws RingBufCorruptionError when overwrite_pos cannot be right.
   */
  private skipOverwritten(entry: Entry, delivered: number): number {
    const ring = entry.ring;
    for (;;) {
      const { pos, overwritten } = ring.readOverwrite();
      // Observes reservations published after that overwrite_pos (its store precedes theirs).
      const prodPos = ring.producerPos();
      if (!ring.isSpan(pos, prodPos)) {
        if (ring.overwritePos() !== pos) continue;
        throw new RingBufCorruptionError(
          pos >>> 0,
          posDiff(prodPos, pos) < 0
            ? `corrupt positions: overwrite_pos ${pos >>> 0} is ahead of producer_pos ${prodPos >>> 0}`
            : (pos & 7) !== 0
              ? `corrupt positions: overwrite_pos ${pos >>> 0} is not a record boundary (records start 8-byte aligned)`
              : `corrupt positions: overwrite_pos ${pos >>> 0} is more than a ring behind producer_pos ` +
                `${prodPos >>> 0}`,
        );
      }
      entry.counters.lost = (overwritten - delivered) >>> 0;
      // Moves past the overwritten records.
      ring.publishConsumerPos(pos);
      return pos;
    }
  }

  /** Every public call: refuses a closed consumer, and a call from inside one of its callbacks. */
  private checkOpen(what = 'this call'): void {
    if (this.walking) throw reentrantError(what);
    if (this.closed) throw new RingBufError('ERR_RINGBUF_CLOSED', 'this consumer is closed');
  }
}

function reentrantError(what: string): RingBufError {
  return new RingBufError(
    'ERR_RINGBUF_REENTRANT',
    `${what} was called from inside a callback of the same consumer: it would deliver the records of the walk in ` +
      `progress again (return a negative number from the callback to stop the pass)`,
  );
}

function checkTimeout(timeoutMs: number): void {
  if (typeof timeoutMs !== 'number' || timeoutMs !== timeoutMs) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `poll timeout must be a number of milliseconds, got ${describeValue(timeoutMs)}`,
    );
  }
}
