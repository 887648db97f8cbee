/**
 * The kernel's other ring, `BPF_MAP_TYPE_USER_RINGBUF` (Linux 6.1, libbpf 1.1), the reverse
 * direction: producers reserve, fill and submit records as libbpf's `user_ring_buffer__reserve` /
 * `__reserve_blocking` / `__submit` / `__discard` do (tools/lib/bpf/ringbuf.c), and one drainer at
 * a time walks them as the kernel's `bpf_user_ringbuf_drain` does (kernel/bpf/ringbuf.c,
 * `__bpf_user_ringbuf_peek` and `__bpf_user_ringbuf_sample_release`). Same 8-byte headers, same
 * BUSY/DISCARD bits, same data area with a mirror tail as the kernel ring (see layout.ts).
 *
 * Who writes which shared word:
 * - producer_pos: the holder of the reservation lock (lock.ts, the same lock as the kernel ring's).
 *   libbpf's producer takes no lock and is single-threaded; ours takes it, so any number of producer
 *   threads may share one user ring (the kernel's cover letter: a lock around reserve gives many).
 *   A producer alone may keep the lock (`claimExclusive`) and skip it, as libbpf's producer does.
 * - record headers: the reserving producer (plain stores under the lock, published by the
 *   producer_pos store), then one atomic exchange by the committing producer (libbpf's
 *   `__atomic_exchange_n`), then nothing until the drainer has passed it. Recovery may discard a
 *   dead producer's BUSY record.
 * - consumer_pos: the drainer holding the busy word, after every record (the kernel's
 *   `smp_store_release` in `__bpf_user_ringbuf_sample_release`).
 * - the busy word: compare-exchanged 0 -> drainer id by `drain`, back to 0 at its end (the kernel's
 *   `atomic_try_cmpxchg(&rb->busy, 0, 1)` / `atomic_set_release(&rb->busy, 0)`); recovery frees a
 *   dead drainer's.
 *
 * Wakeups, one rule in each direction:
 * - Drainer -> producers (the kernel's `irq_work` on the map's wait queue, libbpf's EPOLLOUT): a
 *   producer that finds no space in `reserveBlocking` counts itself in the SPACE word, re-checks,
 *   and sleeps on consumer_pos itself (`Atomics.wait` while it still holds the value it saw), so it
 *   waits for the drainer's progress, never for a level "not full" that could spin when too little
 *   space is free. A drain ends with a notify iff BPF_RB_FORCE_WAKEUP, or no BPF_RB_NO_WAKEUP and
 *   it consumed at least one record (discarded ones count, as the kernel's `samples`), and only
 *   when the SPACE word says someone sleeps.
 * - Producers -> drainer (beyond the kernel, whose drainer is a BPF program run by an event): a
 *   drainer waiting for records (`waitForData`) sleeps on the ring's wake word (wake.ts, the same
 *   protocol as the kernel ring's consumer), and a submit or discard wakes it iff it sleeps and the
 *   record just committed is the one at consumer_pos (the kernel ring's self-paced rule: a drain
 *   stops at the first BUSY record, so only committing that one lets it go on).
 * Both are Dekker handshakes on sequentially consistent atomics (see wake.ts): a wakeup cannot be
 * lost.
 */
import { describeValue, RingBufCorruptionError, RingBufError, RingBufRangeError } from './errors.js';
import {
  BPF_MAX_USER_RINGBUF_SAMPLES,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_WAKEUP_FLAGS,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  BUSY_BIT_I32,
  HDR_LEN_MASK,
  HDR_OWNER_WORD,
  LAYOUT_VERSION,
  LOCK_INDEX,
  RESERVE_FAILED,
  USER_CONS_POS_INDEX,
  USER_DATA_OFFSET,
  USER_DRAIN_BUSY_INDEX,
  USER_MAGIC_INDEX,
  USER_MIRROR_INDEX,
  USER_PROD_POS_INDEX,
  USER_RECOVERED_DRAINS_INDEX,
  USER_RECOVERED_RECORDS_INDEX,
  USER_RING_MAGIC,
  USER_SIZE_INDEX,
  USER_SPACE_NOTIFIES_INDEX,
  USER_SPACE_SLEEPERS_INDEX,
  USER_VERSION_INDEX,
  headerIndex,
  mirrorBytes,
  recordFootprint,
  userMaxPayloadOf,
  userRingBufferBytes,
} from './layout.js';
import { lock, lockOwner, lockTag, lockExclusive, unlock, type LockStats } from './lock.js';
import { monotonicMs, waitTimeoutMs } from './clock.js';
import {
  MAX_HANDLE_ID,
  attachedBuffer,
  checkAttachOptions,
  checkCreateOptions,
  checkHandleId,
  checkLockTimeout,
  checkRingSize,
  checkControlArea,
  payloadOffsetError,
  wakeupFlagsError,
  type ControlArea,
} from './checks.js';
import { discardIfDead, recoverDeadProducer } from './recovery.js';
import { CAN_BLOCK, announceSleep, cancelSleep, isSleeping, sleep, wakeConsumer, wakeNotifies } from './wake.js';

export { BPF_MAX_USER_RINGBUF_SAMPLES };

/** What UserRingBuffer.attach checks of a user ring's control area (layout.ts). */
const USER_RING_CONTROL: ControlArea = {
  what: 'user ring',
  magicIndex: USER_MAGIC_INDEX,
  magic: USER_RING_MAGIC,
  versionIndex: USER_VERSION_INDEX,
  sizeIndex: USER_SIZE_INDEX,
  mirrorIndex: USER_MIRROR_INDEX,
  bufferBytes: userRingBufferBytes,
};

/** Largest handle id: ids are stored shifted left by one in the lock word (as the kernel ring's). */
export const MAX_USER_RING_ID = MAX_HANDLE_ID;

/**
 * waitForData's grace period before it sleeps, as the kernel ring's `Consumer.poll` (consumer.ts):
 * GRACE_ROUNDS re-checks, each after a pause of GRACE_PAUSE_LOADS loads of a private word (about
 * 1 µs), so some 4 µs in all. Counted, not timed: a clock read in this loop allocates whenever the
 * JIT does not inline the whole clock into the caller (measured: 16-48 bytes a wait, scavenges in a
 * bench drainer's measured window), and the pause leaves the producer's cache lines alone where a
 * tight re-check would pull them away mid-record.
 */
const GRACE_ROUNDS = 4;
const GRACE_PAUSE_LOADS = 140;
/** The pause's private word: never shared, so loading it costs a few ns and no cache traffic. */
const pauseWord = new Int32Array(1);

/** Pauses for `loads` loads of a private word (about 7 ns each), touching no shared memory. */
function pause(loads: number): void {
  // Observes nothing and pairs with nothing: a private word, so each load costs a few ns, touches no
  // shared line, and cannot be optimised away.
  for (let i = 0; i < loads; i++) Atomics.load(pauseWord, 0);
}

/** What a drain callback returns to go on to the next record. */
export const USER_RINGBUF_CONTINUE = 0;
/** What a drain callback returns to stop after this record (the kernel's callback returning 1). */
export const USER_RINGBUF_STOP = 1;

/**
 * A drain callback: the record's payload is `data[offset, offset + size)` (contiguous, also when it
 * wraps: its tail is in the mirror). Returns USER_RINGBUF_CONTINUE (0) or USER_RINGBUF_STOP (1).
 *
 * Read-only by contract: `data` is the ring's own memory (no copy, no allocation), and JavaScript has
 * no read-only typed array. The kernel hands its callback a read-only dynptr; here a callback that
 * writes changes only bytes the producers no longer look at (its own record's), but the bytes of
 * other records are within reach: do not write through `data`.
 */
export type UserRingDrainCallback = (data: Uint8Array, offset: number, size: number) => number;

export interface UserRingBufferCreateOptions {
  /** Data area bytes (`max_entries`): a power of two, a multiple of 4096, at most 2^30. */
  size: number;
  /** This handle's id (see {@link UserRingBufferAttachOptions.id}). @default threadId + 1 */
  id?: number;
  /** @default 250 */
  lockTimeoutMs?: number;
  /**
   * Position every counter starts from (a multiple of 8). Lets tests run across the 2^32 wrap; the
   * kernel starts at 0. @default 0
   */
  startPos?: number;
}

export interface UserRingBufferAttachOptions {
  /**
   * This handle's id (1 .. 2^30 - 1): recorded in the lock word while it reserves, in the second
   * word of every header it reserves (the kernel's pg_off), and in the busy word while it drains,
   * so that recovery can tell a dead thread's records and drain apart. Threads that may crash must
   * have distinct ids. @default threadId + 1
   */
  id?: number;
  /** How long a reservation may wait for the lock before failing. @default 250 */
  lockTimeoutMs?: number;
}

/** What to post to another thread: the user ring's buffer. */
export interface UserRingShare {
  buffer: SharedArrayBuffer;
}

/**
 * One thread's handle on a user ring (BPF_MAP_TYPE_USER_RINGBUF). Producer methods (`reserve`,
 * `reserveBlocking`, `submit`, `discard`) may be called from any number of threads at once, each
 * with its own handle; `drain` from one thread at a time (another thread's concurrent drain throws
 * ERR_RINGBUF_BUSY at once).
 */
export class UserRingBuffer {
  /** The shared memory; post it (or `share()`) to other threads and `attach` it there. */
  readonly buffer: SharedArrayBuffer;
  /** Data area bytes (`max_entries`). */
  readonly size: number;
  /** `size - 1`: positions become offsets with `pos & mask`. */
  readonly mask: number;
  /** Largest payload: `size - 8` (one record may fill the ring exactly, as libbpf allows). */
  readonly maxPayload: number;
  /** The data area plus its mirror tail; a record's payload is `data[offset, offset + size)`. */
  readonly data: Uint8Array;
  /** Same bytes and offsets as `data`. */
  readonly view: DataView;
  /** This handle's id. */
  readonly id: number;
  /** Lock contention seen by this handle (slow paths only). */
  readonly lockStats: LockStats = { contended: 0, waits: 0, timeouts: 0 };
  /** How long this handle waits for the lock before a reservation fails. */
  lockTimeoutMs: number;
  /** @internal The whole buffer as 32-bit words. */
  readonly i32: Int32Array;

  private readonly tag: number;
  /** Cached consumer_pos and the producer_pos at which it was loaded (see reserve). */
  private consCache: number;
  private consCacheProd: number;
  /**
   * Header offsets this handle reserved and has not committed: what submit/discard accept. The
   * commonest case, one record held at a time, lives in `single` (header offset + 1, 0 when empty);
   * more spill into the table, which doubles when full (steady state allocates nothing).
   */
  private single = 0;
  /** Whether this handle holds the reservation lock for good (claimExclusive). */
  private exclusive = false;
  private held = new Int32Array(8);
  private heldCount = 0;

  private constructor(buffer: SharedArrayBuffer, id: number, lockTimeoutMs: number) {
    const i32 = new Int32Array(buffer);
    this.buffer = buffer;
    this.i32 = i32;
    this.size = i32[USER_SIZE_INDEX]!;
    this.mask = this.size - 1;
    this.maxPayload = userMaxPayloadOf(this.size);
    const span = this.size + i32[USER_MIRROR_INDEX]!;
    this.data = new Uint8Array(buffer, USER_DATA_OFFSET, span);
    this.view = new DataView(buffer, USER_DATA_OFFSET, span);
    this.id = id;
    this.tag = lockTag(id);
    this.lockTimeoutMs = lockTimeoutMs;
    // No snapshot yet: a cache "loaded" half the position space away makes the first reserve load
    // consumer_pos and check it against producer_pos (a cache seeded here would skip that check).
    this.consCache = 0;
    // Observes producer_pos only to place that fake snapshot far from it; any value there works.
    this.consCacheProd = (Atomics.load(i32, USER_PROD_POS_INDEX) + 0x80000000) | 0;
  }

  /**
   * Allocates a new user ring. Thread: any.
   * @throws RingBufRangeError `ERR_RINGBUF_SIZE` when `size` is not a power of two, not a multiple
   *   of 4096, or above 2^30; `ERR_RINGBUF_PRODUCER_ID`, `ERR_RINGBUF_ARGUMENT` for a bad id,
   *   lock timeout or start position.
   */
  static create(options: UserRingBufferCreateOptions): UserRingBuffer {
    checkCreateOptions(options, 'UserRingBuffer.create needs an options object { size }');
    const { size, startPos = 0 } = options;
    checkRingSize(size, 'user ring');
    if (typeof startPos !== 'number' || !Number.isSafeInteger(startPos) || startPos % BPF_RINGBUF_HDR_SZ !== 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `startPos must be an integer multiple of 8, got ${describeValue(startPos)}`,
      );
    }
    const id = checkHandleId(options.id, 'a user ring handle id');
    const lockTimeoutMs = checkLockTimeout(options.lockTimeoutMs);
    const buffer = new SharedArrayBuffer(userRingBufferBytes(size));
    const i32 = new Int32Array(buffer);
    i32[USER_VERSION_INDEX] = LAYOUT_VERSION;
    i32[USER_SIZE_INDEX] = size;
    i32[USER_MIRROR_INDEX] = mirrorBytes(size);
    i32[USER_CONS_POS_INDEX] = startPos | 0;
    i32[USER_PROD_POS_INDEX] = startPos | 0;
    // Publishes the initialised control area: the magic is written last, and attach() checks it.
    Atomics.store(i32, USER_MAGIC_INDEX, USER_RING_MAGIC);
    return new UserRingBuffer(buffer, id, lockTimeoutMs);
  }

  /**
   * Wraps a user ring's buffer received from another thread. Thread: any.
   * @throws RingBufError `ERR_RINGBUF_FOREIGN_BUFFER` for a buffer that is not a user ring's (a
   *   kernel ring's included), `ERR_RINGBUF_CORRUPT` for one whose sizes do not add up.
   */
  static attach(source: SharedArrayBuffer | UserRingShare, options: UserRingBufferAttachOptions = {}): UserRingBuffer {
    checkAttachOptions(options, 'UserRingBuffer.attach');
    const buffer = attachedBuffer(source, 'user ring', 'UserRingBuffer.attach needs a SharedArrayBuffer or { buffer }');
    checkControlArea(buffer, USER_RING_CONTROL);
    return new UserRingBuffer(
      buffer,
      checkHandleId(options.id, 'a user ring handle id'),
      checkLockTimeout(options.lockTimeoutMs),
    );
  }

  /** What another thread needs to `attach` this user ring. */
  share(): UserRingShare {
    return { buffer: this.buffer };
  }

  // ---- Producer side (libbpf's user_ring_buffer__*) ----

  /**
   * Reserves a record of `size` payload bytes: libbpf's `user_ring_buffer__reserve`. Returns the
   * payload's offset in `data`/`view`, or RESERVE_FAILED (-1) when it does not fit now (ENOSPC; or
   * the lock could not be taken within `lockTimeoutMs`). A record that fills the ring exactly fits
   * (libbpf allows `avail == total`; the kernel ring keeps 8 bytes free). The record is BUSY until
   * `submit` or `discard`. Thread: any producer.
   * @throws RingBufRangeError `ERR_RINGBUF_RECORD_SIZE` (libbpf's E2BIG) when `size` is not an
   *   integer from 0 to `maxPayload`, or carries the BUSY or DISCARD bit; nothing changes.
   * @throws RingBufCorruptionError when consumer_pos is behind or more than a ring ahead of
   *   producer_pos (a thread wrote the control area); nothing changes.
   */
  reserve(size: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxPayload) throw this.recordSizeError(size);
    const i32 = this.i32;
    if (!this.exclusive && !lock(i32, this.tag, this.lockTimeoutMs, this.lockStats)) return RESERVE_FAILED;
    // producer_pos is written only under the lock we hold: a plain read suffices.
    const prodPos = i32[USER_PROD_POS_INDEX]!;
    const footprint = recordFootprint(size);
    const newProdPos = (prodPos + footprint) | 0;
    // libbpf: avail = size - (prod - cons); fails when avail < total, i.e. new_prod - cons > size.
    // consumer_pos only moves forward, so a cached snapshot that passes implies the fresh one does;
    // reload when it fails or is a lap old (so the unsigned distances cannot wrap).
    if ((newProdPos - this.consCache) >>> 0 > this.size || (prodPos - this.consCacheProd) >>> 0 >= this.size) {
      // Observes the drainer's release of space; pairs with its consumer_pos store in drain().
      const cons = Atomics.load(i32, USER_CONS_POS_INDEX);
      const used = (prodPos - cons) | 0;
      if (used < 0 || used > this.size) {
        this.unlockUnlessExclusive();
        throw new RingBufCorruptionError(
          cons >>> 0,
          `corrupt positions: producer_pos ${prodPos >>> 0} is ` +
            `${used < 0 ? 'behind' : 'more than a ring ahead of'} consumer_pos ${cons >>> 0}`,
        );
      }
      this.consCache = cons;
      this.consCacheProd = prodPos;
      if ((newProdPos - cons) >>> 0 > this.size) {
        this.unlockUnlessExclusive();
        return RESERVE_FAILED;
      }
    }
    const hdrOffset = prodPos & this.mask;
    const hdrIndex = headerIndex(hdrOffset);
    // Plain stores, published to the drainer by the producer_pos store below (libbpf writes
    // `hdr->len = size | BUSY; hdr->pad = 0`; our pad carries the id, for recovery).
    i32[hdrIndex] = size | BUSY_BIT_I32;
    i32[hdrIndex + HDR_OWNER_WORD] = this.id;
    // Publishes the BUSY header; pairs with the drainer's producer_pos load (libbpf's smp_store_release).
    Atomics.store(i32, USER_PROD_POS_INDEX, newProdPos);
    this.unlockUnlessExclusive();
    this.holdRecord(hdrOffset);
    return hdrOffset + BPF_RINGBUF_HDR_SZ;
  }

  /**
   * Reserves, waiting for space until `timeoutMs` has passed: libbpf's
   * `user_ring_buffer__reserve_blocking`. -1 waits forever (so does Infinity), 0 makes one try.
   * It sleeps on the drainer's progress (consumer_pos) and re-tries after each drain that wakes it
   * (see the module comment), never spinning; after the timeout it makes one last try, as libbpf.
   * Returns the payload offset, or RESERVE_FAILED (-1) at the timeout. Thread: any producer that
   * may block.
   * @throws as `reserve`; RingBufRangeError `ERR_RINGBUF_ARGUMENT` for a timeout that is not -1,
   *   0, a positive number or Infinity (libbpf's EINVAL); RingBufError `ERR_RINGBUF_CANNOT_BLOCK`
   *   for a wait on a thread that may not block (a browser's main thread).
   */
  reserveBlocking(size: number, timeoutMs: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxPayload) throw this.recordSizeError(size);
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 || timeoutMs === -1)) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `reserveBlocking timeout must be -1 (forever), 0 (one try) or a positive number ` +
          `of milliseconds, got ${describeValue(timeoutMs)}`,
      );
    }
    if (timeoutMs !== 0 && !CAN_BLOCK) {
      throw new RingBufError(
        'ERR_RINGBUF_CANNOT_BLOCK',
        'this thread may not block in Atomics.wait (a browser main thread): use reserve, or reserveBlocking(size, 0)',
      );
    }
    let offset = this.reserve(size);
    if (offset >= 0 || timeoutMs === 0) return offset;
    const deadline = timeoutMs === -1 ? Infinity : monotonicMs() + timeoutMs;
    const i32 = this.i32;
    // Announces a sleeper before the re-check below; pairs with the drainer's load of this count
    // after its consumer_pos stores (wakeProducers): either it sees us, or we see its progress.
    Atomics.add(i32, USER_SPACE_SLEEPERS_INDEX, 1);
    try {
      for (;;) {
        // Observes the drainer's progress: the value the wait below sleeps on.
        const cons = Atomics.load(i32, USER_CONS_POS_INDEX);
        offset = this.reserve(size);
        if (offset >= 0) return offset;
        const remaining = deadline - monotonicMs();
        if (remaining <= 0) return RESERVE_FAILED;
        // Sleeps while consumer_pos still holds what we saw; ended by wakeProducers()'s notify, or at
        // once when the drainer moved it meanwhile. Whole milliseconds (see clock.ts).
        Atomics.wait(i32, USER_CONS_POS_INDEX, cons, waitTimeoutMs(remaining));
      }
    } finally {
      // Withdraws the announcement; pairs with wakeProducers()'s load.
      Atomics.sub(i32, USER_SPACE_SLEEPERS_INDEX, 1);
    }
  }

  /**
   * Commits a reserved record: libbpf's `user_ring_buffer__submit`, one atomic exchange clearing
   * BUSY. Wakes a drainer sleeping in `waitForData` if this is the record it waits for.
   * Thread: the reserving producer.
   * @throws RingBufRangeError `ERR_RINGBUF_OFFSET` when `offset` is not a record's payload offset;
   *   RingBufError `ERR_RINGBUF_NOT_BUSY` when it is not a record this handle reserved and has not
   *   committed yet. Nothing changes on either.
   */
  submit(offset: number): void {
    this.commit(offset, 0);
  }

  /**
   * Commits a reserved record as discarded: libbpf's `user_ring_buffer__discard`, one atomic
   * exchange clearing BUSY and setting DISCARD. The drainer skips it. Thread: the reserving producer.
   * @throws as `submit`.
   */
  discard(offset: number): void {
    this.commit(offset, BPF_RINGBUF_DISCARD_BIT);
  }

  private commit(offset: number, discardBit: number): void {
    if (
      typeof offset !== 'number' ||
      offset >>> 0 !== offset ||
      (offset & 7) !== 0 ||
      offset < BPF_RINGBUF_HDR_SZ ||
      offset > this.size
    ) {
      throw payloadOffsetError(offset, this.size, 'user ring');
    }
    const hdrOffset = offset - BPF_RINGBUF_HDR_SZ;
    const i32 = this.i32;
    const hdrIndex = headerIndex(hdrOffset);
    // Plain reads: our own reservation's header, written by reserve() in this thread.
    const old = i32[hdrIndex]!;
    if ((old & BUSY_BIT_I32) === 0 || i32[hdrIndex + HDR_OWNER_WORD] !== this.id || !this.dropRecord(hdrOffset)) {
      throw new RingBufError(
        'ERR_RINGBUF_NOT_BUSY',
        `the record at offset ${offset} is not reserved by this handle (id ${this.id}) ` +
          `and uncommitted: already committed, never reserved, another handle's, or inside ` +
          `a payload`,
      );
    }
    // Commits (libbpf's __atomic_exchange_n on hdr->len): clears BUSY (sets DISCARD) and publishes
    // the payload; pairs with the drainer's header load.
    Atomics.exchange(i32, hdrIndex, (old & ~BUSY_BIT_I32) | discardBit);
    this.wakeDrainer(hdrOffset);
  }

  /**
   * Producers -> drainer: wake a drainer asleep in waitForData iff the record at `hdrOffset` is the
   * one at consumer_pos. The consumer_pos load and the notify happen only when it sleeps.
   */
  private wakeDrainer(hdrOffset: number): void {
    const i32 = this.i32;
    if (!isSleeping(i32)) return;
    // Observes the sleeping drainer's position; pairs with its consumer_pos store.
    if ((Atomics.load(i32, USER_CONS_POS_INDEX) & this.mask) !== hdrOffset) return;
    wakeConsumer(i32);
  }

  /**
   * libbpf's own producer model, made safe: this handle becomes the user ring's only producer by
   * taking the reservation lock and keeping it (LOCK_EXCLUSIVE_BIT, as the kernel ring's
   * claimExclusive, section 5.1 of docs/DESIGN.md). Its reservations then skip the lock's two
   * atomic operations, as libbpf's lock-free `user_ring_buffer__reserve` does; every other handle's
   * reservation fails at once (-1) until `releaseExclusive`, or until this thread dies and
   * `recoverProducer(its id)` frees the lock. Returns false when the lock could not be taken within
   * `lockTimeoutMs`. Thread: the producer.
   */
  claimExclusive(): boolean {
    if (!this.exclusive) this.exclusive = lockExclusive(this.i32, this.tag, this.lockTimeoutMs, this.lockStats);
    return this.exclusive;
  }

  /** Gives the lock back after `claimExclusive` (no-op otherwise). Thread: the producer. */
  releaseExclusive(): void {
    if (!this.exclusive) return;
    this.exclusive = false;
    unlock(this.i32);
  }

  /** Whether this handle holds the user ring exclusively (claimExclusive). */
  get isExclusive(): boolean {
    return this.exclusive;
  }

  /** Releases the lock after a reservation, unless this handle holds it for good. */
  private unlockUnlessExclusive(): void {
    if (!this.exclusive) unlock(this.i32);
  }

  // ---- Drain side (the kernel's bpf_user_ringbuf_drain) ----

  /**
   * Walks the committed records in order and calls `callback(data, offset, size)` for each: the
   * kernel's `bpf_user_ringbuf_drain`. Discarded records are skipped (checked before BUSY, as the
   * kernel does); the walk stops at the first BUSY record, at the end of what was produced, when the
   * callback returns USER_RINGBUF_STOP (1), or after BPF_MAX_USER_RINGBUF_SAMPLES records (discarded
   * ones count). consumer_pos is published after every record, so producers may reuse its space at
   * once. Returns the records delivered (the kernel's `samples - discarded_samples`).
   *
   * Wakes producers sleeping in reserveBlocking iff `flags` has BPF_RB_FORCE_WAKEUP, or it has no
   * BPF_RB_NO_WAKEUP and the drain consumed at least one record (delivered or discarded); never when
   * no producer sleeps. Thread: the one drainer (any thread, one at a time).
   *
   * A callback that throws, or returns anything but 0 or 1, has had its record: it is consumed, the
   * drain ends (busy word released, the wake rule applied) and the error propagates (a bad return
   * value as RingBufRangeError `ERR_RINGBUF_ARGUMENT`; the kernel's verifier refuses such programs).
   * @throws RingBufError `ERR_RINGBUF_BUSY` at once when another drain is running (the kernel's
   *   -EBUSY); RingBufError `ERR_RINGBUF_ARGUMENT` (not a function) and RingBufRangeError
   *   `ERR_RINGBUF_FLAGS` (bits other than the two wakeup flags, -EINVAL) before anything changes.
   * @throws RingBufCorruptionError for a producer_pos not 8-aligned (-EINVAL), behind consumer_pos or
   *   more than a ring ahead of it, or a record longer than what was produced (-EINVAL) or than the
   *   ring (-E2BIG): the records before it stay consumed, as the kernel leaves them.
   */
  drain(callback: UserRingDrainCallback, flags = 0): number {
    if (typeof callback !== 'function')
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'drain needs a callback function (data, offset, size) => 0 | 1');
    if (typeof flags !== 'number' || flags >>> 0 !== flags || (flags & ~BPF_RB_WAKEUP_FLAGS) !== 0) {
      throw wakeupFlagsError('drain', flags);
    }
    const i32 = this.i32;
    // Takes the drain (the kernel's atomic_try_cmpxchg(&rb->busy, 0, 1)); pairs with the releasing
    // compare-exchange at the end of the previous drain, which published its consumer_pos stores.
    const holder = Atomics.compareExchange(i32, USER_DRAIN_BUSY_INDEX, 0, this.id);
    if (holder !== 0) {
      throw new RingBufError(
        'ERR_RINGBUF_BUSY',
        `another drain is running on this user ring (handle id ${holder >>> 0})`,
      );
    }
    const mask = this.mask;
    const size = this.size;
    const data = this.data;
    let visited = 0;
    let delivered = 0;
    try {
      // Observes the previous drainer's last consumer_pos store (ordered before its busy release).
      let cons = Atomics.load(i32, USER_CONS_POS_INDEX);
      // producer_pos only moves forward, so one load serves until the drain reaches it (the kernel
      // loads it per record; this spares the line the producers write on every reservation).
      let prod = cons;
      while (visited < BPF_MAX_USER_RINGBUF_SAMPLES) {
        if (prod === cons) {
          // Observes the producers' latest reservation; every header before it is framed.
          prod = Atomics.load(i32, USER_PROD_POS_INDEX);
          if ((prod & 7) !== 0) throw this.corruption(cons, `producer_pos ${prod >>> 0} is not 8-byte aligned`);
        }
        const avail = (prod - cons) | 0;
        if (avail === 0) break;
        if (avail < 0) throw this.corruption(cons, `producer_pos ${prod >>> 0} is behind consumer_pos ${cons >>> 0}`);
        const hdrIndex = headerIndex(cons & mask);
        // Acquires the header (the kernel's smp_load_acquire(hdr)); pairs with the producer's
        // committing exchange, which follows its payload writes.
        const hdr = Atomics.load(i32, hdrIndex);
        const len = hdr & HDR_LEN_MASK;
        const total = recordFootprint(len);
        if (total > avail) {
          throw this.corruption(
            cons,
            `record of ${len} bytes (${total} with its header) runs past producer_pos ` +
              `${prod >>> 0} (${avail} bytes produced)`,
          );
        }
        if (total > size)
          throw this.corruption(
            cons,
            `record of ${len} bytes (${total} with its header) is longer than the ${size}-byte ring`,
          );
        if (avail > size)
          throw this.corruption(
            cons,
            `producer_pos ${prod >>> 0} is more than a ring ahead of consumer_pos ${cons >>> 0}`,
          );
        if ((hdr & BPF_RINGBUF_DISCARD_BIT) !== 0) {
          cons = (cons + total) | 0;
          // Releases the discarded record's space; pairs with reserve()'s consumer_pos load.
          Atomics.store(i32, USER_CONS_POS_INDEX, cons);
          visited++;
          continue;
        }
        if ((hdr & BUSY_BIT_I32) !== 0) break;
        let ret: unknown;
        try {
          ret = callback(data, (cons & mask) + BPF_RINGBUF_HDR_SZ, len);
        } finally {
          cons = (cons + total) | 0;
          // Releases the record's space (__bpf_user_ringbuf_sample_release); pairs with reserve()'s
          // consumer_pos load and with reserveBlocking()'s wait on this word.
          Atomics.store(i32, USER_CONS_POS_INDEX, cons);
          visited++;
          delivered++;
        }
        if (ret === 0) continue;
        if (ret === 1) break;
        throw new RingBufRangeError(
          'ERR_RINGBUF_ARGUMENT',
          `a drain callback returns 0 (go on) or 1 (stop), got ${describeValue(ret)}; the record was consumed`,
        );
      }
    } finally {
      // Releases the drain (the kernel's atomic_set_release(&rb->busy, 0)) unless recovery took it
      // from us; publishes every consumer_pos store above to the next drainer.
      Atomics.compareExchange(i32, USER_DRAIN_BUSY_INDEX, this.id, 0);
      if ((flags & BPF_RB_FORCE_WAKEUP) !== 0 || ((flags & BPF_RB_NO_WAKEUP) === 0 && visited > 0))
        this.wakeProducers();
    }
    return delivered;
  }

  /**
   * Drainer -> producers: notify every producer asleep in reserveBlocking, only when one announced
   * itself. Returns whether a notify was sent.
   */
  private wakeProducers(): boolean {
    const i32 = this.i32;
    // Observes reserveBlocking()'s announcement; follows our consumer_pos stores (Dekker pair).
    if (Atomics.load(i32, USER_SPACE_SLEEPERS_INDEX) === 0) return false;
    // Counts notifications sent (for stats and tests); written by drainers only.
    Atomics.add(i32, USER_SPACE_NOTIFIES_INDEX, 1);
    // Ends the waits on consumer_pos in reserveBlocking().
    Atomics.notify(i32, USER_CONS_POS_INDEX);
    return true;
  }

  /**
   * Whether a drain would find something at consumer_pos now: a committed or discarded record (or a
   * corruption it would report). One producer_pos, consumer_pos and header load. Thread: any.
   */
  hasData(): boolean {
    const i32 = this.i32;
    // Observe the producers' and the drainer's published positions.
    const prod = Atomics.load(i32, USER_PROD_POS_INDEX);
    const cons = Atomics.load(i32, USER_CONS_POS_INDEX);
    if (prod === cons) return false;
    // Observes the committing exchange on the header at consumer_pos.
    const hdr = Atomics.load(i32, headerIndex(cons & this.mask));
    return (hdr & BUSY_BIT_I32) === 0 || (hdr & BPF_RINGBUF_DISCARD_BIT) !== 0;
  }

  /**
   * Beyond the kernel (whose drainer runs when an event fires): sleeps until a record is committed
   * at consumer_pos or `timeoutMs` passes (-1 or Infinity: forever; 0: no wait), after re-checking
   * four times over some 4 µs, as `Consumer.poll` does (a producer in the middle of a record commits
   * it soon); a sleep lasts whole milliseconds (see clock.ts). Allocation-free: no clock read before
   * the sleep. Returns whether a drain would find something. The wake word admits one sleeper: one
   * thread waits for a ring. Thread: the drainer.
   * @throws RingBufRangeError `ERR_RINGBUF_ARGUMENT` for a bad timeout; RingBufError
   *   `ERR_RINGBUF_CANNOT_BLOCK` on a thread that may not block.
   */
  waitForData(timeoutMs: number): boolean {
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 || timeoutMs === -1)) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `waitForData timeout must be -1 (forever), 0 or a positive number of ` +
          `milliseconds, got ${describeValue(timeoutMs)}`,
      );
    }
    const ready = this.hasData();
    if (ready || timeoutMs === 0) return ready;
    // A drainer that has caught up usually finds its producer in the middle of a record (BUSY at
    // consumer_pos, committed some 100 ns later): look again a few times over some 4 µs before
    // paying for a sleep (and the producer for a notify). Bounded by the count; no clock read.
    for (let round = 0; round < GRACE_ROUNDS; round++) {
      pause(GRACE_PAUSE_LOADS);
      if (this.hasData()) return true;
    }
    const i32 = this.i32;
    // Store SLEEPING, then re-check: pairs with wakeDrainer()'s header exchange + wake word load.
    announceSleep(i32);
    if (this.hasData()) {
      cancelSleep(i32);
      return true;
    }
    sleep(i32, timeoutMs === -1 ? Infinity : timeoutMs);
    cancelSleep(i32);
    return this.hasData();
  }

  /** Wakes a drainer asleep in waitForData (to stop it, or in tests). Returns whether it slept. */
  wakeDrainerNow(): boolean {
    return wakeConsumer(this.i32);
  }

  // ---- Crash recovery (as the kernel ring's recoverProducer; the kernel never loses a CPU) ----

  /**
   * Recovers from a producer that died (worker terminated, uncaught exception) at any instruction:
   * frees the lock if it holds it, then, under the lock, discards every record it reserved and never
   * committed, so the drainer moves on, and wakes a sleeping drainer. Safe only for an id that is
   * really dead. Returns -1 in `recordsDiscarded` when the lock could not be taken in time.
   * Thread: any thread with a handle of another id.
   * @throws RingBufCorruptionError when a header between consumer_pos and producer_pos cannot be right.
   */
  recoverProducer(deadId: number): { lockRecovered: boolean; recordsDiscarded: number } {
    checkHandleId(deadId, 'a user ring handle id');
    if (deadId === this.id) throw new RingBufError('ERR_RINGBUF_PRODUCER_ID', 'a handle cannot recover its own id');
    // No lock counter in the user ring's control area (-1): its stats count records and drains.
    return recoverDeadProducer(this.i32, this.i32, deadId, -1, USER_RECOVERED_RECORDS_INDEX, {
      lock: () => this.exclusive || lock(this.i32, this.tag, this.lockTimeoutMs, this.lockStats),
      release: () => {
        this.unlockUnlessExclusive();
      },
      discardRecords: () => this.discardRecordsOf(deadId),
    });
  }

  /** recoverProducer's walk, under the lock: discards `deadId`'s BUSY records. */
  private discardRecordsOf(deadId: number): number {
    const i32 = this.i32;
    // Under the lock no space can be reserved, so the framing of [consumer_pos, producer_pos) is
    // stable while the drainer moves through it. Observes the last producer_pos store.
    const prod = Atomics.load(i32, USER_PROD_POS_INDEX);
    // Observes the drainer's progress; records behind it are committed and need no look.
    let pos = Atomics.load(i32, USER_CONS_POS_INDEX);
    const span = (prod - pos) | 0;
    if (span < 0 || span > this.size || (span & 7) !== 0)
      throw this.corruption(pos, `producer_pos ${prod >>> 0} cannot be ${span} bytes from consumer_pos`);
    let discarded = 0;
    // Bounded: every step moves at least 8 bytes and none passes producer_pos.
    while (pos !== prod) {
      const index = headerIndex(pos & this.mask);
      // Observes the header's commit state (a live producer may commit concurrently).
      const hdr = Atomics.load(i32, index);
      const total = recordFootprint(hdr & HDR_LEN_MASK);
      if (total > ((prod - pos) | 0))
        throw this.corruption(pos, `record of ${hdr & HDR_LEN_MASK} bytes runs past producer_pos ${prod >>> 0}`);
      if (discardIfDead(i32, index, hdr, deadId)) discarded++;
      pos = (pos + total) | 0;
    }
    return discarded;
  }

  /**
   * Recovers from a drainer that died mid-drain: frees the busy word if `deadId` holds it, and
   * notifies producers sleeping for space (the dead drainer may have consumed records and died before
   * its notify). Records it consumed stay consumed; the one in its callback when it died is delivered
   * again to the next drainer (its consumer_pos store had not happened). Returns whether the busy
   * word was freed. Thread: any.
   */
  recoverDrainer(deadId: number): boolean {
    checkHandleId(deadId, 'a user ring handle id');
    const i32 = this.i32;
    // Frees the dead drainer's busy word; pairs with drain()'s compare-exchange like a release.
    const freed = Atomics.compareExchange(i32, USER_DRAIN_BUSY_INDEX, deadId, 0) === deadId;
    if (freed) {
      // Counts recovered drains for stats.
      Atomics.add(i32, USER_RECOVERED_DRAINS_INDEX, 1);
    }
    this.wakeProducers();
    return freed;
  }

  // ---- Snapshots (momentary values, for reporting, recovery and tests) ----

  /** producer_pos as published by the last reservation. Thread: any. */
  producerPos(): number {
    // Observes the reserving producer's producer_pos store.
    return Atomics.load(this.i32, USER_PROD_POS_INDEX);
  }

  /** consumer_pos as published by the drainer. Thread: any. */
  consumerPos(): number {
    // Observes the drainer's consumer_pos store.
    return Atomics.load(this.i32, USER_CONS_POS_INDEX);
  }

  /** Bytes reserved and not yet drained (`producer_pos - consumer_pos`). Thread: any. */
  availData(): number {
    return (this.producerPos() - this.consumerPos()) >>> 0;
  }

  /** The id of the handle draining right now, or 0. Thread: any. */
  drainer(): number {
    // Observes drain()'s compare-exchange on the busy word.
    return Atomics.load(this.i32, USER_DRAIN_BUSY_INDEX) >>> 0;
  }

  /** The id holding the reservation lock right now, or 0. Thread: any. */
  lockHolder(): number {
    // Observes the holder written by the acquiring compare-exchange.
    return lockOwner(Atomics.load(this.i32, LOCK_INDEX));
  }

  /** Producers asleep (or about to sleep) in reserveBlocking. Thread: any. */
  sleepingProducers(): number {
    // Observes reserveBlocking()'s announcements.
    return Atomics.load(this.i32, USER_SPACE_SLEEPERS_INDEX);
  }

  /** Notifications sent so far: to producers sleeping for space, and to a drainer waiting for data. */
  notifies(): { space: number; data: number } {
    // Observes wakeProducers()' counter; wakeNotifies() observes wakeConsumer()'s.
    return { space: Atomics.load(this.i32, USER_SPACE_NOTIFIES_INDEX) >>> 0, data: wakeNotifies(this.i32) };
  }

  /** Records and drains recovered so far (all recoverers). Thread: any. */
  recoveryCounts(): { records: number; drains: number } {
    // Observes the recovery counters.
    return {
      records: Atomics.load(this.i32, USER_RECOVERED_RECORDS_INDEX),
      drains: Atomics.load(this.i32, USER_RECOVERED_DRAINS_INDEX),
    };
  }

  /** Fault injection only: take the reservation lock as reserve does and never release it. */
  tryHoldLockForFaultInjection(): boolean {
    // Takes the lock; recovery's forceUnlock() frees it.
    return Atomics.compareExchange(this.i32, LOCK_INDEX, 0, this.tag) === 0;
  }

  // ---- Private helpers ----

  /** Records a held reservation (allocation-free once the table has grown to the peak). */
  private holdRecord(hdrOffset: number): void {
    if (this.single === 0) {
      this.single = hdrOffset + 1;
      return;
    }
    if (this.heldCount === this.held.length) {
      const bigger = new Int32Array(this.held.length * 2);
      bigger.set(this.held);
      this.held = bigger;
    }
    this.held[this.heldCount++] = hdrOffset;
  }

  /** Forgets a held reservation; false when this handle holds none at `hdrOffset`. Newest first. */
  private dropRecord(hdrOffset: number): boolean {
    if (this.single === hdrOffset + 1) {
      this.single = 0;
      return true;
    }
    const held = this.held;
    for (let i = this.heldCount - 1; i >= 0; i--) {
      if (held[i] === hdrOffset) {
        if (i < this.heldCount - 1) held.copyWithin(i, i + 1, this.heldCount);
        this.heldCount--;
        return true;
      }
    }
    return false;
  }

  private corruption(pos: number, what: string): RingBufCorruptionError {
    return new RingBufCorruptionError(pos >>> 0, `corrupt user ring at consumer_pos ${pos >>> 0}: ${what}`);
  }

  private recordSizeError(size: number): RingBufRangeError {
    const bits =
      typeof size === 'number' &&
      size >>> 0 === size &&
      (size & (BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) !== 0;
    return new RingBufRangeError(
      'ERR_RINGBUF_RECORD_SIZE',
      bits
        ? `record size ${size} carries the BUSY or DISCARD bit (libbpf: E2BIG)`
        : `record payload size must be an integer from 0 to ${this.maxPayload} in a ` +
            `${this.size}-byte user ring, got ${describeValue(size)} (libbpf: E2BIG)`,
    );
  }
}
