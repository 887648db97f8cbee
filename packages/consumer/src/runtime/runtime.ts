/**
 * The consumer worker runtime, main-thread side: `ConsumerRuntime.start()` starts exactly one worker
 * thread that consumes one or more rings (see worker.ts for its loop), and the returned object
 * reads its live stats from shared memory and stops it, draining every committed record first when
 * asked, within a deadline, with an exact count of what was left behind.
 *
 * ```ts
 * const rt = await ConsumerRuntime.start({ rings: [ring.share()], handler: new URL('./handler.js', import.meta.url) });
 * rt.stats();                                             // live counters, no messaging
 * const report = await rt.stop({ drain: true, timeoutMs: 2000 });
 * report.delivered; report.leftBehind;                    // never a silent loss
 * ```
 *
 * Failure paths: a handler that throws (onHandlerError 'stop') ends the worker and rejects `done`
 * (and `stop()`) with a RuntimeHandlerError naming the record's ring and position; a ring whose
 * positions or headers cannot be right (corrupted shared memory) ends the worker and rejects them
 * with a RuntimeCorruptionError (`ERR_RUNTIME_CORRUPT`, the ring and position, the final report,
 * the walk's RingBufCorruptionError as `cause`); a worker that dies rejects them with a RuntimeError; a worker that
 * does not answer stop() within
 * `timeoutMs + stopGraceMs` (a handler stuck in a loop) is terminated and the main thread counts
 * what was left. The runtime never waits forever.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { describeValue, RingBuffer, RingBufError, wakeConsumer, type RingShare, type WakeWord } from '@ringbuf/core';
import { Consumer } from '../consumer.js';
import { childLogger, LOG_LEVELS, type Logger, type LogLevel } from '@ringbuf/instrument/log';
import { BUSY_HEAD_WAIT_MS } from '../wait.js';
import { RuntimeCorruptionError, RuntimeError, RuntimeHandlerError, type RuntimeErrorCode } from './errors.js';
import { countLeftBehind } from './left-behind.js';
import type {
  RuntimeReport,
  RuntimeStats,
  RuntimeVerifierOptions,
  SerializedError,
  WaitPolicy,
  WorkerInit,
  WorkerMessage,
} from './protocol.js';
import { readStats } from './stats.js';
import {
  CONTROL_BUFFER_BYTES,
  CTRL_DRAIN_TIMEOUT_F64,
  CTRL_STATE_INDEX,
  CTRL_STOP_INDEX,
  STATE_DRAINING,
  STATE_EXITED,
  STATE_RUNNING,
  STATS_BUFFER_BYTES,
  STOP_DRAIN,
  STOP_NONE,
  STOP_NOW,
} from './stats-layout.js';

/** Options of {@link ConsumerRuntime.start}. */
export interface ConsumerRuntimeOptions {
  /**
   * The rings to consume, as handles or as `ring.share()` results. Several rings must share one
   * wake group (created with the same `wakeGroup`), as `Consumer.add` requires.
   */
  rings: ReadonlyArray<RingBuffer | RingShare>;
  /**
   * The handler: a module (file URL, `URL`, or file path) that exports a function as `handle` or as
   * `default`, called on the worker as `(data, offset, size) => number | void` for each record,
   * zero-copy (the payload is `data[offset, offset + size)`, valid only during the call). A negative
   * return stops the runtime (reason 'handler-stop'). Optional exports: `init(handlerOptions)`
   * (awaited before the worker reports ready) and `close()` (awaited at exit; its cloneable result is
   * `report.handlerClose`). Without a handler, records are only counted (and verified / timed).
   */
  handler?: string | URL;
  /** Passed to the handler module's `init` (must be cloneable). */
  handlerOptions?: unknown;
  /**
   * Check ordering of instrumented records (@ringbuf/instrument): `true` or verifier options.
   * @default false
   */
  verify?: boolean | RuntimeVerifierOptions;
  /** Record end-to-end latency of instrumented records (latency.ts). @default false */
  latency?: boolean;
  /**
   * With `latency`: records sent within this many µs of the first record seen from their producer
   * are delivered, verified and counted as usual but left out of the latency histograms: a warm-up
   * (JIT compilation and thread start-up). @default 0 (every record)
   */
  latencyWarmupUs?: number;
  /**
   * How the worker waits when nothing is ready: 'sleep' (self-paced, on the wake word), 'busy'
   * (never sleeps), or `{ spin: n }` (n empty passes, then sleep).
   * @default 'sleep'
   */
  wait?: WaitPolicy;
  /**
   * Upper bound of a sleep while a ring's head record is BUSY (the safety net that picks up a
   * NO_WAKEUP commit of the head record; a normal commit wakes the worker at once).
   * @default BUSY_HEAD_WAIT_MS (1)
   */
  busyHeadWaitMs?: number;
  /**
   * Upper bound of the worker's sleep when nothing is ready, as libbpf's ring_buffer__poll()
   * timeout is for epoll_wait(): a BPF_RB_NO_WAKEUP commit never wakes a sleeping consumer (the
   * kernel's rule, kernel/bpf/ringbuf.c bpf_ringbuf_commit()), so with producers that commit that
   * way, records wait at most this long. While the runtime runs, this thread wakes the worker every
   * `pollTimeoutMs` (no notify when it is awake). 0: no timeout (only commits wake the worker).
   * @default 0
   */
  pollTimeoutMs?: number;
  /** Records consumed per ring per pass, bounding the time between STOP checks. @default 65536 */
  batch?: number;
  /**
   * A handler throw: 'stop' ends the runtime with a RuntimeHandlerError; 'count' counts it
   * (stats.handlerErrors, report.firstHandlerError) and goes on.
   * @default 'stop'
   */
  onHandlerError?: 'stop' | 'count';
  /** Level of the worker's and this object's logs (else env RINGBUF_LOG_LEVEL, else 'warn'). */
  logLevel?: LogLevel;
  /** How long the worker may take to load the handler and attach. @default 10000 */
  startTimeoutMs?: number;
}

/** Options of {@link ConsumerRuntime.stop}. */
export interface StopOptions {
  /** Consume every record reserved before the stop before exiting. @default true */
  drain?: boolean;
  /** How long the drain may take; then the worker reports what is left. @default 5000 */
  timeoutMs?: number;
  /**
   * Extra time the worker gets to answer after `timeoutMs` before it is terminated (a handler that
   * never returns). @default 1000
   */
  stopGraceMs?: number;
}

/** Where the worker is. */
export type RuntimeState = 'starting' | 'running' | 'draining' | 'exited';

const WAIT_POLICIES = new Set(['sleep', 'busy']);
let nextRuntimeId = 1;

function optionsError(message: string): RuntimeError {
  return new RuntimeError('ERR_RUNTIME_OPTIONS', message);
}

/** What start() checked: the rings, the worker's settings, and the main thread's own two times. */
interface StartOptions {
  rings: readonly unknown[];
  settings: Omit<WorkerInit, 'runtimeId' | 'rings' | 'control' | 'stats'>;
  startTimeoutMs: number;
  pollTimeoutMs: number;
}

/**
 * ConsumerRuntime.start()'s options, defaults applied and checked (untrusted: read as `unknown`).
 * @throws RuntimeError `ERR_RUNTIME_OPTIONS`.
 */
function startOptions(options: unknown): StartOptions {
  if (options === null || typeof options !== 'object')
    throw optionsError('ConsumerRuntime.start needs an options object');
  const raw: { [K in keyof ConsumerRuntimeOptions]?: unknown } = options;
  const { rings, handlerOptions, onHandlerError = 'stop', logLevel } = raw;
  if (!Array.isArray(rings) || rings.length === 0)
    throw optionsError('rings must be a non-empty array of rings or ring shares');
  const { latency, latencyWarmupUs } = latencyOptions(raw);
  if (onHandlerError !== 'stop' && onHandlerError !== 'count') {
    throw optionsError(`onHandlerError must be 'stop' or 'count', got ${describeValue(onHandlerError)}`);
  }
  const verify = raw.verify === undefined || raw.verify === false ? undefined : raw.verify === true ? {} : raw.verify;
  if (verify !== undefined && (verify === null || typeof verify !== 'object')) {
    throw optionsError('verify must be a boolean or verifier options');
  }
  const batch = raw.batch ?? 65536;
  if (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1)
    throw optionsError(`batch must be a positive integer, got ${describeValue(batch)}`);
  const wait = checkWait(raw.wait);
  const busyHeadWaitMs = checkTimeout('busyHeadWaitMs', raw.busyHeadWaitMs, BUSY_HEAD_WAIT_MS);
  const startTimeoutMs = checkTimeout('startTimeoutMs', raw.startTimeoutMs, 10000);
  const pollTimeoutMs = checkTimeout('pollTimeoutMs', raw.pollTimeoutMs, 0);
  if (!Number.isFinite(pollTimeoutMs)) throw optionsError('pollTimeoutMs must be finite (0 for no timeout)');
  const handler = handlerSpec(raw.handler);
  if (logLevel !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(logLevel)) {
    throw optionsError(`logLevel must be a pino level, got ${describeValue(logLevel)}`);
  }
  return {
    rings,
    settings: {
      handler,
      handlerOptions,
      verify,
      latency,
      latencyWarmupUs,
      wait,
      busyHeadWaitMs,
      batch,
      onHandlerError,
      logLevel: logLevel as LogLevel | undefined,
    },
    startTimeoutMs,
    pollTimeoutMs,
  };
}

/** start()'s `latency` and `latencyWarmupUs`, checked. @throws RuntimeError `ERR_RUNTIME_OPTIONS`. */
function latencyOptions(raw: { latency?: unknown; latencyWarmupUs?: unknown }): {
  latency: boolean;
  latencyWarmupUs: number;
} {
  const { latency = false } = raw;
  if (typeof latency !== 'boolean') throw optionsError(`latency must be a boolean, got ${describeValue(latency)}`);
  const latencyWarmupUs = raw.latencyWarmupUs ?? 0;
  if (typeof latencyWarmupUs !== 'number' || !Number.isFinite(latencyWarmupUs) || latencyWarmupUs < 0) {
    throw optionsError(`latencyWarmupUs must be a finite number of µs from 0, got ${describeValue(latencyWarmupUs)}`);
  }
  if (raw.latencyWarmupUs !== undefined && !latency) throw optionsError('latencyWarmupUs needs latency: true');
  return { latency, latencyWarmupUs };
}

/**
 * Attaches every ring here too: validates the buffers before a thread is spent, and gives stop()
 * the wake word. @throws RingBufError as `RingBuffer.attach`, `ERR_RINGBUF_WAKE_GROUP`.
 */
function attachAll(rings: readonly unknown[]): RingBuffer[] {
  const handles = rings.map((r) => (r instanceof RingBuffer ? r : RingBuffer.attach(r as RingShare)));
  const wakeBuffer = handles[0]?.wake.buffer;
  if (handles.some((h) => h.wake.buffer !== wakeBuffer)) {
    throw new RingBufError(
      'ERR_RINGBUF_WAKE_GROUP',
      'rings consumed by one runtime must share a wake group: create them with the same wakeGroup',
    );
  }
  return handles;
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw optionsError(`${name} must be a non-negative number of milliseconds, got ${describeValue(value)}`);
  }
  return value;
}

function checkWait(wait: unknown): WaitPolicy {
  if (wait === undefined) return 'sleep';
  if (typeof wait === 'string' && WAIT_POLICIES.has(wait)) return wait as WaitPolicy;
  if (wait !== null && typeof wait === 'object') {
    const spin = (wait as { spin?: unknown }).spin;
    if (Number.isInteger(spin) && (spin as number) >= 0) return { spin: spin as number };
  }
  throw optionsError(
    `wait must be 'sleep', 'busy' or { spin: n } with n a non-negative integer, got ${JSON.stringify(wait)}`,
  );
}

function handlerSpec(handler: unknown): string | undefined {
  if (handler === undefined) return undefined;
  if (handler instanceof URL) return handler.href;
  if (typeof handler === 'string' && handler.length > 0) {
    // A URL string stays as it is; a path is resolved against this thread's working directory.
    return /^[a-z][a-z0-9+.-]*:/i.test(handler) && !/^[a-z]:[\\/]/i.test(handler)
      ? handler
      : pathToFileURL(resolve(handler)).href;
  }
  throw optionsError(`handler must be a module URL or path, got ${describeValue(handler)}`);
}

function rebuildError(e: SerializedError): Error {
  if (e.code !== undefined && e.code.startsWith('ERR_RINGBUF_')) {
    return new RingBufError(e.code as RingBufError['code'], e.message);
  }
  // Anything else that stops the worker before it is ready comes from loading the handler.
  const code: RuntimeErrorCode = 'ERR_RUNTIME_HANDLER_MODULE';
  return new RuntimeError(code, `consumer runtime failed to start: ${e.name}: ${e.message}`, { cause: e });
}

/**
 * One consumer worker thread and its lifecycle. Thread: create and use it from one thread (usually
 * the main thread); `stats()` and `state` read shared memory and may be called at any time.
 */
export class ConsumerRuntime {
  /**
   * Settles when the worker ends: resolves with the final report (after stop(), or after the handler
   * returned a negative number), rejects with a RuntimeHandlerError (a handler throw under
   * onHandlerError 'stop'), a RuntimeCorruptionError (a corrupt ring) or a RuntimeError (the worker
   * died). A rejection nobody awaits is not an
   * unhandled rejection; it is logged at 'error' level (unless it happened while starting: then
   * start() rejected with it).
   */
  readonly done: Promise<RuntimeReport>;
  /** The rings, attached in this thread (for positions and queries). */
  readonly rings: readonly RingBuffer[];

  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly controlF64: Float64Array;
  private readonly statsBuffer: SharedArrayBuffer;
  private readonly wake: WakeWord;
  private readonly log: Logger;
  private settled = false;
  private ready = false;
  private stopping: Promise<RuntimeReport> | undefined;
  private resolveDone!: (report: RuntimeReport) => void;
  private rejectDone!: (err: Error) => void;
  private onReady: (() => void) | undefined;
  private onStartFailed: ((err: Error) => void) | undefined;

  private constructor(init: WorkerInit, rings: RingBuffer[], log: Logger) {
    this.rings = rings;
    this.control = new Int32Array(init.control);
    this.controlF64 = new Float64Array(init.control);
    this.statsBuffer = init.stats;
    const first = rings[0];
    if (first === undefined) throw optionsError('rings must be a non-empty array of rings or ring shares');
    this.wake = first.wake;
    this.log = log;
    this.done = new Promise<RuntimeReport>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Marks the rejection handled (callers that await `done` or stop() still get it). A failure
    // before ready is not logged here: start() rejects with it.
    this.done.catch((err: unknown) => {
      if (this.ready) this.log.error({ err }, 'consumer runtime ended with an error');
    });
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (err) => {
      this.fail(new RuntimeError('ERR_RUNTIME_WORKER', `consumer worker threw: ${err.message}`, { cause: err }));
    });
    this.worker.on('exit', (code) => {
      this.fail(
        new RuntimeError('ERR_RUNTIME_WORKER_EXIT', `consumer worker exited (code ${code}) without a final report`),
      );
    });
  }

  /**
   * Starts the consumer worker and resolves once it has attached every ring, loaded the handler and
   * entered its loop. Thread: any thread that may start workers (usually the main thread).
   * @throws RuntimeError `ERR_RUNTIME_OPTIONS` for invalid options (nothing is started),
   *   `ERR_RUNTIME_HANDLER_MODULE` when the handler cannot be loaded or its `init` throws,
   *   `ERR_RUNTIME_START_TIMEOUT`, `ERR_RUNTIME_WORKER`/`_EXIT` when the worker dies while starting;
   *   RingBufError (its own code) when a ring cannot be attached or consumed: a foreign buffer,
   *   rings without a shared wake group (`ERR_RINGBUF_WAKE_GROUP`), a ring that already has a
   *   consumer (`ERR_RINGBUF_CONSUMER_EXISTS`).
   */
  static async start(options: ConsumerRuntimeOptions): Promise<ConsumerRuntime> {
    const { rings, settings, startTimeoutMs, pollTimeoutMs } = startOptions(options);
    const log = childLogger({ component: 'consumer-runtime-main' }, settings.logLevel as LogLevel | undefined);
    const handles = attachAll(rings);
    const runtimeId = nextRuntimeId++;
    const init: WorkerInit = {
      runtimeId,
      rings: handles.map((h) => h.share()),
      control: new SharedArrayBuffer(CONTROL_BUFFER_BYTES),
      stats: new SharedArrayBuffer(STATS_BUFFER_BYTES),
      ...settings,
    };
    const rt = new ConsumerRuntime(init, handles, log.child({ runtime: runtimeId }));
    await rt.started(startTimeoutMs);
    if (pollTimeoutMs > 0) rt.startPollTimer(pollTimeoutMs);
    rt.log.info({ rings: handles.length, wait: settings.wait }, 'consumer runtime started');
    return rt;
  }

  /** The `pollTimeoutMs` timer: wakes the worker at that period until `done` settles. */
  private startPollTimer(periodMs: number): void {
    // Wakes the worker if it sleeps (a no-op, without notify, when it is awake).
    const timer = setInterval(() => wakeConsumer(this.wake), periodMs);
    const clear = (): void => clearInterval(timer);
    void this.done.then(clear, clear);
  }

  private started(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onReady = undefined;
        this.onStartFailed = undefined;
        const err = new RuntimeError('ERR_RUNTIME_START_TIMEOUT', `consumer worker not ready after ${timeoutMs} ms`);
        void this.worker.terminate();
        this.fail(err);
        reject(err);
      }, timeoutMs);
      this.onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.onStartFailed = (err) => {
        clearTimeout(timer);
        reject(err);
      };
    });
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.onReady?.();
        this.onReady = undefined;
        this.onStartFailed = undefined;
        return;
      case 'start-failed': {
        const err = rebuildError(message.error);
        const onFailed = this.onStartFailed;
        this.onReady = undefined;
        this.onStartFailed = undefined;
        this.fail(err);
        onFailed?.(err);
        return;
      }
      case 'done': {
        if (this.settled) return;
        this.settled = true;
        if (message.corruption !== undefined) {
          const err = new RuntimeCorruptionError(message.corruption);
          err.report = message.report;
          this.rejectDone(err);
        } else if (message.failure !== undefined) {
          const err = new RuntimeHandlerError(message.failure);
          err.report = message.report;
          this.rejectDone(err);
        } else {
          this.resolveDone(message.report);
        }
        return;
      }
    }
  }

  /** Settles `done` with an error (once), releasing the rings' consumer slots the dead worker held. */
  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    // A worker that got as far as ready holds the rings' consumer slots and can no longer free them.
    // (Before ready it freed them itself, or they belong to another consumer: leave them alone.)
    if (this.ready) for (const ring of this.rings) Consumer.releaseDeadConsumer(ring);
    // Publishes "exited" for `state`: the worker can no longer write it.
    Atomics.store(this.control, CTRL_STATE_INDEX, STATE_EXITED);
    this.onStartFailed?.(err);
    this.onStartFailed = undefined;
    this.onReady = undefined;
    this.rejectDone(err);
  }

  /** Live counters, read from the shared stats block (one pass's snapshot). Thread: any. */
  stats(): RuntimeStats {
    return readStats(this.statsBuffer);
  }

  /** Where the worker is, from the shared STATE word. */
  get state(): RuntimeState {
    // Observes the worker's STATE stores.
    switch (Atomics.load(this.control, CTRL_STATE_INDEX)) {
      case STATE_RUNNING:
        return 'running';
      case STATE_DRAINING:
        return 'draining';
      case STATE_EXITED:
        return 'exited';
      default:
        return 'starting';
    }
  }

  /** The worker's thread id (for logs and tests). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /**
   * Stops the worker. With `drain` (default) it first consumes every record reserved before it saw
   * the request, waiting at most `timeoutMs` for uncommitted ones; the report says `reason`
   * ('drained' or 'deadline') and counts exactly what was left behind (committed records and BUSY
   * ones). Without `drain` it stops after its current pass. Calling stop() again returns the same
   * promise; after the worker ended on its own, it returns `done`.
   * Thread: the thread that started the runtime.
   * @throws RuntimeError `ERR_RUNTIME_OPTIONS` for invalid options (nothing changes);
   *   rejects as `done` does when the worker failed.
   */
  stop(options: StopOptions = {}): Promise<RuntimeReport> {
    // Untrusted: checked as whatever it is.
    const raw: unknown = options;
    if (raw === null || typeof raw !== 'object') throw optionsError('stop options must be an object');
    const { drain = true } = options;
    if (typeof drain !== 'boolean') throw optionsError(`drain must be a boolean, got ${describeValue(drain)}`);
    const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs, 5000);
    const graceMs = checkTimeout('stopGraceMs', options.stopGraceMs, 1000);
    if (this.stopping !== undefined) return this.stopping;
    if (this.settled) return (this.stopping = this.done);
    // Plain store, published by the STOP store below.
    this.controlF64[CTRL_DRAIN_TIMEOUT_F64] = timeoutMs;
    // Publishes the request; pairs with the worker's load at each pass and after announcing sleep.
    Atomics.store(this.control, CTRL_STOP_INDEX, drain ? STOP_DRAIN : STOP_NOW);
    // Wakes the worker if it sleeps (a no-op, without notify, when it is awake).
    wakeConsumer(this.wake);
    this.log.info({ drain, timeoutMs }, 'stop requested');
    this.stopping = this.awaitExit(timeoutMs + graceMs);
    return this.stopping;
  }

  /** Waits for the worker's report; terminates it when it does not come in time. */
  private async awaitExit(limitMs: number): Promise<RuntimeReport> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limitMs);
    });
    try {
      const first = await Promise.race([this.done, late]);
      if (first !== 'late') {
        await this.worker.terminate().catch(() => undefined);
        return first;
      }
    } finally {
      clearTimeout(timer);
    }
    // The worker is stuck (a handler that never returns): end it and count from here.
    this.log.error({ limitMs }, 'consumer worker did not stop in time; terminating it');
    const stats = this.stats();
    this.settled = true;
    await this.worker.terminate();
    for (const ring of this.rings) Consumer.releaseDeadConsumer(ring);
    // Publishes "exited" for `state`.
    Atomics.store(this.control, CTRL_STATE_INDEX, STATE_EXITED);
    const ringReports = this.rings.map((ring) => ({
      delivered: NaN,
      bytes: NaN,
      discarded: NaN,
      lost: NaN,
      leftBehind: countLeftBehind(ring),
    }));
    const committed = ringReports.reduce((s, r) => s + r.leftBehind.committed, 0);
    const busy = ringReports.reduce((s, r) => s + r.leftBehind.busy, 0);
    const report: RuntimeReport = {
      reason: 'terminated',
      delivered: stats.records,
      leftBehind: committed + busy,
      leftBehindCommitted: committed,
      leftBehindBusy: busy,
      rings: ringReports,
      stats,
    };
    this.resolveDone(report);
    return report;
  }

  /** Whether a stop was requested (for callers sharing the object). */
  get stopRequested(): boolean {
    // Observes our own STOP store.
    return Atomics.load(this.control, CTRL_STOP_INDEX) !== STOP_NONE;
  }
}
