/**
 * The one place that knows where every shared word lives. Nothing else in the workspace writes a
 * numeric byte offset: code indexes an `Int32Array` over the whole `SharedArrayBuffer` with the
 * `*_INDEX` constants below, and reaches record headers through {@link headerIndex}.
 *
 * ## The ring's SharedArrayBuffer
 *
 * ```text
 *  byte 0 ┌──────────────────────────────────────────────┐  control area: CONTROL_BYTES (one page,
 *         │ META      magic, version, flags, size,       │  like the kernel's non-mmapable meta pages)
 *         │           mirror, wake id        read-only   │
 *     128 ├──────────────────────────────────────────────┤  each written word sits on its own pair of
 *         │ CONSUMER  consumer_pos, consumed records     │  64-byte lines (Agrona's adjacent-line rule),
 *         │           (consumer thread writes)           │  so the consumer's stores never invalidate
 *     256 ├──────────────────────────────────────────────┤  the producers' lines and vice versa
 *         │ PRODUCER  producer_pos, pending_pos,         │
 *         │           overwrite generation + 2 slots of  │
 *         │           [overwrite_pos, overwritten recs]  │
 *         │           (written only under the lock)      │
 *     384 ├──────────────────────────────────────────────┤
 *         │ LOCK      lock word: owner id << 1 | waiters │
 *     512 ├──────────────────────────────────────────────┤
 *         │ WAKE      wake word (AWAKE / SLEEPING),      │  used when the ring has its own wake word;
 *         │           notifications sent                 │  a wake group keeps these in its own buffer
 *     640 ├──────────────────────────────────────────────┤
 *         │ CLAIM     live consumer's token (0 = none)   │
 *     768 ├──────────────────────────────────────────────┤
 *         │ RECOVERY  recovered locks, recovered records │
 *     896 ├──────────────────────────────────────────────┤  beyond the kernel (Agrona's consumer
 *         │ HEARTBEAT consumer's last stamp: ms mod 2^32 │  heartbeat time); 0 = never stamped.
 *         │           (consumer thread writes)           │  Its own line pair: a stamp never
 *    1024 ├──────────────────────────────────────────────┤  invalidates a producer's line
 *         │ (free)                                       │
 *    4096 ├──────────────────────────────────────────────┤  data area: `size` bytes (max_entries)
 *         │ DATA      records, 8-byte aligned            │
 *  4096 + ├──────────────────────────────────────────────┤  mirror tail: `size` bytes. The part of a
 *    size │ MIRROR    tail of the one record that runs   │  record that runs past the end of the data
 *         │           past the end of DATA              │  area stays here, contiguous with its head
 *         └──────────────────────────────────────────────┘  (the kernel maps the data pages twice)
 * ```
 *
 * ## The record header (8 bytes, little-endian, UAPI `struct bpf_ringbuf_hdr`)
 *
 * ```text
 *   31  30  29                                             0
 *  ┌───┬───┬────────────────────────────────────────────────┐
 *  │ B │ D │ len: payload bytes, unrounded                  │  word 0 (len)
 *  ├───┴───┴────────────────────────────────────────────────┤
 *  │ producer id of the reserving producer                  │  word 1 (the kernel's pg_off)
 *  └────────────────────────────────────────────────────────┘
 *   B = BPF_RINGBUF_BUSY_BIT, D = BPF_RINGBUF_DISCARD_BIT
 *   record footprint = round_up(len + 8, 8); payload at header + 8
 * ```
 *
 * Positions (`*Pos`) are logical, ever-increasing 32-bit counters that wrap at 2^32, as the kernel's
 * `unsigned long` positions do on 32-bit machines; they become byte offsets (`*Offset`) only through
 * `pos & mask`. All comparisons are done on differences (see `positions.ts`).
 */

import { LINE_BYTES, SharedLayout } from './shared-layout.js';

export { LINE_BYTES };

/** Identifies a ring's buffer: ASCII "RBUF" read as a little-endian u32. */
export const RING_MAGIC = 0x46554252;
/** Identifies a wake group's buffer: ASCII "RBWG". */
export const WAKE_GROUP_MAGIC = 0x47574252;
/** Bumped whenever the layout below changes; `attach` refuses other versions. */
export const LAYOUT_VERSION = 1;

const ring = new SharedLayout();

// ---- META line (written once by create, read-only afterwards) ----
export const MAGIC_INDEX = ring.int32();
export const VERSION_INDEX = ring.int32();
export const FLAGS_INDEX = ring.int32();
export const SIZE_INDEX = ring.int32();
export const MIRROR_INDEX = ring.int32();
/** Id of the wake word this ring's producers notify (its own, or a wake group's). */
export const WAKE_ID_INDEX = ring.int32();

/** META flag: overwrite mode (the kernel's `BPF_F_RB_OVERWRITE`). */
export const FLAG_OVERWRITE = 1 << 0;
/** META flag: producers notify a wake group's buffer instead of this ring's own wake word. */
export const FLAG_EXTERNAL_WAKE = 1 << 1;

// ---- CONSUMER line (the consumer thread is the only writer) ----
/** consumer_pos: where the consumer will read next. */
export const CONS_POS_INDEX = ring.line().int32();
/** Overwrite mode only: records the consumer has delivered, for exact loss accounting. */
export const CONSUMED_RECORDS_INDEX = ring.int32();

// ---- PRODUCER line (written only by the lock holder) ----
/** producer_pos: end of the newest reservation; published after its header is written. */
export const PROD_POS_INDEX = ring.line().int32();
/** pending_pos: oldest record that may still be BUSY (the 2024 overrun fix), advanced lazily. */
export const PENDING_POS_INDEX = ring.int32();
/**
 * overwrite_pos and the count of committed (not discarded) records overwritten so far, kept as a
 * pair in two slots; OVERWRITE_GEN_INDEX selects the current one (generation & 1). The lock holder
 * fills the other slot and then bumps the generation, so a reader that sees the same generation
 * before and after reading a slot has a consistent pair, and a producer that dies mid-update leaves
 * the current slot intact.
 */
export const OVERWRITE_GEN_INDEX = ring.int32();
/** Words per overwrite slot. */
export const OVERWRITE_SLOT_WORDS = 2;
/** First word of slot 0: [overwrite_pos, overwritten records]; slot 1 follows it. */
export const OVERWRITE_SLOTS_INDEX = ring.int32s(2 * OVERWRITE_SLOT_WORDS);

// ---- LOCK line ----
/** 0 when free, else `ownerId << 1 | LOCK_WAITERS_BIT | LOCK_EXCLUSIVE_BIT`. */
export const LOCK_INDEX = ring.line().int32();
export const LOCK_WAITERS_BIT = 1;
/**
 * Set while one producer handle holds the lock for good (RingBuffer.claimExclusive, beyond the
 * kernel: Agrona's one-to-one ring beside its many-to-one). Other producers then fail at once.
 */
export const LOCK_EXCLUSIVE_BIT = 1 << 31;

// ---- WAKE line (same offsets in a ring's buffer and in a wake group's buffer) ----
/** The word the consumer sleeps on: WAKE_AWAKE or WAKE_SLEEPING. */
export const WAKE_WORD_INDEX = ring.line().int32();
/** Notifications actually sent to a sleeping consumer (only the waking path increments it). */
export const WAKE_NOTIFIES_INDEX = ring.int32();
export const WAKE_AWAKE = 0;
export const WAKE_SLEEPING = 1;
/** A wake group's buffer: the META line (magic, version, id) and the WAKE line, nothing else. */
export const WAKE_GROUP_BYTES = ring.bytes();

// ---- CLAIM line ----
/** Token of the live consumer; 0 when none. A second consumer's compare-exchange fails. */
export const CLAIM_INDEX = ring.line().int32();

// ---- RECOVERY line (crash recovery bookkeeping, written under the lock) ----
export const RECOVERED_LOCKS_INDEX = ring.line().int32();
export const RECOVERED_RECORDS_INDEX = ring.int32();

// ---- HEARTBEAT line (the consumer thread is the only writer; beyond the kernel) ----
/**
 * The consumer's heartbeat: the low 32 bits of a whole-millisecond reading of core's `monotonicMs()`
 * (clock.ts: `process.hrtime` in Node, one clock for every thread of the process; in a browser
 * `performance.timeOrigin + performance.now()`, the time origin every realm shares), stamped by the
 * consumer at most every HEARTBEAT_STAMP_MS while it runs and every HEARTBEAT_IDLE_MS while it
 * sleeps (heartbeat.ts). Not Date.now(): the wall clock jumps when it is set, which would fake a
 * stall or hide one. Compared by signed 32-bit difference, so ages up to 2^31 ms (24 days) read
 * right. 0 = never stamped (a stamp that falls on 0 is written as 1). It follows every word of
 * layout version 1 without moving any, so the version stays 1 (a ring made before it was added
 * reads 0 there: never stamped).
 */
export const CONSUMER_HEARTBEAT_INDEX = ring.line().int32();

/** The control area: one 4 KiB page, as the kernel keeps its positions on their own pages. */
export const CONTROL_BYTES = 4096;
/** Byte offset of the data area in a ring's buffer. */
export const DATA_OFFSET = ring.line().at(CONTROL_BYTES).here();
/** `Int32Array` index of the first data word. */
export const DATA_INDEX = ring.int32s(0);

// ---- Record header (UAPI) ----
/** `BPF_RINGBUF_BUSY_BIT`: the record is reserved and not yet committed. */
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
/** `BPF_RINGBUF_DISCARD_BIT`: the record was discarded; the consumer skips it. */
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
/** `BPF_RINGBUF_HDR_SZ`: bytes of the record header. */
export const BPF_RINGBUF_HDR_SZ = 8;
/** Int32 view of the busy bit, for `Atomics` on an `Int32Array` (the same 32 bits). */
export const BUSY_BIT_I32 = BPF_RINGBUF_BUSY_BIT | 0;
/** Mask of the length field: the header without its two flag bits. */
export const HDR_LEN_MASK = 0x3fffffff;
/** Index offset of the producer-id word within a header (the kernel's `pg_off`). */
export const HDR_OWNER_WORD = 1;
/** Records start 8-byte aligned; footprints are multiples of 8. */
export const RECORD_ALIGN = 8;

/** Kernel page size used by the size rules (`PAGE_ALIGNED(max_entries)`). */
export const PAGE_SIZE = 4096;
/** Largest data area: positions are 32-bit, so distances must stay below 2^31. */
export const MAX_RING_SIZE = 2 ** 30;

/** Footprint of a record with `size` payload bytes: `round_up(size + 8, 8)`. */
export function recordFootprint(size: number): number {
  return (size + BPF_RINGBUF_HDR_SZ + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/** Total bytes of a ring's buffer: control page, data area, mirror tail. */
export function ringBufferBytes(size: number): number {
  return DATA_OFFSET + size + mirrorBytes(size);
}

/**
 * Bytes of the mirror tail. The largest record is `size - 8` bytes long and starts at most at offset
 * `size - 8`, so the tail of one record never exceeds `size`; this is the memory the kernel's double
 * mapping costs in address space, here paid in real memory.
 */
export function mirrorBytes(size: number): number {
  return size;
}

/** `Int32Array` index of the header word of the record at byte offset `offset` of the data area. */
export function headerIndex(offset: number): number {
  return DATA_INDEX + (offset >> 2);
}

/** Largest payload of a record in a ring of `size` data bytes: `size - 16`, so its footprint is `size - 8`. */
export function maxPayloadOf(size: number): number {
  return size - 2 * BPF_RINGBUF_HDR_SZ;
}

// ---- UAPI flags and query fields (include/uapi/linux/bpf.h) ----
/** `BPF_RB_NO_WAKEUP`: commit without waking the consumer. */
export const BPF_RB_NO_WAKEUP = 1;
/** `BPF_RB_FORCE_WAKEUP`: commit and wake the consumer whatever its position. */
export const BPF_RB_FORCE_WAKEUP = 2;
/** Both wakeup flags: the only flags submit/discard/output look at. */
export const BPF_RB_WAKEUP_FLAGS = BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP;
/** `bpf_ringbuf_query` fields (UAPI values). */
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
export const BPF_RB_OVERWRITE_POS = 4;

/** What `reserve` returns when the record does not fit now: the kernel's NULL. */
export const RESERVE_FAILED = -1;

// ---- The user ring's SharedArrayBuffer (BPF_MAP_TYPE_USER_RINGBUF: producers in user space, one drainer) ----
//
// ```text
//  byte 0 ┌──────────────────────────────────────────────┐  control area: CONTROL_BYTES
//         │ META      magic "RBUR", version, size,       │
//         │           mirror                 read-only   │
//     128 ├──────────────────────────────────────────────┤
//         │ CONSUMER  consumer_pos (the drainer writes)  │  producers sleep on this word in
//         │                                              │  reserveBlocking (waiting for progress)
//     256 ├──────────────────────────────────────────────┤
//         │ PRODUCER  producer_pos (under the lock)      │
//     384 ├──────────────────────────────────────────────┤  same offset as the kernel ring's LOCK,
//         │ LOCK      lock word (lock.ts)                │  so lock.ts works on this buffer as is
//     512 ├──────────────────────────────────────────────┤  same offsets as the ring's WAKE line,
//         │ WAKE      drainer's wake word, notifies      │  so wake.ts works on this buffer as is
//     640 ├──────────────────────────────────────────────┤
//         │ SPACE     producers asleep for space         │  producers add/subtract
//     768 ├──────────────────────────────────────────────┤
//         │ DRAIN     busy word (drainer id, 0 = free),  │  the kernel's rb->busy; the drainer
//         │           space notifications sent           │  writes both while it holds busy
//     896 ├──────────────────────────────────────────────┤
//         │ RECOVERY  recovered records, drains          │
//    4096 ├──────────────────────────────────────────────┤
//         │ DATA      records, 8-byte aligned            │  same 8-byte headers, BUSY/DISCARD bits
//  4096 + ├──────────────────────────────────────────────┤
//    size │ MIRROR    tail of the record that wraps      │
//         └──────────────────────────────────────────────┘
// ```

/** Identifies a user ring's buffer: ASCII "RBUR" read as a little-endian u32. */
export const USER_RING_MAGIC = 0x52554252;

const userRing = new SharedLayout();

// ---- META line (written once by create, read-only afterwards); magic and version where the ring has them ----
export const USER_MAGIC_INDEX = userRing.int32();
export const USER_VERSION_INDEX = userRing.int32();
export const USER_SIZE_INDEX = userRing.int32();
export const USER_MIRROR_INDEX = userRing.int32();

// ---- CONSUMER line (the drainer holding the busy word is the only writer) ----
/** consumer_pos: where the drainer reads next; published after every record it consumes. */
export const USER_CONS_POS_INDEX = userRing.line().int32();

// ---- PRODUCER line (written only by the lock holder) ----
/** producer_pos: end of the newest reservation; published after its header is written. */
export const USER_PROD_POS_INDEX = userRing.line().int32();

// ---- LOCK line: at the kernel ring's LOCK offset, so lock.ts (which indexes LOCK_INDEX) serves both ----
export const USER_LOCK_INDEX = userRing
  .line()
  .at(LOCK_INDEX * 4)
  .int32();

// ---- WAKE line: at the ring's WAKE offsets, so wake.ts (WAKE_WORD_INDEX, WAKE_NOTIFIES_INDEX) serves both ----
/** The drainer's wake word (WAKE_AWAKE / WAKE_SLEEPING): a drainer waiting for records sleeps on it. */
export const USER_WAKE_WORD_INDEX = userRing
  .line()
  .at(WAKE_WORD_INDEX * 4)
  .int32();
/** Notifications sent to a sleeping drainer. */
export const USER_WAKE_NOTIFIES_INDEX = userRing.int32();

// ---- SPACE line (producers announce themselves here before sleeping for space) ----
/** Producers asleep (or about to sleep) in reserveBlocking; the drainer notifies only when non-zero. */
export const USER_SPACE_SLEEPERS_INDEX = userRing.line().int32();

// ---- DRAIN line (the drainer) ----
/** The kernel's `rb->busy`: 0 when no drain runs, else the draining handle's id. */
export const USER_DRAIN_BUSY_INDEX = userRing.line().int32();
/** Notifications sent to producers sleeping for space. */
export const USER_SPACE_NOTIFIES_INDEX = userRing.int32();

// ---- RECOVERY line ----
export const USER_RECOVERED_RECORDS_INDEX = userRing.line().int32();
export const USER_RECOVERED_DRAINS_INDEX = userRing.int32();

/** Byte offset of the user ring's data area: the same page as the kernel ring's. */
export const USER_DATA_OFFSET = userRing.line().at(CONTROL_BYTES).here();

if (
  USER_LOCK_INDEX !== LOCK_INDEX ||
  USER_WAKE_WORD_INDEX !== WAKE_WORD_INDEX ||
  USER_WAKE_NOTIFIES_INDEX !== WAKE_NOTIFIES_INDEX ||
  USER_DATA_OFFSET !== DATA_OFFSET
) {
  throw new Error(
    "layout.ts: the user ring must keep the lock and wake lines and the data area at the kernel ring's offsets",
  );
}
if (USER_MAGIC_INDEX !== MAGIC_INDEX || USER_VERSION_INDEX !== VERSION_INDEX) {
  throw new Error('layout.ts: the user ring keeps its magic and version where the kernel ring has them');
}

/** Total bytes of a user ring's buffer: control page, data area, mirror tail (as {@link ringBufferBytes}). */
export function userRingBufferBytes(size: number): number {
  return USER_DATA_OFFSET + size + mirrorBytes(size);
}

/**
 * Largest payload of a user ring record: `size - 8`, so that one record can fill the ring exactly
 * (libbpf's `user_ring_buffer__reserve` allows `avail == total`, where the kernel ring keeps 8 bytes).
 */
export function userMaxPayloadOf(size: number): number {
  return size - BPF_RINGBUF_HDR_SZ;
}

/** `BPF_MAX_USER_RINGBUF_SAMPLES` (include/linux/bpf.h): most records one drain call visits. */
export const BPF_MAX_USER_RINGBUF_SAMPLES = 128 * 1024;
