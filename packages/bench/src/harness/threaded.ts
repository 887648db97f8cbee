/**
 * Runs one threaded scenario the way the kernel's bench does: start the producer and consumer
 * threads behind a barrier, let them warm up, then sample the hit and drop counters over N windows
 * and report mean ± stddev per second; then stop every thread and collect its GC/heap report.
 */
import os from 'node:os';
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
  READY_INDEX,
  START_INDEX,
  STOP_INDEX,
  TRIGGER_INDEX,
  HITS_INDEX,
  dropsIndex,
} from './layout.js';
import { meanStd } from './stats.js';
import { runMainProducer } from './main-producer.js';
import type { ScenarioResult, ThreadedScenario, Timing, WindowSample, WorkerReport } from '../scenarios/types.js';
import { PACED_WARMUP_MS } from '../scenarios/descriptors.js';

const PRODUCER_URL = new URL('../workers/producer.js', import.meta.url);
const CONSUMER_URL = new URL('../workers/consumer.js', import.meta.url);
const POSTMESSAGE_URL = new URL('../peers/postmessage.js', import.meta.url);
const RINGBUFJS_URL = new URL('../peers/ringbufjs.js', import.meta.url);
/** Bound on starting and on stopping the threads of one run. */
const SETUP_TIMEOUT_MS = 15_000;

interface Spawned {
  workers: Worker[];
  /** Called repeatedly while stopping: wakes a consumer asleep in poll(-1). */
  wake: () => void;
  /** Whether the consumer is an event-loop worker told to stop by a message. */
  messageStop: Worker[];
}

/** How long the workers get to collect their start-up garbage before the windows open. */
const SETTLE_MS = 30;

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
  const exited = workers.map(
    (w) =>
      new Promise<void>((resolve) => {
        w.on('message', (m: WorkerReport) => {
          if (m?.type === 'report') reports.push(m);
        });
        w.on('error', (e) => errors.push(e.message));
        w.on('exit', () => resolve());
      }),
  );
  const windows: WindowSample[] = [];
  let measureStartUs = 0;
  let measureEndUs = 0;
  const p = s.params;
  // Drop counters are 32-bit words that a spinning producer can wrap within a run: sum the
  // per-producer differences modulo 2^32 since the last read.
  const lastDrops = new Array<number>(p.producers).fill(0);
  const dropsSince = (): number => {
    let d = 0;
    for (let i = 0; i < p.producers; i++) {
      // Observes producer i's published drop count.
      const now = Atomics.load(ctl, dropsIndex(i));
      d += (now - (lastDrops[i] ?? 0)) >>> 0;
      lastDrops[i] = now;
    }
    return d;
  };
  try {
    const deadline = performance.now() + SETUP_TIMEOUT_MS;
    // Observes the workers' barrier counts.
    while (Atomics.load(ctl, READY_INDEX) < workers.length && errors.length === 0) {
      if (performance.now() > deadline) throw new Error(`threads not ready after ${SETUP_TIMEOUT_MS} ms`);
      await delay(2);
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
    // Opens the barrier; pairs with awaitStart()'s load and wait.
    Atomics.store(ctl, START_INDEX, 1);
    // Wakes the threads sleeping at the barrier.
    Atomics.notify(ctl, START_INDEX);
    await delay(warmupOf(s, timing));
    // Publishes the settle phase (each worker forces one GC of its start-up garbage); pairs with
    // Probe.check(). The forced collections are not counted; the windows count every other one.
    Atomics.store(ctl, PHASE_INDEX, PHASE_SETTLE);
    await delay(SETTLE_MS);
    // Publishes the measure phase (workers note their heap); pairs with Probe.check().
    Atomics.store(ctl, PHASE_INDEX, PHASE_MEASURE);
    measureStartUs = clockMicros();
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
    measureEndUs = clockMicros();
    // Publishes the end of measurement.
    Atomics.store(ctl, PHASE_INDEX, PHASE_DONE);
  } catch (e) {
    errors.push((e as Error).message);
  } finally {
    // Ends every loop; pairs with stopRequested().
    Atomics.store(ctl, STOP_INDEX, 1);
    // Wakes any thread still at the barrier or in a b2b hand-off (they also time out in slices).
    Atomics.notify(ctl, START_INDEX);
    Atomics.notify(ctl, TRIGGER_INDEX);
    Atomics.notify(ctl, BATCH_DONE_INDEX);
    for (const w of messageStop) w.postMessage({ type: 'stop' });
    let stopped = false;
    void Promise.all(exited).then(() => (stopped = true));
    const deadline = performance.now() + SETUP_TIMEOUT_MS;
    while (!stopped && performance.now() < deadline) {
      wake();
      await delay(5);
    }
    if (!stopped) {
      errors.push(`threads did not stop within ${SETUP_TIMEOUT_MS} ms`);
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  const rate = (pick: (w: WindowSample) => number) => meanStd(windows.map((w) => (pick(w) * 1000) / w.ms));
  const hits = rate((w) => w.hits);
  let gcEvents = 0;
  let gcMs = 0;
  let heapGrowth = 0;
  const byRole: Record<string, number> = {};
  let wakeups: number | null = null;
  let latency = null;
  for (const r of reports) {
    const inWindow = r.gc.filter(([t]) => t >= measureStartUs && t <= measureEndUs);
    gcEvents += inWindow.length;
    gcMs += inWindow.reduce((a, [, d]) => a + d, 0);
    byRole[r.role] = inWindow.length;
    heapGrowth += r.heapAtEnd - r.heapAtMeasure;
    if (r.wakeups !== undefined) wakeups = r.wakeups;
    if (r.latency) latency = r.latency;
  }
  const result: ScenarioResult = {
    name: s.name,
    group: s.group,
    description: s.description,
    params: p,
    hits,
    drops: rate((w) => w.drops),
    bytesPerSec: hits.mean * p.payload,
    windows,
    gc: { events: gcEvents, durationMs: gcMs, byRole },
    heapGrowthBytes: heapGrowth,
    wakeups,
    latency,
    loadAvg1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
  if (errors.length > 0) result.error = errors.join('; ');
  if (result.error) log.error({ scenario: s.name, error: result.error }, 'scenario failed');
  else log.info({ scenario: s.name, hitsM: hits.mean / 1e6, gc: gcEvents }, 'scenario done');
  return result;
}
