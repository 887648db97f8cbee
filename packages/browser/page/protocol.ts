/**
 * What the test page and its Web Workers post to each other. A worker posts `ready` once its
 * module graph loaded, then gets one job, then posts `result` (or `error`) and is terminated.
 */
import type { RingShare } from '@ringbuf/core';
import type { VerifierReport, RingCounters, ConsumerCounters } from '@ringbuf/consumer';
import { INSTRUMENTED_HEADER_BYTES } from '@ringbuf/instrument';

export interface ProducerJob {
  share: RingShare;
  producerId: number;
  /** Records to commit (reservations that fail on a full ring are retried). */
  records: number;
  seed: number;
  minSize: number;
  maxSize: number;
  /** Fraction of reservations discarded instead of committed (these carry no sequence number). */
  discardRatio: number;
  /** Commit flags (BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP, or 0). */
  flags: number;
  /** Word 0 becomes 1 when every worker may start (so all producers run at once). */
  gate: Int32Array;
  /** Give up after this long (the result then says timedOut). */
  timeoutMs: number;
}

export interface ProducerResult {
  producerId: number;
  committed: number;
  discarded: number;
  /** Reservations that failed because the ring was full (then retried). */
  full: number;
  ms: number;
  timedOut: boolean;
}

export interface ConsumerJob {
  shares: RingShare[];
  /** Word 0 becomes 1 once every producer finished: drain, then report. */
  done: Int32Array;
  /** poll's timeout in ms (the worker may block: -1 waits for a wakeup). */
  pollMs: number;
  /** Overwrite mode: gaps are expected losses. */
  allowGaps: boolean;
  timeoutMs: number;
}

export interface ConsumerResult {
  report: VerifierReport;
  rings: RingCounters[];
  counters: ConsumerCounters;
  ms: number;
  timedOut: boolean;
}

export type FromWorker<R> =
  | { type: 'ready' }
  | { type: 'result'; result: R }
  | { type: 'error'; error: { name: string; message: string; code?: string } };

/** The byte the writer puts at index `i` (INSTRUMENTED_HEADER_BYTES <= i < size) of record `seq` of `producerId`. */
export function fillerByte(producerId: number, seq: number, i: number): number {
  return (producerId * 31 + seq + i) & 0xff;
}

/** The verifier's filler check for {@link fillerByte} (allocation-free). */
export function checkFiller(bytes: Uint8Array, offset: number, size: number, producerId: number, seq: number): boolean {
  for (let i = INSTRUMENTED_HEADER_BYTES; i < size; i++)
    if (bytes[offset + i] !== fillerByte(producerId, seq, i)) return false;
  return true;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The narrow view of a dedicated worker's global scope the worker modules use. */
export interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

/**
 * Runs `work` on the one job this worker gets, posting ready / result / error. The job is what the
 * page posted, passed unchecked (`never`: any job type's `work` fits).
 */
export function serveOneJob<R>(scope: WorkerScope, work: (job: never) => R | Promise<R>): void {
  scope.onmessage = (event: MessageEvent) => {
    scope.onmessage = null;
    Promise.resolve()
      .then(() => work(event.data as never))
      .then(
        (result) => scope.postMessage({ type: 'result', result } satisfies FromWorker<R>),
        (err: unknown) => {
          // Whatever was thrown: possibly not an Error, possibly null.
          const e = err as { name?: unknown; message?: unknown; code?: unknown } | null | undefined;
          scope.postMessage({
            type: 'error',
            error: {
              name: typeof e?.name === 'string' ? e.name : 'Error',
              message: String(e?.message ?? err),
              ...(typeof e?.code === 'string' && e.code !== '' ? { code: e.code } : {}),
            },
          } satisfies FromWorker<R>);
        },
      );
  };
  scope.postMessage({ type: 'ready' } satisfies FromWorker<R>);
}
