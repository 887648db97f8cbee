/**
 * The producer side of the BPF ring buffer and the ring's shared state (the kernel's
 * `kernel/bpf/ringbuf.c`, reserve/commit/output/query), over one SharedArrayBuffer.
 *
 * Who writes which shared word (see layout.ts for where they live):
 * - producer_pos, pending_pos, the overwrite slots: the lock holder only.
 * - record headers: the reserving producer (plain stores under the lock, published by the
 *   producer_pos store), then one atomic read-modify-write by the committing producer, then nothing
 *   until the space is reused. Crash recovery may discard a dead producer's BUSY record.
 * - consumer_pos: the consumer only (tests may write it to play the kernel selftest's role).
 * - the wake word: see wake.ts.
 *
 * Invariants (positions compared by signed 32-bit difference):
 * - consumer_pos <= producer_pos (unless a test forces it ahead, as `ringbuf_write` does);
 *   pending_pos <= producer_pos; every record in [consumer_pos, producer_pos) is framed.
 * - producer_pos - consumer_pos <= mask and producer_pos - pending_pos <= mask after every
 *   reservation (overwrite mode drops the first, never the second: an uncommitted record is never
 *   overwritten).
 *
 * A `RingBuffer` object is a per-thread handle: create one with `create` in one thread and `attach`
 * the same buffer in others. Its producer id goes into the lock word while it holds the lock and into
 * the second word of every header it reserves, so that a crashed producer can be recovered.
 *
 * This module keeps the handle's fields, create/attach, the hot path (reserve, tryReserve,
 * reserveBatch, reserveLocked, submit/discard and their batch forms, output, afterCommit), the
 * role-named accessors and query. The rest lives beside it, each shared with user-ring.ts where
 * both rings need it: checks.ts (argument checks, the control area attach checks), payload.ts
 * (output's payload: the typed-array intrinsics and the copy), overwrite.ts (the overwrite
 * seqlock), framing.ts (framing errors and the walk over records), recovery.ts (producer recovery),
 * lock.ts, wake.ts, reservations.ts, layout.ts.
 */
import { describeThrown, describeValue, RingBufCorruptionError, RingBufError, RingBufRangeError } from './errors.js';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_OVERWRITE_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RB_WAKEUP_FLAGS,
  RESERVE_FAILED,
  maxPayloadOf,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  BUSY_BIT_I32,
  CONS_POS_INDEX,
  CONSUMED_RECORDS_INDEX,
  CONSUMER_HEARTBEAT_INDEX,
  CLAIM_INDEX,
  DATA_OFFSET,
  FLAG_EXTERNAL_WAKE,
  FLAG_OVERWRITE,
  HDR_LEN_MASK,
  HDR_OWNER_WORD,
  LAYOUT_VERSION,
  MAGIC_INDEX,
  MIRROR_INDEX,
  OVERWRITE_SLOTS_INDEX,
  PENDING_POS_INDEX,
  PROD_POS_INDEX,
  RING_MAGIC,
  SIZE_INDEX,
  VERSION_INDEX,
  WAKE_ID_INDEX,
  FLAGS_INDEX,
  LOCK_INDEX,
  RECOVERED_LOCKS_INDEX,
  RECOVERED_RECORDS_INDEX,
  headerIndex,
  mirrorBytes,
  recordFootprint,
  ringBufferBytes,
} from './layout.js';
import { lock, lockExclusive, lockOwner, lockTag, tryLock, unlock, type LockStats } from './lock.js';
import { posMax } from './positions.js';
import { WakeGroup, isSleeping, newWakeId, wakeConsumer, type WakeWord } from './wake.js';
import { NOT_HELD, Reservations } from './reservations.js';
import { HEARTBEAT_NEVER, heartbeatNowMs, heartbeatWord } from './heartbeat.js';
import {
  MAX_HANDLE_ID,
  attachedBuffer,
  checkAttachOptions,
  checkCommitFlags,
  checkCreateOptions,
  checkHandleId,
  checkLockTimeout,
  checkPosition,
  checkRingSize,
  checkToken,
  checkControlArea,
  isPayloadOffset,
  payloadOffsetError,
  positionError,
  wakeupFlagsError,
  type ControlArea,
} from './checks.js';
import { frameError, reserveCorruption, spanError, walkRecords } from './framing.js';
import { overwriteOldest, readOverwrite, readOverwritePos } from './overwrite.js';
import { WORDS_VIEW_EVERY, copyPayload, isOutOfBounds, mayGrow, payloadLength, wordsOf } from './payload.js';
import { discardDeadRecords, recoverDeadProducer } from './recovery.js';

/** What RingBuffer.attach checks of a ring's control area (layout.ts). */
const RING_CONTROL: ControlArea = {
  what: 'ring',
  magicIndex: MAGIC_INDEX,
  magic: RING_MAGIC,
  versionIndex: VERSION_INDEX,
  sizeIndex: SIZE_INDEX,
  mirrorIndex: MIRROR_INDEX,
  bufferBytes: ringBufferBytes,
};

/** Largest producer id: ids are stored shifted left by one in the lock word. */
export const MAX_PRODUCER_ID = MAX_HANDLE_ID;
/**
 * output() copies payloads up to this many bytes under the reservation lock and publishes them
 * finished (a copy this short holds the lock no longer than the reservation itself); longer ones
 * are reserved, copied outside the lock and committed, as the kernel's bpf_ringbuf_output does.
 */
export const OUTPUT_UNDER_LOCK_MAX = 128;

export interface RingBufferCreateOptions {
  /** Data area bytes (`max_entries`): a power of two, a multiple of 4096, at most 2^30. */
  size: number;
  /**
   * Overwrite mode (the kernel's `BPF_F_RB_OVERWRITE`, 2025): producers never wait for the consumer;
   * the oldest committed records are overwritten, never an uncommitted one.
   * @default false
   */
  overwrite?: boolean;
  /** Share a wake word with other rings so one consumer can sleep on all of them. */
  wakeGroup?: WakeGroup;
  /**
   * Position every counter starts from, a multiple of 8 (a record boundary). Lets tests run across
   * the 2^32 wrap; the kernel starts at 0.
   * @default 0
   */
  startPos?: number;
  /** Options for this thread's handle. */
  producerId?: number;
  /** @default 250 */
  lockTimeoutMs?: number;
}

export interface RingBufferAttachOptions {
  /**
   * This handle's producer id (1 .. 2^30 - 1), recorded in the lock word and in every header it
   * reserves. Producers that may crash must have distinct ids.
   * @default threadId + 1
   */
  producerId?: number;
  /** Required when the ring was created with a wake group: that group, or its buffer. */
  wakeGroup?: WakeGroup | SharedArrayBuffer;
  /**
   * How long a reservation may wait for the lock before failing, like the kernel's rqspinlock.
   * @default 250
   */
  lockTimeoutMs?: number;
}

/** What to post to another thread: the ring's buffer, and its wake group's buffer if it has one. */
export interface RingShare {
  buffer: SharedArrayBuffer;
  wakeBuffer?: SharedArrayBuffer;
}

/**
 * One thread's handle on a BPF-style ring buffer.
 *
 * Producer methods (`reserve`, `tryReserve`, `submit`, `discard`, `output`) may be called from any
 * number of threads at once, each with its own handle. `query` may be called from any thread.
 */
export class RingBuffer {
  /** The shared memory; post it (or `share()`) to other threads and `attach` it there. */
  readonly buffer: SharedArrayBuffer;
  /** Data area bytes (`max_entries`). */
  readonly size: number;
  /** `size - 1`: positions become offsets with `pos & mask`. */
  readonly mask: number;
  /** Largest payload a record can have in this ring: `size - 16` (its footprint is then `size - 8`). */
  readonly maxPayload: number;
  /** Whether the ring was created in overwrite mode. */
  readonly overwrite: boolean;
  /** The data area plus its mirror tail; a record's payload is `data[offset, offset + size)`. */
  readonly data: Uint8Array;
  /** Same bytes and offsets as `data`. */
  readonly view: DataView;
  /** This handle's producer id. */
  readonly producerId: number;
  /** Lock contention seen by this handle (slow paths only). */
  readonly lockStats: LockStats = { contended: 0, waits: 0, timeouts: 0 };
  /** How long this handle waits for the lock before a reservation fails. */
  lockTimeoutMs: number;
  /** @internal The whole buffer as 32-bit words: control words and record headers. */
  readonly i32: Int32Array;
  /**
   * The wake word this ring's producers notify (the wake group's word when the ring was created with one):
   * pass it to `wakeConsumer`, `consumerSleeping` and `wakeNotifies`.
   */
  readonly wake: WakeWord;
  /** @internal The wake group, when the ring was created with one. */
  readonly wakeGroup: WakeGroup | undefined;

  private readonly tag: number;
  /** Cached consumer_pos (see reserveLocked) and the producer_pos at which it was loaded. */
  private consCache: number;
  private consCacheProd: number;
  /** This handle's reservations not yet committed: what submit/discard may commit. */
  private readonly reservations: Reservations;
  /** Whether this handle holds the lock for good (claimExclusive): it then never takes or releases it. */
  private exclusive = false;
  /** The last payload output() checked, and whether it may grow (mayGrow): asked once per object. */
  private lastPayload: Uint8Array | undefined = undefined;
  private lastPayloadGrows = false;
  /**
   * The last payload as 32-bit words, made the second time output() sees the same small payload
   * object (so a fresh array per call never pays for a view); null when it cannot be (unaligned, a
   * length not a multiple of 4, a growable buffer, or the ring's own buffer, where the copy could
   * overlap its destination); undefined until decided.
   */
  private lastPayloadWords: Int32Array | null | undefined = undefined;
  /**
   * output() calls since the last words view was made, counted up to WORDS_VIEW_EVERY: a view is
   * made at most that often, so a producer that keeps changing its payload object (A, A, B, B, ...)
   * allocates at most one view per WORDS_VIEW_EVERY calls instead of one every other call.
   */
  private outputsSinceView = WORDS_VIEW_EVERY;

  private constructor(
    buffer: SharedArrayBuffer,
    wakeGroup: WakeGroup | undefined,
    producerId: number,
    lockTimeoutMs: number,
  ) {
    const i32 = new Int32Array(buffer);
    this.buffer = buffer;
    this.i32 = i32;
    this.size = i32[SIZE_INDEX]!;
    this.mask = this.size - 1;
    this.maxPayload = maxPayloadOf(this.size);
    this.overwrite = (i32[FLAGS_INDEX]! & FLAG_OVERWRITE) !== 0;
    const span = this.size + i32[MIRROR_INDEX]!;
    this.data = new Uint8Array(buffer, DATA_OFFSET, span);
    this.view = new DataView(buffer, DATA_OFFSET, span);
    this.wakeGroup = wakeGroup;
    this.wake = wakeGroup ? wakeGroup.word : i32;
    this.producerId = producerId;
    this.tag = lockTag(producerId);
    this.lockTimeoutMs = lockTimeoutMs;
    this.reservations = new Reservations(this.mask);
    // Observes the positions to seed the cache; a stale value only makes the first check reload.
    this.consCache = Atomics.load(i32, CONS_POS_INDEX);
    this.consCacheProd = Atomics.load(i32, PROD_POS_INDEX);
  }

  /**
   * Allocates a new ring. Thread: any.
   * @throws RingBufRangeError `ERR_RINGBUF_SIZE` when `size` is not a power of two, not a multiple
   *   of 4096, or above 2^30 (the kernel's `-EINVAL` for `max_entries`).
   */
  static create(options: RingBufferCreateOptions): RingBuffer {
    checkCreateOptions(options, 'RingBuffer.create needs an options object { size }');
    const { size, overwrite = false, wakeGroup, startPos = 0 } = options;
    checkRingSize(size, 'ring');
    if (typeof overwrite !== 'boolean') {
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', `overwrite must be a boolean, got ${describeValue(overwrite)}`);
    }
    if (!Number.isSafeInteger(startPos) || startPos % 8 !== 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `startPos must be an integer multiple of 8 (a record boundary), got ${describeValue(startPos)}`,
      );
    }
    if (wakeGroup !== undefined && !(wakeGroup instanceof WakeGroup)) {
      throw new RingBufError('ERR_RINGBUF_WAKE_GROUP', 'wakeGroup must be a WakeGroup');
    }
    const producerId = checkHandleId(options.producerId, 'producerId');
    const lockTimeoutMs = checkLockTimeout(options.lockTimeoutMs);
    const buffer = new SharedArrayBuffer(ringBufferBytes(size));
    const i32 = new Int32Array(buffer);
    const start = startPos | 0;
    i32[VERSION_INDEX] = LAYOUT_VERSION;
    i32[FLAGS_INDEX] = (overwrite ? FLAG_OVERWRITE : 0) | (wakeGroup ? FLAG_EXTERNAL_WAKE : 0);
    i32[SIZE_INDEX] = size;
    i32[MIRROR_INDEX] = mirrorBytes(size);
    i32[WAKE_ID_INDEX] = wakeGroup ? wakeGroup.id : newWakeId();
    i32[CONS_POS_INDEX] = start;
    i32[PROD_POS_INDEX] = start;
    i32[PENDING_POS_INDEX] = start;
    i32[OVERWRITE_SLOTS_INDEX] = start;
    // Publishes the initialised control area: the magic is written last, and attach() checks it.
    Atomics.store(i32, MAGIC_INDEX, RING_MAGIC);
    return new RingBuffer(buffer, wakeGroup, producerId, lockTimeoutMs);
  }

  /**
   * Wraps a ring's buffer received from another thread. Thread: any.
   * @throws RingBufError `ERR_RINGBUF_FOREIGN_BUFFER` for a buffer that is not a ring's (magic,
   *   version), `ERR_RINGBUF_CORRUPT` for one whose sizes do not add up (truncated), and
   *   `ERR_RINGBUF_WAKE_GROUP` when the ring uses a wake group that was not given.
   */
  static attach(source: SharedArrayBuffer | RingShare, options: RingBufferAttachOptions = {}): RingBuffer {
    checkAttachOptions(options, 'RingBuffer.attach');
    const buffer = attachedBuffer(source, 'ring', 'RingBuffer.attach needs a SharedArrayBuffer');
    const i32 = checkControlArea(buffer, RING_CONTROL);
    let wakeGroup: WakeGroup | undefined;
    if ((i32[FLAGS_INDEX]! & FLAG_EXTERNAL_WAKE) !== 0) {
      const given = options.wakeGroup ?? (source instanceof SharedArrayBuffer ? undefined : source.wakeBuffer);
      if (given === undefined) {
        throw new RingBufError(
          'ERR_RINGBUF_WAKE_GROUP',
          'this ring was created with a wake group: attach it with { wakeGroup } or attach ring.share()',
        );
      }
      wakeGroup = given instanceof WakeGroup ? given : WakeGroup.attach(given);
      if (wakeGroup.id !== i32[WAKE_ID_INDEX]) {
        throw new RingBufError(
          'ERR_RINGBUF_WAKE_GROUP',
          'the wake group given is not the one this ring was created with',
        );
      }
    }
    return new RingBuffer(
      buffer,
      wakeGroup,
      checkHandleId(options.producerId, 'producerId'),
      checkLockTimeout(options.lockTimeoutMs),
    );
  }

  /** What another thread needs to `attach` this ring. */
  share(): RingShare {
    return this.wakeGroup ? { buffer: this.buffer, wakeBuffer: this.wakeGroup.buffer } : { buffer: this.buffer };
  }

  /**
   * Reserves a record of `size` payload bytes: the kernel's `__bpf_ringbuf_reserve`. Returns the
   * payload's offset in `data`/`view`, or RESERVE_FAILED (-1) when it does not fit now (or the lock
   * could not be taken within `lockTimeoutMs`). The record is BUSY until `submit` or `discard`.
   * Thread: any producer.
   * @throws RingBufRangeError `ERR_RINGBUF_RECORD_SIZE` when `size` is not a non-negative integer or
   *   exceeds `maxPayload` (a record that could never fit; the kernel returns NULL).
   * @throws RingBufCorruptionError when pending_pos or a header it walks cannot be right.
   */
  reserve(size: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxPayload) throw this.recordSizeError(size);
    if (!this.exclusive && !lock(this.i32, this.tag, this.lockTimeoutMs, this.lockStats)) return RESERVE_FAILED;
    return this.reserveLocked(recordFootprint(size), size, 1, undefined);
  }

  /**
   * As `reserve`, but returns -1 at once when another producer holds the lock: the kernel's NMI
   * path ("reservation will fail even if ring buffer is not full"). Thread: any producer.
   * @throws as `reserve`.
   */
  tryReserve(size: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxPayload) throw this.recordSizeError(size);
    if (!this.exclusive && !tryLock(this.i32, this.tag)) return RESERVE_FAILED;
    return this.reserveLocked(recordFootprint(size), size, 1, undefined);
  }

  /**
   * Beyond the kernel (the LMAX Disruptor's `next(n)`): reserves `count` consecutive records of
   * `size` payload bytes each in one lock round and one producer_pos publish. Returns the payload
   * offset of the first record, or RESERVE_FAILED (-1) when they do not all fit now (nothing is
   * reserved). Every record is framed and BUSY exactly as `reserve` frames it, so the consumer, the
   * query values, overwrite mode and crash recovery see ordinary records. Record `i` is at
   * `batchOffset(first, i)`. Thread: any producer.
   * @throws RingBufRangeError `ERR_RINGBUF_RECORD_SIZE` when `size` is as `reserve` refuses, or
   *   `count` is not an integer from 1 to the records of that size the ring can hold at once.
   */
  reserveBatch(size: number, count: number): number {
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxPayload) throw this.recordSizeError(size);
    const footprint = recordFootprint(size);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count * footprint > this.mask) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_RECORD_SIZE',
        `a batch of ${size}-byte records must have from 1 to ` +
          `${Math.floor(this.mask / footprint)} records in a ${this.size}-byte ring, got ${describeValue(count)}`,
      );
    }
    if (!this.exclusive && !lock(this.i32, this.tag, this.lockTimeoutMs, this.lockStats)) return RESERVE_FAILED;
    const first = this.reserveLocked(footprint, size, count, undefined);
    if (first >= 0) this.reservations.noteBatch(first - BPF_RINGBUF_HDR_SZ, count, footprint);
    return first;
  }

  /**
   * The payload offset of record `i` of the batch whose first payload is at `first`: `first + i *
   * recordFootprint(size)` until the batch crosses the end of the data area, where the headers wrap
   * to the start as the kernel's positions do (each payload stays contiguous in `data`/`view`,
   * running into the mirror tail). Allocation-free: for the batch just reserved, three fields; else a
   * scan of this handle's reservations. It answers while any record of the batch is still held (so a
   * loop may fill and submit record by record), for the newest such batch of this handle whose first
   * record is at `first`: once a batch's first record is committed and consumed, a newer reservation
   * may start at the same offset, so take an older batch's offsets before that can happen.
   * Thread: the reserving producer.
   * @throws RingBufRangeError `ERR_RINGBUF_OFFSET` when `first` is not the first record of a batch
   *   this handle still holds a record of, or `i` is not a record index of it.
   */
  batchOffset(first: number, i: number): number {
    // The batch just reserved, none of its records committed yet: the common case, without a lookup.
    if (typeof first === 'number' && typeof i === 'number' && i >>> 0 === i) {
      const hdr = this.reservations.batchHeader(first - BPF_RINGBUF_HDR_SZ, i);
      if (hdr !== NOT_HELD) return hdr + BPF_RINGBUF_HDR_SZ;
    }
    const hdrOffset = this.checkedOffset(first) - BPF_RINGBUF_HDR_SZ;
    const hdr =
      typeof i === 'number' && Number.isInteger(i) && i >= 0
        ? this.reservations.reservationHeader(hdrOffset, i)
        : NOT_HELD;
    if (hdr === NOT_HELD) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_OFFSET',
        `${describeValue(first)} is not the first record of a batch of this handle with a record ${describeValue(i)}`,
      );
    }
    return hdr + BPF_RINGBUF_HDR_SZ;
  }

  /**
   * The body of every reservation, entered with the lock held; releases it on every path. Reserves
   * `count` records of `footprint` bytes (`size` payload bytes each). With `payload` (output's small
   * records, count 1), copies it in under the lock and frames the record committed: the producer_pos
   * store then publishes a finished record, and no BUSY state, commit RMW or reservation entry is
   * needed (see output()).
   */
  private reserveLocked(footprint: number, size: number, count: number, payload: Uint8Array | undefined): number {
    const i32 = this.i32;
    const mask = this.mask;
    const len = footprint * count;
    // producer_pos and pending_pos are written only under the lock we hold: plain reads suffice.
    const prodPos = i32[PROD_POS_INDEX]!;
    const newProdPos = (prodPos + len) | 0;
    let pendPos = i32[PENDING_POS_INDEX]!;
    // pending_pos lies within a ring behind producer_pos (isSpan's rule, inline on the hot path).
    const pendSpan = (prodPos - pendPos) | 0;
    if (pendSpan < 0 || pendSpan >= this.size) throw this.unlockedCorruption(pendPos, prodPos, 0, 'pending');
    // Advance pending_pos past committed and discarded records (the 2024 overrun fix, P-pend);
    // bounded: every step moves at least 8 bytes and none passes producer_pos.
    while (pendPos !== prodPos) {
      // Plain read, as the kernel's READ_ONCE(hdr->len) in __bpf_ringbuf_reserve: it only decides
      // whether this space may be reused, which also needs consumer_pos past it (an Atomics load
      // below, paired with the consumer's store, which followed its own acquire of this header). A
      // stale BUSY only stops the walk early (a later reserve resumes it); int32 reads never tear.
      const hdr = i32[headerIndex(pendPos & mask)]!;
      if ((hdr & BUSY_BIT_I32) !== 0) break;
      const step = recordFootprint(hdr & HDR_LEN_MASK);
      // The bound: a committed record ends at or before producer_pos, and its owner word names a
      // producer id (zeroed memory does not); else corruption.
      if (
        step > ((prodPos - pendPos) | 0) ||
        (i32[headerIndex(pendPos & mask) + HDR_OWNER_WORD]! - 1) >>> 0 >= MAX_PRODUCER_ID
      ) {
        throw this.unlockedCorruption(pendPos, prodPos, hdr, 'header');
      }
      pendPos = (pendPos + step) | 0;
    }
    i32[PENDING_POS_INDEX] = pendPos;
    // Never overrun an uncommitted record, in either mode.
    if ((newProdPos - pendPos) >>> 0 > mask) {
      this.release();
      return RESERVE_FAILED;
    }
    if (!this.overwrite) {
      // The kernel snapshots consumer_pos on every reserve. The consumer only moves it forward, so a
      // cached snapshot that passes the check implies the fresh one does; reload only when the cached
      // one fails or is a lap old (so the unsigned distances below cannot wrap).
      if ((newProdPos - this.consCache) >>> 0 > mask || (prodPos - this.consCacheProd) >>> 0 >= this.size) {
        // Observes the consumer's release of space; pairs with its store of consumer_pos.
        this.consCache = Atomics.load(i32, CONS_POS_INDEX);
        this.consCacheProd = prodPos;
        if ((newProdPos - this.consCache) >>> 0 > mask) {
          this.release();
          return RESERVE_FAILED;
        }
      }
    } else if (!overwriteOldest(this, prodPos, newProdPos)) {
      throw this.unlockedCorruption(this.overwritePos(), prodPos, 0, 'overwrite');
    }
    // Plain stores: published to the consumer by the producer_pos store below, to other producers
    // by our unlock.
    const id = this.producerId;
    const hdrOffset = prodPos & mask;
    let hdrIndex = headerIndex(hdrOffset);
    if (payload !== undefined) {
      // The copy first: a copy that throws (it checks its bounds before writing) leaves nothing.
      try {
        this.copyPayload(payload, hdrOffset + BPF_RINGBUF_HDR_SZ, size);
      } catch (err) {
        this.release();
        throw new RingBufError(
          'ERR_RINGBUF_ARGUMENT',
          `output could not copy the payload (nothing was reserved): ${describeThrown(err)}`,
        );
      }
      i32[hdrIndex] = size;
      i32[hdrIndex + HDR_OWNER_WORD] = id;
      // Publishes the finished record; pairs with the consumer's load of producer_pos.
      Atomics.store(i32, PROD_POS_INDEX, newProdPos);
      this.release();
      return hdrOffset + BPF_RINGBUF_HDR_SZ;
    }
    const word = size | BUSY_BIT_I32;
    i32[hdrIndex] = word;
    i32[hdrIndex + HDR_OWNER_WORD] = id;
    for (let k = 1, pos = (prodPos + footprint) | 0; k < count; k++, pos = (pos + footprint) | 0) {
      hdrIndex = headerIndex(pos & mask);
      i32[hdrIndex] = word;
      i32[hdrIndex + HDR_OWNER_WORD] = id;
    }
    // Publishes the BUSY headers; pairs with the consumer's load of producer_pos.
    Atomics.store(i32, PROD_POS_INDEX, newProdPos);
    this.release();
    if (count === 1) this.reservations.addOne(hdrOffset, prodPos, footprint);
    else this.reservations.add(prodPos, footprint, count);
    return hdrOffset + BPF_RINGBUF_HDR_SZ;
  }

  /**
   * Releases the lock and builds the error for corruption found under it (out of line, so that
   * reserveLocked stays small enough for V8 to inline into reserve).
   */
  private unlockedCorruption(
    pos: number,
    prodPos: number,
    hdr: number,
    what: 'pending' | 'header' | 'overwrite',
  ): RingBufCorruptionError {
    this.release();
    return reserveCorruption(this, pos, prodPos, hdr, what);
  }

  /**
   * Commits a reserved record: the kernel's `bpf_ringbuf_submit`. Flags other than the two wakeup
   * bits are ignored, as the kernel does for submit and discard. Thread: the reserving producer.
   * @throws RingBufRangeError `ERR_RINGBUF_OFFSET` when `offset` is not a record's payload offset,
   *   `ERR_RINGBUF_FLAGS` when `flags` is not a 32-bit unsigned integer.
   * @throws RingBufError `ERR_RINGBUF_NOT_BUSY` when the record is not one this handle reserved and
   *   has not committed yet (already committed, never reserved, another handle's, or bytes inside a
   *   payload); nothing changes.
   */
  submit(offset: number, flags = 0): void {
    this.commitOne(offset, flags, 0);
  }

  /**
   * Commits a reserved record as discarded: the kernel's `bpf_ringbuf_discard`. The consumer skips
   * it. Thread: the reserving producer.
   * @throws as `submit`.
   */
  discard(offset: number, flags = 0): void {
    this.commitOne(offset, flags, BPF_RINGBUF_DISCARD_BIT);
  }

  /**
   * Beyond the kernel (the Disruptor's `publish(lo, hi)`): commits `count` records of a batch from
   * the one whose payload is at `offset` (the batch's first, or any record of it with the records
   * after it), with the kernel's wake rule applied once, for the first of them (a consumer can only
   * be waiting there). Every record must be this handle's and still BUSY, or nothing changes.
   * Thread: the reserving producer.
   * @throws as `submit`; `ERR_RINGBUF_OFFSET` also when `count` is not a record count of the batch.
   */
  submitBatch(offset: number, count: number, flags = 0): void {
    this.commitRange(offset, count, flags, 0);
  }

  /** As `submitBatch`, committing the records as discarded. @throws as `submitBatch`. */
  discardBatch(offset: number, count: number, flags = 0): void {
    this.commitRange(offset, count, flags, BPF_RINGBUF_DISCARD_BIT);
  }

  private commitOne(offset: number, flags: number, discardBit: number): void {
    const hdrOffset = this.checkedOffset(offset) - BPF_RINGBUF_HDR_SZ;
    checkCommitFlags(flags);
    const i32 = this.i32;
    const hdrIndex = headerIndex(hdrOffset);
    // Plain read: our own reservation's header, written by reserveLocked in this thread; the
    // compare-exchange below re-validates it atomically.
    const old = i32[hdrIndex]!;
    if (
      (old & BUSY_BIT_I32) === 0 ||
      i32[hdrIndex + HDR_OWNER_WORD] !== this.producerId ||
      !this.reservations.takeOne(hdrOffset)
    ) {
      throw this.notBusyError(offset);
    }
    // Commits: the kernel's `bpf_ringbuf_commit`; clears BUSY (sets DISCARD) and publishes the
    // payload; pairs with the consumer's and the pending loop's header loads. Fails only if recovery
    // discarded the record under us.
    if (Atomics.compareExchange(i32, hdrIndex, old, (old & ~BUSY_BIT_I32) | discardBit) !== old)
      throw this.notBusyError(offset);
    this.afterCommit(hdrOffset, flags);
  }

  /**
   * Commits records [i, i + count) of one of this handle's batches. All are checked first, so a
   * refused call changes nothing. The records after the first are committed with plain stores, last
   * to first, and the first with one compare-exchange: a consumer reads a batch in order and stops at
   * its first BUSY record, so its load of the first header (which synchronizes with that
   * compare-exchange) happens after every plain commit behind it, and it then finds the whole batch
   * committed. One locked instruction per batch instead of one per record.
   */
  private commitRange(offset: number, count: number, flags: number, discardBit: number): void {
    const hdrOffset = this.checkedOffset(offset) - BPF_RINGBUF_HDR_SZ;
    checkCommitFlags(flags);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_OFFSET',
        `a batch commit needs a record count of at least 1, got ${describeValue(count)}`,
      );
    }
    const reservations = this.reservations;
    const e = reservations.find(hdrOffset, count);
    if (e === NOT_HELD) throw this.notBusyError(offset);
    const index = reservations.foundIndex;
    const i32 = this.i32;
    const mask = this.mask;
    const footprint = reservations.footprint(e);
    const id = this.producerId;
    // Check every record first: ours (owner word) and still BUSY. Plain reads of our own headers.
    for (let k = 0, at = hdrOffset; k < count; k++, at = (at + footprint) & mask) {
      const index = headerIndex(at);
      if ((i32[index]! & BUSY_BIT_I32) === 0 || i32[index + HDR_OWNER_WORD] !== id) {
        throw this.notBusyError(at + BPF_RINGBUF_HDR_SZ);
      }
    }
    for (let k = count - 1; k > 0; k--) {
      const index = headerIndex((hdrOffset + k * footprint) & mask);
      const old = i32[index]!;
      // Plain store: published by the compare-exchange on the batch's first header below.
      i32[index] = (old & ~BUSY_BIT_I32) | discardBit;
    }
    const first = headerIndex(hdrOffset);
    const old = i32[first]!;
    // Commits the batch: clears the first record's BUSY bit and publishes every payload and plain
    // commit before it; pairs with the consumer's header load. Fails only if recovery discarded it.
    const committed = Atomics.compareExchange(i32, first, old, (old & ~BUSY_BIT_I32) | discardBit) === old;
    reservations.committed(e, index, count);
    if (!committed) throw this.notBusyError(offset);
    this.afterCommit(hdrOffset, flags);
  }

  /**
   * Reserves, copies `payload` in and submits: the kernel's `bpf_ringbuf_output`. Returns false when
   * the record does not fit now (-EAGAIN). Everything is checked before anything is reserved, and a
   * copy that throws anyway discards the record, so no call leaves a BUSY record behind.
   * Thread: any producer.
   * @throws RingBufRangeError `ERR_RINGBUF_FLAGS` for flags other than the two wakeup bits (-EINVAL),
   *   `ERR_RINGBUF_RECORD_SIZE` as `reserve`.
   * @throws RingBufError `ERR_RINGBUF_ARGUMENT` for a payload that is not a Uint8Array or whose
   *   buffer was detached (transferred away).
   */
  output(payload: Uint8Array, flags = 0): boolean {
    if (typeof flags !== 'number' || flags >>> 0 !== flags || (flags & ~BPF_RB_WAKEUP_FLAGS) !== 0) {
      throw wakeupFlagsError('output', flags);
    }
    const length = payload instanceof Uint8Array ? payloadLength(payload) : -1;
    if (length < 0) {
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'output needs a Uint8Array payload');
    }
    if (length === 0 && isOutOfBounds(payload)) {
      throw new RingBufError(
        'ERR_RINGBUF_ARGUMENT',
        'output was given a Uint8Array whose buffer is detached (transferred away) or ' +
          'was resized to end before the view',
      );
    }
    if (payload !== this.lastPayload) {
      // A typed array's buffer, and whether that buffer can grow, never change: once per object.
      this.lastPayloadGrows = mayGrow(payload);
      this.lastPayload = payload;
      this.lastPayloadWords = undefined;
    } else if (
      this.lastPayloadWords === undefined &&
      length <= OUTPUT_UNDER_LOCK_MAX &&
      this.outputsSinceView >= WORDS_VIEW_EVERY
    ) {
      // The same small payload again: copy it as words from now on, if it can be.
      this.lastPayloadWords = this.lastPayloadGrows ? null : wordsOf(payload, length, this.buffer);
      if (this.lastPayloadWords !== null) this.outputsSinceView = 0;
    }
    if (this.outputsSinceView < WORDS_VIEW_EVERY) this.outputsSinceView++;
    if (length <= OUTPUT_UNDER_LOCK_MAX) {
      // Small records: validated as reserve() validates them, then copied under the lock.
      if (length > this.maxPayload) throw this.recordSizeError(length);
      if (!this.exclusive && !lock(this.i32, this.tag, this.lockTimeoutMs, this.lockStats)) return false;
      const at = this.reserveLocked(recordFootprint(length), length, 1, payload);
      if (at < 0) return false;
      this.afterCommit(at - BPF_RINGBUF_HDR_SZ, flags);
      return true;
    }
    const offset = this.reserve(length);
    if (offset < 0) return false;
    const hdrIndex = headerIndex(offset - BPF_RINGBUF_HDR_SZ);
    try {
      this.copyPayload(payload, offset, length);
    } catch (err) {
      this.discard(offset, BPF_RB_NO_WAKEUP);
      throw new RingBufError(
        'ERR_RINGBUF_ARGUMENT',
        `output could not copy the payload (the record was discarded): ${describeThrown(err)}`,
      );
    }
    this.reservations.takeOne(offset - BPF_RINGBUF_HDR_SZ);
    // Commits; pairs with the consumer's header load (the header is ours and BUSY).
    Atomics.and(this.i32, hdrIndex, ~BUSY_BIT_I32);
    this.afterCommit(offset - BPF_RINGBUF_HDR_SZ, flags);
    return true;
  }

  /**
   * Copies exactly `length` bytes of output()'s payload to `offset` (payload.ts's copyPayload, with
   * this handle's words view of the payload and whether it may grow). A forwarding call, so that
   * reserveLocked and output read as they did.
   */
  private copyPayload(payload: Uint8Array, offset: number, length: number): void {
    copyPayload(this.i32, this.data, this.lastPayloadWords, this.lastPayloadGrows, payload, offset, length);
  }

  /**
   * The kernel's wake decision after a commit, minus the wakeups nobody would receive: wake iff
   * FORCE_WAKEUP, or no NO_WAKEUP and the consumer has consumed everything up to exactly this record.
   * The consumer_pos load and the notify happen only when the consumer has announced that it sleeps.
   */
  private afterCommit(hdrOffset: number, flags: number): void {
    const wake = this.wake;
    if ((flags & BPF_RB_FORCE_WAKEUP) === 0) {
      if ((flags & BPF_RB_NO_WAKEUP) !== 0 || !isSleeping(wake)) return;
      // Observes the sleeping consumer's position; pairs with its consumer_pos store.
      if ((Atomics.load(this.i32, CONS_POS_INDEX) & this.mask) !== hdrOffset) return;
    } else if (!isSleeping(wake)) {
      return;
    }
    wakeConsumer(wake);
  }

  /** Releases the lock after a reservation, unless this handle holds it for good. */
  private release(): void {
    if (!this.exclusive) unlock(this.i32);
  }

  /**
   * Beyond the kernel (Agrona's OneToOneRingBuffer beside its ManyToOneRingBuffer): makes this
   * handle the ring's only producer by taking the reservation lock and keeping it. Its reservations
   * then skip the lock's two atomic operations; every other handle's reservation fails at once
   * (RESERVE_FAILED; a lock timeout for recovery) until `releaseExclusive`, or until this producer
   * dies and `recoverProducer(its id)` frees the lock, as for any holder. Everything else (framing,
   * pending_pos, the wake rule, the consumer) is unchanged. Returns false when the lock could not be
   * taken within `lockTimeoutMs`. Thread: the producer.
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

  /** Whether this handle holds the ring exclusively (claimExclusive). */
  get isExclusive(): boolean {
    return this.exclusive;
  }

  /**
   * Recovers from a producer that died (worker terminated, uncaught exception, `process.exit`) at any
   * instruction: frees the lock if the dead producer holds it, then, under the lock, discards every
   * record it reserved and never committed, so the consumer moves on. Agrona's `unblock()` and the
   * kernel's resilient lock are the models; the kernel itself never loses a CPU mid-reservation.
   * A producer that died in `submitBatch` may have committed the records after a batch's first with
   * plain stores: those stay committed, and the BUSY ones (the first among them) are discarded.
   *
   * Safe only for a producer id that is really dead: a live producer's reservation would be
   * discarded under it (its later submit then throws ERR_RINGBUF_NOT_BUSY). Every record the dead
   * producer committed stays committed. Finally it notifies the consumer unconditionally, in case the
   * producer died between claiming a wakeup and sending it (see rescueSleeper). Thread: any thread
   * with a handle whose id differs from `deadProducerId`. Returns -1 in `recordsDiscarded` when the
   * lock could not be taken in time.
   * @throws RingBufCorruptionError when a header between the consumer and producer_pos cannot be right.
   */
  recoverProducer(deadProducerId: number): { lockRecovered: boolean; recordsDiscarded: number } {
    checkHandleId(deadProducerId, 'producerId');
    if (deadProducerId === this.producerId) {
      throw new RingBufError('ERR_RINGBUF_PRODUCER_ID', 'a handle cannot recover its own producer id');
    }
    return recoverDeadProducer(this.i32, this.wake, deadProducerId, RECOVERED_LOCKS_INDEX, RECOVERED_RECORDS_INDEX, {
      lock: () => this.exclusive || lock(this.i32, this.tag, this.lockTimeoutMs, this.lockStats),
      release: () => {
        this.release();
      },
      discardRecords: () =>
        discardDeadRecords(this, deadProducerId, (offset) => {
          this.afterCommit(offset, 0);
        }),
    });
  }

  // ---- Role-named access to the ring's shared words (nothing outside core indexes `i32`) ----

  /** producer_pos as published by the last reservation. Thread: any. */
  producerPos(): number {
    // Observes the reserving producer's producer_pos store; every header before it is framed.
    return Atomics.load(this.i32, PROD_POS_INDEX);
  }

  /** consumer_pos as published by the consumer. Thread: any. */
  consumerPos(): number {
    // Observes the consumer's consumer_pos store (publishConsumerPos).
    return Atomics.load(this.i32, CONS_POS_INDEX);
  }

  /**
   * Releases the space before `pos` to the producers. Thread: the ring's single consumer only (a
   * test may write it to play the kernel selftest's role).
   */
  publishConsumerPos(pos: number): void {
    checkPosition(pos, 'publishConsumerPos');
    // Releases the consumed records' space; pairs with reserve's consumer_pos load.
    Atomics.store(this.i32, CONS_POS_INDEX, pos);
  }

  /** Overwrite mode: records the consumer has delivered so far (its own counter). Thread: any. */
  consumedRecords(): number {
    // Observes the consumer's publishConsumedRecords().
    return Atomics.load(this.i32, CONSUMED_RECORDS_INDEX) >>> 0;
  }

  /** Overwrite mode: publishes the delivered-records counter. Thread: the consumer only. */
  publishConsumedRecords(n: number): void {
    checkPosition(n, 'publishConsumedRecords');
    // Publishes the delivered count before consumer_pos moves; loss accounting reads both.
    Atomics.store(this.i32, CONSUMED_RECORDS_INDEX, n);
  }

  /**
   * Beyond the kernel (Agrona's consumer heartbeat time): stamps the consumer's heartbeat word with
   * `nowMs`, a reading of the heartbeat clock (core's `monotonicMs()`; by default, read now). One
   * store; the caller rate-limits (the consumer package's `Consumer` stores at most every
   * HEARTBEAT_STAMP_MS while it runs and every HEARTBEAT_IDLE_MS while it sleeps; see heartbeat.ts).
   * Thread: the ring's consumer only.
   * @throws RingBufRangeError `ERR_RINGBUF_ARGUMENT` when `nowMs` is not a number from 0 to 2^53 - 1
   *   (the word is left as it was).
   */
  stampConsumerHeartbeat(nowMs: number = heartbeatNowMs()): void {
    if (typeof nowMs !== 'number' || !(nowMs >= 0 && nowMs <= Number.MAX_SAFE_INTEGER)) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `stampConsumerHeartbeat needs a clock reading in ms from 0 to 2^53 - 1 ` +
          `(monotonicMs()), got ${describeValue(nowMs)}`,
      );
    }
    // Publishes "the consumer ran at nowMs"; pairs with consumerHeartbeatAgeMs()'s load.
    Atomics.store(this.i32, CONSUMER_HEARTBEAT_INDEX, heartbeatWord(nowMs));
  }

  /**
   * Clears the consumer's heartbeat (back to "never stamped"): a consumer that closes says that no
   * consumer runs any more, so its age is not read as a stall. Thread: the ring's consumer only.
   */
  clearConsumerHeartbeat(): void {
    // Publishes "no consumer stamps"; pairs with consumerHeartbeatAgeMs()'s load.
    Atomics.store(this.i32, CONSUMER_HEARTBEAT_INDEX, HEARTBEAT_NEVER);
  }

  /**
   * Milliseconds since the consumer last stamped its heartbeat, or -1 when no consumer has stamped
   * yet (or the last one closed). A live consumer's stamp is at most about HEARTBEAT_IDLE_MS old, or
   * one call of its callbacks, whichever is longer; an age above a threshold (HEARTBEAT_STALL_MS)
   * while the ring holds unread data says the consumer is dead or stuck rather than slow. A hint
   * only: a consumer stopped in a debugger or descheduled looks the same (heartbeat.ts). A stamp a
   * little ahead of this thread's clock reads as 0. Thread: any.
   */
  consumerHeartbeatAgeMs(): number {
    // Observes the consumer's last stamp; pairs with stampConsumerHeartbeat()'s store.
    const stamp = Atomics.load(this.i32, CONSUMER_HEARTBEAT_INDEX);
    if (stamp === HEARTBEAT_NEVER) return -1;
    const age = (heartbeatWord(heartbeatNowMs()) - stamp) | 0;
    return age < 0 ? 0 : age;
  }

  /**
   * The header word (len | BUSY | DISCARD) of the record at data offset `offset` (`pos & mask`).
   * Thread: any.
   */
  headerAt(offset: number): number {
    this.checkHeaderOffset(offset);
    // Observes the committing RMW on the header (submit/discard/output); payload writes precede it.
    return Atomics.load(this.i32, headerIndex(offset));
  }

  /** The producer id in the header of the record at data offset `offset` (the kernel's pg_off). */
  headerOwnerAt(offset: number): number {
    this.checkHeaderOffset(offset);
    // Plain read: written before producer_pos was published, never changed until reuse.
    return this.i32[headerIndex(offset) + HDR_OWNER_WORD]!;
  }

  /**
   * Whether the header word `hdr` read at logical position `pos` can be a record that producers
   * framed, given `limit`, a producer_pos observed before the header was read: its length is at most
   * `maxPayload`, its footprint ends at or before `limit`, and its owner word names a valid producer
   * id. Anything else is corruption (a thread wrote the buffer, or a position moved). Allocation-free;
   * the check every walk over the ring makes (the consumer's, recovery's, left-behind counting).
   * Thread: any.
   */
  isFramed(pos: number, limit: number, hdr: number): boolean {
    if (typeof pos !== 'number' || typeof limit !== 'number' || typeof hdr !== 'number')
      throw positionError('isFramed');
    const footprint = recordFootprint(hdr & HDR_LEN_MASK);
    // One bound for both rules: the record ends at or before `limit`, and it fits the ring (a
    // footprint of at most size - 8 is a length of at most maxPayload).
    if (footprint > ((limit - pos) | 0) || footprint > this.mask) return false;
    // The owner word is a producer id: 1 .. MAX_PRODUCER_ID, one unsigned comparison.
    return (this.i32[headerIndex(pos & this.mask) + HDR_OWNER_WORD]! - 1) >>> 0 < MAX_PRODUCER_ID;
  }

  /** The error for a header that {@link isFramed} refused, naming what is wrong with it. */
  frameError(pos: number, limit: number, hdr: number): RingBufCorruptionError {
    return frameError(this, pos, limit, hdr);
  }

  /**
   * Whether [from, prodPos) can be the unread part of this ring: prodPos is not behind `from`, the
   * distance fits the ring, and both are record boundaries (8-byte aligned: records start aligned
   * and footprints are multiples of 8, so a walk that starts aligned stays aligned; one check per
   * span instead of one per header). Outside overwrite mode `from` is consumer_pos; in overwrite
   * mode it is max(consumer_pos, overwrite_pos). Thread: any.
   */
  isSpan(from: number, prodPos: number): boolean {
    if (typeof from !== 'number' || typeof prodPos !== 'number') throw positionError('isSpan');
    // Strictly less than the ring: reserve refuses when new_prod_pos - cons_pos > mask (the kernel's
    // `__bpf_ringbuf_reserve`), and footprints are multiples of 8, so producer_pos - consumer_pos is
    // at most size - 8 (overwrite mode keeps new_prod_pos - overwrite_pos <= mask likewise). A
    // distance of a whole ring is a consumer_pos moved back a lap: re-delivery, refused.
    const d = (prodPos - from) | 0;
    return d >= 0 && d < this.size && ((from | prodPos) & 7) === 0;
  }

  /** The error for a span that {@link isSpan} refused. */
  spanError(from: number, prodPos: number): RingBufCorruptionError {
    return spanError(this.size, from, prodPos);
  }

  /**
   * The one walk over framed records that is not the consumer's hot path: from `from` to `prodPos`,
   * calls `visit(pos, hdr)` for every record (BUSY ones included) in position order. Every header is
   * checked by {@link isFramed}; the walk is bounded by the span, which is checked first.
   * @throws RingBufCorruptionError at the first position that cannot be right.
   */
  forEachRecord(from: number, prodPos: number, visit: (pos: number, hdr: number) => void): void {
    walkRecords(this, from, prodPos, visit);
  }

  /**
   * Takes the ring's single consumer slot with `token` (non-zero). Returns false when another
   * consumer holds it. Thread: the consumer.
   */
  claimConsumer(token: number): boolean {
    checkToken(token);
    // Takes the consumer slot; pairs with releaseConsumer() and other consumers' attempts.
    return Atomics.compareExchange(this.i32, CLAIM_INDEX, 0, token) === 0;
  }

  /** Frees the consumer slot if `token` still holds it. Thread: the consumer that claimed it. */
  releaseConsumer(token: number): void {
    checkToken(token);
    // Releases the consumer slot; pairs with the next consumer's claimConsumer().
    Atomics.compareExchange(this.i32, CLAIM_INDEX, token, 0);
  }

  /** Frees the consumer slot whoever holds it: only for a consumer known to be gone. Thread: any. */
  forceReleaseConsumer(): void {
    // Frees the slot whatever token holds it; pairs with claimConsumer()'s compare-exchange.
    Atomics.store(this.i32, CLAIM_INDEX, 0);
  }

  /**
   * Fault injection only: one attempt to take the reservation lock as `reserve` would, without ever
   * releasing it. A test producer that dies holding it checks crash recovery. Thread: a producer.
   */
  tryHoldLockForFaultInjection(): boolean {
    return tryLock(this.i32, this.tag);
  }

  /** Locks and records recovered so far on this ring (all recoverers). */
  recoveryCounts(): { locks: number; records: number } {
    // Observes recoverProducer()'s counters.
    return {
      locks: Atomics.load(this.i32, RECOVERED_LOCKS_INDEX),
      records: Atomics.load(this.i32, RECOVERED_RECORDS_INDEX),
    };
  }

  /** The producer id holding the lock right now, or 0 (a snapshot, for recovery and tests). */
  lockHolder(): number {
    // Observes the holder written by the acquiring compare-exchange.
    return lockOwner(Atomics.load(this.i32, LOCK_INDEX));
  }

  /**
   * `bpf_ringbuf_query`. Values are momentary snapshots, fit for reporting and heuristics only, as
   * the kernel documents. Unknown fields return 0, as the kernel's. Thread: any.
   */
  query(field: number): number {
    if (typeof field !== 'number') {
      throw new RingBufError(
        'ERR_RINGBUF_ARGUMENT',
        `query needs a numeric field (BPF_RB_AVAIL_DATA ...), got ${typeof field}`,
      );
    }
    const i32 = this.i32;
    switch (field) {
      case BPF_RB_AVAIL_DATA: {
        // Observes the consumer's and the producers' latest published positions.
        const cons = Atomics.load(i32, CONS_POS_INDEX);
        const prod = Atomics.load(i32, PROD_POS_INDEX);
        const from = this.overwrite ? posMax(cons, this.overwritePos()) : cons;
        return (prod - from) >>> 0;
      }
      case BPF_RB_RING_SIZE:
        return this.size;
      case BPF_RB_CONS_POS:
        // Observes the consumer's store of consumer_pos.
        return Atomics.load(i32, CONS_POS_INDEX) >>> 0;
      case BPF_RB_PROD_POS:
        // Observes the reserving producer's store of producer_pos.
        return Atomics.load(i32, PROD_POS_INDEX) >>> 0;
      case BPF_RB_OVERWRITE_POS:
        return this.overwritePos() >>> 0;
      default:
        return 0;
    }
  }

  /**
   * overwrite_pos alone, without allocating (the consumer's torn-record check). Thread: any.
   */
  overwritePos(): number {
    return readOverwritePos(this.i32);
  }

  /**
   * A consistent snapshot of [overwrite_pos, committed records overwritten]. Thread: any.
   */
  readOverwrite(): { pos: number; overwritten: number } {
    return readOverwrite(this.i32);
  }

  /** Refuses what cannot be a header's data offset (8-aligned, below `size`). */
  private checkHeaderOffset(offset: number): void {
    if (typeof offset !== 'number' || offset >>> 0 !== offset || (offset & 7) !== 0 || offset >= this.size) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_OFFSET',
        `${describeValue(offset)} is not a header offset in a ${this.size}-byte ring (8-aligned, 0..${this.size - 8})`,
      );
    }
  }

  /** `offset` if it can be a record's payload offset in this ring (8-aligned, 8..size), else throws. */
  private checkedOffset(offset: number): number {
    if (!isPayloadOffset(offset, this.size)) throw payloadOffsetError(offset, this.size, 'ring');
    return offset;
  }

  private recordSizeError(size: number): RingBufRangeError {
    return new RingBufRangeError(
      'ERR_RINGBUF_RECORD_SIZE',
      `record payload size must be an integer from 0 to ${this.maxPayload} in a ` +
        `${this.size}-byte ring, got ${describeValue(size)}`,
    );
  }

  private notBusyError(offset: number): RingBufError {
    return new RingBufError(
      'ERR_RINGBUF_NOT_BUSY',
      `the record at offset ${offset} is not reserved by this handle (producer ` +
        `${this.producerId}) and uncommitted: already committed, never reserved, another ` +
        `handle's, or inside a payload`,
    );
  }
}
