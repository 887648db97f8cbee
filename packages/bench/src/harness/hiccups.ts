/**
 * The machine's own tail, measured beside the ring's: a hiccup meter (jHiccup's idea). Threads that
 * keep the latency runs' schedule (one tick every 20 µs) and do nothing else record how late each
 * tick was; no ring, no wakeup, no allocation. What this histogram holds, threads that only keep a
 * schedule suffer on this machine, with as many of them busy as the run has: the yardstick for the
 * tail of `latencyUs` and `ringLatencyUs`, where the closed-loop wake floor measures the wakeup's
 * cost. `ringbuf latency`
 * and the bench's latency group run it in the same run as the policies. Thread: main (starts the
 * workers).
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { summarize, type LatencySummary } from '@ringbuf/consumer';
import { clockMicros } from '@ringbuf/instrument';
import { needInteger } from '../errors.js';
import { reportOnce } from './report-once.js';
import type { HiccupJob, HiccupThreadResult } from '../workers/hiccup.js';

const WORKER_URL = new URL('../workers/hiccup.js', import.meta.url);

/** The latency runs' interval: one record every 20 µs (20 k/s). */
export const HICCUP_INTERVAL_US = 20;
/** A gap between two clock reads longer than this counts as time the thread lost. */
export const HICCUP_STALL_GAP_US = 100;
/** Longest one measurement may last (ms), and most threads. */
export const MAX_HICCUP_MS = 600_000;
export const MAX_HICCUP_THREADS = 64;
/** Time the threads get to start before the first tick (µs). */
const START_DELAY_US = 200_000;

/** What {@link measureHiccups} resolves with. */
export interface HiccupResult {
  threads: number;
  intervalUs: number;
  durationMs: number;
  /** Lateness of every tick of every thread (each thread's schedule is a paced stream of its own). */
  lateness: LatencySummary;
  /** The same lateness as a histogram (ns), to merge several measurements. */
  histogram: RecordableHistogram;
  /** Share of the threads' time lost in gaps longer than {@link HICCUP_STALL_GAP_US}, and their count. */
  stalledFraction: number;
  stalls: number;
}

/**
 * Runs `threads` hiccup threads at once for `durationMs`, each keeping a tick every `intervalUs`.
 * With two threads it stands beside a producer and a consumer: the ring's records cross two
 * threads, and a stall of either delays them.
 * @throws BenchRangeError `ERR_BENCH_COUNT` when `durationMs` (1 to {@link MAX_HICCUP_MS}),
 *   `threads` (1 to {@link MAX_HICCUP_THREADS}) or `intervalUs` (1 to 1,000,000) is not an integer in
 *   range, before any thread starts. Error when a worker fails.
 */
export async function measureHiccups(
  durationMs: number,
  threads = 2,
  intervalUs = HICCUP_INTERVAL_US,
): Promise<HiccupResult> {
  needInteger('durationMs', durationMs, 1, MAX_HICCUP_MS, 'ERR_BENCH_COUNT');
  needInteger('threads', threads, 1, MAX_HICCUP_THREADS, 'ERR_BENCH_COUNT');
  needInteger('intervalUs', intervalUs, 1, 1_000_000, 'ERR_BENCH_COUNT');
  const job: HiccupJob = {
    startUs: clockMicros() + START_DELAY_US,
    intervalUs,
    ticks: Math.max(1, Math.floor((durationMs * 1000) / intervalUs)),
    stallGapUs: HICCUP_STALL_GAP_US,
  };
  const results = await Promise.all(
    Array.from({ length: threads }, () => reportOnce<HiccupThreadResult>(WORKER_URL, job, 'hiccup worker')),
  );
  const merged = createHistogram();
  let stalledUs = 0;
  let spanUs = 0;
  let stalls = 0;
  for (const r of results) {
    merged.add(r.histogram);
    stalledUs += r.stalledUs;
    spanUs += r.spanUs;
    stalls += r.stalls;
  }
  return {
    threads,
    intervalUs,
    durationMs,
    lateness: summarize(merged),
    histogram: merged,
    stalledFraction: spanUs > 0 ? stalledUs / spanUs : 0,
    stalls,
  };
}
