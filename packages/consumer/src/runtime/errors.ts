/**
 * Typed errors of the consumer runtime. Each has a stable `code`.
 */
import type { RuntimeReport } from './protocol.js';

export type RuntimeErrorCode =
  /** An option of `ConsumerRuntime.start` / `stop` / `iterateRecords` is invalid; nothing was started. */
  | 'ERR_RUNTIME_OPTIONS'
  /** The handler module could not be loaded, exports no handler function, or its `init` threw. */
  | 'ERR_RUNTIME_HANDLER_MODULE'
  /** The handler threw on a record and `onHandlerError` is 'stop'. */
  | 'ERR_RUNTIME_HANDLER'
  /** The worker thread threw an uncaught error. */
  | 'ERR_RUNTIME_WORKER'
  /** The worker thread exited without reporting (process.exit in a handler, a crash, terminate()). */
  | 'ERR_RUNTIME_WORKER_EXIT'
  /** The worker did not become ready within `startTimeoutMs`. */
  | 'ERR_RUNTIME_START_TIMEOUT';

/** An error of the runtime (its worker, its handler or its options). */
export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
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
