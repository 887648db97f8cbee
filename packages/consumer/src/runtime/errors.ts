/**
 * Typed errors of the consumer runtime. Each has a stable `code` (core's {@link CodedError} base).
 */
import { CodedError, RingBufCorruptionError } from '@ringbuf/core';
import type { CorruptionFailure, HandlerFailure, RuntimeReport } from './protocol.js';

export type RuntimeErrorCode =
  /** An option of `ConsumerRuntime.start` / `stop` / `iterateRecords` is invalid; nothing was started. */
  | 'ERR_RUNTIME_OPTIONS'
  /** The handler module could not be loaded, exports no handler function, or its `init` threw. */
  | 'ERR_RUNTIME_HANDLER_MODULE'
  /** The handler threw on a record and `onHandlerError` is 'stop'. */
  | 'ERR_RUNTIME_HANDLER'
  /** A ring's positions or headers cannot be right (shared memory corrupted); the worker stopped. */
  | 'ERR_RUNTIME_CORRUPT'
  /** The worker thread threw an uncaught error. */
  | 'ERR_RUNTIME_WORKER'
  /** The worker thread exited without reporting (process.exit in a handler, a crash, terminate()). */
  | 'ERR_RUNTIME_WORKER_EXIT'
  /** The worker did not become ready within `startTimeoutMs`. */
  | 'ERR_RUNTIME_START_TIMEOUT';

/** An error of the runtime (its worker, its handler or its options). */
export class RuntimeError extends CodedError<RuntimeErrorCode> {
  override readonly name: string = 'RuntimeError';
}

/**
 * The handler threw on a record while `onHandlerError` was 'stop'. The record at `position` was
 * consumed (consumer_pos is past it, as libbpf leaves it after a failing callback) and not
 * delivered again. `report` holds the runtime's final report.
 */
export class RuntimeHandlerError extends RuntimeError {
  override readonly name: string = 'RuntimeHandlerError';
  readonly ring: number;
  readonly position: number;
  readonly size: number;
  /** The final report (left-behind counts, stats, verifier, latency), set by the runtime. */
  report: RuntimeReport | undefined;
  constructor(failure: HandlerFailure) {
    super(
      'ERR_RUNTIME_HANDLER',
      `handler threw on the record at position ${failure.position} of ring ${failure.ring} (${failure.size} bytes): ` +
        `${failure.name}: ${failure.message}`,
      { cause: failure },
    );
    this.ring = failure.ring;
    this.position = failure.position;
    this.size = failure.size;
  }
}

/**
 * The worker met positions or a record header that cannot be right in one of its rings (a thread
 * wrote the ring's shared memory) and stopped without delivering anything from that spot. `cause`
 * is the walk's RingBufCorruptionError; `report` the runtime's final report (reason 'corrupt'; the
 * left-behind counts of that ring stop at the bad spot and say `corrupt: true`).
 */
export class RuntimeCorruptionError extends RuntimeError {
  override readonly name: string = 'RuntimeCorruptionError';
  readonly ring: number;
  readonly position: number;
  /** The final report, set by the runtime. */
  report: RuntimeReport | undefined;
  constructor(failure: CorruptionFailure) {
    super('ERR_RUNTIME_CORRUPT', `ring ${failure.ring} is corrupt: ${failure.message}`, {
      cause: new RingBufCorruptionError(failure.position, failure.message),
    });
    this.ring = failure.ring;
    this.position = failure.position;
  }
}
