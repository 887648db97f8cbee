/**
 * The threads of the wake measurements (harness/wake-floor.ts). Not meant to be imported.
 *
 * waiter:   for each sample, publish READY = i, sleep in Atomics.wait on FLAG, take clockMicros() on
 *           waking and record now - SEND; re-arm FLAG.
 * notifier: for each sample, spin until READY = i, spin SETTLE_US more so that the waiter is really
 *           asleep in the futex (not on its way to it), write SEND = clockMicros(), store FLAG = 1
 *           and notify.
 * producer: for each sample, wait until the consumer runtime has consumed everything and announced
 *           sleep, spin SETTLE_US, then commit one instrumented record stamped clockMicros() with
 *           flags 0 (the kernel's rule wakes the consumer: consumer_pos is the record's offset).
 * Thread: worker threads.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer, consumerSleeping, type RingShare } from '@ringbuf/core';
import { EventKind, INSTRUMENTED_HEADER_BYTES, clockMicros, writeInstrumented } from '@ringbuf/instrument';
import { FLOOR_FLAG_INDEX, FLOOR_READY_INDEX, FLOOR_SEND_F64 } from '../harness/layout.js';

/** What the waiter and the notifier receive. */
export interface FloorJob {
  role: 'waiter' | 'notifier';
  sab: SharedArrayBuffer;
  samples: number;
  settleUs: number;
  /**
   * The waiter also builds the histogram corrected for coordinated omission: HdrHistogram's
   * recordCorrectedValue at the run's own mean time between samples, so that every stretch of time
   * weighs the same, as in the paced latency scenarios, which send on a schedule whatever happens.
   */
  corrected: boolean;
}

/** What the waiter posts: the raw histogram, and with `corrected` the corrected one (ns) and its interval. */
export interface FloorHistograms {
  raw: RecordableHistogram;
  corrected: RecordableHistogram | null;
  /** The mean time between samples the correction used (µs). */
  intervalUs: number;
}

/** What the producer of the consumer-wake measurement receives. */
export interface WakeProducerJob {
  role: 'producer';
  share: RingShare;
  samples: number;
  settleUs: number;
}

/** The port to main: this module runs only as worker threads. */
const toMain = (() => {
  if (parentPort === null) throw new Error('the wake workers run only in worker threads');
  return parentPort;
})();

function spinMicros(us: number): void {
  const end = clockMicros() + us;
  while (clockMicros() < end);
}

function waiter(job: FloorJob): void {
  const i32 = new Int32Array(job.sab);
  const f64 = new Float64Array(job.sab);
  const h = createHistogram();
  const latencies = job.corrected ? new Float64Array(job.samples) : null;
  const startedUs = clockMicros();
  for (let i = 1; i <= job.samples; i++) {
    // Publishes "about to wait for sample i"; pairs with the notifier's spin on READY.
    Atomics.store(i32, FLOOR_READY_INDEX, i);
    // Sleeps until the notifier's FLAG store + notify (returns at once if it already stored).
    Atomics.wait(i32, FLOOR_FLAG_INDEX, 0);
    const now = clockMicros();
    // Plain read: SEND was written before the FLAG store that ended our wait. The index is the
    // layout's, inside the FLOOR_BYTES buffer.
    const ns = Math.max(1, Math.round((now - f64[FLOOR_SEND_F64]!) * 1000));
    h.record(ns);
    if (latencies !== null) latencies[i - 1] = ns;
    // Re-arms the flag; the notifier does not touch it before it sees READY = i + 1.
    Atomics.store(i32, FLOOR_FLAG_INDEX, 0);
  }
  const intervalUs = (clockMicros() - startedUs) / job.samples;
  let corrected: RecordableHistogram | null = null;
  if (latencies !== null) {
    corrected = createHistogram();
    const intervalNs = Math.max(1, Math.round(intervalUs * 1000));
    for (const ns of latencies) {
      corrected.record(ns);
      // The samples a sender on that schedule would have seen behind this one (recordCorrectedValue).
      for (let missed = ns - intervalNs; missed >= intervalNs; missed -= intervalNs) corrected.record(missed);
    }
  }
  const out: FloorHistograms = { raw: h, corrected, intervalUs };
  toMain.postMessage(out);
}

function notifier(job: FloorJob): void {
  const i32 = new Int32Array(job.sab);
  const f64 = new Float64Array(job.sab);
  for (let i = 1; i <= job.samples; i++) {
    // Observes the waiter's announcement for sample i; pairs with its READY store.
    while (Atomics.load(i32, FLOOR_READY_INDEX) !== i);
    spinMicros(job.settleUs);
    f64[FLOOR_SEND_F64] = clockMicros();
    // Publishes SEND and the flag; pairs with the waiter's Atomics.wait on FLAG.
    Atomics.store(i32, FLOOR_FLAG_INDEX, 1);
    // Wakes the waiter (it announced READY, so it sleeps or is about to).
    Atomics.notify(i32, FLOOR_FLAG_INDEX, 1);
  }
  toMain.postMessage(null);
}

function producer(job: WakeProducerJob): void {
  const ring = RingBuffer.attach(job.share, { producerId: 1 });
  for (let seq = 0; seq < job.samples; seq++) {
    // Waits until the consumer consumed everything and announced sleep (the accessors and
    // consumerSleeping name the words they observe).
    while (ring.consumerPos() !== ring.producerPos() || !consumerSleeping(ring.wake));
    spinMicros(job.settleUs);
    const off = ring.reserve(INSTRUMENTED_HEADER_BYTES);
    writeInstrumented(ring.view, off, 1, seq, clockMicros(), 0, EventKind.Load);
    ring.submit(off, 0);
  }
  toMain.postMessage(null);
}

const job = workerData as FloorJob | WakeProducerJob;
if (job.role === 'producer') producer(job);
else if (job.role === 'waiter') waiter(job);
else notifier(job);
