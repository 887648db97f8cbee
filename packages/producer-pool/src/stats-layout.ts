/**
 * The producer pool's own shared memory: the only module of this package with word indices, built
 * with core's `SharedLayout` (each independently written group of words on its own pair of 64-byte
 * lines). Everything else uses the named constants below; the ring's own words are reached only
 * through `RingBuffer`'s role-named methods.
 *
 * ## One stats block per producer incarnation (its own SharedArrayBuffer, STATS_BYTES)
 *
 * Every producer id gets a fresh block; a replacement never reuses its predecessor's.
 *
 * ```text
 *  byte 0 ┌──────────────────────────────────────────────────────────────┐ Int32 words, written by
 *         │ PRODUCER_ID      main, before start (read-only afterwards)   │ the main thread
 *         │ SLOT             main, before start                          │
 *         │ DIE_METHOD       main: how to die (written before DIE_POINT) │
 *         │ DIE_POINT        main: a test-only death request (0 = none)  │
 *     128 ├──────────────────────────────────────────────────────────────┤ Int32 words, lifecycle
 *         │ STATE            producer: STARTING→RUNNING→FINISHED;        │
 *         │                  PARKED (a test hook waits to be terminated);│
 *         │                  SETUP_FAILED (its producer module's import  │
 *         │                  or init() failed: the task rejects next);   │
 *         │                  main: DEAD, only after the thread is gone   │
 *         │ THREAD_ID        producer, first thing (main finds the Worker)│
 *     256 ├──────────────────────────────────────────────────────────────┤ the record loop's words,
 *         │ LAST_SEQ_PLUS1   producer: Atomics.store after each commit;  │ written by the producer
 *         │                  0 = nothing committed yet                   │ (main, after DEAD, when
 *         │ STAGE            producer, plain stores: where the record in │  it reconciles the
 *         │                  hand is (IDLE, RESERVING, COMMITTING, ...)  │  record in hand)
 *         │ ── Float64 ──    (counters exceed 2^32 in long runs)         │
 *         │ ATTEMPTED  COMMITTED  DISCARDED  DROPPED                     │
 *         │ ABANDONED        main only, after DEAD (see below)           │
 *         │ LOCK_WAITS  LOCK_TIMEOUTS  LOCK_CONTENDED                    │
 *         │ START_US  END_US  (clockMicros)   MAX_LAG_US (open loop)     │
 *         │ TARGET            records this incarnation was asked for     │
 *     384 └──────────────────────────────────────────────────────────────┘
 * ```
 * The producer writes its counters with plain stores (no atomics on the hot path). The main thread
 * reads them as a momentary snapshot at any time (`pool.stats()`), and exactly once the producer's
 * task has settled or its thread has exited (both are synchronisation points). LAST_SEQ_PLUS1 is
 * stored atomically because crash reports read it while the producer may still run.
 *
 * ## Exact accounting of the record in hand (STAGE)
 *
 * Per record the producer stores STAGE before ATTEMPTED and the outcome counter before STAGE = IDLE,
 * so `attempted - committed - discarded - dropped` is 1 exactly while a record is in hand and STAGE
 * then says how far it got. When a producer dies, the main thread combines STAGE with what crash
 * recovery found (`recoverProducer`'s `recordsDiscarded`: the dead producer's BUSY record) and
 * moves the record in hand to exactly one counter, so `attempted = committed + discarded + dropped +
 * abandoned` holds exactly for every incarnation:
 *
 * | STAGE      | recovery discarded its record | not BUSY at recovery                    |
 * |------------|-------------------------------|-----------------------------------------|
 * | RESERVING  | abandoned                     | abandoned (never reached the ring)      |
 * | COMMITTING | abandoned                     | committed (submit cleared BUSY)         |
 * | DISCARDING | abandoned                     | discarded (discard cleared BUSY)        |
 * | OUTPUTTING | abandoned                     | abandoned, undecided: a terminate inside|
 * |            |                               | output() (committed or never reserved)  |
 *
 * ## The control block (one SharedArrayBuffer per pool, POOL_CONTROL_BYTES)
 *
 * ```text
 *  byte 0 ┌────────────────────────────────────────────┐
 *         │ STOP            main: 0 → 1 on abort/end   │ read by every producer once per record
 *     128 ├────────────────────────────────────────────┤
 *         │ STOP_SLEEPERS   open-loop producers waiting │ (+1 before Atomics.wait on STOP, -1 after)
 *     256 ├────────────────────────────────────────────┤
 *         │ TOKEN           causal token, from 1;      │ written only by the producer holding it
 *     384 ├────────────────────────────────────────────┤
 *         │ TOKEN_WAITERS   producers waiting on TOKEN │
 *     512 └────────────────────────────────────────────┘
 * ```
 */
import { SharedLayout } from '@ringbuf/core';

const stats = new SharedLayout();

// ---- stats block: the main thread's words ----
export const PRODUCER_ID_INDEX = stats.line().int32();
export const SLOT_INDEX = stats.int32();
export const DIE_METHOD_INDEX = stats.int32();
export const DIE_POINT_INDEX = stats.int32();

// ---- stats block: lifecycle words ----
export const STATE_INDEX = stats.line().int32();
export const THREAD_ID_INDEX = stats.int32();

// ---- stats block: the record loop's words (Int32, then Float64 indices over the same buffer) ----
export const LAST_SEQ_PLUS1_INDEX = stats.line().int32();
export const STAGE_INDEX = stats.int32();
export const ATTEMPTED_F64 = stats.float64();
export const COMMITTED_F64 = stats.float64();
export const DISCARDED_F64 = stats.float64();
export const DROPPED_F64 = stats.float64();
export const ABANDONED_F64 = stats.float64();
export const LOCK_WAITS_F64 = stats.float64();
export const LOCK_TIMEOUTS_F64 = stats.float64();
export const LOCK_CONTENDED_F64 = stats.float64();
export const START_US_F64 = stats.float64();
export const END_US_F64 = stats.float64();
export const MAX_LAG_US_F64 = stats.float64();
export const TARGET_F64 = stats.float64();

/** Bytes of one producer's stats block. */
export const STATS_BYTES = stats.bytes();

// ---- STATE values ----
export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_FINISHED = 2;
/** A test hook reached its point and waits, in that state, for the main thread to terminate it. */
export const STATE_PARKED = 3;
/** Written by the main thread once the producer's thread is known to run none of its code. */
export const STATE_DEAD = 4;
/**
 * The producer module's import or `init()` failed before the first record: the producer stores it
 * just before its task rejects, and the pool then ends the run (every producer loads the same module).
 */
export const STATE_SETUP_FAILED = 5;

// ---- STAGE values: where the record in hand is ----
/** No record in hand (or its outcome is already counted). */
export const STAGE_IDLE = 0;
/** Counted attempted; its reservation (reserve or the first half of output) has not returned a record. */
export const STAGE_RESERVING = 1;
/** Reserved (BUSY, ours) and about to be submitted; for output, output() has returned true. */
export const STAGE_COMMITTING = 2;
/** Reserved (BUSY, ours) and about to be discarded. */
export const STAGE_DISCARDING = 3;
/** Inside output(): reserve, copy and commit in one call, with no stage store between them. */
export const STAGE_OUTPUTTING = 4;

// ---- DIE_POINT values (test-only fault hooks) ----
export const DIE_NONE = 0;
/** Between records: the clean case. */
export const DIE_BETWEEN = 1;
/** Holding the ring's lock, as a death inside reserve leaves it. */
export const DIE_IN_LOCK = 2;
/** After a successful reserve and half the payload, before submit: a BUSY record is left. */
export const DIE_AFTER_RESERVE = 3;
/** Right after submit, before the committed counter and LAST_SEQ_PLUS1 are updated. */
export const DIE_AFTER_SUBMIT = 4;

// ---- DIE_METHOD values ----
/** Throw out of the task: piscina rejects it, the thread survives. */
export const METHOD_THROW = 1;
/** `process.exit()` inside the worker: the thread ends. */
export const METHOD_EXIT = 2;
/** An uncaught exception on the worker's event loop: the thread ends. */
export const METHOD_UNCAUGHT = 3;
/** Park and let the main thread `worker.terminate()` it at that point. */
export const METHOD_TERMINATE = 4;

// ---- control block ----
const control = new SharedLayout();
export const STOP_INDEX = control.line().int32();
export const STOP_SLEEPERS_INDEX = control.line().int32();
export const TOKEN_INDEX = control.line().int32();
export const TOKEN_WAITERS_INDEX = control.line().int32();
/** Bytes of the pool's control block (not the ring's CONTROL_BYTES). */
export const POOL_CONTROL_BYTES = control.bytes();
/** First causal token; 0 in a record means "no token". */
export const FIRST_TOKEN = 1;
