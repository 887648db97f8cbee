/**
 * The runtime's own shared memory: the one module that knows where each of its words lives, laid
 * out with core's SharedLayout (every independently written word on its own pair of cache lines).
 * Nothing else in the runtime writes a numeric index into these buffers.
 *
 * ## Control buffer (Int32 words, then a Float64 word), main thread <-> consumer worker
 *
 * ```text
 *  byte 0 ┌──────────────────────────────────────┐
 *         │ STOP      0 run, 1 stop now, 2 drain │  written by stop() (main), read by the worker loop
 *   128   ├──────────────────────────────────────┤
 *         │ STATE     starting/running/draining/ │  written by the worker, read by the main thread
 *         │           exited                     │
 *   256   ├──────────────────────────────────────┤
 *         │ DRAIN_TIMEOUT (Float64)              │  milliseconds; written by stop() before STOP
 *   384   └──────────────────────────────────────┘
 * ```
 *
 * ## Stats buffer (a seqlock word, then Float64 counters), written by the consumer worker only
 *
 * ```text
 *  byte 0  ┌────────────────────────────────────────────────────────────┐
 *          │ GEN   seqlock generation: odd while the worker writes      │
 *  byte 128├────────────────────────────────────────────────────────────┤ Float64 counters
 *          │ records │ bytes │ discarded │ polls │ sleeps │ wakeups │    │
 *          │ busyStalls │ backlog │ maxBacklog │ handlerErrors │ lost │  │
 *          │ violations │ latencyCount                                  │
 *          └────────────────────────────────────────────────────────────┘
 * ```
 * The worker bumps GEN to odd, stores every counter with plain stores, and bumps GEN to even, once
 * per loop pass; readers retry until they see the same even GEN before and after reading, so a
 * reader always gets one pass's snapshot (never a mix of two passes). The counters share lines:
 * one writer updates them together.
 */
import { SharedLayout } from '@ringbuf/core';

// ---- control buffer ----
const control = new SharedLayout();
/** STOP word (Int32 index): what the main thread asks of the worker. */
export const CTRL_STOP_INDEX = control.line().int32();
export const STOP_NONE = 0;
export const STOP_NOW = 1;
export const STOP_DRAIN = 2;
/**
 * STATE word (Int32 index): where the worker is in its life. It starts at 0 (starting: the buffer's
 * zero, never stored), then RUNNING, DRAINING, EXITED.
 */
export const CTRL_STATE_INDEX = control.line().int32();
export const STATE_RUNNING = 1;
export const STATE_DRAINING = 2;
export const STATE_EXITED = 3;
/** Float64 index of the drain timeout (ms) that stop() writes before it sets STOP. */
export const CTRL_DRAIN_TIMEOUT_F64 = control.line().float64();
/** Bytes of the control buffer. */
export const CONTROL_BUFFER_BYTES = control.bytes();

// ---- stats buffer ----
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
/** Number of Float64 counters. */
export const STAT_COUNT = STAT_NAMES.length;
const stats = new SharedLayout();
/** Int32 index of the seqlock generation. */
export const STATS_GEN_INDEX = stats.line().int32();
/** First Float64 slot of the counters (STAT_RECORDS). */
export const STAT_FIRST = stats.line().float64s(STAT_COUNT);
export const STAT_RECORDS = STAT_FIRST + 0;
export const STAT_BYTES = STAT_FIRST + 1;
export const STAT_DISCARDED = STAT_FIRST + 2;
export const STAT_POLLS = STAT_FIRST + 3;
export const STAT_SLEEPS = STAT_FIRST + 4;
export const STAT_WAKEUPS = STAT_FIRST + 5;
export const STAT_BUSY_STALLS = STAT_FIRST + 6;
export const STAT_BACKLOG = STAT_FIRST + 7;
export const STAT_MAX_BACKLOG = STAT_FIRST + 8;
export const STAT_HANDLER_ERRORS = STAT_FIRST + 9;
export const STAT_LOST = STAT_FIRST + 10;
export const STAT_VIOLATIONS = STAT_FIRST + 11;
export const STAT_LATENCY_COUNT = STAT_FIRST + 12;
/** Bytes of the stats buffer. */
export const STATS_BUFFER_BYTES = stats.bytes();
