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
 */
import { RingBufCorruptionError, RingBufError, RingBufRangeError } from './errors.js';
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
  MAX_RING_SIZE,
  MIRROR_INDEX,
  OVERWRITE_GEN_INDEX,
  OVERWRITE_SLOTS_INDEX,
  OVERWRITE_SLOT_WORDS,
  PAGE_SIZE,
  PENDING_POS_INDEX,
  PROD_POS_INDEX,
  RING_MAGIC,
  SIZE_INDEX,
  VERSION_INDEX,
  WAKE_ID_INDEX,
  FLAGS_INDEX,
  CONTROL_BYTES,
  LOCK_INDEX,
  RECOVERED_LOCKS_INDEX,
  RECOVERED_RECORDS_INDEX,
  headerIndex,
  mirrorBytes,
  recordFootprint,
  ringBufferBytes,
} from './layout.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  forceUnlock,
  lock,
  lockOwner,
  markExclusive,
  lockTag,
  tryLock,
  unlock,
  type LockStats,
} from './lock.js';
import { posDiff, posMax } from './positions.js';
import { WakeGroup, isSleeping, newWakeId, rescueSleeper, wakeConsumer, type WakeWord } from './wake.js';
import { NOT_HELD, Reservations } from './reservations.js';
import { HEARTBEAT_NEVER, heartbeatNowMs, heartbeatWord } from './heartbeat.js';

/** Largest producer id: ids are stored shifted left by one in the lock word. */
export const MAX_PRODUCER_ID = 2 ** 30 - 1;
/**
 * output() copies payloads up to this many bytes under the reservation lock and publishes them
 * finished (a copy this short holds the lock no longer than the reservation itself); longer ones
 * are reserved, copied outside the lock and committed, as the kernel's bpf_ringbuf_output does.
 */
export const OUTPUT_UNDER_LOCK_MAX = 128;

/** output() makes a words view of its payload (see copyPayload) at most once per this many calls. */
const WORDS_VIEW_EVERY = 1024;

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
    if (options === null || typeof options !== 'object') {
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'RingBuffer.create needs an options object { size }');
    }
    const { size, overwrite = false, wakeGroup, startPos = 0 } = options;
    checkRingSize(size);
    if (typeof overwrite !== 'boolean') {
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', `overwrite must be a boolean, got ${String(overwrite)}`);
    }
    if (!Number.isSafeInteger(startPos) || startPos % 8 !== 0) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_ARGUMENT',
        `startPos must be an integer multiple of 8 (a record boundary), got ${String(startPos)}`,
      );
    }
    if (wakeGroup !== undefined && !(wakeGroup instanceof WakeGroup)) {
      throw new RingBufError('ERR_RINGBUF_WAKE_GROUP', 'wakeGroup must be a WakeGroup');
    }
    const producerId = checkProducerId(options.producerId);
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
    if (options === null || typeof options !== 'object') {
      throw new RingBufError(
        'ERR_RINGBUF_ARGUMENT',
        `RingBuffer.attach options must be an object, got ${options === null ? 'null' : typeof options}`,
      );
    }
    const buffer =
      source instanceof SharedArrayBuffer
        ? source
        : source !== null && typeof source === 'object'
          ? source.buffer
          : undefined;
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new RingBufError('ERR_RINGBUF_FOREIGN_BUFFER', 'RingBuffer.attach needs a SharedArrayBuffer');
    }
    if (buffer.byteLength < CONTROL_BYTES) {
      throw new RingBufError(
        'ERR_RINGBUF_FOREIGN_BUFFER',
        `buffer of ${buffer.byteLength} bytes is too small to be a ring`,
      );
    }
    const i32 = new Int32Array(buffer);
    // Observes create()'s final store, so the rest of the control area is initialised.
    if (Atomics.load(i32, MAGIC_INDEX) !== RING_MAGIC) {
      throw new RingBufError('ERR_RINGBUF_FOREIGN_BUFFER', 'not a ring buffer (bad magic)');
    }
    if (i32[VERSION_INDEX] !== LAYOUT_VERSION) {
      throw new RingBufError(
        'ERR_RINGBUF_FOREIGN_BUFFER',
        `ring layout version ${i32[VERSION_INDEX]} is not the supported version ${LAYOUT_VERSION}`,
      );
    }
    const size = i32[SIZE_INDEX]!;
    if (
      !isValidRingSize(size) ||
      i32[MIRROR_INDEX] !== mirrorBytes(size) ||
      buffer.byteLength !== ringBufferBytes(size)
    ) {
      throw new RingBufError(
        'ERR_RINGBUF_CORRUPT',
        `ring control area says size ${size}, mirror ${i32[MIRROR_INDEX]}, but the buffer has ${buffer.byteLength} bytes`,
      );
    }
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
      checkProducerId(options.producerId),
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
        `a batch of ${size}-byte records must have from 1 to ${Math.floor(this.mask / footprint)} records in a ${this.size}-byte ring, got ${String(count)}`,
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
        `${String(first)} is not the first record of a batch of this handle with a record ${String(i)}`,
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
    } else if (!this.overwriteOldest(prodPos, newProdPos)) {
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
          `output could not copy the payload (nothing was reserved): ${String(err)}`,
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
    if (what === 'header') return this.frameError(pos, prodPos, hdr);
    if (what === 'pending') {
      return new RingBufCorruptionError(
        pos >>> 0,
        `corrupt positions: pending_pos ${pos >>> 0} is not within a ring of producer_pos ${prodPos >>> 0}`,
      );
    }
    return new RingBufCorruptionError(
      pos >>> 0,
      `corrupt overwrite_pos or header before producer_pos ${prodPos >>> 0}`,
    );
  }

  /**
   * Overwrite mode, under the lock: drop the oldest whole records until `newProdPos` fits. Returns
   * false when overwrite_pos or a header it walks cannot be right (nothing is changed then).
   */
  private overwriteOldest(prodPos: number, newProdPos: number): boolean {
    const i32 = this.i32;
    const mask = this.mask;
    // The generation and both slots are written only under the lock: plain reads suffice.
    const gen = i32[OVERWRITE_GEN_INDEX]!;
    const cur = OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS;
    let overPos = i32[cur]!;
    // overwrite_pos is a record boundary at or behind producer_pos, on every reservation (one signed
    // difference and one mask on values already loaded): one ahead of producer_pos would pass the
    // fit check below when it lies within the new record, and the consumer would later jump to it
    // over committed records without counting them lost.
    if (((prodPos - overPos) | 0) < 0 || (overPos & 7) !== 0) return false;
    if ((newProdPos - overPos) >>> 0 <= mask) return true;
    if (!this.isSpan(overPos, prodPos)) return false;
    let overwritten = i32[cur + 1]!;
    // Bounded: every step moves at least 8 bytes, and none passes producer_pos.
    do {
      // Observes the committed header (the pending check guarantees it is not BUSY).
      const hdr = Atomics.load(i32, headerIndex(overPos & mask));
      if ((hdr & BUSY_BIT_I32) !== 0 || !this.isFramed(overPos, prodPos, hdr)) return false;
      if ((hdr & BPF_RINGBUF_DISCARD_BIT) === 0) overwritten++;
      overPos = (overPos + recordFootprint(hdr & HDR_LEN_MASK)) | 0;
    } while ((newProdPos - overPos) >>> 0 > mask);
    const next = OVERWRITE_SLOTS_INDEX + ((gen + 1) & 1) * OVERWRITE_SLOT_WORDS;
    // Fill the idle slot, then switch to it; readers re-check the generation (readOverwrite()).
    Atomics.store(i32, next, overPos);
    Atomics.store(i32, next + 1, overwritten);
    // Publishes the new [overwrite_pos, overwritten] pair; pairs with readOverwrite()'s loads.
    Atomics.store(i32, OVERWRITE_GEN_INDEX, (gen + 1) | 0);
    return true;
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
        `a batch commit needs a record count of at least 1, got ${String(count)}`,
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
      throw new RingBufRangeError(
        'ERR_RINGBUF_FLAGS',
        `output flags must be a combination of BPF_RB_NO_WAKEUP (1) and BPF_RB_FORCE_WAKEUP (2), got ${String(flags)}`,
      );
    }
    const length = payload instanceof Uint8Array ? payloadLength(payload) : -1;
    if (length < 0) {
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'output needs a Uint8Array payload');
    }
    if (length === 0 && isOutOfBounds(payload)) {
      throw new RingBufError(
        'ERR_RINGBUF_ARGUMENT',
        'output was given a Uint8Array whose buffer is detached (transferred away) or was resized to end before the view',
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
        `output could not copy the payload (the record was discarded): ${String(err)}`,
      );
    }
    this.reservations.takeOne(offset - BPF_RINGBUF_HDR_SZ);
    // Commits; pairs with the consumer's header load (the header is ours and BUSY).
    Atomics.and(this.i32, hdrIndex, ~BUSY_BIT_I32);
    this.afterCommit(offset - BPF_RINGBUF_HDR_SZ, flags);
    return true;
  }

  /**
   * Copies exactly `length` bytes of output()'s payload to `offset`: with `set` (the payload's real
   * length, which output() checked), or byte by byte when another thread may grow it meanwhile.
   */
  private copyPayload(payload: Uint8Array, offset: number, length: number): void {
    const words = this.lastPayloadWords;
    if (words != null && length === words.length << 2) {
      // Word stores (payload offsets are 8-aligned): a set() call costs 20-40 ns however short.
      // The lengths equal (a view of a detached or shrunk buffer has none), the view covers exactly
      // the payload's bytes.
      const i32 = this.i32;
      const at = headerIndex(offset);
      for (let k = 0, n = length >> 2; k < n; k++) i32[at + k] = words[k]!;
      return;
    }
    if (!this.lastPayloadGrows) {
      this.data.set(payload, offset);
      return;
    }
    const data = this.data;
    for (let i = 0; i < length; i++) data[offset + i] = payload[i] ?? 0;
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
    if (this.exclusive) return true;
    if (!lock(this.i32, this.tag, this.lockTimeoutMs, this.lockStats)) return false;
    markExclusive(this.i32);
    this.exclusive = true;
    return true;
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
    checkProducerId(deadProducerId);
    if (deadProducerId === this.producerId) {
      throw new RingBufError('ERR_RINGBUF_PRODUCER_ID', 'a handle cannot recover its own producer id');
    }
    const i32 = this.i32;
    const mask = this.mask;
    const lockRecovered = forceUnlock(i32, deadProducerId);
    if (lockRecovered) {
      // Counts recoveries for stats; written under no lock, hence atomic.
      Atomics.add(i32, RECOVERED_LOCKS_INDEX, 1);
    }
    if (!this.exclusive && !lock(i32, this.tag, this.lockTimeoutMs, this.lockStats)) {
      rescueSleeper(this.wake);
      return { lockRecovered, recordsDiscarded: -1 };
    }
    let discarded = 0;
    try {
      // Under the lock no record ahead of the consumer can be reused, so the framing is stable.
      // Observes the dead holder's last producer_pos store: an exclusive holder (claimExclusive)
      // never released the lock after it, so the lock alone would not order its writes before ours.
      const prodPos = Atomics.load(i32, PROD_POS_INDEX);
      // Observes the consumer's progress; records behind it are committed and need no look.
      const consPos = Atomics.load(i32, CONS_POS_INDEX);
      const from = this.overwrite ? posMax(consPos, this.overwritePos()) : consPos;
      this.forEachRecord(from, prodPos, (pos, hdr) => {
        const index = headerIndex(pos & mask);
        if ((hdr & BUSY_BIT_I32) === 0 || i32[index + HDR_OWNER_WORD] !== deadProducerId) return;
        // Discards the dead producer's record exactly as its own discard() would have.
        if (Atomics.compareExchange(i32, index, hdr, (hdr & ~BUSY_BIT_I32) | BPF_RINGBUF_DISCARD_BIT) === hdr) {
          discarded++;
          this.afterCommit(pos & mask, 0);
        }
      });
      // Counts discarded records for stats.
      Atomics.add(i32, RECOVERED_RECORDS_INDEX, discarded);
    } finally {
      this.release();
    }
    rescueSleeper(this.wake);
    return { lockRecovered, recordsDiscarded: discarded };
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
        `stampConsumerHeartbeat needs a clock reading in ms from 0 to 2^53 - 1 (monotonicMs()), got ${String(nowMs)}`,
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
    const size = hdr & HDR_LEN_MASK;
    const at = pos >>> 0;
    if (size > this.maxPayload) {
      return new RingBufCorruptionError(
        at,
        `corrupt record header at position ${at}: length ${size} exceeds the largest payload ${this.maxPayload}`,
      );
    }
    if (recordFootprint(size) > ((limit - pos) | 0)) {
      return new RingBufCorruptionError(
        at,
        `corrupt record header at position ${at}: length ${size} runs past producer_pos ${limit >>> 0}`,
      );
    }
    const owner = this.i32[headerIndex(pos & this.mask) + HDR_OWNER_WORD]! >>> 0;
    return new RingBufCorruptionError(
      at,
      `corrupt record header at position ${at}: owner word ${owner} is not a producer id`,
    );
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
    const d = (prodPos - from) | 0;
    if (((from | prodPos) & 7) !== 0) {
      const [what, pos] = (from & 7) !== 0 ? ['consumer_pos', from] : ['producer_pos', prodPos];
      return new RingBufCorruptionError(
        from >>> 0,
        `corrupt positions: ${what} ${pos >>> 0} is not a record boundary (records start 8-byte aligned)`,
      );
    }
    return new RingBufCorruptionError(
      from >>> 0,
      d < 0
        ? `corrupt positions: producer_pos ${prodPos >>> 0} is behind consumer_pos ${from >>> 0}`
        : `corrupt positions: producer_pos ${prodPos >>> 0} is ${d >>> 0} bytes ahead of consumer_pos ${from >>> 0}, at least the ring's ${this.size} (a position moved by a lap or more)`,
    );
  }

  /**
   * The one walk over framed records that is not the consumer's hot path: from `from` to `prodPos`,
   * calls `visit(pos, hdr)` for every record (BUSY ones included) in position order. Every header is
   * checked by {@link isFramed}; the walk is bounded by the span, which is checked first.
   * @throws RingBufCorruptionError at the first position that cannot be right.
   */
  forEachRecord(from: number, prodPos: number, visit: (pos: number, hdr: number) => void): void {
    if (typeof visit !== 'function')
      throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'forEachRecord needs a visit function');
    if (!this.isSpan(from, prodPos)) throw this.spanError(from, prodPos);
    let pos = from;
    while (posDiff(prodPos, pos) > 0) {
      const hdr = this.headerAt(pos & this.mask);
      if (!this.isFramed(pos, prodPos, hdr)) throw this.frameError(pos, prodPos, hdr);
      visit(pos, hdr);
      pos = (pos + recordFootprint(hdr & HDR_LEN_MASK)) | 0;
    }
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
    const i32 = this.i32;
    for (;;) {
      // Observes the generation published last by overwriteOldest(); pairs with its final store.
      const gen = Atomics.load(i32, OVERWRITE_GEN_INDEX);
      // Observes the slot filled before that generation was published.
      const pos = Atomics.load(i32, OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS);
      // Re-checks that no producer refilled the slot while we read it.
      if (Atomics.load(i32, OVERWRITE_GEN_INDEX) === gen) return pos;
    }
  }

  /**
   * A consistent snapshot of [overwrite_pos, committed records overwritten]. Thread: any.
   */
  readOverwrite(): { pos: number; overwritten: number } {
    const i32 = this.i32;
    for (;;) {
      // Observes the generation published last by overwriteOldest(); pairs with its final store.
      const gen = Atomics.load(i32, OVERWRITE_GEN_INDEX);
      const slot = OVERWRITE_SLOTS_INDEX + (gen & 1) * OVERWRITE_SLOT_WORDS;
      // Observes the slot filled before that generation was published.
      const pos = Atomics.load(i32, slot);
      const overwritten = Atomics.load(i32, slot + 1) >>> 0;
      // Re-checks that no producer refilled the slot while we read it.
      if (Atomics.load(i32, OVERWRITE_GEN_INDEX) === gen) return { pos, overwritten };
    }
  }

  /** Refuses what cannot be a header's data offset (8-aligned, below `size`). */
  private checkHeaderOffset(offset: number): void {
    if (typeof offset !== 'number' || offset >>> 0 !== offset || (offset & 7) !== 0 || offset >= this.size) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_OFFSET',
        `${String(offset)} is not a header offset in a ${this.size}-byte ring (8-aligned, 0..${this.size - 8})`,
      );
    }
  }

  /** `offset` if it can be a record's payload offset in this ring (8-aligned, 8..size), else throws. */
  private checkedOffset(offset: number): number {
    if (
      typeof offset !== 'number' ||
      offset >>> 0 !== offset ||
      (offset & 7) !== 0 ||
      offset < BPF_RINGBUF_HDR_SZ ||
      offset > this.size
    ) {
      throw new RingBufRangeError(
        'ERR_RINGBUF_OFFSET',
        `${String(offset)} is not a record payload offset in a ${this.size}-byte ring (8-aligned, 8..${this.size})`,
      );
    }
    return offset;
  }

  private recordSizeError(size: number): RingBufRangeError {
    return new RingBufRangeError(
      'ERR_RINGBUF_RECORD_SIZE',
      `record payload size must be an integer from 0 to ${this.maxPayload} in a ${this.size}-byte ring, got ${String(size)}`,
    );
  }

  private notBusyError(offset: number): RingBufError {
    return new RingBufError(
      'ERR_RINGBUF_NOT_BUSY',
      `the record at offset ${offset} is not reserved by this handle (producer ${this.producerId}) and uncommitted: already committed, never reserved, another handle's, or inside a payload`,
    );
  }
}

/** A logical position or counter: a 32-bit integer (signed or unsigned form). */
function checkPosition(pos: number, what: string): void {
  if (typeof pos !== 'number' || !Number.isInteger(pos) || pos < -(2 ** 31) || pos > 2 ** 32 - 1)
    throw positionError(what);
}

function positionError(what: string): RingBufRangeError {
  return new RingBufRangeError('ERR_RINGBUF_ARGUMENT', `${what} needs 32-bit integer positions`);
}

/** A consumer token: a non-zero 31-bit integer. */
function checkToken(token: number): void {
  if (typeof token !== 'number' || !Number.isInteger(token) || token < 1 || token > 0x7fffffff) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `a consumer token must be an integer from 1 to 2^31 - 1, got ${String(token)}`,
    );
  }
}

/** Submit/discard flags: any 32-bit unsigned integer; bits other than the wakeup flags are ignored. */
function checkCommitFlags(flags: number): void {
  if (typeof flags !== 'number' || flags >>> 0 !== flags) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_FLAGS',
      `submit/discard flags must be a 32-bit unsigned integer, got ${String(flags)}`,
    );
  }
}

/**
 * The typed-array intrinsics output() reads a payload through: a subclass or an own property can
 * redefine `length` or `buffer`, but `TypedArray.prototype.set` copies the array's real length, so
 * the reservation must be sized by the same. Called through a constant getter, V8 inlines them
 * (under a nanosecond against 0.7 ns for `.length`).
 */
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const TYPED_ARRAY_LENGTH = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'length')!.get as (
  this: Uint8Array,
) => number;
const TYPED_ARRAY_BUFFER = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'buffer')!.get as (
  this: Uint8Array,
) => ArrayBufferLike;
const TYPED_ARRAY_BYTE_OFFSET = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'byteOffset')!.get as (
  this: Uint8Array,
) => number;
const SAB_GROWABLE = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'growable')?.get as
  ((this: SharedArrayBuffer) => boolean) | undefined;

/** The payload's real element count, or -1 when it is not a typed array at all (a Proxy, a fake). */
function payloadLength(payload: Uint8Array): number {
  try {
    return TYPED_ARRAY_LENGTH.call(payload);
  } catch {
    return -1;
  }
}

/**
 * Whether another thread may grow the payload while it is copied: a view of a growable
 * SharedArrayBuffer (a length-tracking one grows with it). Such payloads are copied byte by byte to
 * exactly the checked length. About 15 ns, so output() asks once per payload object.
 */
function mayGrow(payload: Uint8Array): boolean {
  const buffer = TYPED_ARRAY_BUFFER.call(payload);
  return buffer instanceof SharedArrayBuffer && SAB_GROWABLE !== undefined && SAB_GROWABLE.call(buffer);
}

/**
 * `payload` (of `length` bytes) as a view of 32-bit words, or null when it cannot be copied so: a
 * length not a multiple of 4, an unaligned byteOffset, or a view of `ringBuffer` (a word copy could
 * overlap its destination, where set() copies as memmove; an alias of the same memory received
 * through postMessage is another object, but its bytes in the record's space are free space copied
 * into itself, never another record's). Intrinsic getters, not the object's own properties, which a
 * caller can redefine.
 */
function wordsOf(payload: Uint8Array, length: number, ringBuffer: SharedArrayBuffer): Int32Array | null {
  const buffer = TYPED_ARRAY_BUFFER.call(payload);
  const byteOffset = TYPED_ARRAY_BYTE_OFFSET.call(payload);
  if ((length & 3) !== 0 || (byteOffset & 3) !== 0 || buffer === ringBuffer || length === 0) return null;
  return new Int32Array(buffer, byteOffset, length >> 2);
}

/** A zero-length array: the target isOutOfBounds copies into. */
const EMPTY = new Uint8Array(0);

/**
 * Whether a Uint8Array that reports no elements is really unreadable: its buffer was detached, or
 * it is a fixed-length view of a resizable ArrayBuffer shrunk to end before the view (such a view
 * reads as length 0, and so does its words view, so a 0-byte record would be published). Both are
 * refused by `TypedArray.prototype.set`, which throws for an out-of-bounds source (ECMA-262
 * IsTypedArrayOutOfBounds); an empty array in bounds copies nothing. Node 20 has no
 * ArrayBuffer#detached. Asked only for length 0, before anything in shared memory changes.
 */
function isOutOfBounds(array: Uint8Array): boolean {
  try {
    EMPTY.set(array);
    return false;
  } catch {
    return true;
  }
}

/** Whether `size` is a valid data area size: power of two, multiple of 4096, at most 2^30. */
export function isValidRingSize(size: number): boolean {
  return Number.isInteger(size) && size >= PAGE_SIZE && size <= MAX_RING_SIZE && (size & (size - 1)) === 0;
}

function checkRingSize(size: unknown): asserts size is number {
  if (typeof size !== 'number' || !isValidRingSize(size)) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_SIZE',
      `ring size must be a power of two, a multiple of ${PAGE_SIZE} and at most ${MAX_RING_SIZE}, got ${String(size)}`,
    );
  }
}

/**
 * The default producer id of a handle: Node's `threadId + 1` (distinct for every thread of the
 * process, reached without a `node:` import so that core loads in browsers too), else, where there
 * is no `process` (a browser's workers), a per-realm counter from a random base, so that two realms
 * collide only by chance (pass `producerId` when producers may crash and must be told apart).
 */
function defaultProducerId(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const workerThreads = proc?.getBuiltinModule?.('node:worker_threads') as { threadId?: number } | undefined;
  if (typeof workerThreads?.threadId === 'number') return workerThreads.threadId + 1;
  realmNextId = realmNextId >= MAX_PRODUCER_ID ? 1 : realmNextId + 1;
  return realmNextId;
}
let realmNextId = 1 + Math.floor(Math.random() * (MAX_PRODUCER_ID - 1));

function checkProducerId(id: number | undefined): number {
  if (id === undefined) return defaultProducerId();
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_PRODUCER_ID) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_PRODUCER_ID',
      `producerId must be an integer from 1 to ${MAX_PRODUCER_ID}, got ${String(id)}`,
    );
  }
  return id;
}

function checkLockTimeout(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_LOCK_TIMEOUT_MS;
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new RingBufRangeError(
      'ERR_RINGBUF_ARGUMENT',
      `lockTimeoutMs must be a non-negative number or Infinity, got ${String(ms)}`,
    );
  }
  return ms;
}
