/**
 * What the main thread and the consumer worker exchange: the worker's start data, its messages, and
 * the report types. Messages are few and lifecycle-only (ready, done, failed); live state goes
 * through the shared control and stats buffers (stats-layout.ts), never through messages.
 */
import { describeThrown, type RingShare } from '@ringbuf/core';
import type { LatencyReport } from '../latency.js';
import type { VerifierReport } from '../verifier.js';
import type { LeftBehind } from './left-behind.js';

/** How the worker waits when no committed record is ready. */
export type WaitPolicy =
  /** Self-paced (default): sleep on the wake word; producers wake it by the kernel's rule. */
  | 'sleep'
  /** Never sleep: re-check the rings in a loop (lowest latency, one core busy). */
  | 'busy'
  /** Re-check `spin` times, then sleep as 'sleep' does. */
  | { spin: number };

/** Serializable verifier options (functions cannot cross to the worker). */
export interface RuntimeVerifierOptions {
  /** See VerifierOptions.expectFrom (the function form is not available here). */
  expectFrom?: 'zero' | 'first' | Record<number, number>;
  allowGaps?: boolean;
  maxExamples?: number;
  maxProducerId?: number;
}

/** @internal The worker's `workerData`. */
export interface WorkerInit {
  runtimeId: number;
  rings: RingShare[];
  control: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  handler: string | undefined;
  handlerOptions: unknown;
  verify: RuntimeVerifierOptions | undefined;
  latency: boolean;
  /** ConsumerRuntimeOptions.latencyWarmupUs (0: time every record). */
  latencyWarmupUs: number;
  wait: WaitPolicy;
  busyHeadWaitMs: number;
  batch: number;
  onHandlerError: 'stop' | 'count';
  logLevel: string | undefined;
}

/** Where a handler failed: the record's ring and logical position, and what it threw. */
export interface HandlerFailure {
  /** Index of the ring in the runtime's `rings` option. */
  ring: number;
  /** Logical position of the record's header in that ring (unsigned 32-bit). */
  position: number;
  /** Payload bytes of the record. */
  size: number;
  /** The thrown value's name, message and stack (or its string form). */
  name: string;
  message: string;
  stack: string | undefined;
}

/** Where the worker found a ring corrupt (RingBufCorruptionError's position and message). */
export interface CorruptionFailure {
  /** Index of the ring in the runtime's `rings` option. */
  ring: number;
  /** Logical position (unsigned 32-bit) of the bad header, or the consumer_pos of bad positions. */
  position: number;
  message: string;
}

/** Why the worker's loop ended. */
export type StopReason =
  /** stop({ drain: true }): every record reserved before the stop was seen has been consumed. */
  | 'drained'
  /** stop({ drain: true }): the deadline passed first; see leftBehind. */
  | 'deadline'
  /** stop({ drain: false }): the worker stopped after its current pass. */
  | 'stopped'
  /** The handler returned a negative number (see `handlerResult`). */
  | 'handler-stop'
  /** The handler threw and `onHandlerError` is 'stop'. */
  | 'handler-error'
  /** A ring's positions or headers cannot be right: `done` rejects with a RuntimeCorruptionError. */
  | 'corrupt'
  /** The worker did not answer stop() in time and was terminated by the main thread. */
  | 'terminated';

/** One ring's share of the final report. */
export interface RingReport {
  /** Records delivered to the handler. */
  delivered: number;
  /** Payload bytes delivered. */
  bytes: number;
  /** Discarded records skipped. */
  discarded: number;
  /** Overwrite mode: committed records overwritten before they could be read. */
  lost: number;
  /** What was left in the ring when the worker stopped. */
  leftBehind: LeftBehind;
}

/** Live counters (a snapshot of one loop pass of the worker). */
export interface RuntimeStats {
  /** Records delivered to the handler. */
  records: number;
  /** Payload bytes delivered. */
  bytes: number;
  /** Discarded records skipped. */
  discarded: number;
  /** Loop passes (each checks every ring once). */
  polls: number;
  /** Times the worker slept on the wake word. */
  sleeps: number;
  /** Sleeps ended by a notification (a producer's wake decision or stop()), not by the timeout. */
  wakeups: number;
  /** Passes that stopped at a BUSY record with data behind it. */
  busyStalls: number;
  /** Current unconsumed bytes over all rings (AVAIL_DATA), as of the last pass. */
  backlog: number;
  /** Largest backlog seen at the start of a pass. */
  maxBacklog: number;
  /** Handler throws (with onHandlerError 'count', every one; with 'stop', at most one). */
  handlerErrors: number;
  /** Overwrite mode: records lost to overwriting. */
  lost: number;
  /** Ordering violations found by the verifier. */
  violations: number;
  /** Latency samples recorded. */
  latencyCount: number;
}

/** What stop() (and `done`) resolve with. */
export interface RuntimeReport {
  reason: StopReason;
  /** The negative number the handler returned, when reason is 'handler-stop'. */
  handlerResult?: number;
  /**
   * Records delivered over all rings. For 'terminated', the last published stats (the pass that was
   * interrupted is not in it, and its records' consumer_pos was not stored either).
   */
  delivered: number;
  /** Records left over all rings (committed + BUSY). */
  leftBehind: number;
  /** Of those, committed ones. */
  leftBehindCommitted: number;
  /** Of those, BUSY ones. */
  leftBehindBusy: number;
  /** Per ring, in the order of the `rings` option. */
  rings: RingReport[];
  /** The final stats. */
  stats: RuntimeStats;
  /** The first handler throw (with onHandlerError 'count' or 'stop'). */
  firstHandlerError?: HandlerFailure;
  /** The verifier's report, when `verify` was on. */
  verifier?: VerifierReport;
  /** Latency summaries and histograms, when `latency` was on. */
  latency?: LatencyReport;
  /** What the handler module's optional `close()` returned (must be cloneable). */
  handlerClose?: unknown;
}

/** @internal Messages from the worker. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; report: RuntimeReport; failure?: HandlerFailure; corruption?: CorruptionFailure }
  | { type: 'start-failed'; error: SerializedError };

/** @internal An error as it crosses threads. */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
}

/** @internal */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      code: typeof code === 'string' ? code : undefined,
    };
  }
  return { name: 'Error', message: describeThrown(err), stack: undefined, code: undefined };
}
