/**
 * Wake latency of a sleeping consumer worker, beside the raw Atomics.wait/notify one-way latency
 * between two worker threads, measured in the same run (the closing note of issue 3).
 *
 *   node packages/consumer/dist/src/runtime/measure-wake.js [samples=4000] [rounds=3]
 *
 * raw:     worker A sleeps in Atomics.wait; worker B waits until A has announced it is about to
 *          wait, spins 30 us so that A is really asleep in the futex, takes clockMicros(), stores
 *          the flag and notifies; A takes clockMicros() on waking. One-way latency = A's time - B's.
 * runtime: a ConsumerRuntime (wait 'sleep', latency on) sleeps on an empty ring; a producer worker
 *          waits until the consumer has announced sleep and consumed everything, spins 30 us,
 *          writes clockMicros() into an instrumented record and submits it with flags 0 (the
 *          kernel's rule wakes the consumer: consumer_pos == the record's offset). Latency = the
 *          consumer's clockMicros() at handler dispatch - the send time: commit + notify + futex
 *          wake + the worker's loop up to the handler.
 * Rounds alternate raw and runtime so that both see the same machine state; histograms (ns) are
 * merged per kind. Results go to stdout (one JSON line, then a human line); nothing is logged.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { RingBuffer, consumerSleeping, layout, type RingShare } from '@ringbuf/core';
import { clockMicros, writeInstrumented, INSTRUMENTED_HEADER_BYTES, EventKind } from '@ringbuf/instrument';
import { ConsumerRuntime } from './runtime.js';
import { summarize, type LatencySummary } from '../latency.js';

const { CONS_POS_INDEX, PROD_POS_INDEX } = layout;

/** Spin before each send so the sleeper is really in the futex wait, not on its way to it. */
const SETTLE_US = 30;

/** Raw pair's shared words (Int32 indices; Float64 index for the send time). */
const RAW_FLAG = 0;
const RAW_READY = 16;
const RAW_DONE = 32;
const RAW_SEND_F64 = 24; // byte 192: its own line pair
const RAW_BYTES = 256;

interface RawJob {
  role: 'raw-waiter' | 'raw-notifier';
  sab: SharedArrayBuffer;
  samples: number;
}
interface ProducerJob {
  role: 'producer';
  share: RingShare;
  samples: number;
}

function spinMicros(us: number): void {
  const end = clockMicros() + us;
  while (clockMicros() < end);
}

function rawWaiter(job: RawJob): void {
  const i32 = new Int32Array(job.sab);
  const f64 = new Float64Array(job.sab);
  const h = createHistogram();
  for (let i = 1; i <= job.samples; i++) {
    // Publishes "about to wait for sample i"; pairs with the notifier's spin on RAW_READY.
    Atomics.store(i32, RAW_READY, i);
    // Sleeps until the notifier's store + notify of the flag.
    Atomics.wait(i32, RAW_FLAG, 0);
    const now = clockMicros();
    // Observes the send time written before the flag store (published by it).
    h.record(Math.max(1, Math.round((now - f64[RAW_SEND_F64]!) * 1000)));
    // Re-arms the flag for the next sample; the notifier waits for RAW_READY first.
    Atomics.store(i32, RAW_FLAG, 0);
  }
  // Publishes completion.
  Atomics.store(i32, RAW_DONE, 1);
  parentPort!.postMessage(h);
}

function rawNotifier(job: RawJob): void {
  const i32 = new Int32Array(job.sab);
  const f64 = new Float64Array(job.sab);
  for (let i = 1; i <= job.samples; i++) {
    // Observes the waiter's announcement for sample i.
    while (Atomics.load(i32, RAW_READY) !== i);
    spinMicros(SETTLE_US);
    f64[RAW_SEND_F64] = clockMicros();
    // Publishes the send time and the flag; pairs with the waiter's wait.
    Atomics.store(i32, RAW_FLAG, 1);
    // Wakes the waiter.
    Atomics.notify(i32, RAW_FLAG, 1);
  }
  parentPort!.postMessage(null);
}

function producer(job: ProducerJob): void {
  const ring = RingBuffer.attach(job.share, { producerId: 1 });
  for (let seq = 0; seq < job.samples; seq++) {
    // Waits until the consumer consumed everything (consumer_pos == producer_pos) and announced sleep.
    while (Atomics.load(ring.i32, CONS_POS_INDEX) !== Atomics.load(ring.i32, PROD_POS_INDEX) || !consumerSleeping(ring.wake));
    spinMicros(SETTLE_US);
    const off = ring.reserve(INSTRUMENTED_HEADER_BYTES);
    writeInstrumented(ring.view, off, 1, seq, clockMicros(), 0, EventKind.Load);
    ring.submit(off, 0);
  }
  parentPort!.postMessage(null);
}

function run<T>(job: RawJob | ProducerJob): { worker: Worker; result: Promise<T> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const result = new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, result };
}

async function measureRaw(samples: number): Promise<RecordableHistogram> {
  const sab = new SharedArrayBuffer(RAW_BYTES);
  const waiter = run<RecordableHistogram>({ role: 'raw-waiter', sab, samples });
  const notifier = run<null>({ role: 'raw-notifier', sab, samples });
  const [h] = await Promise.all([waiter.result, notifier.result]);
  return h;
}

async function measureRuntime(samples: number): Promise<RecordableHistogram> {
  const ring = RingBuffer.create({ size: 65536 });
  const rt = await ConsumerRuntime.start({ rings: [ring], latency: true, wait: 'sleep' });
  await run<null>({ role: 'producer', share: ring.share(), samples }).result;
  const report = await rt.stop({ drain: true, timeoutMs: 5000 });
  if (report.delivered !== samples) throw new Error(`runtime delivered ${report.delivered} of ${samples}`);
  return report.latency!.histograms.get(1)!;
}

function line(name: string, s: LatencySummary): string {
  return `${name.padEnd(8)} p50 ${s.p50Us.toFixed(1)} us  p90 ${s.p90Us.toFixed(1)} us  p99 ${s.p99Us.toFixed(1)} us  p99.9 ${s.p999Us.toFixed(1)} us  max ${s.maxUs.toFixed(1)} us  (n=${s.count})`;
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 4000);
  const rounds = Number(process.argv[3] ?? 3);
  const raw = createHistogram();
  const runtime = createHistogram();
  for (let r = 0; r < rounds; r++) {
    raw.add(await measureRaw(samples));
    runtime.add(await measureRuntime(samples));
  }
  const rawS = summarize(raw);
  const rtS = summarize(runtime);
  const result = {
    node: process.version,
    samplesPerRound: samples,
    rounds,
    settleUs: SETTLE_US,
    raw: rawS,
    runtime: rtS,
    ratioP50: rtS.p50Us / rawS.p50Us,
    ratioP99: rtS.p99Us / rawS.p99Us,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  process.stdout.write(
    `${line('raw', rawS)}\n${line('runtime', rtS)}\nratio p50 ${result.ratioP50.toFixed(2)} (goal <= 1.2), p99 ${result.ratioP99.toFixed(2)}\n`,
  );
}

if (isMainThread) {
  await main();
} else {
  const job = workerData as RawJob | ProducerJob;
  if (job.role === 'raw-waiter') rawWaiter(job);
  else if (job.role === 'raw-notifier') rawNotifier(job);
  else producer(job as ProducerJob);
}
