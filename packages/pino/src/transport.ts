/**
 * The main thread's side: `transport(options)` makes the ring and its control block, starts the one
 * consumer thread that loads the targets, and returns the destination stream of this thread, which
 * also ends the transport (on end(), or flushing at process exit, as pino's own transports do).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import {
  describeValue,
  HEARTBEAT_STALL_MS,
  RingBuffer,
  RingBufError,
  isValidRingSize,
  monotonicMs,
  rescueSleeper,
} from '@ringbuf/core';
import { RingDestination, type OnFull, type PinoShare } from './destination.js';
import {
  CONTROL_BYTES,
  STATE_CLOSED,
  STATE_DEAD,
  STATE_ENDING,
  STATE_INDEX,
  STATE_RUNNING,
  STATE_STARTING,
  WAITERS_INDEX,
  WRITTEN_POS_INDEX,
} from './layout.js';
import { getCallers, pinoSymbols, resolveTargets, type PinoTransportOptions } from './targets.js';
import type { ConsumerWorkerData, WorkerMessage } from './consumer-worker.js';

/** transport() options: pino.transport()'s, plus the ring's own. */
export interface TransportOptions extends PinoTransportOptions {
  /** Ring data bytes: a power of two, a multiple of 4096. @default 1 MiB (1048576) */
  ringSize?: number;
  /**
   * A full ring: `'block'` waits for space up to `blockMs`, then drops the line; `'drop'` drops it
   * at once. Dropped lines are counted (stats()) and reported at the targets as a line of their own.
   * @default 'block'
   */
  onFull?: OnFull;
  /** The longest a write waits for space under `'block'` (ms). @default 1000 */
  blockMs?: number;
  /** The longest flushSync(), and the flush at process exit, wait for the consumer thread (ms). @default 10000 */
  flushMs?: number;
  /**
   * The consumer thread counts as gone when its heartbeats are older than this (ms). @default HEARTBEAT_STALL_MS (2000)
   */
  deadAfterMs?: number;
  /**
   * Lines longer than this many UTF-8 bytes go in pieces the consumer joins. @default a quarter of ringSize, less 16
   */
  partBytes?: number;
  /** Options of the consumer thread's Worker (env, execArgv, resourceLimits...), as pino.transport()'s `worker`. */
  worker?: WorkerOptions & { autoEnd?: boolean };
}

const DEFAULT_RING_SIZE = 1 << 20;

/**
 * The transports to end at process exit: one 'exit' listener for all of them (pino registers its
 * transports with on-exit-leak-free for the same reason: no listener per stream). Held strongly:
 * threads that got the share may still log into a transport whose stream this thread dropped.
 */
const live = new Set<TransportStream>();
function endAllAtExit(): void {
  for (const t of live) t.endSync();
}

/**
 * The main thread's destination stream: what `transport()` returns. Besides writing like any
 * destination, it owns the consumer thread: `end()` drains the ring into the targets and closes
 * them; at process exit (normal end, process.exit(), an uncaught exception) the same happens
 * synchronously, bounded by `flushMs`. Events: 'ready' (targets loaded), 'error' (the consumer
 * thread failed: a target threw or emitted 'error'), 'close' (the consumer thread is gone).
 */
export class TransportStream extends RingDestination {
  /**
   * The consumer thread. Like pino's, it holds the process while it loads the targets, then is
   * unref'd: it does not keep the process alive on its own (end() refs it until the targets close).
   */
  readonly worker: Worker;
  private errored = false;
  private ending = false;
  private closed = false;

  /** @internal Use transport(). */
  constructor(share: PinoShare, data: ConsumerWorkerData, workerOptions: WorkerOptions & { autoEnd?: boolean }) {
    super(share);
    const { autoEnd = true, ...rest } = workerOptions;
    this.worker = new Worker(new URL('./consumer-worker.js', import.meta.url), {
      ...rest,
      name: 'ringbuf.pino',
      workerData: data,
    });
    this.worker.on('message', (msg: WorkerMessage) => {
      if (msg.code === 'READY') {
        // From now on the consumer thread does not hold the process (pino's onReady: stream.unref()).
        if (!this.ending) this.worker.unref();
        this.emit('ready');
      } else this.fail(msg.err);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => {
      // Observes the consumer thread's last state store (CLOSED when it ended as asked).
      if (Atomics.load(this.ctl, STATE_INDEX) !== STATE_CLOSED)
        this.fail(
          new RingBufError(
            'ERR_RINGBUF_CLOSED',
            '@ringbuf/pino: the consumer thread exited before the transport ended',
          ),
        );
      this.closed = true;
      this.unregister();
      this.emit('close');
    });
    // pino emits its config (levels, messageKey, errorKey) on the stream; the consumer thread's
    // transports (pino-abstract-transport with expectPinoConfig) wait for it, as under thread-stream.
    this.on('message', (message: unknown) => {
      if (!this.closed) this.worker.postMessage(message);
    });
    if (autoEnd) {
      if (live.size === 0) process.on('exit', endAllAtExit);
      live.add(this);
    }
  }

  /** No flush at exit for this transport any more (closed, or failed). */
  private unregister(): void {
    if (live.delete(this) && live.size === 0) process.removeListener('exit', endAllAtExit);
  }

  /** Whether the consumer thread is gone. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Ends the transport: the consumer thread writes every line already in the ring, ends the targets
   * and exits ('close'); the process stays alive until then. Lines written after this are dropped
   * and counted. Returns at once.
   */
  override end(): void {
    // Holds the process until the targets are closed, as pino's autoEnd does (stream.ref()).
    this.ending = true;
    if (this.stats().thread.unreported > 0) this.reportDropped(0);
    if (this.requestEnd() && !this.closed) this.worker.ref();
  }

  /** end() and wait for the targets to close, at most `flushMs` (what runs at process exit). */
  endSync(): void {
    // This thread's unreported drops go in first (a no-op when the ring is full or nothing was dropped).
    if (this.stats().thread.unreported > 0) this.reportDropped(0);
    if (!this.requestEnd()) return;
    const deadline = monotonicMs() + this.share.flushMs;
    const ctl = this.ctl;
    // Registers as a sleeper before reading STATE; pairs with the consumer's WAITERS load.
    Atomics.add(ctl, WAITERS_INDEX, 1);
    try {
      for (;;) {
        // Observes the consumer thread's final state store (CLOSED after its targets closed).
        const state = Atomics.load(ctl, STATE_INDEX);
        if (state === STATE_CLOSED || state === STATE_DEAD) return;
        const left = deadline - monotonicMs();
        if (left <= 0) return;
        // Observes WRITTEN_POS; the consumer notifies it after every pass and when it closes.
        const written = Atomics.load(ctl, WRITTEN_POS_INDEX);
        // Sleeps until the consumer's notify on WRITTEN_POS (its passes and its close) or 10 ms.
        Atomics.wait(ctl, WRITTEN_POS_INDEX, written, Math.min(10, Math.ceil(left)));
      }
    } finally {
      // Unregisters; pairs with the consumer's WAITERS load.
      Atomics.sub(ctl, WAITERS_INDEX, 1);
    }
  }

  /** Sets ENDING and wakes the consumer; false when already ending, closed or dead. */
  private requestEnd(): boolean {
    const ctl = this.ctl;
    for (const from of [STATE_RUNNING, STATE_STARTING]) {
      // Publishes the end request; the consumer thread reads STATE after every poll.
      if (Atomics.compareExchange(ctl, STATE_INDEX, from, STATE_ENDING) === from) {
        rescueSleeper(this.ring.wake);
        return true;
      }
    }
    // Observes the state another end() or the consumer thread stored.
    return Atomics.load(ctl, STATE_INDEX) === STATE_ENDING;
  }

  /** The consumer thread failed: DEAD for every writer (none waits for it any more), and 'error' here once. */
  private fail(err: unknown): void {
    const ctl = this.ctl;
    // Publishes the death to every writer; they stop waiting for space or flushes.
    const before = Atomics.exchange(ctl, STATE_INDEX, STATE_DEAD);
    // A consumer that had closed properly stays closed (its exit is not a failure).
    if (before === STATE_CLOSED) Atomics.store(ctl, STATE_INDEX, STATE_CLOSED);
    // Ends flushSync/space waits at once (they re-check STATE after every wake).
    if (Atomics.load(ctl, WAITERS_INDEX) > 0) Atomics.notify(ctl, WRITTEN_POS_INDEX);
    if (this.errored || before === STATE_CLOSED) return;
    this.errored = true;
    this.unregister();
    this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * Starts one consumer thread for the whole process and returns this thread's destination stream:
 * `const t = transport({ target: 'pino/file', options: { destination: '/var/log/app.log' } });
 * const log = pino(t);` and, in any worker, `pino(destination(t.share))`. The options are
 * pino.transport()'s (target | targets | pipeline, options, levels, dedupe, worker, caller) plus the
 * ring's own.
 * @throws RingBufError `ERR_RINGBUF_ARGUMENT` for bad options or a target that cannot be resolved,
 *   `ERR_RINGBUF_SIZE` for a bad ringSize.
 */
export function transport(options: TransportOptions): TransportStream {
  // Called here, directly: pino's getCallers() skips itself and its caller (this function).
  const callers = getCallers();
  const { ringSize, ...settings } = ringOptions(options);
  const resolved = resolveTargets(options, callers);
  const ring = RingBuffer.create({ size: ringSize });
  const share: PinoShare = { ring: ring.share(), control: new SharedArrayBuffer(CONTROL_BYTES), ...settings };
  const { worker = {} } = options;
  const stream = new TransportStream(share, { share, module: resolved.module, workerData: resolved.options }, worker);
  if (resolved.usesMultistream)
    (stream as unknown as Record<symbol, boolean>)[pinoSymbols.transportUsesMultistreamSym] = true;
  return stream;
}

/**
 * transport()'s ring options, defaults applied and checked (untrusted: read as `unknown`).
 * @throws RingBufError as transport().
 */
function ringOptions(options: unknown): Omit<PinoShare, 'ring' | 'control'> & { ringSize: number } {
  if (options === null || typeof options !== 'object')
    throw new RingBufError('ERR_RINGBUF_ARGUMENT', 'transport() needs an options object');
  const raw: { [K in keyof TransportOptions]?: unknown } = options;
  const {
    ringSize = DEFAULT_RING_SIZE,
    onFull = 'block',
    blockMs = 1000,
    flushMs = 10_000,
    deadAfterMs = HEARTBEAT_STALL_MS,
  } = raw;
  if (typeof ringSize !== 'number' || !isValidRingSize(ringSize)) {
    throw new RingBufError(
      'ERR_RINGBUF_SIZE',
      `ringSize must be a power of two, a multiple of 4096, at most 2^30; got ${describeValue(ringSize)}`,
    );
  }
  if (onFull !== 'block' && onFull !== 'drop')
    throw new RingBufError('ERR_RINGBUF_ARGUMENT', `onFull must be 'block' or 'drop', got ${describeValue(onFull)}`);
  // Checked in this order (an object literal's properties are evaluated in order).
  const times = {
    blockMs: checkMs('blockMs', blockMs),
    flushMs: checkMs('flushMs', flushMs),
    deadAfterMs: checkMs('deadAfterMs', deadAfterMs),
  };
  const partBytes = raw.partBytes ?? (ringSize >> 2) - 16;
  if (typeof partBytes !== 'number' || !Number.isInteger(partBytes) || partBytes < 1)
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      `partBytes must be a positive integer, got ${describeValue(partBytes)}`,
    );
  return { ringSize, onFull, ...times, partBytes };
}

/** A time option of transport(): a number of ms from 0 to 2^31 - 1. @throws RingBufError `ERR_RINGBUF_ARGUMENT`. */
function checkMs(name: string, ms: unknown): number {
  if (typeof ms !== 'number' || !(ms >= 0) || ms > 2 ** 31 - 1)
    throw new RingBufError(
      'ERR_RINGBUF_ARGUMENT',
      `${name} must be a number of ms from 0 to 2^31 - 1, got ${describeValue(ms)}`,
    );
  return ms;
}
