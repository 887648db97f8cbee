/**
 * The consumer worker: the one thread that consumes. Started by `ConsumerRuntime.start`; not meant to
 * be imported.
 *
 * It attaches the rings (sharing one wake word when there are several), loads the handler module,
 * reports 'ready', and then runs one synchronous loop until a stop request, a negative handler
 * result, or a handler error under onHandlerError 'stop':
 *
 *   pass:  read the STOP word; consume each ring (libbpf's ringbuf_process_ring via Consumer, at most
 *          `batch` records per ring per pass); publish the stats block (seqlock, plain stores);
 *   idle:  nothing moved in the pass -> by wait policy: 'busy' loops, {spin} loops `spin` times, then
 *          sleep: announce SLEEPING on the wake word, re-check every ring's head and the STOP word
 *          (the Dekker re-check: a producer or stop() that acted before our announcement is seen
 *          here, one that acts after it sees SLEEPING and notifies), then Atomics.wait.
 *          - every ring empty (producer_pos == consumer_pos): wait without a timeout. Only a commit
 *            that the kernel's rule says wakes (consumer_pos == the record's offset, or
 *            FORCE_WAKEUP), or stop(), ends it; NO_WAKEUP commits leave it asleep, as the kernel's
 *            selftest requires.
 *          - a ring's head record is BUSY (reserved, not committed): its committer wakes us by the
 *            same rule, since consumer_pos is exactly its offset. A NO_WAKEUP commit of that head
 *            would not, so this wait is bounded by `busyHeadWaitMs` (default 1 ms): a safety net,
 *            not the mechanism. The kernel's level-triggered epoll would spin here instead.
 *   drain: stop({ drain: true }) records each ring's producer_pos when the worker first sees the
 *          request, then keeps passing and sleeping (the sleep bounded by the deadline) until every
 *          ring's consumer_pos has reached that target ('drained') or the deadline passes
 *          ('deadline'). Then it counts exactly what is left behind (left-behind.ts).
 *
 * Who writes what: this worker writes consumer_pos of each ring (through Consumer), the wake word
 * (announce/cancel), the STATE word and the whole stats block. The main thread writes STOP and the
 * drain timeout.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer, announceSleep, cancelSleep, layout, posDiff, posMax, sleep } from '@ringbuf/core';
import { Consumer, type SampleCallback } from '../consumer.js';
import { OrderingVerifier } from '../verifier.js';
import { LatencyRecorder } from '../latency.js';
import { childLogger, type LogLevel } from '@ringbuf/instrument/log';
import { countLeftBehind } from './left-behind.js';
import type { HandlerFailure } from './errors.js';
import { serializeError, type RingReport, type RuntimeReport, type StopReason, type WorkerInit, type WorkerMessage } from './protocol.js';
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

const { BUSY_BIT_I32, CONS_POS_INDEX, PROD_POS_INDEX, headerIndex } = layout;

/** A handler module's shape: `handle` or `default`, optional `init(options)` and `close()`. */
interface HandlerModule {
  handle?: unknown;
  default?: unknown;
  init?: unknown;
  close?: unknown;
}

/** Head states of a ring, for the sleep decision. */
const HEAD_EMPTY = 0;
const HEAD_READY = 1;
const HEAD_BUSY = 2;

const init = workerData as WorkerInit;
const port = parentPort!;
const log = childLogger({ component: 'consumer-runtime', runtime: init.runtimeId }, init.logLevel as LogLevel | undefined);

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

async function loadHandler(spec: string | undefined, options: unknown): Promise<{ handle: SampleCallback | undefined; close: (() => unknown) | undefined }> {
  if (spec === undefined) return { handle: undefined, close: undefined };
  // The main thread already turned paths into file URLs.
  const mod = (await import(spec)) as HandlerModule;
  const handle = typeof mod.handle === 'function' ? mod.handle : mod.default;
  if (typeof handle !== 'function') {
    throw Object.assign(new Error(`handler module ${spec} exports no 'handle' or default function`), { code: 'ERR_RUNTIME_HANDLER_MODULE' });
  }
  if (typeof mod.init === 'function') await (mod.init as (o: unknown) => unknown)(options);
  const close = typeof mod.close === 'function' ? (mod.close as () => unknown) : undefined;
  return { handle: handle as SampleCallback, close };
}

async function main(): Promise<void> {
  let rings: RingBuffer[];
  let maybeConsumer: Consumer | undefined;
  let handler: Awaited<ReturnType<typeof loadHandler>>;
  const verifier =
    init.verify === undefined
      ? undefined
      : new OrderingVerifier({
          ...init.verify,
          // Called on violations only: the record being delivered sits exactly at consumer_pos.
          positionOf: (ring) => Atomics.load(rings[ring]!.i32, CONS_POS_INDEX) >>> 0,
        });
  const latency = init.latency ? new LatencyRecorder() : undefined;
  const control = new Int32Array(init.control);
  const controlF64 = new Float64Array(init.control);
  const statsI32 = new Int32Array(init.stats);
  const stats = new Float64Array(init.stats);
  let handlerErrors = 0;
  let firstHandlerError: HandlerFailure | undefined;
  let failure: HandlerFailure | undefined;

  try {
    rings = init.rings.map((share) => RingBuffer.attach(share));
    handler = await loadHandler(init.handler, init.handlerOptions);
    const handle = handler.handle;
    const countErrors = init.onHandlerError === 'count';

    const describe = (err: unknown, ring: number, size: number): HandlerFailure => {
      const e = serializeError(err);
      // Observes our own consumer_pos: the failing record's header position (stored after the callback).
      const position = Atomics.load(rings[ring]!.i32, CONS_POS_INDEX) >>> 0;
      return { ring, position, size, name: e.name, message: e.message, stack: e.stack };
    };

    const makeCallback = (ring: number): SampleCallback => {
      let lastData: Uint8Array | undefined;
      let view: DataView | undefined;
      const instrumented = verifier !== undefined || latency !== undefined;
      return (data, offset, size) => {
        if (instrumented) {
          // A view per distinct array (the ring's data, or the overwrite walk's private copy): made
          // once, then reused.
          if (data !== lastData) {
            lastData = data;
            view = new DataView(data.buffer, data.byteOffset, data.byteLength);
          }
          latency?.recordRecord(view!, offset, size);
          verifier?.check(view!, offset, size, ring);
        }
        if (handle === undefined) return;
        try {
          return handle(data, offset, size);
        } catch (err) {
          handlerErrors++;
          if (firstHandlerError === undefined) firstHandlerError = describe(err, ring, size);
          if (countErrors) return;
          failure = firstHandlerError;
          return -1;
        }
      };
    };

    maybeConsumer = new Consumer(rings[0]!, makeCallback(0));
    for (let i = 1; i < rings.length; i++) maybeConsumer.add(rings[i]!, makeCallback(i));
  } catch (err) {
    // Frees the consumer slots already taken (a later ring failed).
    maybeConsumer?.close();
    log.error({ err }, 'consumer runtime failed to start');
    post({ type: 'start-failed', error: serializeError(err) });
    return;
  }

  const consumer = maybeConsumer;
  const ringCount = rings.length;
  const wake = consumer.wakeWord;
  const policy = init.wait;
  const spinLimit = policy === 'busy' ? Infinity : policy === 'sleep' ? 0 : policy.spin;
  const batch = init.batch;
  const busyHeadWaitMs = init.busyHeadWaitMs;
  const lastCons = new Int32Array(ringCount);
  const targets = new Int32Array(ringCount);
  let polls = 0;
  let sleeps = 0;
  let wakeups = 0;
  let maxBacklog = 0;
  let idle = 0;
  let stopMode = STOP_NONE;
  let deadline = Infinity;
  let reason: StopReason = 'stopped';
  let handlerResult: number | undefined;

  const backlog = (): number => {
    let total = 0;
    for (let i = 0; i < ringCount; i++) {
      const ring = rings[i]!;
      // Observes positions for AVAIL_DATA (a reporting snapshot, as the kernel's query).
      const cons = Atomics.load(ring.i32, CONS_POS_INDEX);
      const prod = Atomics.load(ring.i32, PROD_POS_INDEX);
      total += (prod - (ring.overwrite ? posMax(cons, ring.overwritePos()) : cons)) >>> 0;
    }
    return total;
  };

  const publishStats = (currentBacklog: number): void => {
    let records = 0;
    let bytes = 0;
    let discarded = 0;
    let busyStalls = 0;
    let lost = 0;
    for (let i = 0; i < ringCount; i++) {
      const c = consumer.ringCounters(i)!;
      records += c.records;
      bytes += c.bytes;
      discarded += c.discarded;
      busyStalls += c.busyStalls;
      lost += c.lost;
    }
    if (currentBacklog > maxBacklog) maxBacklog = currentBacklog;
    // Seqlock open (odd): readers that see it retry; pairs with readStats()'s loads.
    Atomics.add(statsI32, STATS_GEN_INDEX, 1);
    stats[STAT_RECORDS] = records;
    stats[STAT_BYTES] = bytes;
    stats[STAT_DISCARDED] = discarded;
    stats[STAT_POLLS] = polls;
    stats[STAT_SLEEPS] = sleeps;
    stats[STAT_WAKEUPS] = wakeups;
    stats[STAT_BUSY_STALLS] = busyStalls;
    stats[STAT_BACKLOG] = currentBacklog;
    stats[STAT_MAX_BACKLOG] = maxBacklog;
    stats[STAT_HANDLER_ERRORS] = handlerErrors;
    stats[STAT_LOST] = lost;
    stats[STAT_VIOLATIONS] = verifier === undefined ? 0 : verifier.violations;
    stats[STAT_LATENCY_COUNT] = latency === undefined ? 0 : latency.count;
    // Seqlock close (even): publishes the plain stores above; pairs with readStats()'s re-check.
    Atomics.add(statsI32, STATS_GEN_INDEX, 1);
  };

  /** What the head of ring i holds, for the sleep decision. */
  const headState = (i: number): number => {
    const ring = rings[i]!;
    const i32 = ring.i32;
    // Observes our own consumer_pos and the producers' latest reservation.
    const cons = Atomics.load(i32, CONS_POS_INDEX);
    const prod = Atomics.load(i32, PROD_POS_INDEX);
    if (prod === cons) return HEAD_EMPTY;
    if (ring.overwrite && posDiff(ring.overwritePos(), cons) > 0) return HEAD_READY;
    // Observes the head record's commit; pairs with submit/discard's header RMW.
    return (Atomics.load(i32, headerIndex(cons & ring.mask)) & BUSY_BIT_I32) !== 0 ? HEAD_BUSY : HEAD_READY;
  };

  const drainReached = (): boolean => {
    for (let i = 0; i < ringCount; i++) {
      // Observes our own consumer_pos.
      if (posDiff(Atomics.load(rings[i]!.i32, CONS_POS_INDEX), targets[i]!) < 0) return false;
    }
    return true;
  };

  const beginStop = (mode: number): void => {
    stopMode = mode;
    if (mode === STOP_DRAIN) {
      const timeoutMs = controlF64[CTRL_DRAIN_TIMEOUT_F64]!;
      deadline = performance.now() + timeoutMs;
      for (let i = 0; i < ringCount; i++) {
        // Observes every reservation made before the stop request was seen: the drain target.
        targets[i] = Atomics.load(rings[i]!.i32, PROD_POS_INDEX);
      }
      // Publishes the draining state; read by the main thread's `state`.
      Atomics.store(control, CTRL_STATE_INDEX, STATE_DRAINING);
      log.info({ timeoutMs, backlog: backlog() }, 'drain started');
    } else {
      log.info('stop requested');
    }
  };

  // Observes where each ring's consumer_pos starts (a previous consumer may have left it anywhere).
  for (let i = 0; i < ringCount; i++) lastCons[i] = Atomics.load(rings[i]!.i32, CONS_POS_INDEX);
  publishStats(backlog());
  // Publishes "running"; the main thread reads it for `state`.
  Atomics.store(control, CTRL_STATE_INDEX, STATE_RUNNING);
  post({ type: 'ready' });
  log.info({ rings: ringCount, wait: policy, verify: verifier !== undefined, latency: latency !== undefined }, 'consumer runtime running');

  loop: for (;;) {
    if (stopMode === STOP_NONE) {
      // Observes stop()'s request; pairs with its store (made before it wakes us).
      const requested = Atomics.load(control, CTRL_STOP_INDEX);
      if (requested !== STOP_NONE) {
        beginStop(requested);
        if (requested === STOP_NOW) break;
      }
    }
    polls++;
    const before = backlog();
    if (before > maxBacklog) maxBacklog = before;
    let moved = false;
    for (let i = 0; i < ringCount; i++) {
      const res = consumer.consumeRing(i, batch);
      if (res < 0) {
        if (failure !== undefined) {
          reason = 'handler-error';
        } else {
          reason = 'handler-stop';
          handlerResult = res;
        }
        break loop;
      }
      // Observes our own consumer_pos: did this pass move (deliver or skip a discarded record)?
      const cons = Atomics.load(rings[i]!.i32, CONS_POS_INDEX);
      if (cons !== lastCons[i]) {
        lastCons[i] = cons;
        moved = true;
      }
    }
    publishStats(backlog());
    if (stopMode === STOP_DRAIN) {
      if (drainReached()) {
        reason = 'drained';
        break;
      }
      if (performance.now() >= deadline) {
        reason = 'deadline';
        break;
      }
    }
    if (moved) {
      idle = 0;
      continue;
    }
    if (idle < spinLimit) {
      idle++;
      continue;
    }
    idle = 0;
    // Sleep: announce, then re-check every head and the STOP word (see the header comment).
    announceSleep(wake);
    let timeout = Infinity;
    let ready = false;
    for (let i = 0; i < ringCount && !ready; i++) {
      const state = headState(i);
      if (state === HEAD_READY) ready = true;
      else if (state === HEAD_BUSY) timeout = busyHeadWaitMs;
    }
    // Observes a stop request made before our announcement; pairs with stop()'s store.
    if (stopMode === STOP_NONE && Atomics.load(control, CTRL_STOP_INDEX) !== STOP_NONE) ready = true;
    if (stopMode === STOP_DRAIN) {
      const left = deadline - performance.now();
      if (left <= 0) ready = true;
      else if (left < timeout) timeout = left;
    }
    if (ready) {
      cancelSleep(wake);
      continue;
    }
    sleeps++;
    // Readers see the sleep while it lasts (the counters are otherwise published once per pass).
    publishStats(backlog());
    const result = sleep(wake, timeout);
    cancelSleep(wake);
    if (result !== 'timed-out') wakeups++;
  }

  // ---- exit: count what is left, close, report ----
  const ringReports: RingReport[] = [];
  let delivered = 0;
  let leftCommitted = 0;
  let leftBusy = 0;
  for (let i = 0; i < ringCount; i++) {
    const c = consumer.ringCounters(i)!;
    const leftBehind = countLeftBehind(rings[i]!);
    delivered += c.records;
    leftCommitted += leftBehind.committed;
    leftBusy += leftBehind.busy;
    ringReports.push({ delivered: c.records, bytes: c.bytes, discarded: c.discarded, lost: c.lost, leftBehind });
  }
  publishStats(backlog());
  consumer.close();
  let handlerClose: unknown;
  if (handler.close !== undefined) {
    try {
      handlerClose = await handler.close();
    } catch (err) {
      log.warn({ err }, 'handler close() threw');
    }
  }
  const report: RuntimeReport = {
    reason,
    delivered,
    leftBehind: leftCommitted + leftBusy,
    leftBehindCommitted: leftCommitted,
    leftBehindBusy: leftBusy,
    rings: ringReports,
    stats: readStats(init.stats),
  };
  if (handlerResult !== undefined) report.handlerResult = handlerResult;
  if (firstHandlerError !== undefined) report.firstHandlerError = firstHandlerError;
  if (verifier !== undefined) report.verifier = verifier.report();
  if (latency !== undefined) report.latency = latency.report();
  if (handlerClose !== undefined) report.handlerClose = handlerClose;
  const logFields = { reason, delivered, leftBehind: report.leftBehind, polls, sleeps, wakeups };
  if (report.leftBehind > 0 || reason === 'handler-error') log.warn(logFields, 'consumer runtime stopped with records left behind');
  else log.info(logFields, 'consumer runtime stopped');
  // Publishes "exited"; read by the main thread's `state`.
  Atomics.store(control, CTRL_STATE_INDEX, STATE_EXITED);
  post(failure === undefined ? { type: 'done', report } : { type: 'done', report, failure });
}

await main();
