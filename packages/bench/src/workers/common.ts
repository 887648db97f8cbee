/**
 * What every bench worker does besides its loop: the start barrier, and a probe of GC events and
 * heap use in steady state, reported to main when the loop ends. Nothing here runs per record.
 */
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { clockMicros } from '@ringbuf/instrument';
import { threadLogger, type LogLevel } from '@ringbuf/instrument/log';
import { WAIT_SLICE_MS } from '../harness/control.js';
import { EXITED_INDEX, PHASE_INDEX, PHASE_MEASURE, PHASE_SETTLE, READY_INDEX, START_INDEX } from '../harness/layout.js';
import type { WorkerReport } from '../scenarios/types.js';

/** The port to main: these modules run only as worker threads. */
export const toMain: MessagePort = (() => {
  if (parentPort === null) throw new Error('bench workers run only in worker threads');
  return parentPort;
})();

/** The control block as words. */
export const ctl = new Int32Array((workerData as { ctl: SharedArrayBuffer }).ctl);
threadLogger((workerData as { logLevel?: LogLevel }).logLevel ?? 'warn');

/**
 * A way to force one collection at the settle phase: workers cannot take --expose-gc in their
 * execArgv, so the flag is set at run time and `gc` read from a fresh context (bench workers only).
 */
setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

/** Records GC events (entries arrive on the event loop, i.e. after a blocking loop ends). */
export class Probe {
  private readonly gc: Array<[number, number]> = [];
  private readonly observer: PerformanceObserver;
  private readonly offsetUs = clockMicros() - performance.now() * 1000;
  private heapAtMeasure = -1;
  private measured = false;
  private settled = false;

  constructor(private readonly role: string) {
    this.observer = new PerformanceObserver((list) => {
      // The one forced collection at the settle phase is ours, not the workload's: left out.
      for (const entry of list.getEntries())
        if (!forced(entry)) this.gc.push([entry.startTime * 1000 + this.offsetUs, entry.duration]);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /**
   * Call once per batch or pass: notes the heap the first time the measure phase is seen, and
   * returns true that one time.
   */
  check(): boolean {
    if (this.measured) return false;
    // Observes main's phase store.
    const phase = Atomics.load(ctl, PHASE_INDEX);
    if (phase === PHASE_SETTLE && !this.settled) {
      this.settled = true;
      // Collects this thread's start-up garbage before the windows.
      forceGc();
      return false;
    }
    if (phase === PHASE_MEASURE) {
      this.measured = true;
      this.heapAtMeasure = getHeapStatistics().used_heap_size;
      return true;
    }
    return false;
  }

  /** Lets pending GC entries arrive, then posts the report to main. */
  async finish(extra: Partial<WorkerReport> = {}): Promise<void> {
    const heapAtEnd = getHeapStatistics().used_heap_size;
    await new Promise((resolve) => setTimeout(resolve, 30));
    this.observer.disconnect();
    const report: WorkerReport = {
      type: 'report',
      role: this.role,
      gc: this.gc,
      heapAtMeasure: this.heapAtMeasure < 0 ? heapAtEnd : this.heapAtMeasure,
      heapAtEnd,
      ...extra,
    };
    toMain.postMessage(report);
    // Counts this worker out; main waits for the count.
    Atomics.add(ctl, EXITED_INDEX, 1);
  }
}

/** Whether a GC entry is a collection forced by `gc()` (the settle phase's). */
function forced(entry: PerformanceEntry): boolean {
  const flags = (entry as PerformanceEntry & { detail?: { flags?: number } }).detail?.flags ?? 0;
  return (flags & perfConstants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0;
}

/** Joins the start barrier and blocks until main opens it. Thread: a bench worker. */
export function awaitStart(): void {
  // Counts this worker in; main polls the count.
  Atomics.add(ctl, READY_INDEX, 1);
  // Observes main's start store; woken by its notify (the slice bounds a missed one).
  while (Atomics.load(ctl, START_INDEX) === 0) Atomics.wait(ctl, START_INDEX, 0, WAIT_SLICE_MS);
}

/** Joins the barrier without blocking (event-loop workers). */
export function markReady(): void {
  // Counts this worker in; main polls the count.
  Atomics.add(ctl, READY_INDEX, 1);
}
