/**
 * The consumer worker: the one thread that consumes. Started by `ConsumerRuntime.start`; not meant to
 * be imported.
 *
 * It attaches the rings (sharing one wake word when there are several), loads the handler module,
 * reports 'ready', and then runs one synchronous loop until a stop request, a negative handler
 * result, a handler error under onHandlerError 'stop', or a corrupt ring:
 *
 *   pass:  read the STOP word; consume each ring (libbpf's ringbuf_process_ring via Consumer, at most
 *          `batch` records per ring per pass); publish the stats block (seqlock, plain stores);
 *   idle:  nothing moved in the pass -> by wait policy: 'busy' loops, {spin} loops `spin` times, then
 *          sleep (wait.ts): announce SLEEPING on the wake word, re-check every ring's head and the
 *          STOP word (the Dekker re-check: a producer or stop() that acted before our announcement
 *          is seen here, one that acts after it sees SLEEPING and notifies), then Atomics.wait.
 *          - every ring empty (producer_pos == consumer_pos): wait without a timeout. Only a commit
 *            that the kernel's rule says wakes (consumer_pos == the record's offset, or
 *            FORCE_WAKEUP), or stop(), ends it; NO_WAKEUP commits leave it asleep, as the kernel's
 *            selftest requires.
 *          - a ring's head record is BUSY (reserved, not committed): its committer wakes us by the
 *            same rule, since consumer_pos is exactly its offset. A NO_WAKEUP commit of that head
 *            would not, so this wait is bounded by `busyHeadWaitMs` (default BUSY_HEAD_WAIT_MS,
 *            1 ms): a safety net, not the mechanism. The kernel's level-triggered epoll would spin
 *            here instead.
 *   drain: stop({ drain: true }) records each ring's producer_pos when the worker first sees the
 *          request, then keeps passing and sleeping (the sleep bounded by the deadline) until every
 *          ring's consumer_pos has reached that target ('drained') or the deadline passes
 *          ('deadline'). Then it counts exactly what is left behind (left-behind.ts).
 *   corrupt: a walk that throws RingBufCorruptionError ends the loop (reason 'corrupt'); the report
 *          says which ring and where, and the main thread rejects `done` with it.
 *
 * Who writes what: this worker writes consumer_pos and the consumer heartbeat of each ring (through
 * Consumer: every pass, and every HEARTBEAT_IDLE_MS of a sleep), the wake word (announce/cancel),
 * the STATE word and the whole stats block. The main thread writes STOP and the
 * drain timeout.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BPF_RINGBUF_HDR_SZ, monotonicMs, posDiff, posMax, RingBufCorruptionError, RingBuffer } from '@ringbuf/core';
import { childLogger, type LogLevel } from '@ringbuf/instrument/log';
import { Consumer, type SampleCallback } from '../consumer.js';
import { LatencyRecorder } from '../latency.js';
import { OrderingVerifier } from '../verifier.js';
import { WAITED_WOKEN, WAIT_NOW, ringsBound, waitForWork, type WorkCheck } from '../wait.js';
import { countLeftBehind } from './left-behind.js';
import {
  serializeError,
  type CorruptionFailure,
  type HandlerFailure,
  type RingReport,
  type RuntimeReport,
  type StopReason,
  type WorkerInit,
  type WorkerMessage,
} from './protocol.js';
import {
  CTRL_DRAIN_TIMEOUT_F64,
  CTRL_STATE_INDEX,
  CTRL_STOP_INDEX,
  STATE_DRAINING,
  STATE_EXITED,
  STATE_RUNNING,
  STATS_GEN_INDEX,
  STAT_BACKLOG,
  STAT_BUSY_STALLS,
  STAT_BYTES,
  STAT_DISCARDED,
  STAT_HANDLER_ERRORS,
  STAT_LATENCY_COUNT,
  STAT_LOST,
  STAT_MAX_BACKLOG,
  STAT_POLLS,
  STAT_RECORDS,
  STAT_SLEEPS,
  STAT_VIOLATIONS,
  STAT_WAKEUPS,
  STOP_DRAIN,
  STOP_NONE,
  STOP_NOW,
} from './stats-layout.js';
import { readStats } from './stats.js';

/** A handler module's shape: `handle` or `default`, optional `init(options)` and `close()`. */
interface HandlerModule {
  handle?: unknown;
  default?: unknown;
  init?: unknown;
  close?: unknown;
}

interface LoadedHandler {
  handle: SampleCallback | undefined;
  close: (() => unknown) | undefined;
}

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('the consumer runtime worker must run as a worker thread');
const log = childLogger(
  { component: 'consumer-runtime', runtime: init.runtimeId },
  init.logLevel as LogLevel | undefined,
);

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

async function loadHandler(spec: string | undefined, options: unknown): Promise<LoadedHandler> {
  if (spec === undefined) return { handle: undefined, close: undefined };
  // The main thread already turned paths into file URLs.
  const mod = (await import(spec)) as HandlerModule;
  const handle = typeof mod.handle === 'function' ? mod.handle : mod.default;
  if (typeof handle !== 'function') {
    throw Object.assign(new Error(`handler module ${spec} exports no 'handle' or default function`), {
      code: 'ERR_RUNTIME_HANDLER_MODULE',
    });
  }
  if (typeof mod.init === 'function') await (mod.init as (o: unknown) => unknown)(options);
  const close = typeof mod.close === 'function' ? (mod.close as () => unknown) : undefined;
  return { handle: handle as SampleCallback, close };
}

/** What the handler did wrong so far (shared by every ring's callback). */
class HandlerErrors {
  count = 0;
  first: HandlerFailure | undefined;
  /** Set under onHandlerError 'stop': the failure that ends the loop. */
  fatal: HandlerFailure | undefined;
}

/** Everything setup() builds for the loop. */
interface Setup {
  rings: RingBuffer[];
  consumer: Consumer;
  handler: LoadedHandler;
  verifier: OrderingVerifier | undefined;
  latency: LatencyRecorder | undefined;
  errors: HandlerErrors;
}

/** Logical position of ring `i`'s consumer_pos (unsigned): the record being delivered sits there. */
function positionOf(rings: readonly RingBuffer[], i: number): number {
  return (rings[i]?.consumerPos() ?? 0) >>> 0;
}

/**
 * The callback for ring `ring`: verifier and latency on instrumented records, then the handler,
 * whose throws are counted (onHandlerError 'count') or end the loop ('stop').
 */
function makeCallback(s: Omit<Setup, 'consumer'>, ring: number, countErrors: boolean): SampleCallback {
  const { rings, handler, verifier, latency, errors } = s;
  const handle = handler.handle;
  const instrumented = verifier !== undefined || latency !== undefined;
  let lastData: Uint8Array | undefined;
  let view: DataView = new DataView(new ArrayBuffer(0));
  // The header's owner word is checked against the payload's producer id where the record is read
  // in place; an overwrite ring's records arrive as private copies, without their header.
  const source = rings[ring];
  const ownerFrom = source !== undefined && !source.overwrite ? source : undefined;
  return (data, offset, size) => {
    if (instrumented) {
      // A view per distinct array (the ring's data, or the overwrite walk's private copy): made
      // once, then reused.
      if (data !== lastData) {
        lastData = data;
        view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      }
      latency?.recordRecord(view, offset, size);
      verifier?.check(view, offset, size, ring, ownerFrom?.headerOwnerAt(offset - BPF_RINGBUF_HDR_SZ));
    }
    if (handle === undefined) return;
    try {
      return handle(data, offset, size);
    } catch (err) {
      errors.count++;
      if (errors.first === undefined) {
        const e = serializeError(err);
        // consumer_pos is still the failing record's header position (stored after the callback).
        errors.first = {
          ring,
          position: positionOf(rings, ring),
          size,
          name: e.name,
          message: e.message,
          stack: e.stack,
        };
      }
      if (countErrors) return;
      errors.fatal = errors.first;
      return -1;
    }
  };
}

/** Step 1: attach, load the handler, claim the rings. Posts 'start-failed' and returns undefined on failure. */
async function setup(): Promise<Setup | undefined> {
  let consumer: Consumer | undefined;
  try {
    const rings = init.rings.map((share) => RingBuffer.attach(share));
    const verifier =
      init.verify === undefined
        ? undefined
        : new OrderingVerifier({
            ...init.verify,
            // Called on violations only: the record being delivered sits exactly at consumer_pos.
            positionOf: (ring) => positionOf(rings, ring),
          });
    const latency = init.latency ? new LatencyRecorder(init.latencyWarmupUs) : undefined;
    const handler = await loadHandler(init.handler, init.handlerOptions);
    const partial = { rings, handler, verifier, latency, errors: new HandlerErrors() };
    const countErrors = init.onHandlerError === 'count';
    rings.forEach((ring, i) => {
      const callback = makeCallback(partial, i, countErrors);
      if (consumer === undefined) consumer = new Consumer(ring, callback);
      else consumer.add(ring, callback);
    });
    if (consumer === undefined) throw new Error('the consumer runtime got no rings');
    return { ...partial, consumer };
  } catch (err) {
    // Frees the consumer slots already taken (a later ring failed).
    consumer?.close();
    // Not 'error': start() rejects with it, and its caller reports it (once).
    log.info({ err }, 'consumer runtime failed to start');
    post({ type: 'start-failed', error: serializeError(err) });
    return undefined;
  }
}

/**
 * Steps 2-5: the loop, its sleep, the drain check, the exit report. One object per worker; every
 * pass runs on its fields and methods, allocation-free.
 */
class ConsumerLoop implements WorkCheck {
  private readonly rings: RingBuffer[];
  private readonly consumer: Consumer;
  private readonly ringCount: number;
  private readonly control = new Int32Array(init.control);
  private readonly controlF64 = new Float64Array(init.control);
  private readonly statsI32 = new Int32Array(init.stats);
  private readonly stats = new Float64Array(init.stats);
  private readonly spinLimit: number;
  private readonly lastCons: Int32Array;
  private readonly targets: Int32Array;
  private polls = 0;
  private sleeps = 0;
  private wakeups = 0;
  private maxBacklog = 0;
  private idle = 0;
  private stopMode = STOP_NONE;
  private deadline = Infinity;
  private reason: StopReason = 'stopped';
  private handlerResult: number | undefined;
  private corruption: CorruptionFailure | undefined;

  constructor(private readonly s: Setup) {
    this.rings = s.rings;
    this.consumer = s.consumer;
    this.ringCount = s.rings.length;
    const policy = init.wait;
    this.spinLimit = policy === 'busy' ? Infinity : policy === 'sleep' ? 0 : policy.spin;
    this.lastCons = new Int32Array(this.ringCount);
    this.targets = new Int32Array(this.ringCount);
  }

  /** Step 2: the loop, until a stop, a handler's stop or failure, or a corrupt ring. */
  run(): void {
    // Where each ring's consumer_pos starts (a previous consumer may have left it anywhere).
    this.rings.forEach((ring, i) => (this.lastCons[i] = ring.consumerPos()));
    this.publishStats(this.backlog());
    // Publishes "running"; the main thread reads it for `state`.
    Atomics.store(this.control, CTRL_STATE_INDEX, STATE_RUNNING);
    post({ type: 'ready' });
    log.info(
      {
        rings: this.ringCount,
        wait: init.wait,
        verify: this.s.verifier !== undefined,
        latency: this.s.latency !== undefined,
      },
      'consumer runtime running',
    );
    for (;;) {
      if (this.stopMode === STOP_NONE) {
        // Observes stop()'s request; pairs with its store (made before it wakes us).
        const requested = Atomics.load(this.control, CTRL_STOP_INDEX);
        if (requested !== STOP_NONE) {
          this.beginStop(requested);
          if (requested === STOP_NOW) return;
        }
      }
      const moved = this.pass();
      if (moved === undefined) return;
      this.publishStats(this.backlog());
      if (this.stopMode === STOP_DRAIN && this.drainOver()) return;
      if (moved) {
        this.idle = 0;
        continue;
      }
      if (this.idle < this.spinLimit) {
        this.idle++;
        continue;
      }
      this.idle = 0;
      this.sleep();
    }
  }

  /**
   * One pass over every ring. Returns whether any consumer_pos moved (a record delivered or a
   * discarded one skipped), or undefined when the loop must end (reason set).
   */
  private pass(): boolean | undefined {
    this.polls++;
    const before = this.backlog();
    if (before > this.maxBacklog) this.maxBacklog = before;
    let moved = false;
    for (let i = 0; i < this.ringCount; i++) {
      let res: number;
      try {
        res = this.consumer.consumeRing(i, init.batch);
      } catch (err) {
        if (!(err instanceof RingBufCorruptionError)) throw err;
        this.reason = 'corrupt';
        this.corruption = { ring: i, position: err.position, message: err.message };
        return undefined;
      }
      if (res < 0) {
        if (this.s.errors.fatal !== undefined) {
          this.reason = 'handler-error';
        } else {
          this.reason = 'handler-stop';
          this.handlerResult = res;
        }
        return undefined;
      }
      const cons = this.rings[i]?.consumerPos() ?? 0;
      if (cons !== this.lastCons[i]) {
        this.lastCons[i] = cons;
        moved = true;
      }
    }
    return moved;
  }

  /** Step 3: the sleep (wait.ts), with this object as the re-check. */
  private sleep(): void {
    if (waitForWork(this.consumer.wakeWord, this, Infinity) === WAITED_WOKEN) this.wakeups++;
  }

  /** The Dekker re-check after announcing: any ready head, a stop request, the drain deadline. */
  recheck(): number {
    let bound = ringsBound(this.rings, init.busyHeadWaitMs);
    if (bound === WAIT_NOW) return WAIT_NOW;
    // Observes a stop request made before our announcement; pairs with stop()'s store.
    if (this.stopMode === STOP_NONE && Atomics.load(this.control, CTRL_STOP_INDEX) !== STOP_NONE) return WAIT_NOW;
    if (this.stopMode === STOP_DRAIN) {
      const left = this.deadline - monotonicMs();
      if (left <= 0) return WAIT_NOW;
      if (left < bound) bound = left;
    }
    return bound;
  }

  onSleep(): void {
    this.sleeps++;
    // Readers see the sleep while it lasts (the counters are otherwise published once per pass).
    this.publishStats(this.backlog());
  }

  /** The heartbeat while asleep: before the sleep and every HEARTBEAT_IDLE_MS of it (wait.ts). */
  beat(): void {
    this.consumer.heartbeat();
  }

  /** stop() seen: for a drain, the targets (every reservation made before it) and the deadline. */
  private beginStop(mode: number): void {
    this.stopMode = mode;
    if (mode !== STOP_DRAIN) {
      log.info('stop requested');
      return;
    }
    const timeoutMs = this.controlF64[CTRL_DRAIN_TIMEOUT_F64] ?? 0;
    this.deadline = monotonicMs() + timeoutMs;
    // The drain targets: every reservation made before the stop request was seen.
    this.rings.forEach((ring, i) => (this.targets[i] = ring.producerPos()));
    // Publishes the draining state; read by the main thread's `state`.
    Atomics.store(this.control, CTRL_STATE_INDEX, STATE_DRAINING);
    log.info({ timeoutMs, backlog: this.backlog() }, 'drain started');
  }

  /** Step 4, the drain check: every ring reached its target ('drained'), or the deadline passed. */
  private drainOver(): boolean {
    let reached = true;
    for (let i = 0; i < this.ringCount && reached; i++) {
      if (posDiff(this.rings[i]?.consumerPos() ?? 0, this.targets[i] ?? 0) < 0) reached = false;
    }
    if (reached) {
      this.reason = 'drained';
      return true;
    }
    if (monotonicMs() >= this.deadline) {
      this.reason = 'deadline';
      return true;
    }
    return false;
  }

  /** Unconsumed bytes over all rings (AVAIL_DATA: a reporting snapshot, as the kernel's query). */
  private backlog(): number {
    let total = 0;
    for (const ring of this.rings) {
      const cons = ring.consumerPos();
      total += (ring.producerPos() - (ring.overwrite ? posMax(cons, ring.overwritePos()) : cons)) >>> 0;
    }
    return total;
  }

  private publishStats(currentBacklog: number): void {
    let records = 0;
    let bytes = 0;
    let discarded = 0;
    let busyStalls = 0;
    let lost = 0;
    for (let i = 0; i < this.ringCount; i++) {
      const c = this.consumer.ringCounters(i);
      if (c === undefined) continue;
      records += c.records;
      bytes += c.bytes;
      discarded += c.discarded;
      busyStalls += c.busyStalls;
      lost += c.lost;
    }
    if (currentBacklog > this.maxBacklog) this.maxBacklog = currentBacklog;
    const { stats, s } = this;
    // Seqlock open (odd): readers that see it retry; pairs with readStats()'s loads.
    Atomics.add(this.statsI32, STATS_GEN_INDEX, 1);
    stats[STAT_RECORDS] = records;
    stats[STAT_BYTES] = bytes;
    stats[STAT_DISCARDED] = discarded;
    stats[STAT_POLLS] = this.polls;
    stats[STAT_SLEEPS] = this.sleeps;
    stats[STAT_WAKEUPS] = this.wakeups;
    stats[STAT_BUSY_STALLS] = busyStalls;
    stats[STAT_BACKLOG] = currentBacklog;
    stats[STAT_MAX_BACKLOG] = this.maxBacklog;
    stats[STAT_HANDLER_ERRORS] = s.errors.count;
    stats[STAT_LOST] = lost;
    stats[STAT_VIOLATIONS] = s.verifier === undefined ? 0 : s.verifier.violations;
    stats[STAT_LATENCY_COUNT] = s.latency === undefined ? 0 : s.latency.count;
    // Seqlock close (even): publishes the plain stores above; pairs with readStats()'s re-check.
    Atomics.add(this.statsI32, STATS_GEN_INDEX, 1);
  }

  /** Step 5, the exit report: count what is left, close, report. */
  async exit(): Promise<void> {
    const { s } = this;
    const ringReports: RingReport[] = this.rings.map((ring, i) => {
      const c = this.consumer.ringCounters(i) ?? { records: 0, bytes: 0, discarded: 0, lost: 0 };
      return {
        delivered: c.records,
        bytes: c.bytes,
        discarded: c.discarded,
        lost: c.lost,
        leftBehind: countLeftBehind(ring),
      };
    });
    const delivered = ringReports.reduce((sum, r) => sum + r.delivered, 0);
    const leftCommitted = ringReports.reduce((sum, r) => sum + r.leftBehind.committed, 0);
    const leftBusy = ringReports.reduce((sum, r) => sum + r.leftBehind.busy, 0);
    this.publishStats(this.backlog());
    this.consumer.close();
    let handlerClose: unknown;
    if (s.handler.close !== undefined) {
      try {
        handlerClose = await s.handler.close();
      } catch (err) {
        log.warn({ err }, 'handler close() threw');
      }
    }
    const report: RuntimeReport = {
      reason: this.reason,
      delivered,
      leftBehind: leftCommitted + leftBusy,
      leftBehindCommitted: leftCommitted,
      leftBehindBusy: leftBusy,
      rings: ringReports,
      stats: readStats(init.stats),
    };
    if (this.handlerResult !== undefined) report.handlerResult = this.handlerResult;
    if (s.errors.first !== undefined) report.firstHandlerError = s.errors.first;
    if (s.verifier !== undefined) report.verifier = s.verifier.report();
    if (s.latency !== undefined) report.latency = s.latency.report();
    if (handlerClose !== undefined) report.handlerClose = handlerClose;
    const { reason, polls, sleeps, wakeups, corruption } = this;
    const logFields = { reason, delivered, leftBehind: report.leftBehind, polls, sleeps, wakeups };
    if (corruption !== undefined)
      log.error({ ...logFields, corruption }, 'consumer runtime stopped: a ring is corrupt');
    else if (report.leftBehind > 0 || reason === 'handler-error')
      log.warn(logFields, 'consumer runtime stopped with records left behind');
    else log.info(logFields, 'consumer runtime stopped');
    // Publishes "exited"; read by the main thread's `state`.
    Atomics.store(this.control, CTRL_STATE_INDEX, STATE_EXITED);
    const message: WorkerMessage = { type: 'done', report };
    if (s.errors.fatal !== undefined) message.failure = s.errors.fatal;
    if (corruption !== undefined) message.corruption = corruption;
    post(message);
  }
}

const ready = await setup();
if (ready !== undefined) {
  const loop = new ConsumerLoop(ready);
  loop.run();
  await loop.exit();
}
