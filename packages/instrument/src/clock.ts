/**
 * A microsecond clock comparable across the worker threads of one process.
 *
 * `performance.now()` is relative to each thread's own `timeOrigin`, and `timeOrigin` differs
 * between threads by more than the latencies we measure (about 10 us here). On Node,
 * `process.hrtime` is process-wide but allocates (a BigInt or an array). So each thread measures,
 * once, the offset from its `performance.now()` to `process.hrtime.bigint()` and adds it: one double
 * add per read. Where there is no `process` (a browser's workers), `performance.timeOrigin` is the
 * shared epoch instead.
 */
interface HrtimeProcess {
  hrtime: { bigint(): bigint };
}

let offsetUs = calibrate();

function calibrate(): number {
  const proc = (globalThis as { process?: HrtimeProcess }).process;
  if (proc?.hrtime?.bigint === undefined) return performance.timeOrigin * 1000;
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 64; i++) {
    const a = performance.now();
    const h = Number(proc.hrtime.bigint()) / 1000;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = h - ((a + b) / 2) * 1000;
    }
  }
  return offset;
}

/**
 * Microseconds on the process-wide monotonic clock. Allocates no object of its own; on Node 20
 * `performance.now()` itself may box its result (about 16 bytes) where V8 does not inline it.
 */
export function clockMicros(): number {
  return performance.now() * 1000 + offsetUs;
}

/** Re-measure the offset (tests; a thread that wants a fresh calibration). */
export function recalibrateClock(): void {
  offsetUs = calibrate();
}
