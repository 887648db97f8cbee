/**
 * Main-thread side of the live latency block (live-layout.ts): a block to hand to the handler and a
 * percentile estimate for the progress line. Thread: main; called once a second.
 */
import {
  LIVE_BLOCK_BYTES,
  LIVE_BUCKETS,
  LIVE_BUCKET_FIRST,
  LIVE_SAMPLES_INDEX,
  liveBucketUpperNs,
} from './live-layout.js';

/** A new, zeroed live latency block. */
export function newLiveBlock(): SharedArrayBuffer {
  return new SharedArrayBuffer(LIVE_BLOCK_BYTES);
}

/**
 * The `p`-th percentile (0 < p <= 100) of the samples so far, in µs, as the upper edge of its
 * bucket (at most 12.5 % high); NaN before the first sample.
 */
export function livePercentileUs(block: SharedArrayBuffer, p: number): number {
  const w = new Uint32Array(block);
  let total = 0;
  for (let i = 0; i < LIVE_BUCKETS; i++) {
    // Observes the handler's plain increments (a snapshot that may lag by a few samples).
    total += Atomics.load(w, LIVE_BUCKET_FIRST + i);
  }
  if (total === 0) return NaN;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < LIVE_BUCKETS; i++) {
    // Observes the same counters again; a sample that landed in between only shifts the estimate.
    seen += Atomics.load(w, LIVE_BUCKET_FIRST + i);
    if (seen >= rank) return liveBucketUpperNs(i) / 1000;
  }
  return liveBucketUpperNs(LIVE_BUCKETS - 1) / 1000;
}

/** Samples recorded so far. */
export function liveSamples(block: SharedArrayBuffer): number {
  // Observes the handler's sample count.
  return Atomics.load(new Uint32Array(block), LIVE_SAMPLES_INDEX);
}

/**
 * Per-second percentiles from the live block without resetting it (its only writer is the consumer
 * thread): the buckets are cumulative, and each call takes the difference from the previous call's
 * snapshot. Made once per run; nothing is allocated per call. Thread: main.
 */
export class LiveWindow {
  private readonly last = new Uint32Array(LIVE_BUCKETS);
  private readonly delta = new Uint32Array(LIVE_BUCKETS);
  private total = 0;

  private readonly words: Uint32Array;

  constructor(block: SharedArrayBuffer) {
    this.words = new Uint32Array(block);
  }

  /** Takes the samples since the previous call; returns how many there were. */
  next(): number {
    const w = this.words;
    let total = 0;
    for (let i = 0; i < LIVE_BUCKETS; i++) {
      // Observes the handler's plain increments (a snapshot that may lag by a few samples).
      const now = Atomics.load(w, LIVE_BUCKET_FIRST + i);
      const d = (now - (this.last[i] ?? 0)) >>> 0;
      this.delta[i] = d;
      this.last[i] = now;
      total += d;
    }
    this.total = total;
    return total;
  }

  /** The `p`-th percentile (0 < p <= 100) of the window's samples in µs (bucket upper edge); NaN when empty. */
  percentileUs(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < LIVE_BUCKETS; i++) {
      seen += this.delta[i] ?? 0;
      if (seen >= rank) return liveBucketUpperNs(i) / 1000;
    }
    return liveBucketUpperNs(LIVE_BUCKETS - 1) / 1000;
  }
}
