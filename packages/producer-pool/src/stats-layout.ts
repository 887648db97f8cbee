/**
 * The producer pool's own shared memory: the only module of this package with word indices.
 * Everything else uses the named constants below (the ring's own words live in
 * `@ringbuf/core`'s `layout`).
 *
 * ## One stats block per producer incarnation (its own SharedArrayBuffer, STATS_BYTES)
 *
 * Every producer id gets a fresh block; a replacement never reuses its predecessor's.
 *
 * ```text
 *  byte 0 ┌──────────────────────────────────────────────────────────────┐ Int32 words
 *         │ STATE            producer: STARTING→RUNNING→FINISHED;        │
 *         │                  PARKED (a test hook waits to be terminated);│
 *         │                  main: DEAD, only after the thread is gone   │
 *         │ PRODUCER_ID      main, before start (read-only afterwards)   │
 *         │ THREAD_ID        producer, at start (main finds the Worker)  │
 *         │ SLOT             main, before start                          │
 *         │ LAST_SEQ_PLUS1   producer: Atomics.store after each commit;  │
 *         │                  0 = nothing committed yet                   │
 *         │ DIE_POINT        main: a test-only death request (0 = none)  │
 *         │ DIE_METHOD       main: how to die (written before DIE_POINT) │
 *     128 ├──────────────────────────────────────────────────────────────┤ Float64 words
 *         │ ATTEMPTED        producer, plain stores, once per record     │ (counters exceed
 *         │ COMMITTED  DISCARDED  DROPPED                                │  2^32 in long runs)
 *         │ LOCK_WAITS  LOCK_TIMEOUTS  LOCK_CONTENDED                    │
 *         │ START_US  END_US  (clockMicros)   MAX_LAG_US (open loop)     │
 *         │ TARGET            records this incarnation was asked for     │
 *     256 └──────────────────────────────────────────────────────────────┘
 * ```
 * The producer writes its counters with plain stores (no atomics on the hot path). The main thread
 * reads them as a momentary snapshot at any time (`pool.stats()`), and exactly once the producer's
 * task has settled or its thread has exited (both are synchronisation points). LAST_SEQ_PLUS1 is the
 * one counter stored atomically, because crash recovery reports it as the dead producer's last
 * committed sequence.
 *
 * ## The control block (one SharedArrayBuffer per pool, CONTROL_BYTES)
 *
 * ```text
 *  byte 0 ┌────────────────────────────────────────────┐
 *         │ STOP            main: 0 → 1 on abort/end   │
 *         │ STOP_SLEEPERS   open-loop producers waiting │ (+1 before Atomics.wait on STOP, -1 after)
 *     128 ├────────────────────────────────────────────┤
 *         │ TOKEN           causal token, from 1;      │ written only by the producer holding it
 *         │ TOKEN_WAITERS   producers waiting on TOKEN │
 *     256 └────────────────────────────────────────────┘
 * ```
 *
 * ## The drain control block (one per drain worker, DRAIN_CONTROL_BYTES)
 *
 * ```text
 *  byte 0 ┌────────────────────────────────────────────┐
 *         │ DRAIN_STOP   main: 0 → 1 to end the drain  │ the drain worker reads it between polls
 *     128 └────────────────────────────────────────────┘
 * ```
 */

const WORD = 4;
const DOUBLE = 8;
const LINE_BYTES = 128;

// ---- stats block: Int32 section ----
export const STATE_INDEX = 0 / WORD;
export const PRODUCER_ID_INDEX = 4 / WORD;
export const THREAD_ID_INDEX = 8 / WORD;
export const SLOT_INDEX = 12 / WORD;
export const LAST_SEQ_PLUS1_INDEX = 16 / WORD;
export const DIE_POINT_INDEX = 20 / WORD;
export const DIE_METHOD_INDEX = 24 / WORD;

// ---- stats block: Float64 section (indices into a Float64Array over the same buffer) ----
const COUNTERS = LINE_BYTES;
export const ATTEMPTED_F64 = (COUNTERS + 0) / DOUBLE;
export const COMMITTED_F64 = (COUNTERS + 8) / DOUBLE;
export const DISCARDED_F64 = (COUNTERS + 16) / DOUBLE;
export const DROPPED_F64 = (COUNTERS + 24) / DOUBLE;
export const LOCK_WAITS_F64 = (COUNTERS + 32) / DOUBLE;
export const LOCK_TIMEOUTS_F64 = (COUNTERS + 40) / DOUBLE;
export const LOCK_CONTENDED_F64 = (COUNTERS + 48) / DOUBLE;
export const START_US_F64 = (COUNTERS + 56) / DOUBLE;
export const END_US_F64 = (COUNTERS + 64) / DOUBLE;
export const MAX_LAG_US_F64 = (COUNTERS + 72) / DOUBLE;
export const TARGET_F64 = (COUNTERS + 80) / DOUBLE;

/** Bytes of one producer's stats block. */
export const STATS_BYTES = 2 * LINE_BYTES;

// ---- STATE values ----
export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_FINISHED = 2;
/** A test hook reached its point and waits, in that state, for the main thread to terminate it. */
export const STATE_PARKED = 3;
/** Written by the main thread once the producer's thread is known to run none of its code. */
export const STATE_DEAD = 4;

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
export const STOP_INDEX = 0 / WORD;
export const STOP_SLEEPERS_INDEX = 4 / WORD;
export const TOKEN_INDEX = LINE_BYTES / WORD;
export const TOKEN_WAITERS_INDEX = (LINE_BYTES + 4) / WORD;
/** Bytes of the control block. */
export const CONTROL_BYTES = 2 * LINE_BYTES;
/** First causal token; 0 in a record means "no token". */
export const FIRST_TOKEN = 1;

// ---- drain control block ----
export const DRAIN_STOP_INDEX = 0 / WORD;
/** Bytes of a drain worker's control block. */
export const DRAIN_CONTROL_BYTES = LINE_BYTES;
