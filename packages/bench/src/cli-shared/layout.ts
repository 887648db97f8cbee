/**
 * The shared memory the `load`, `order` and `latency` commands add: the one module that knows where
 * each of their words lives. Nothing else in cli-shared writes a numeric index into these buffers.
 *
 * ## Live latency block (Uint32 words), written by the consumer worker's handler only
 *
 * ```text
 *  Uint32 index
 *    0 ┌────────────────────────────────────────────────────────────┐
 *      │ SAMPLES   latency samples recorded so far                  │  handler: plain stores
 *   32 ├────────────────────────────────────────────────────────────┤  (own 128-byte line pair)
 *      │ BUCKET[0 .. LIVE_BUCKETS-1]   samples per latency bucket   │  handler: plain stores
 *      │   bucket of v ns: v < 8 -> v; else 8 * (log2(v) - 2) + the │
 *      │   3 bits below the top bit (8 buckets per power of two,    │
 *      │   each at most 12.5 % wide)                                │
 *  264 └────────────────────────────────────────────────────────────┘
 * ```
 * One writer (the single consumer thread) and one reader (the main thread's progress line, once a
 * second, with Atomics.load). The reader wants an estimate of the p99 so far, not an exact snapshot:
 * a count that lags by a few samples is fine, so there is no seqlock. Exact percentiles come from the
 * runtime's HdrHistograms in the final report.
 *
 * ## Wake-floor pair (Int32 words, Float64 for the send time), two worker threads
 *
 * ```text
 *  Int32 index
 *    0 ┌──────────────────────────────┐
 *      │ FLAG   0 armed, 1 notified   │  notifier: store + notify; waiter: wait, re-arm
 *   32 ├──────────────────────────────┤
 *      │ READY  sample the waiter is  │  waiter: store before it waits; notifier: spins on it
 *      │        about to wait for     │
 *   64 ├──────────────────────────────┤
 *      │ SEND (f64 index 32)          │  notifier: clockMicros() before the FLAG store
 *   96 └──────────────────────────────┘
 * ```
 */

const LINE_WORDS = 32; // 128 bytes: each written word on its own pair of cache lines

// ---- live latency block ----
/** Uint32 index of the sample count. */
export const LIVE_SAMPLES_INDEX = 0;
/** Uint32 index of the first bucket. */
export const LIVE_BUCKET_FIRST = LINE_WORDS;
/** Buckets: values up to 2^31 - 1 ns (about 2.1 s; larger ones land in the last bucket). */
export const LIVE_BUCKETS = 8 * (30 - 2) + 8;
/** Bytes of the live latency block. */
export const LIVE_BLOCK_BYTES = (LIVE_BUCKET_FIRST + LIVE_BUCKETS) * 4;
/** Largest value bucketed exactly, in ns. */
export const LIVE_MAX_NS = 0x7fffffff;

/** The bucket of a latency of `ns` nanoseconds (an integer from 0 to 2^31 - 1). Allocation-free. */
export function liveBucketOf(ns: number): number {
  if (ns < 8) return ns;
  const e = 31 - Math.clz32(ns);
  return 8 * (e - 2) + ((ns >>> (e - 3)) & 7);
}

/** The largest latency in ns that falls in `bucket` (the estimate a percentile reports). */
export function liveBucketUpperNs(bucket: number): number {
  if (bucket < 8) return bucket;
  const e = (bucket >>> 3) + 2;
  const sub = bucket & 7;
  // A multiplication, not a shift: the top bucket's edge is 2^31 - 1, past int32 for `<<`.
  return (8 + sub + 1) * 2 ** (e - 3) - 1;
}

// ---- wake-floor pair ----
/** Int32 index of the flag the waiter sleeps on. */
export const FLOOR_FLAG_INDEX = 0;
/** Int32 index of the waiter's "about to wait for sample i". */
export const FLOOR_READY_INDEX = LINE_WORDS;
/** Float64 index of the notifier's send time (µs, clockMicros()). */
export const FLOOR_SEND_F64 = (2 * LINE_WORDS) / 2;
/** Bytes of the wake-floor pair's buffer. */
export const FLOOR_BYTES = 3 * LINE_WORDS * 4;
