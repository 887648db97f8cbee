/**
 * A microsecond clock comparable across the worker threads of one process, allocation-free per read.
 *
 * On Node it is `process.hrtime()`: process-wide (every thread reads the same clock, no calibration)
 * and, unlike `performance.now()` (a native call that boxes its double result: 16 bytes of garbage
 * per read on Node 20), free of garbage once V8 inlines it and removes its `[seconds, nanoseconds]`
 * array by escape analysis. Where there is no `process` (a browser's workers), `performance.now()`
 * from `performance.timeOrigin`, shared by the realms of one agent cluster.
 *
 * `@ringbuf/core` has the same clock in milliseconds (`monotonicMs`); this layer keeps its own few
 * lines in microseconds, with no call across the package boundary on a per-record path.
 */
type Hrtime = () => [number, number];

const hrtime: Hrtime | undefined = (globalThis as { process?: { hrtime?: Hrtime } }).process?.hrtime;

function hrtimeMicros(): number {
  const t = (hrtime as Hrtime)();
  return t[0] * 1e6 + t[1] / 1e3;
}

function performanceMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Microseconds on the process-wide monotonic clock (arbitrary origin: use differences). */
export const clockMicros: () => number = hrtime !== undefined ? hrtimeMicros : performanceMicros;
