/**
 * The live latency block the `load`, `order` and `latency` commands add: the one module that knows
 * where each of its words lives, laid out with core's {@link SharedLayout}.
 *
 * ```text
 *  line pair
 *  0  SAMPLES                      latency samples recorded so far       handler: plain stores
 *  1  BUCKET[0 .. LIVE_BUCKETS-1]  samples per latency bucket            handler: plain stores
 *       bucket of v ns: v < 8 -> v; else 8 * (log2(v) - 2) + the 3 bits below the top bit
 *       (8 buckets per power of two, each at most 12.5 % wide)
 * ```
 * One writer (the single consumer thread) and one reader (the main thread's progress line, once a
 * second, with Atomics.load). The reader wants an estimate of the p99 so far, not an exact snapshot:
 * a count that lags by a few samples is fine, so there is no seqlock. Exact percentiles come from the
 * runtime's HdrHistograms in the final report. Indices are Uint32Array indices.
 */
import { SharedLayout } from '@ringbuf/core';

/** Buckets: values up to 2^31 - 1 ns (about 2.1 s; larger ones land in the last bucket). */
export const LIVE_BUCKETS = 8 * (30 - 2) + 8;

const live = new SharedLayout();
/** Uint32 index of the sample count. */
export const LIVE_SAMPLES_INDEX = live.line().int32();
/** Uint32 index of the first bucket. */
export const LIVE_BUCKET_FIRST = live.line().int32s(LIVE_BUCKETS);
/** Bytes of the live latency block. */
export const LIVE_BLOCK_BYTES = live.bytes();
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
