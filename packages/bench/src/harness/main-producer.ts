/**
 * The user-ring group's runs: the main thread produces, one worker consumes. The threaded harness
 * (threaded.ts) samples its counters from main's event loop while workers produce; here main is the
 * producer, so it measures its own windows: it produces in a tight loop, reading the clock every
 * CLOCK_EVERY records, and reads the consumer's hit count at each window's edges. Warm-up, the
 * settle phase (each thread collects its start-up garbage once) and GC counting are as in
 * threaded.ts; main's own GC events are counted too (role 'producer-main').
 *
 * - impl 'user-ring': a UserRingBuffer; main reserve (or reserveBlocking) + 16-byte fill + submit
 *   (with `exclusive`, holding the ring: no lock round), workers/user-ring.ts drains.
 * - impl 'postMessage': main posts one 16-byte Uint8Array per message to the peers' postMessage
 *   consumer, at most 4096 in flight (flow control through its hit count).
 * - impl 'ringbuf.js': main pushes one 16-byte item per push to the peers' busy-polling consumer.
 * - measure 'blocked-wake': main fills the ring and blocks in reserveBlocking; the worker wakes it
 *   with a drain; alternately the raw wait/notify floor between the same two threads.
 * Thread: main.
 */
import {
  PerformanceObserver,
  constants as perfConstants,
  createHistogram,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel, Worker } from 'node:worker_threads';
import { UserRingBuffer, monotonicMs } from '@ringbuf/core';
import { summarize } from '@ringbuf/consumer';
import { clockMicros } from '@ringbuf/instrument';
import type { Logger, LogLevel } from '@ringbuf/instrument/log';
import { RingBuffer as RbjsRing } from 'ringbuf.js';
import { createControl } from './control.js';
import { payloadFiller } from './fill.js';
import {
  FLOOR_BYTES,
  FLOOR_FLAG_INDEX,
  FLOOR_READY_INDEX,
  FLOOR_SEND_F64,
  HITS_INDEX,
  PHASE_DONE,
  PHASE_INDEX,
  PHASE_MEASURE,
  PHASE_SETTLE,
} from './layout.js';
import {
  SETTLE_MS,
  addReports,
  finishResult,
  startThreads,
  stopThreads,
  watchWorker,
  whenSettled,
  windowRate,
  type GcEvents,
  type Measured,
} from './lifecycle.js';
import { FLOOR_SETTLE_US } from './wake-floor.js';
import type {
  BlockedWake,
  ScenarioResult,
  ThreadedScenario,
  Timing,
  WindowSample,
  WorkerReport,
} from '../scenarios/types.js';

const USER_RING_URL = new URL('../workers/user-ring.js', import.meta.url);
const POSTMESSAGE_URL = new URL('../peers/postmessage.js', import.meta.url);
const RINGBUFJS_URL = new URL('../peers/ringbufjs.js', import.meta.url);
/**
 * Records between two clock reads of the producing loop (one batch call): some 0.1-0.5 ms of
 * producing, so that a window of 200 ms ends within 0.5 % of its length, and a clock read the JIT
 * did not inline whole (64 bytes: process.hrtime's array) costs at most some 0.5 MB/s even when
 * every record is a 30 ns drop, well under what the young generation holds over the windows.
 */
const CLOCK_EVERY = 4096;
/** postMessage: records in flight at most (the peers' default). */
const WINDOW_RECORDS = 4096;
/** reserveBlocking's timeout in the throughput runs: a drainer that died must not hang the bench. */
const BLOCKING_TIMEOUT_MS = 1000;

setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

/** Main's GC events: [start on the process-wide clock in µs, duration in ms], forced ones left out. */
class MainGc {
  readonly events: Array<[number, number]> = [];
  private readonly offsetUs = clockMicros() - performance.now() * 1000;
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (!forced(e)) this.events.push([e.startTime * 1000 + this.offsetUs, e.duration]);
  });
  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }
  /** Lets pending entries arrive (they are delivered on the event loop), then stops observing. */
  async close(): Promise<void> {
    await delay(30);
    this.observer.disconnect();
  }
}

function forced(entry: PerformanceEntry): boolean {
  const flags = (entry as PerformanceEntry & { detail?: { flags?: number } }).detail?.flags ?? 0;
  return (flags & perfConstants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0;
}

/**
 * `n` records of the producing loop, in a loop of each impl's own (never a shared per-record
 * callback); returns how many were drops. Why a batch: the loop that calls it reads the clock, and
 * that read allocates unless the JIT inlines the whole clock (process.hrtime and its array) into
 * that loop, which it did not once a record's reserve + fill + submit had used its inlining budget
 * (measured: 2 to 8 MB/s of garbage on main with a clock read every 256 records, scavenges in the
 * windows); kept apart, and read every CLOCK_EVERY records, it costs little even when it is not. A per-record
 * `produce()` called from one shared loop also made that call site see every impl's callback in
 * turn (the closures of one literal share their feedback across runs), so after the first rows no
 * impl's record was inlined into it: each peer's loop is now its own function, optimized alone.
 */
type Batch = (n: number) => number;

/** The main thread's side of a run: its consumer worker and its producing loop. */
interface MainSide {
  worker: Worker;
  batch: Batch;
  /** Called repeatedly while stopping: wakes a drainer asleep. */
  wakeWorker: () => void;
  /** Whether the worker is an event-loop worker told to stop by a message. */
  stopByMessage: boolean;
  /** user-ring's ring (the blocked-wake run fills it). */
  ring: UserRingBuffer | null;
  /** The blocked-wake run's floor pair. */
  floorBuffer: SharedArrayBuffer | null;
}

/** What every impl's side is made from. */
interface SideInputs {
  s: ThreadedScenario;
  ctl: Int32Array;
  base: { ctl: SharedArrayBuffer; logLevel: LogLevel; params: ThreadedScenario['params'] };
  payload: Uint8Array;
  samples: number;
}

/**
 * Runs one user-ring group scenario. Never throws for a failing run: the result carries `error`.
 * Thread: main.
 */
export async function runMainProducer(
  s: ThreadedScenario,
  timing: Timing,
  log: Logger,
  logLevel: LogLevel,
): Promise<ScenarioResult> {
  const p = s.params;
  const sab = createControl();
  const ctl = new Int32Array(sab);
  const errors: string[] = [];
  const reports: WorkerReport[] = [];
  const gc = new MainGc();
  const payload = new Uint8Array(p.payload);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
  const samples = Math.max(100, Math.min(4000, timing.windows * timing.windowMs * 2));
  const side = mainSide({ s, ctl, base: { ctl: sab, logLevel, params: p }, payload, samples });
  const { worker } = side;
  const exited = whenSettled(watchWorker(worker, reports, errors));
  let run: MainRun = { windows: [], startUs: 0, endUs: 0, heapAtMeasure: 0 };
  try {
    // blocked-wake: the waker does not stop at the barrier; it waits for main's first sample.
    await startThreads(ctl, p.measure === 'blocked-wake' ? 0 : 1, errors, 'the worker was not ready');
    if (p.measure === 'blocked-wake') {
      const t0 = monotonicMs();
      const failed = (): boolean => errors.length > 0 || exited();
      run.blockedWake = measureBlockedWake(side.ring!, side.floorBuffer!, samples, failed);
      run.wakeElapsedMs = monotonicMs() - t0;
    } else {
      run = produceWindows(ctl, side.batch, timing, exited, run);
    }
  } catch (e) {
    errors.push((e as Error).message);
  } finally {
    await stopThreads(
      {
        ctl,
        workers: [worker],
        stopped: exited,
        wake: side.wakeWorker,
        messageStop: side.stopByMessage ? [worker] : [],
        alsoNotify: [],
        notStopped: 'the worker did not stop',
      },
      errors,
    );
  }
  const heapAtEnd = getHeapStatistics().used_heap_size;
  await gc.close();
  return finishResult(s, measuredOf(s, run, gc.events, heapAtEnd, reports, samples), errors, log);
}

/** The main thread's side for the impl of scenario `inputs.s`. */
function mainSide(inputs: SideInputs): MainSide {
  const { impl } = inputs.s.params;
  if (impl === 'user-ring') return userRingSide(inputs);
  if (impl === 'postMessage') return postMessageSide(inputs);
  if (impl === 'ringbuf.js') return ringbufjsSide(inputs);
  throw new Error(`the user-ring group runs impl user-ring, postMessage or ringbuf.js from main, not ${impl}`);
}

/** user-ring: main reserves, fills and submits; the worker drains (or, blocked-wake, wakes main). */
function userRingSide({ s, base, payload, samples }: SideInputs): MainSide {
  const p = s.params;
  const r = UserRingBuffer.create({ size: p.ringSize, id: 1 });
  let floorBuffer: SharedArrayBuffer | null = null;
  let worker: Worker;
  if (p.measure === 'blocked-wake') {
    floorBuffer = new SharedArrayBuffer(FLOOR_BYTES);
    worker = new Worker(USER_RING_URL, {
      workerData: {
        ...base,
        role: 'waker',
        buffer: r.buffer,
        floor: floorBuffer,
        samples,
        settleUs: FLOOR_SETTLE_US,
      },
    });
  } else {
    worker = new Worker(USER_RING_URL, { workerData: { ...base, role: 'drainer', buffer: r.buffer } });
  }
  if (p.exclusive === true && !r.claimExclusive())
    throw new Error('the main thread could not claim the user ring exclusively');
  const fill = payloadFiller(r.data, payload, p.fill ?? 'set');
  const size = p.payload;
  const batch: Batch = p.blocking
    ? (n) => {
        let drops = 0;
        for (let i = 0; i < n; i++) {
          const at = r.reserveBlocking(size, BLOCKING_TIMEOUT_MS);
          if (at < 0) {
            drops++;
            continue;
          }
          fill(at);
          r.submit(at);
        }
        return drops;
      }
    : (n) => {
        let drops = 0;
        for (let i = 0; i < n; i++) {
          const at = r.reserve(size);
          if (at < 0) {
            drops++;
            continue;
          }
          fill(at);
          r.submit(at);
        }
        return drops;
      };
  return { worker, batch, wakeWorker: () => void r.wakeDrainerNow(), stopByMessage: false, ring: r, floorBuffer };
}

/** postMessage: main posts one Uint8Array a record, at most WINDOW_RECORDS in flight. */
function postMessageSide({ ctl, base, payload }: SideInputs): MainSide {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(POSTMESSAGE_URL, {
    workerData: { ...base, role: 'consumer', port: port2 },
    transferList: [port2],
  });
  let sent = 0;
  const batch: Batch = (n) => {
    for (let i = 0; i < n; i++) {
      // Observes the consumer's hit count (flow control).
      if (sent - Atomics.load(ctl, HITS_INDEX) >= WINDOW_RECORDS) continue;
      port1.postMessage(payload);
      sent++;
    }
    return 0;
  };
  return { worker, batch, wakeWorker: () => {}, stopByMessage: true, ring: null, floorBuffer: null };
}

/** ringbuf.js: main pushes one item a record to the peers' busy-polling consumer. */
function ringbufjsSide({ s, base, payload }: SideInputs): MainSide {
  const storage = RbjsRing.getStorageForCapacity(s.params.ringSize, Uint8Array);
  const rb = new RbjsRing(storage, Uint8Array);
  const worker = new Worker(RINGBUFJS_URL, { workerData: { ...base, role: 'consumer', sab: storage } });
  const bytes = s.params.payload;
  const batch: Batch = (n) => {
    let drops = 0;
    for (let i = 0; i < n; i++) if (rb.push(payload, bytes) !== bytes) drops++;
    return drops;
  };
  return { worker, batch, wakeWorker: () => {}, stopByMessage: false, ring: null, floorBuffer: null };
}

/** What the main thread measured in one run. */
interface MainRun {
  windows: WindowSample[];
  /** When measurement began and ended, on the process-wide clock (µs). */
  startUs: number;
  endUs: number;
  /** Main's `used_heap_size` when measurement began. */
  heapAtMeasure: number;
  /** The blocked-wake run's samples, and how long they took. */
  blockedWake?: BlockedWake;
  wakeElapsedMs?: number;
}

/**
 * Produces through the warm-up and the settle phase (main collects its start-up garbage as the worker
 * does), then `timing.windows` windows of the consumer's hit count and main's drops (until the worker
 * exits), then publishes the end of measurement.
 */
function produceWindows(ctl: Int32Array, batch: Batch, timing: Timing, exited: () => boolean, run: MainRun): MainRun {
  let drops = 0;
  const produceFor = (ms: number): void => {
    const end = monotonicMs() + ms;
    do {
      drops += batch(CLOCK_EVERY);
    } while (monotonicMs() < end && !exited());
  };
  produceFor(timing.warmupMs);
  // Publishes the settle phase: the worker collects its start-up garbage; main does the same.
  Atomics.store(ctl, PHASE_INDEX, PHASE_SETTLE);
  produceFor(SETTLE_MS);
  forceGc();
  produceFor(SETTLE_MS);
  // Publishes the measure phase; pairs with the worker's Probe.check().
  Atomics.store(ctl, PHASE_INDEX, PHASE_MEASURE);
  run.heapAtMeasure = getHeapStatistics().used_heap_size;
  run.startUs = clockMicros();
  for (let w = 0; w < timing.windows && !exited(); w++) {
    // Observes the consumer's hit count.
    const h0 = Atomics.load(ctl, HITS_INDEX);
    const d0 = drops;
    const t0 = performance.now();
    produceFor(timing.windowMs);
    // Observes the consumer's hit count.
    const h1 = Atomics.load(ctl, HITS_INDEX);
    const t1 = performance.now();
    run.windows.push({ ms: t1 - t0, hits: (h1 - h0) >>> 0, drops: drops - d0 });
  }
  run.endUs = clockMicros();
  // Publishes the end of measurement.
  Atomics.store(ctl, PHASE_INDEX, PHASE_DONE);
  return run;
}

/**
 * A run's measurements: main's GC events in the windows (role 'producer-main') and the worker's, the
 * heap growth, and the rates (blocked-wake: wakes per second from the samples, no windows).
 */
function measuredOf(
  s: ThreadedScenario,
  run: MainRun,
  mainEvents: GcEvents,
  heapAtEnd: number,
  reports: readonly WorkerReport[],
  samples: number,
): Measured {
  const { blockedWake, windows } = run;
  const inWindow = (events: GcEvents): GcEvents =>
    s.params.measure === 'blocked-wake' ? [] : events.filter(([t]) => t >= run.startUs && t <= run.endUs);
  const mainGc = inWindow(mainEvents);
  const totals = addReports(
    {
      gc: {
        events: mainGc.length,
        durationMs: mainGc.reduce((a, [, d]) => a + d, 0),
        byRole: { 'producer-main': mainGc.length },
      },
      heapGrowth: heapAtEnd - run.heapAtMeasure,
      wakeups: null,
      latency: null,
    },
    reports,
    inWindow,
  );
  const hits = blockedWake
    ? { mean: (2 * samples * 1000) / Math.max(1, run.wakeElapsedMs ?? 0), stddev: 0 }
    : windowRate(windows, (w) => w.hits);
  return {
    hits,
    drops: blockedWake ? { mean: 0, stddev: 0 } : windowRate(windows, (w) => w.drops),
    windows,
    gc: totals.gc,
    heapGrowthBytes: blockedWake ? 0 : totals.heapGrowth,
    wakeups: totals.wakeups,
    latency: blockedWake ? blockedWake.blocked : null,
    blockedWake,
  };
}

/**
 * The blocked-wake samples (see workers/user-ring.ts waker): per sample, main fills the ring with one
 * record of all the space left, blocks in reserveBlocking(16, 1000) until the worker's drain frees
 * it, and records now - SEND; then waits on the floor pair's FLAG for the raw notify and records the
 * same. Histograms in ns. Thread: main.
 * @throws Error when a wake times out or the worker failed.
 */
function measureBlockedWake(
  ring: UserRingBuffer,
  floorBuffer: SharedArrayBuffer,
  samples: number,
  failed: () => boolean,
): BlockedWake {
  const i32 = new Int32Array(floorBuffer);
  const f64 = new Float64Array(floorBuffer);
  const blocked = createHistogram();
  const floor = createHistogram();
  for (let i = 1; i <= samples; i++) {
    if (failed()) throw new Error(`the waker failed before sample ${i}`);
    // Fill exactly what is left: one record, whatever the previous sample's token left behind.
    const left = ring.size - ring.availData();
    const at = ring.reserve(left - 8);
    if (at < 0) throw new Error(`sample ${i}: could not fill the ring (${left} bytes left)`);
    ring.submit(at);
    const token = ring.reserveBlocking(16, BLOCKING_TIMEOUT_MS);
    const now = clockMicros();
    if (token < 0) throw new Error(`sample ${i}: reserveBlocking was not woken within ${BLOCKING_TIMEOUT_MS} ms`);
    // Plain read: SEND was written before the drain whose consumer_pos store and notify woke us.
    blocked.record(Math.max(1, Math.round((now - f64[FLOOR_SEND_F64]!) * 1000)));
    ring.discard(token);
    // Publishes "about to wait for floor sample i"; pairs with the waker's spin on READY.
    Atomics.store(i32, FLOOR_READY_INDEX, i);
    // Sleeps until the waker's FLAG store + notify; bounded.
    if (Atomics.wait(i32, FLOOR_FLAG_INDEX, 0, BLOCKING_TIMEOUT_MS) === 'timed-out')
      throw new Error(`floor sample ${i} was not notified within ${BLOCKING_TIMEOUT_MS} ms`);
    const t = clockMicros();
    // Plain read: SEND was written before the FLAG store that ended the wait.
    floor.record(Math.max(1, Math.round((t - f64[FLOOR_SEND_F64]!) * 1000)));
    // Re-arms the flag; the waker does not touch it before it sees READY = i + 1.
    Atomics.store(i32, FLOOR_FLAG_INDEX, 0);
  }
  const b = summarize(blocked);
  const f = summarize(floor);
  return {
    samples,
    settleUs: FLOOR_SETTLE_US,
    blocked: b,
    floor: f,
    ratioP50: b.p50Us / f.p50Us,
    ratioP99: b.p99Us / f.p99Us,
  };
}
