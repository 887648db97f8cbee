/**
 * A thread of the hiccup meter (harness/hiccups.ts). Not meant to be imported.
 *
 * Keeps a fixed schedule and does nothing else: for tick i, spin until `start + i * intervalUs`,
 * then record how late it got there. A stall of the thread (the guest scheduler, the hypervisor,
 * an interrupt) makes every tick due during it late, each by what remains of the stall, so the
 * histogram is free of coordinated omission by construction, as a paced producer's `latencyUs` is:
 * jHiccup's measurement, at the latency runs' own interval. Gaps between two clock reads longer
 * than `stallGapUs` are summed as the time the thread lost. The 50 ms of ticks before the origin are a
 * warm-up and not recorded (a thread that starts late moves its origin, so its start is never counted
 * as lateness). Thread: a worker thread.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { clockMicros } from '@ringbuf/instrument';

/** What each hiccup thread receives. */
export interface HiccupJob {
  /**
   * The schedule's origin on clockMicros() (shared by the threads; a thread that starts too late for its warm-up moves
   * its own).
   */
  startUs: number;
  intervalUs: number;
  ticks: number;
  stallGapUs: number;
}

/** What each hiccup thread posts. */
export interface HiccupThreadResult {
  /** Lateness of every tick (ns, at least 1). */
  histogram: RecordableHistogram;
  /** Time lost in gaps longer than stallGapUs between two clock reads (µs), and how many. */
  stalledUs: number;
  stalls: number;
  /** Wall time from the first tick to the last (µs). */
  spanUs: number;
}

const toMain = (() => {
  if (parentPort === null) throw new Error('the hiccup meter runs only in worker threads');
  return parentPort;
})();

const job = workerData as HiccupJob;
/** Ticks kept before the schedule's origin and not recorded (µs of them). */
const WARMUP_US = 50_000;
/** Largest lateness recorded (ns): int32, about 2.1 s. */
const MAX_NS = 0x7fffffff;
const histogram = createHistogram();
/**
 * The loop's state in object fields: a double passed to or returned from a function V8 does not
 * inline is boxed (garbage per tick), a double field is updated in place.
 */
/** The schedule's origin: the one given, or later when this thread started too late for its warm-up. */
const origin = Math.max(job.startUs, clockMicros() + WARMUP_US);
const state = { due: origin - WARMUP_US, last: clockMicros(), stalledUs: 0, stalls: 0 };

/** Spins to the next tick and records its lateness. Small, called once per tick (as the bench producer's spinUntil). */
function tick(): void {
  const due = state.due;
  let now = clockMicros();
  for (;;) {
    const gap = now - state.last;
    if (gap > job.stallGapUs) {
      state.stalledUs += gap;
      state.stalls++;
    }
    state.last = now;
    if (now >= due) break;
    now = clockMicros();
  }
  const ns = Math.round((now - due) * 1000);
  // A small integer (| 0) reaches record() unboxed; a double would be boxed on every call.
  histogram.record(ns < 1 ? 1 : ns > MAX_NS ? MAX_NS : ns | 0);
  state.due = due + job.intervalUs;
}

// Warm-up ticks (compiled code, no startup garbage in the window), then the measured ones.
while (state.due < origin) tick();
histogram.reset();
state.stalledUs = 0;
state.stalls = 0;
for (let i = 0; i < job.ticks; i++) tick();
const result: HiccupThreadResult = {
  histogram,
  stalledUs: state.stalledUs,
  stalls: state.stalls,
  spanUs: state.last - origin,
};
toMain.postMessage(result);
