/**
 * The writer side: a pino destination stream that writes each line into the shared ring. One per
 * logger; any number of threads, each with its own, write into one ring that one consumer thread
 * drains to the targets.
 */
import { EventEmitter } from 'node:events';
import {
  BPF_RB_NO_WAKEUP,
  RingBuffer,
  RingBufError,
  consumerSleeping,
  posDiff,
  monotonicMs,
  recordFootprint,
  wakeConsumer,
  type RingShare,
} from '@ringbuf/core';
import {
  CONTROL_BYTES,
  DROPPED_INDEX,
  DROPPED_RECORD_BYTES,
  HEARTBEAT_INDEX,
  KIND_DROPPED,
  KIND_LAST,
  KIND_LINE,
  KIND_PART,
  LINES_OUT_INDEX,
  RECOVERED_INDEX,
  SPLIT_INDEX,
  STATE_ENDING,
  STATE_INDEX,
  STATE_RUNNING,
  STATE_STARTING,
  WAITERS_INDEX,
  WRITERS_INDEX,
  WRITTEN_POS_INDEX,
} from './layout.js';
import { watchControl, watchWorkers } from './watch.js';

/** What a full ring does to a write: wait for space up to `blockMs`, then drop; or drop at once. */
export type OnFull = 'block' | 'drop';

/**
 * What another thread needs to log into the transport: post it in `workerData` or a message
 * (structured-cloneable: shared memory and numbers) and pass it to `destination()` there.
 */
export interface PinoShare {
  /** The ring's shared memory. */
  readonly ring: RingShare;
  /** The transport's control block (consumer state, positions, counters). */
  readonly control: SharedArrayBuffer;
  /** The policy for a full ring. */
  readonly onFull: OnFull;
  /** How long a write may wait for space under `'block'` (ms). */
  readonly blockMs: number;
  /** How long flushSync() waits for the consumer (ms). */
  readonly flushMs: number;
  /** The consumer is taken for dead when its heartbeat is older than this (ms). */
  readonly deadAfterMs: number;
  /** Largest line body in one record (bytes); longer lines are split into pieces of this size. */
  readonly partBytes: number;
}

/** This thread's counts (this destination only). */
export interface ThreadStats {
  /** Lines written into the ring whole or in pieces. */
  lines: number;
  /** Of those, lines split into pieces because they were longer than `partBytes`. */
  split: number;
  /** Lines dropped: the ring full past the bound (or `onFull: 'drop'`), the consumer gone, or written after end(). */
  dropped: number;
  /** Dropped lines not yet reported at the targets (a drop report goes in as soon as there is space). */
  unreported: number;
  /** Writes that found the ring full and waited for space. */
  waited: number;
}

/** The whole transport's counts (every thread's), read from the control block. */
export interface SharedStats {
  /** 'starting' (targets loading), 'running', 'ending', 'closed', or 'dead' (the consumer failed). */
  state: 'starting' | 'running' | 'ending' | 'closed' | 'dead';
  /** Destinations made, the main thread's transport included. */
  writers: number;
  /** Lines dropped by all threads. */
  dropped: number;
  /** Lines split into pieces by all threads. */
  split: number;
  /** Half-written records discarded by recovery after their thread died. */
  recovered: number;
  /** Lines the consumer handed to the targets (drop reports included). */
  linesOut: number;
}

/** What `stats()` returns. */
export interface Stats {
  thread: ThreadStats;
  all: SharedStats;
}

const STATE_NAMES = ['starting', 'running', 'ending', 'closed', 'dead'] as const;

/** One ring handle per ring and thread: every destination of a thread shares its producer id. */
const handles = new WeakMap<SharedArrayBuffer, RingBuffer>();

/** This thread's handle on the ring of `share` (producer id threadId + 1, the ring's default). */
function ringHandle(share: RingShare): RingBuffer {
  let ring = handles.get(share.buffer);
  if (ring === undefined) {
    ring = RingBuffer.attach(share);
    handles.set(share.buffer, ring);
    watchWorkers(ring);
  }
  return ring;
}

/** Longest single wait slice (ms): the consumer's liveness is re-checked at least this often. */
const WAIT_SLICE_MS = 10;

/**
 * A pino destination stream writing into the transport's ring. pino takes it as a stream (it has
 * `write` and `writable`): `pino(destination(share))` or `pino(opts, destination(share))`.
 *
 * Thread: the thread that made it. Not thread-safe itself: make one per thread (cheap; the ring
 * handle is shared by a thread's destinations).
 */
export class RingDestination extends EventEmitter {
  /** What to post to other threads so they can log into the same transport. */
  readonly share: PinoShare;
  /** @internal This thread's ring handle. */
  readonly ring: RingBuffer;
  /** @internal The control block. */
  readonly ctl: Int32Array;
  /** The ring's data area as a Buffer (same memory): lines are encoded straight into their record. */
  private readonly bytes: Buffer;
  private readonly onFull: OnFull;
  private readonly blockMs: number;
  private readonly flushMs: number;
  private readonly deadAfterMs: number;
  private readonly partBytes: number;
  /** Bytes waiting in the ring that wake a sleeping consumer at once (afterSubmit). */
  private readonly wakeBytes: number;
  private readonly counts: ThreadStats = { lines: 0, split: 0, dropped: 0, unreported: 0, waited: 0 };
  private ended = false;
  /** A deferred wakeup is scheduled (afterSubmit). */
  private wakeScheduled = false;
  private readonly wakeNow = (): void => {
    this.wakeScheduled = false;
    wakeConsumer(this.ring.wake);
  };

  /** @internal Use `destination(share)` (any thread) or `transport(options)` (the main thread). */
  constructor(share: PinoShare) {
    super();
    checkShare(share);
    this.share = share;
    this.ring = ringHandle(share.ring);
    this.ctl = new Int32Array(share.control);
    watchControl(this.ring, this.ctl);
    this.bytes = Buffer.from(this.ring.buffer, this.ring.data.byteOffset, this.ring.data.byteLength);
    this.onFull = share.onFull;
    this.blockMs = share.blockMs;
    this.flushMs = share.flushMs;
    this.deadAfterMs = share.deadAfterMs;
    this.partBytes = Math.min(share.partBytes, this.ring.maxPayload - 1);
    this.wakeBytes = Math.min(this.ring.size >> 2, 1 << 16);
    // Counts writers for stats; no other thread reads it for a decision.
    Atomics.add(this.ctl, WRITERS_INDEX, 1);
  }

  /** pino recognises a destination stream by this (lib/tools.js normalizeArgs: `opts.writable`). */
  get writable(): boolean {
    return !this.ended;
  }

  /**
   * Writes one line (pino's serialised record, newline included) into one record of the ring, its
   * UTF-8 bytes encoded in place; a line longer than `partBytes` goes in pieces that the consumer
   * joins. Never throws for a full ring: the line then waits (`'block'`, up to `blockMs`) or is
   * dropped and counted, and a drop report reaches the targets once there is space. Returns true
   * (the ring is the buffer: there is no 'drain' to wait for).
   */
  write(chunk: string | Uint8Array): boolean {
    const counts = this.counts;
    if (this.ended || this.consumerClosed()) {
      this.drop(1);
      return true;
    }
    if (typeof chunk !== 'string') {
      // Untrusted: pino passes strings, other callers anything.
      const raw: unknown = chunk;
      if (!(raw instanceof Uint8Array))
        throw new RingBufError(
          'ERR_RINGBUF_ARGUMENT',
          `write needs a string or a Uint8Array, got ${raw === null ? 'null' : typeof raw}`,
        );
      if (counts.unreported > 0) this.reportDropped(chunk.length);
      return this.writeBytes(chunk);
    }
    const length = Buffer.byteLength(chunk, 'utf8');
    if (counts.unreported > 0) this.reportDropped(length);
    if (length > this.partBytes) return this.writeBytes(Buffer.from(chunk, 'utf8'));
    const ring = this.ring;
    let offset = ring.reserve(length + 1);
    if (offset < 0) offset = this.waitForSpace(length + 1);
    if (offset < 0) {
      this.drop(1);
      return true;
    }
    try {
      this.bytes[offset] = KIND_LINE;
      // As many UTF-8 bytes as characters: every one is ASCII (any other takes 2 or more bytes), so
      // the latin1 encoder (a plain byte copy, twice as fast) writes the same bytes.
      this.bytes.write(chunk, offset + 1, length, length === chunk.length ? 'latin1' : 'utf8');
    } catch (err) {
      ring.discard(offset);
      throw err;
    }
    ring.submit(offset, BPF_RB_NO_WAKEUP);
    this.afterSubmit();
    counts.lines++;
    return true;
  }

  /**
   * The wakeup, beyond the kernel's rule (wake a sleeping consumer when the record is at its head):
   * a log call must not pay for a futex wake. A sleeping consumer is woken once per turn of this
   * thread's event loop (setImmediate, as thread-stream defers its writes), or at once when
   * `wakeBytes` are waiting (64 KiB, or a quarter of a smaller ring: a few hundred lines, so that
   * under 1% of log calls pay for a wakeup); it also wakes on its own every POLL_MS (50 ms). submit() used
   * BPF_RB_NO_WAKEUP, so this is the only wakeup. The consumer announces its sleep before its last
   * re-check: either it sees the record just committed, or this load sees it asleep.
   */
  private afterSubmit(): void {
    const ring = this.ring;
    if (!consumerSleeping(ring.wake)) return;
    if (posDiff(ring.producerPos(), ring.consumerPos()) >= this.wakeBytes) {
      wakeConsumer(ring.wake);
    } else if (!this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(this.wakeNow);
    }
  }

  /**
   * Waits until every line this thread wrote before the call has been handed to the targets (their
   * `write()` called), at most `flushMs`; returns at once when the consumer is gone. Other threads'
   * lines reserved before the call are handed over too (the consumer writes in ring order).
   */
  flushSync(): void {
    const deadline = monotonicMs() + this.flushMs;
    // Observes the latest reservation: every record of this thread lies before it.
    if (!this.waitWritten(this.ring.producerPos(), deadline) || this.counts.unreported === 0) return;
    // Lines dropped and not yet reported: the ring has room now, report them and wait for that too.
    this.reportDropped(0);
    // Observes the latest reservation, the report's included.
    this.waitWritten(this.ring.producerPos(), deadline);
  }

  /** Async flushSync(): `cb` is called once this thread's lines are handed to the targets (pino's logger.flush(cb)). */
  flush(cb?: (err?: Error) => void): void {
    // Observes the latest reservation, as flushSync.
    const target = this.ring.producerPos();
    const deadline = monotonicMs() + this.flushMs;
    wakeConsumer(this.ring.wake);
    const step = (): void => {
      if (this.isWritten(target) || this.consumerGone() || monotonicMs() >= deadline) {
        cb?.();
        return;
      }
      // Observes the consumer's WRITTEN_POS store; its notify ends the wait (WAITERS is not raised
      // here: an async wait slice is short and needs no notify).
      const current = Atomics.load(this.ctl, WRITTEN_POS_INDEX);
      // Sleeps (asynchronously) until the consumer's WRITTEN_POS notify or a slice passes.
      const res = Atomics.waitAsync(this.ctl, WRITTEN_POS_INDEX, current, WAIT_SLICE_MS);
      if (res.async) void res.value.then(step);
      else setImmediate(step);
    };
    step();
  }

  /**
   * Ends this destination: later writes are dropped and counted. The consumer and the targets are
   * untouched (other threads go on logging); the main thread's transport ends those.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flushSync();
    this.emit('finish');
    this.emit('close');
  }

  /** This thread's counts and the whole transport's. */
  stats(): Stats {
    const ctl = this.ctl;
    // Plain counter reads (Atomics.load for a consistent word each; the set is not a snapshot).
    return {
      thread: { ...this.counts },
      all: {
        state: STATE_NAMES[Atomics.load(ctl, STATE_INDEX)] ?? 'dead',
        writers: Atomics.load(ctl, WRITERS_INDEX),
        dropped: Atomics.load(ctl, DROPPED_INDEX),
        split: Atomics.load(ctl, SPLIT_INDEX),
        recovered: Atomics.load(ctl, RECOVERED_INDEX),
        linesOut: Atomics.load(ctl, LINES_OUT_INDEX),
      },
    };
  }

  /** Whether the consumer will write no more: closed, ended, or failed. */
  protected consumerClosed(): boolean {
    // Observes the consumer's (or the main thread's) state store.
    return Atomics.load(this.ctl, STATE_INDEX) >= STATE_ENDING;
  }

  /**
   * Whether the consumer is gone: closed or failed, or its heartbeat older than `deadAfterMs` (a
   * thread stuck in a target, or dead without anyone noticing yet). Starting counts as alive.
   */
  consumerGone(): boolean {
    const ctl = this.ctl;
    // Observes the consumer's state store.
    const state = Atomics.load(ctl, STATE_INDEX);
    if (state === STATE_STARTING) return false;
    if (state !== STATE_RUNNING) return state !== STATE_ENDING;
    return heartbeatAgeMs(ctl, this.ring) > this.deadAfterMs;
  }

  /** Writes bytes (a long line or a Uint8Array chunk) whole if they fit one record, else in pieces. */
  private writeBytes(line: Uint8Array): boolean {
    const ring = this.ring;
    const part = this.partBytes;
    const pieces = Math.max(1, Math.ceil(line.length / part));
    for (let i = 0; i < pieces; i++) {
      const from = i * part;
      const to = Math.min(line.length, from + part);
      let offset = ring.reserve(to - from + 1);
      if (offset < 0) offset = this.waitForSpace(to - from + 1);
      if (offset < 0) {
        // The pieces written so far are ended by the drop report (KIND_DROPPED) the consumer gets next.
        this.drop(1);
        return true;
      }
      this.bytes[offset] = pieces === 1 ? KIND_LINE : i === pieces - 1 ? KIND_LAST : KIND_PART;
      this.bytes.set(line.subarray(from, to), offset + 1);
      ring.submit(offset, BPF_RB_NO_WAKEUP);
      this.afterSubmit();
    }
    this.counts.lines++;
    if (pieces > 1) {
      this.counts.split++;
      // Counts split lines for stats.
      Atomics.add(this.ctl, SPLIT_INDEX, 1);
    }
    return true;
  }

  /** Counts `n` dropped lines, to be reported at the targets when there is space. */
  private drop(n: number): void {
    this.counts.dropped += n;
    this.counts.unreported += n;
    // Counts drops for stats.
    Atomics.add(this.ctl, DROPPED_INDEX, n);
  }

  /**
   * Puts a drop report in the ring if it fits now together with the next line (`nextBytes`), so
   * that a ring with a few bytes free does not fill with reports (never waits).
   */
  protected reportDropped(nextBytes: number): void {
    const ring = this.ring;
    // Observes both positions: the space the kernel's reserve check (new producer_pos - consumer_pos
    // <= size) would find now, give or take the other threads.
    const free = ring.size - posDiff(ring.producerPos(), ring.consumerPos());
    if (free < recordFootprint(DROPPED_RECORD_BYTES) + recordFootprint(Math.min(nextBytes, this.partBytes) + 1)) return;
    const offset = ring.reserve(DROPPED_RECORD_BYTES);
    if (offset < 0) return;
    this.bytes[offset] = KIND_DROPPED;
    this.bytes.writeUInt32LE(Math.min(this.counts.unreported, 0xffffffff), offset + 1);
    ring.submit(offset, BPF_RB_NO_WAKEUP);
    this.afterSubmit();
    this.counts.unreported = 0;
  }

  /**
   * The ring was full: under `'block'`, retries until space returns (woken by the consumer's
   * WRITTEN_POS notify), at most `blockMs`, and not at all once the consumer is gone. Returns the
   * record's offset or -1.
   */
  private waitForSpace(size: number): number {
    if (this.onFull !== 'block' || this.consumerGone()) return -1;
    this.counts.waited++;
    const ctl = this.ctl;
    const ring = this.ring;
    const deadline = monotonicMs() + this.blockMs;
    // Registers as a sleeper before reading WRITTEN_POS: the consumer stores WRITTEN_POS, then reads
    // WAITERS; one of us sees the other's write.
    Atomics.add(ctl, WAITERS_INDEX, 1);
    try {
      for (;;) {
        // Observes the consumer's last publish; a later one changes it and ends the wait below.
        const written = Atomics.load(ctl, WRITTEN_POS_INDEX);
        const offset = ring.reserve(size);
        if (offset >= 0) return offset;
        const left = deadline - monotonicMs();
        if (left <= 0 || this.consumerGone()) return -1;
        // Sleeps until the consumer publishes a new WRITTEN_POS (its notify) or a slice passes.
        Atomics.wait(ctl, WRITTEN_POS_INDEX, written, Math.min(WAIT_SLICE_MS, Math.ceil(left)));
      }
    } finally {
      // Unregisters; pairs with the consumer's WAITERS load.
      Atomics.sub(ctl, WAITERS_INDEX, 1);
    }
  }

  /** Whether the consumer has handed every record before `target` to the targets. */
  private isWritten(target: number): boolean {
    // Observes the consumer's WRITTEN_POS store (made after the targets' write() returned).
    return posDiff(Atomics.load(this.ctl, WRITTEN_POS_INDEX), target) >= 0;
  }

  /** Sleeps until WRITTEN_POS reaches `target`, the consumer is gone, or `deadline`. */
  protected waitWritten(target: number, deadline: number): boolean {
    const ctl = this.ctl;
    // A deferred wakeup may be pending: the consumer must run now.
    wakeConsumer(this.ring.wake);
    // Registers as a sleeper before reading WRITTEN_POS; pairs with the consumer's WAITERS load.
    Atomics.add(ctl, WAITERS_INDEX, 1);
    try {
      for (;;) {
        // Observes the consumer's WRITTEN_POS store.
        const written = Atomics.load(ctl, WRITTEN_POS_INDEX);
        if (posDiff(written, target) >= 0) return true;
        const left = deadline - monotonicMs();
        if (left <= 0 || this.consumerGone()) return false;
        // Sleeps until the consumer's notify on WRITTEN_POS, or a slice passes.
        Atomics.wait(ctl, WRITTEN_POS_INDEX, written, Math.min(WAIT_SLICE_MS, Math.ceil(left)));
      }
    } finally {
      // Unregisters; pairs with the consumer's WAITERS load.
      Atomics.sub(ctl, WAITERS_INDEX, 1);
    }
  }
}

/**
 * Milliseconds since the consumer's last heartbeat: the younger of the ring's own consumer heartbeat
 * (`RingBuffer.consumerHeartbeatAgeMs()`, stamped by the Consumer while it polls) and the
 * transport's (stamped by the consumer thread's timer, so a consumer waiting on a slow target's
 * 'drain' still counts as alive). -1 before the first stamp.
 */
function heartbeatAgeMs(ctl: Int32Array, ring: RingBuffer): number {
  // Observes the consumer thread's heartbeat store.
  const stamp = Atomics.load(ctl, HEARTBEAT_INDEX);
  const own = stamp === 0 ? -1 : ((monotonicMs() | 0) - stamp) | 0;
  const other = ring.consumerHeartbeatAgeMs();
  if (other < 0) return own;
  return own < 0 ? other : Math.min(own, other);
}

/** Rejects a share that is not one (a typed error: a worker may post anything, so it is read as unknown). */
function checkShare(share: unknown): asserts share is PinoShare {
  const s: { [K in keyof PinoShare]?: unknown } = typeof share === 'object' && share !== null ? share : {};
  const ok =
    share !== null &&
    typeof share === 'object' &&
    s.control instanceof SharedArrayBuffer &&
    s.control.byteLength === CONTROL_BYTES &&
    s.ring !== null &&
    typeof s.ring === 'object' &&
    (s.onFull === 'block' || s.onFull === 'drop') &&
    [s.blockMs, s.flushMs, s.deadAfterMs].every((ms) => typeof ms === 'number' && ms >= 0 && ms <= 2 ** 31 - 1) &&
    typeof s.partBytes === 'number' &&
    Number.isInteger(s.partBytes) &&
    s.partBytes >= 1;
  if (!ok)
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      'destination() needs the share of a @ringbuf/pino transport (transport(...).share)',
    );
}

/**
 * A pino destination stream for this thread, writing into the transport whose `share` was posted
 * here: `pino(destination(workerData.log))`. Any thread, any number of them.
 * @throws RingBufError `ERR_RINGBUF_ARGUMENT` when `share` is not a transport's share.
 */
export function destination(share: PinoShare): RingDestination {
  return new RingDestination(share);
}
