/**
 * The runtime's own shared memory: the one module that knows where each of its words lives. Nothing
 * else in the runtime writes a numeric index into these buffers.
 *
 * ## Control buffer (Int32 words, then Float64 words), main thread <-> consumer worker
 *
 * ```text
 *  Int32Array index
 *   0 ┌──────────────────────────────────────┐
 *     │ STOP      0 run, 1 stop now, 2 drain │  written by stop() (main), read by the worker loop
 *  32 ├──────────────────────────────────────┤  (each written word on its own 128-byte pair of lines)
 *     │ STATE     starting/running/draining/ │  written by the worker, read by the main thread
 *     │           exited                     │
 *  64 ├──────────────────────────────────────┤
 *     │ DRAIN_TIMEOUT (f64 index 32)         │  milliseconds; written by stop() before STOP
 *  96 └──────────────────────────────────────┘
 * ```
 *
 * ## Stats buffer (a seqlock word, then Float64 counters), written by the consumer worker only
 *
 * ```text
 *  Int32 0 ┌────────────────────────────────────────────────────────────┐
 *          │ GEN   seqlock generation: odd while the worker writes      │
 *  byte 128├────────────────────────────────────────────────────────────┤ Float64 index 16..
 *          │ records │ bytes │ discarded │ polls │ sleeps │ wakeups │    │
 *          │ busyStalls │ backlog │ maxBacklog │ handlerErrors │ lost │  │
 *          │ violations │ latencyCount                                  │
 *          └────────────────────────────────────────────────────────────┘
 * ```
 * The worker bumps GEN to odd, stores every counter with plain stores, and bumps GEN to even, once
 * per loop pass; readers retry until they see the same even GEN before and after reading, so a
 * reader always gets one pass's snapshot (never a mix of two passes).
 */

const LINE_WORDS_I32 = 32; // 128 bytes: a written word never shares a line pair with another

// ---- control buffer ----
/** STOP word: what the main thread asks of the worker. */
export const CTRL_STOP_INDEX = 0;
export const STOP_NONE = 0;
export const STOP_NOW = 1;
export const STOP_DRAIN = 2;
/** STATE word: where the worker is in its life. */
export const CTRL_STATE_INDEX = LINE_WORDS_I32;
export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_DRAINING = 2;
export const STATE_EXITED = 3;
/** Float64 index of the drain timeout (ms) that stop() writes before it sets STOP. */
export const CTRL_DRAIN_TIMEOUT_F64 = (2 * LINE_WORDS_I32) / 2;
/** Bytes of the control buffer. */
export const CONTROL_BUFFER_BYTES = 3 * LINE_WORDS_I32 * 4;

// ---- stats buffer ----
/** Int32 index of the seqlock generation. */
export const STATS_GEN_INDEX = 0;
const F64_BASE = LINE_WORDS_I32 / 2; // first Float64 slot after the generation's line pair
export const STAT_RECORDS = F64_BASE + 0;
export const STAT_BYTES = F64_BASE + 1;
export const STAT_DISCARDED = F64_BASE + 2;
export const STAT_POLLS = F64_BASE + 3;
export const STAT_SLEEPS = F64_BASE + 4;
export const STAT_WAKEUPS = F64_BASE + 5;
export const STAT_BUSY_STALLS = F64_BASE + 6;
export const STAT_BACKLOG = F64_BASE + 7;
export const STAT_MAX_BACKLOG = F64_BASE + 8;
export const STAT_HANDLER_ERRORS = F64_BASE + 9;
export const STAT_LOST = F64_BASE + 10;
export const STAT_VIOLATIONS = F64_BASE + 11;
export const STAT_LATENCY_COUNT = F64_BASE + 12;
/** Number of Float64 counters. */
export const STAT_COUNT = 13;
/** Bytes of the stats buffer. */
export const STATS_BUFFER_BYTES = (F64_BASE + STAT_COUNT) * 8;

/** Counter names in slot order (STAT_RECORDS first), for readers that build an object. */
export const STAT_NAMES = [
  'records',
  'bytes',
  'discarded',
  'polls',
  'sleeps',
  'wakeups',
  'busyStalls',
  'backlog',
  'maxBacklog',
  'handlerErrors',
  'lost',
  'violations',
  'latencyCount',
] as const;
/** First Float64 slot of the counters (STAT_RECORDS). */
export const STAT_FIRST = F64_BASE;
