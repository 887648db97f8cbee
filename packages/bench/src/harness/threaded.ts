/**
 * Runs one threaded scenario the way the kernel's bench does: start the producer and consumer
 * threads behind a barrier, let them warm up, then sample the hit and drop counters over N windows
 * and report mean ± stddev per second; then stop every thread and collect its GC/heap report.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MessageChannel, Worker } from 'node:worker_threads';
import { RingBuffer, WakeGroup } from '@ringbuf/core';
import { RingBuffer as RbjsRing } from 'ringbuf.js';
import { clockMicros } from '@ringbuf/instrument';
import type { LogLevel, Logger } from '@ringbuf/instrument/log';
import { createControl } from './control.js';
import {
  BATCH_DONE_INDEX,
  PHASE_DONE,
  PHASE_INDEX,
  PHASE_MEASURE,
  PHASE_SETTLE,
  TRIGGER_INDEX,
  HITS_INDEX,
  dropsIndex,
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
} from './lifecycle.js';
import { runMainProducer } from './main-producer.js';
import type { ScenarioResult, ThreadedScenario, Timing, WindowSample, WorkerReport } from '../scenarios/types.js';
import { PACED_WARMUP_MS } from '../scenarios/descriptors.js';

const PRODUCER_URL = new URL('../workers/producer.js', import.meta.url);
const CONSUMER_URL = new URL('../workers/consumer.js', import.meta.url);
const POSTMESSAGE_URL = new URL('../peers/postmessage.js', import.meta.url);
const RINGBUFJS_URL = new URL('../peers/ringbufjs.js', import.meta.url);

interface Spawned {
  workers: Worker[];
  /** Called repeatedly while stopping: wakes a consumer asleep in poll(-1). */
  wake: () => void;
  /** Whether the consumer is an event-loop worker told to stop by a message. */
  messageStop: Worker[];
}

/** The warm-up of scenario `s` under `timing` (paced ones: at least PACED_WARMUP_MS). */
export function warmupOf(s: ThreadedScenario, timing: Timing): number {
  return s.params.mode === 'paced' ? Math.max(timing.warmupMs, PACED_WARMUP_MS) : timing.warmupMs;
}

function spawn(s: ThreadedScenario, ctl: SharedArrayBuffer, logLevel: LogLevel): Spawned {
  const p = s.params;
  const base = { ctl, logLevel, params: p };
  if (p.impl === 'ringbuf' || p.impl === 'spsc-rings') {
    const group = WakeGroup.create();
    const ringCount = p.impl === 'ringbuf' ? 1 : p.producers;
    const rings = Array.from({ length: ringCount }, () => RingBuffer.create({ size: p.ringSize, wakeGroup: group }));
    const shares = rings.map((r) => r.share());
    const workers = [new Worker(CONSUMER_URL, { workerData: { ...base, shares } })];
    for (let i = 0; i < p.producers; i++) {
      workers.push(
        new Worker(PRODUCER_URL, { workerData: { ...base, slot: i, share: shares[p.impl === 'ringbuf' ? 0 : i] } }),
      );
    }
    return { workers, wake: () => void group.wake(), messageStop: [] };
  }
  if (p.impl === 'postMessage') {
    const { port1, port2 } = new MessageChannel();
    const consumer = new Worker(POSTMESSAGE_URL, {
      workerData: { ...base, role: 'consumer', port: port2 },
      transferList: [port2],
    });
    const producer = new Worker(POSTMESSAGE_URL, {
      workerData: { ...base, role: 'producer', port: port1 },
      transferList: [port1],
    });
    return { workers: [consumer, producer], wake: () => {}, messageStop: [consumer] };
  }
  const sab = RbjsRing.getStorageForCapacity(p.ringSize, Uint8Array);
  const workers = [
    new Worker(RINGBUFJS_URL, { workerData: { ...base, role: 'consumer', sab } }),
    new Worker(RINGBUFJS_URL, { workerData: { ...base, role: 'producer', sab } }),
  ];
  return { workers, wake: () => {}, messageStop: [] };
}

/** Runs one scenario. Thread: main. Never throws for a failing run: the result carries `error`. */
export async function runThreaded(
  s: ThreadedScenario,
  timing: Timing,
  log: Logger,
  logLevel: LogLevel,
): Promise<ScenarioResult> {
  // The user-ring group: the main thread is the producer (harness/main-producer.ts).
  if (s.params.producer === 'main') return runMainProducer(s, timing, log, logLevel);
  const sab = createControl();
  const ctl = new Int32Array(sab);
  const { workers, wake, messageStop } = spawn(s, sab, logLevel);
  const reports: WorkerReport[] = [];
  const errors: string[] = [];
  const exited = workers.map((w) => watchWorker(w, reports, errors));
  const windows: WindowSample[] = [];
  let span: MeasureSpan = { startUs: 0, endUs: 0 };
  try {
    await startThreads(ctl, workers.length, errors, 'threads not ready');
    await delay(warmupOf(s, timing));
    span = await measureWindows(ctl, s.params.producers, timing, windows, errors);
  } catch (e) {
    errors.push((e as Error).message);
  } finally {
    const stopped = whenSettled(Promise.all(exited));
    await stopThreads(
      {
        ctl,
        workers,
        stopped,
        wake,
        messageStop,
        alsoNotify: [TRIGGER_INDEX, BATCH_DONE_INDEX],
        notStopped: 'threads did not stop',
      },
      errors,
    );
  }
  const hits = windowRate(windows, (w) => w.hits);
  const totals = addReports(
    { gc: { events: 0, durationMs: 0, byRole: {} }, heapGrowth: 0, wakeups: null, latency: null },
    reports,
    (events) => events.filter(([t]) => t >= span.startUs && t <= span.endUs),
  );
  const measured = {
    hits,
    drops: windowRate(windows, (w) => w.drops),
    windows,
    gc: totals.gc,
    heapGrowthBytes: totals.heapGrowth,
    wakeups: totals.wakeups,
    latency: totals.latency,
  };
  return finishResult(s, measured, errors, log);
}

/** When measurement began and ended, on the process-wide clock (µs). */
interface MeasureSpan {
  startUs: number;
  endUs: number;
}

/**
 * The settle phase, then `timing.windows` windows of the consumer's hit count and the producers'
 * drop counts (until a thread fails), then the end of measurement.
 */
async function measureWindows(
  ctl: Int32Array,
  producers: number,
  timing: Timing,
  windows: WindowSample[],
  errors: readonly string[],
): Promise<MeasureSpan> {
  const dropsSince = dropCounter(ctl, producers);
  // Publishes the settle phase (each worker forces one GC of its start-up garbage); pairs with
  // Probe.check(). The forced collections are not counted; the windows count every other one.
  Atomics.store(ctl, PHASE_INDEX, PHASE_SETTLE);
  await delay(SETTLE_MS);
  // Publishes the measure phase (workers note their heap); pairs with Probe.check().
  Atomics.store(ctl, PHASE_INDEX, PHASE_MEASURE);
  const startUs = clockMicros();
  for (let w = 0; w < timing.windows && errors.length === 0; w++) {
    // Observes the consumer's hit count.
    const h0 = Atomics.load(ctl, HITS_INDEX);
    dropsSince();
    const t0 = performance.now();
    await delay(timing.windowMs);
    // Observes the consumer's hit count.
    const h1 = Atomics.load(ctl, HITS_INDEX);
    const drops = dropsSince();
    const t1 = performance.now();
    windows.push({ ms: t1 - t0, hits: (h1 - h0) >>> 0, drops });
  }
  const endUs = clockMicros();
  // Publishes the end of measurement.
  Atomics.store(ctl, PHASE_INDEX, PHASE_DONE);
  return { startUs, endUs };
}

/**
 * The producers' drops since the last call. Drop counters are 32-bit words that a spinning producer
 * can wrap within a run: sums the per-producer differences modulo 2^32 since the last read.
 */
function dropCounter(ctl: Int32Array, producers: number): () => number {
  const lastDrops = new Array<number>(producers).fill(0);
  return () => {
    let d = 0;
    for (let i = 0; i < producers; i++) {
      // Observes producer i's published drop count.
      const now = Atomics.load(ctl, dropsIndex(i));
      d += (now - (lastDrops[i] ?? 0)) >>> 0;
      lastDrops[i] = now;
    }
    return d;
  };
}
