/**
 * The floor under every wake policy, measured once for the whole workspace: the one-way latency of
 * a raw `Atomics.wait` / `Atomics.notify` between two worker threads (notifier's clock before the
 * notify, waiter's clock on waking), with no ring at all. `ringbuf latency` measures it in the same
 * process and run as its policies, so both see the same machine state; the bench's latency group
 * measures it beside the wake of a sleeping `ConsumerRuntime` under the same protocol
 * ({@link measureWake}). Thread: main (starts the workers).
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { RingBuffer } from '@ringbuf/core';
import { ConsumerRuntime, summarize, type LatencySummary } from '@ringbuf/consumer';
import { needInteger } from '../errors.js';
import { FLOOR_BYTES } from './layout.js';
import { reportOnce } from './report-once.js';
import type { FloorHistograms, FloorJob, WakeProducerJob } from '../workers/wake-floor.js';
import type { HiccupResult } from './hiccups.js';

/** Spin before each notify so that the waiter is asleep in the kernel, not on its way there. */
export const FLOOR_SETTLE_US = 30;

const WORKER_URL = new URL('../workers/wake-floor.js', import.meta.url);

/** Most samples one measurement takes (the `ringbuf latency --floor-samples` bound). */
export const MAX_WAKE_SAMPLES = 1_000_000;
/** Most rounds of {@link measureWake}. */
export const MAX_WAKE_ROUNDS = 1000;

function checkSamples(samples: unknown): void {
  needInteger('samples', samples, 1, MAX_WAKE_SAMPLES, 'ERR_BENCH_COUNT');
}

function start<T>(job: FloorJob | WakeProducerJob): Promise<T> {
  return reportOnce<T>(WORKER_URL, job, 'wake worker');
}

/**
 * Measures `samples` raw wake-ups; resolves with their one-way latencies (HdrHistogram, ns).
 * @throws BenchRangeError `ERR_BENCH_COUNT` when `samples` is not an integer from 1 to
 *   {@link MAX_WAKE_SAMPLES} (before any shared memory or thread is made). Error when a worker fails.
 */
export async function measureWakeFloor(samples: number): Promise<RecordableHistogram> {
  return (await floorHistograms(samples, false)).raw;
}

/**
 * Measures `samples` raw wake-ups, and the same corrected for coordinated omission (HdrHistogram's
 * recordCorrectedValue at the run's own mean time between samples, `intervalUs`): what a sender on a
 * fixed schedule would have seen, every record behind a stall of the machine waiting too.
 * @throws as {@link measureWakeFloor}.
 */
export async function measureWakeFloorCorrected(
  samples: number,
): Promise<{ raw: RecordableHistogram; corrected: RecordableHistogram; intervalUs: number }> {
  const h = await floorHistograms(samples, true);
  if (h.corrected === null) throw new Error('the wake waiter reported no corrected histogram');
  return { raw: h.raw, corrected: h.corrected, intervalUs: h.intervalUs };
}

/** The floor's raw samples and, with `corrected`, the same corrected for coordinated omission. */
async function floorHistograms(samples: number, corrected: boolean): Promise<FloorHistograms> {
  checkSamples(samples);
  const sab = new SharedArrayBuffer(FLOOR_BYTES);
  const [h] = await Promise.all([
    start<FloorHistograms>({ role: 'waiter', sab, samples, settleUs: FLOOR_SETTLE_US, corrected }),
    start<null>({ role: 'notifier', sab, samples, settleUs: FLOOR_SETTLE_US, corrected: false }),
  ]);
  return h;
}

/**
 * Measures `samples` wake-ups of a `ConsumerRuntime` asleep on an empty ring: a producer worker
 * waits until the consumer sleeps, spins {@link FLOOR_SETTLE_US}, and commits one record with flags 0;
 * the latency runs from just before the commit to the handler's dispatch (commit + notify + futex
 * wake + the worker's loop). Resolves with the histogram (ns).
 * @throws BenchRangeError `ERR_BENCH_COUNT` when `samples` is not an integer from 1 to
 *   {@link MAX_WAKE_SAMPLES} (before the ring or any thread is made). Error when a worker fails or
 *   the runtime does not deliver every record.
 */
export async function measureConsumerWake(samples: number): Promise<RecordableHistogram> {
  checkSamples(samples);
  const ring = RingBuffer.create({ size: 65536 });
  const rt = await ConsumerRuntime.start({ rings: [ring], latency: true, wait: 'sleep' });
  try {
    await start<null>({ role: 'producer', share: ring.share(), samples, settleUs: FLOOR_SETTLE_US });
  } catch (err) {
    await rt.stop({ drain: false }).catch(() => undefined);
    throw err;
  }
  const report = await rt.stop({ drain: true, timeoutMs: 5000 });
  if (report.delivered !== samples)
    throw new Error(`the consumer runtime delivered ${report.delivered} of ${samples} wake samples`);
  const h = report.latency?.histograms.get(1);
  if (h === undefined) throw new Error('the consumer runtime reported no latency for the wake samples');
  return h;
}

/** The raw floor and the sleeping consumer's wake, side by side. */
export interface WakeResult {
  /** Spin before each send (µs). */
  settleUs: number;
  /** Samples per round and rounds (each round measures both, alternating). */
  samples: number;
  rounds: number;
  /** Raw Atomics.notify -> Atomics.wait, two workers, no ring. */
  floor: LatencySummary;
  /**
   * The floor corrected for coordinated omission: it sends one notify at a time, so a stall of the
   * machine delays one sample, where the paced latency scenarios keep sending and every record behind
   * the stall waits too. HdrHistogram's recordCorrectedValue at the floor's own mean time between
   * samples (`correctIntervalUs`) adds the samples a sender on that schedule would have seen, so
   * that every stretch of the run weighs the same, as in the paced scenarios.
   */
  floorCorrected: LatencySummary;
  correctIntervalUs: number;
  /** A sleeping ConsumerRuntime woken by a flags-0 commit, to its handler. */
  consumer: LatencySummary;
  /** consumer p50 / floor p50. */
  ratioP50: number;
  /** consumer p99 / floor p99. */
  ratioP99: number;
  /**
   * The machine's own tail beside them (set by the bench's wake step): threads keeping the latency
   * runs' 20 µs schedule with no ring (harness/hiccups.ts). Absent in reports made before it.
   */
  machine?: HiccupSummary;
}

/** A hiccup measurement without its histogram (what a report keeps). */
export type HiccupSummary = Omit<HiccupResult, 'histogram'>;

/**
 * Both measurements in alternating rounds, so both see the same machine state; histograms merged
 * per kind. Thread: main.
 * @throws BenchRangeError `ERR_BENCH_COUNT` when `samples` (1 to {@link MAX_WAKE_SAMPLES}) or
 *   `rounds` (1 to {@link MAX_WAKE_ROUNDS}) is not an integer in range, before anything starts.
 *   Error when a worker fails.
 */
export async function measureWake(samples: number, rounds: number): Promise<WakeResult> {
  checkSamples(samples);
  needInteger('rounds', rounds, 1, MAX_WAKE_ROUNDS, 'ERR_BENCH_COUNT');
  const floor = createHistogram();
  const floorCorrected = createHistogram();
  const consumer = createHistogram();
  let intervalSum = 0;
  for (let r = 0; r < rounds; r++) {
    const f = await floorHistograms(samples, true);
    floor.add(f.raw);
    if (f.corrected !== null) floorCorrected.add(f.corrected);
    intervalSum += f.intervalUs;
    consumer.add(await measureConsumerWake(samples));
  }
  const f = summarize(floor);
  const c = summarize(consumer);
  return {
    settleUs: FLOOR_SETTLE_US,
    samples,
    rounds,
    floor: f,
    floorCorrected: summarize(floorCorrected),
    correctIntervalUs: intervalSum / rounds,
    consumer: c,
    ratioP50: c.p50Us / f.p50Us,
    ratioP99: c.p99Us / f.p99Us,
  };
}
