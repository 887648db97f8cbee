/**
 * The steps every threaded run shares, whoever produces (threaded.ts: workers; main-producer.ts: the
 * main thread): collect the workers' reports, wait at and open the start barrier, stop the threads
 * within a bound, add up the workers' GC reports over the measurement, and turn the windows into the
 * scenario's result. Thread: main.
 */
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import type { LatencySummary } from '@ringbuf/consumer';
import type { Logger } from '@ringbuf/instrument/log';
import { READY_INDEX, START_INDEX, STOP_INDEX } from './layout.js';
import { meanStd } from './stats.js';
import type {
  BlockedWake,
  RateStats,
  ScenarioResult,
  ThreadedScenario,
  WindowSample,
  WorkerReport,
} from '../scenarios/types.js';

/** Bound on starting and on stopping the threads of one run. */
const SETUP_TIMEOUT_MS = 15_000;
/** How long the workers get to collect their start-up garbage before the windows open. */
export const SETTLE_MS = 30;

/** GC events as the workers report them: [start on the process-wide clock in µs, duration in ms]. */
export type GcEvents = Array<[number, number]>;

/**
 * Collects worker `w`'s report into `reports` and its errors into `errors`.
 * @returns a promise that resolves when the worker exits.
 */
export function watchWorker(w: Worker, reports: WorkerReport[], errors: string[]): Promise<void> {
  return new Promise<void>((resolve) => {
    // A worker may post anything; only a report counts.
    w.on('message', (m: WorkerReport | null | undefined) => {
      if (m?.type === 'report') reports.push(m);
    });
    w.on('error', (e) => errors.push(e.message));
    w.on('exit', () => resolve());
  });
}

/** A flag that turns true once `p` has resolved. */
export function whenSettled(p: Promise<unknown>): () => boolean {
  let settled = false;
  void p.then(() => (settled = true));
  return () => settled;
}

/**
 * Waits until `count` threads have reached the start barrier (none: 0), then opens it.
 * @throws Error `${notReady} after SETUP_TIMEOUT_MS ms` when they are not there in time, or the
 *   errors of the threads that failed before it opened.
 */
export async function startThreads(ctl: Int32Array, count: number, errors: string[], notReady: string): Promise<void> {
  const deadline = performance.now() + SETUP_TIMEOUT_MS;
  // Observes the workers' barrier counts.
  while (Atomics.load(ctl, READY_INDEX) < count && errors.length === 0) {
    if (performance.now() > deadline) throw new Error(`${notReady} after ${SETUP_TIMEOUT_MS} ms`);
    await delay(2);
  }
  if (errors.length > 0) throw new Error(errors.join('; '));
  // Opens the barrier; pairs with awaitStart()'s load and wait.
  Atomics.store(ctl, START_INDEX, 1);
  // Wakes the threads sleeping at the barrier.
  Atomics.notify(ctl, START_INDEX);
}

/** How to stop the threads of one run (see {@link stopThreads}). */
export interface StopPlan {
  ctl: Int32Array;
  workers: readonly Worker[];
  /** Whether every worker has exited. */
  stopped: () => boolean;
  /** Called repeatedly while stopping: wakes a consumer asleep in poll(-1). */
  wake: () => void;
  /** The event-loop workers told to stop by a message. */
  messageStop: readonly Worker[];
  /** The control words besides START that a thread may sleep on (a b2b hand-off's). */
  alsoNotify: readonly number[];
  /** The error when they do not stop: `${notStopped} within SETUP_TIMEOUT_MS ms`. */
  notStopped: string;
}

/** Stops every thread of a run within SETUP_TIMEOUT_MS, then terminates any that did not stop. */
export async function stopThreads(plan: StopPlan, errors: string[]): Promise<void> {
  const { ctl } = plan;
  // Ends every loop; pairs with stopRequested().
  Atomics.store(ctl, STOP_INDEX, 1);
  // Wakes any thread still at the barrier or in a b2b hand-off (they also time out in slices).
  Atomics.notify(ctl, START_INDEX);
  for (const index of plan.alsoNotify) Atomics.notify(ctl, index);
  for (const w of plan.messageStop) w.postMessage({ type: 'stop' });
  const deadline = performance.now() + SETUP_TIMEOUT_MS;
  while (!plan.stopped() && performance.now() < deadline) {
    plan.wake();
    await delay(5);
  }
  if (!plan.stopped()) {
    errors.push(`${plan.notStopped} within ${SETUP_TIMEOUT_MS} ms`);
    await Promise.all(plan.workers.map((w) => w.terminate()));
  }
}

/** The workers' GC and heap reports added up over the measurement. */
export interface ReportTotals {
  gc: ScenarioResult['gc'];
  heapGrowth: number;
  wakeups: number | null;
  /** The last report's latency (the latency scenario's consumer). */
  latency: LatencySummary | null;
}

/**
 * Adds `reports` to `totals`: the GC events `inWindow` keeps, per role, the heap growth, and the last
 * wakeup count and latency reported.
 */
export function addReports(
  totals: ReportTotals,
  reports: readonly WorkerReport[],
  inWindow: (events: GcEvents) => GcEvents,
): ReportTotals {
  for (const r of reports) {
    const events = inWindow(r.gc);
    totals.gc.events += events.length;
    totals.gc.durationMs += events.reduce((a, [, d]) => a + d, 0);
    totals.gc.byRole[r.role] = events.length;
    totals.heapGrowth += r.heapAtEnd - r.heapAtMeasure;
    if (r.wakeups !== undefined) totals.wakeups = r.wakeups;
    if (r.latency) totals.latency = r.latency;
  }
  return totals;
}

/** Mean ± stddev per second of what `pick` counts in each window. */
export function windowRate(windows: readonly WindowSample[], pick: (w: WindowSample) => number): RateStats {
  return meanStd(windows.map((w) => (pick(w) * 1000) / w.ms));
}

/** What a run measured, for {@link finishResult}. */
export interface Measured {
  hits: RateStats;
  drops: RateStats;
  windows: WindowSample[];
  gc: ScenarioResult['gc'];
  heapGrowthBytes: number;
  wakeups: number | null;
  latency: LatencySummary | null;
  blockedWake?: BlockedWake | undefined;
}

/** Scenario `s`'s result from what it measured and the errors of the run; logs how it went. */
export function finishResult(s: ThreadedScenario, m: Measured, errors: readonly string[], log: Logger): ScenarioResult {
  const result: ScenarioResult = {
    name: s.name,
    group: s.group,
    description: s.description,
    params: s.params,
    hits: m.hits,
    drops: m.drops,
    bytesPerSec: m.hits.mean * s.params.payload,
    windows: m.windows,
    gc: m.gc,
    heapGrowthBytes: m.heapGrowthBytes,
    wakeups: m.wakeups,
    latency: m.latency,
    loadAvg1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
  if (m.blockedWake) result.blockedWake = m.blockedWake;
  if (errors.length > 0) result.error = errors.join('; ');
  if (result.error) log.error({ scenario: s.name, error: result.error }, 'scenario failed');
  else log.info({ scenario: s.name, hitsM: m.hits.mean / 1e6, gc: m.gc.events }, 'scenario done');
  return result;
}
